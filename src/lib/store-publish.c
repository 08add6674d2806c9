/* What publishing reads from and writes to the store: the outcome of each
 * publish (publish_state) and the users who opted out of a plugin. */
#include <stdlib.h>
#include <string.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/util.h"
#include "store-internal.h"

int sluice_store_publish_state_set(sluice_store *s, const char *workspace, bool ok,
				   int64_t at, const char *error)
{
	/* last_ok_at survives a failure: it says since when the published
	 * state is stale */
	static const char sql[] =
		"INSERT INTO publish_state (workspace, ok, at, error, last_ok_at)"
		" VALUES (?1, ?2, ?3, ?4, CASE WHEN ?2 THEN ?3 END)"
		" ON CONFLICT (workspace) DO UPDATE SET ok = excluded.ok, at = excluded.at,"
		" error = excluded.error,"
		" last_ok_at = CASE WHEN excluded.ok THEN excluded.at ELSE last_ok_at END";
	sqlite3_stmt *st = NULL;
	int rc;

	static const char sql_was_ok[] =
		"SELECT coalesce((SELECT ok FROM publish_state WHERE workspace = ?1), 1)";
	int64_t was_ok = 1;

	if (!workspace)
		return sluice_error_set(SLUICE_EINVAL, "internal: a publish outcome needs a workspace");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	if (!ok)
		rc = store_int_query(&was_ok, s, sql_was_ok, workspace, NULL,
				     "cannot read the outcome of the last publish");
	if (rc == 0 && (rc = store_stmt(s, &st, sql)) == 0) {
		store_bind_text(st, 1, workspace);
		store_bind_int(st, 2, ok ? 1 : 0);
		store_bind_int(st, 3, at);
		store_bind_text(st, 4, ok ? NULL : (error ? error : "unknown error"));
		rc = store_step_done(s, st, "cannot record the outcome of the publish");
		store_done(st);
	}
	/* audited (and so notified) when publishing starts failing, not at
	 * every pass that still fails */
	if (rc == 0 && !ok && was_ok)
		rc = sluice_audit_appendf(s, at, "publish.failed", NULL, NULL, "{s:s, s:s}",
					  "workspace", workspace, "error",
					  error ? error : "unknown error");
	return store_tx_end(s, rc);
}

int sluice_store_publish_state_get(sluice_publish_state *out, sluice_store *s,
				   const char *workspace)
{
	static const char sql[] =
		"SELECT ok, at, error, last_ok_at FROM publish_state WHERE workspace = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
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
