/* What publishing reads from and writes to the store: the outcome of each
 * publisher's last publish (publish_state) and the users who opted out of
 * a plugin. */
#include <stdlib.h>
#include <string.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/util.h"
#include "store-internal.h"

int sluice_store_publish_state_set(sluice_store *s, const char *workspace, const char *type,
				   const char *target, bool ok, int64_t at, const char *error)
{
	/* last_ok_at survives a failure: it says since when the published
	 * state is stale; a publisher's first outcome takes it over from the
	 * outcome kept from before publishers were kept apart */
	static const char sql[] =
		"INSERT INTO publish_state (workspace, type, target, ok, at, error, last_ok_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?4 THEN ?5 ELSE (SELECT last_ok_at"
		" FROM publish_state WHERE workspace = ?1 AND type = '' AND target = '') END)"
		" ON CONFLICT (workspace, type, target) DO UPDATE SET ok = excluded.ok,"
		" at = excluded.at, error = excluded.error,"
		" last_ok_at = CASE WHEN excluded.ok THEN excluded.at ELSE last_ok_at END";
	/* this publisher's last outcome (the one from before publishers were
	 * kept apart stands in for it): was it ok? */
	static const char sql_was_ok[] =
		"SELECT coalesce((SELECT ok FROM publish_state WHERE workspace = ?1"
		" AND ((type = ?2 AND target = ?3) OR (type = '' AND target = ''))"
		" ORDER BY type = '' LIMIT 1), 1)";
	sqlite3_stmt *st = NULL;
	int64_t was_ok = 1;
	int rc;

	if (!workspace || !type || !*type || !target)
		return sluice_error_set(SLUICE_EINVAL,
					"internal: a publish outcome needs a workspace and a publisher");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	if (!ok && (rc = store_stmt(s, &st, sql_was_ok)) == 0) {
		store_bind_text(st, 1, workspace);
		store_bind_text(st, 2, type);
		store_bind_text(st, 3, target);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			was_ok = sqlite3_column_int64(st, 0);
		rc = rc == SQLITE_ROW ? 0 : store_error(s, rc, "cannot read the outcome of the last publish");
		store_done(st);
		st = NULL;
	}
	if (rc == 0 && (rc = store_stmt(s, &st, sql)) == 0) {
		store_bind_text(st, 1, workspace);
		store_bind_text(st, 2, type);
		store_bind_text(st, 3, target);
		store_bind_int(st, 4, ok ? 1 : 0);
		store_bind_int(st, 5, at);
		store_bind_text(st, 6, ok ? NULL : (error ? error : "unknown error"));
		rc = store_step_done(s, st, "cannot record the outcome of the publish");
		store_done(st);
	}
	/* audited (and so notified) when publishing starts failing, not at
	 * every pass that still fails */
	if (rc == 0 && !ok && was_ok)
		rc = sluice_audit_appendf(s, at, "publish.failed", NULL, NULL, "{s:s, s:s, s:s, s:s}",
					  "workspace", workspace, "publisher", type, "target", target, "error",
					  error ? error : "unknown error");
	return store_tx_end(s, rc);
}

int sluice_store_publish_state_get(sluice_publish_state *out, sluice_store *s,
				   const char *workspace, const char *type, const char *target)
{
	/* the publisher's own row first, else the one from before */
	static const char sql[] =
		"SELECT ok, at, error, last_ok_at FROM publish_state WHERE workspace = ?1"
		" AND ((type = ?2 AND target = ?3) OR (type = '' AND target = ''))"
		" ORDER BY type = '' LIMIT 1";
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, type);
	store_bind_text(st, 3, target);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->known = true;
		out->ok = sqlite3_column_int(st, 0) != 0;
		out->at = store_col_time(st, 1);
		out->error = store_col_dup(st, 2);
		out->last_ok_at = store_col_time(st, 3);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = store_error(s, rc, "cannot read the outcome of the last publish");
	store_done(st);
	return rc;
}

int sluice_store_publish_state_keep(sluice_store *s, const char *workspace,
				    const char *const *types, const char *const *targets, size_t n)
{
	static const char list_sql[] =
		"SELECT rowid, type, target FROM publish_state WHERE workspace = ?1";
	static const char del_sql[] = "DELETE FROM publish_state WHERE rowid = ?1";
	sqlite3_stmt *st = NULL;
	int64_t *gone = NULL, legacy = 0;
	size_t ngone = 0, nkept = 0;
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	if ((rc = store_stmt(s, &st, list_sql)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 1);
		const char *target = (const char *)sqlite3_column_text(st, 2);
		bool kept = false;
		if (type && target && !*type && !*target) {
			legacy = sqlite3_column_int64(st, 0);
			continue;
		}
		for (size_t i = 0; i < n && !kept; i++)
			kept = type && target && strcmp(type, types[i]) == 0 &&
			       strcmp(target, targets[i]) == 0;
		if (kept)
			nkept++;
		else {
			gone = sluice_xrealloc(gone, (ngone + 1) * sizeof *gone);
			gone[ngone++] = sqlite3_column_int64(st, 0);
		}
	}
	rc = rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read the publish outcomes");
	/* the outcome from before stands for the publishers that have none
	 * of their own yet */
	if (legacy && nkept == n) {
		gone = sluice_xrealloc(gone, (ngone + 1) * sizeof *gone);
		gone[ngone++] = legacy;
	}
	store_done(st);
	st = NULL;
	for (size_t i = 0; rc == 0 && i < ngone; i++) {
		if ((rc = store_stmt(s, &st, del_sql)) < 0)
			break;
		store_bind_int(st, 1, gone[i]);
		rc = store_step_done(s, st, "cannot remove the outcome of a former publisher");
		store_done(st);
		st = NULL;
	}
done:
	free(gone);
	return store_tx_end(s, rc);
}

void sluice_publish_state_clear(sluice_publish_state *st)
{
	if (!st)
		return;
	free(st->error);
	memset(st, 0, sizeof *st);
}

int sluice_store_optout_users(char ***out, size_t *n, sluice_store *s, const char *workspace,
			      const char *plugin)
{
	return store_strv_query(out, n, s,
				"SELECT user_id FROM user_optouts WHERE workspace = ?1 AND plugin = ?2"
				" ORDER BY user_id",
				workspace, plugin, "cannot read opt-outs");
}
