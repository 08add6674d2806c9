/* Sources (one row per watched repository) and tags (the commit each tag
 * pointed at when first seen): the trust records of the git sources. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/semver.h"
#include "sluice/util.h"
#include "store-internal.h"

/* The version a tag names, for audit rows: "v1.2.3" -> "1.2.3"; other tags
 * have none. */
static const char *tag_version(const char *tag)
{
	if (tag[0] == 'v' && tag[1] >= '0' && tag[1] <= '9')
		return tag + 1;
	return NULL;
}

/* ---- sources --------------------------------------------------------- */

void sluice_source_row_clear(sluice_source_row *r)
{
	if (!r)
		return;
	free(r->repository);
	free(r->plugin);
	free(r->url);
	free(r->last_error);
	free(r->refs_fingerprint);
	memset(r, 0, sizeof *r);
}

int sluice_store_source_get(sluice_source_row *out, sluice_store *s, const char *repository)
{
	static const char sql[] =
		"SELECT repository, coalesce(plugin, repository), url, last_checked_at, last_ok_at,"
		" last_error, refs_fingerprint FROM sources WHERE repository = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, repository);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->repository = store_col_dup(st, 0);
		out->plugin = store_col_dup(st, 1);
		out->url = store_col_dup(st, 2);
		out->last_checked_at = store_col_time(st, 3);
		out->last_ok_at = store_col_time(st, 4);
		out->last_error = store_col_dup(st, 5);
		out->refs_fingerprint = store_col_dup(st, 6);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = sluice_error_set(SLUICE_ENOTFOUND, "repository %s has not been checked yet",
				      repository);
	else
		rc = store_error(s, rc, "cannot read sources");
	store_done(st);
	return rc;
}

static int source_checked_locked(sluice_store *s, const char *repository, const char *url,
				 const char *plugin, int64_t now, const char *fingerprint,
				 const char *error)
{
	static const char sql_prev[] =
		"SELECT last_error IS NOT NULL FROM sources WHERE repository = ?1";
	static const char sql_upsert[] =
		"INSERT INTO sources (repository, plugin, url, last_checked_at, last_ok_at,"
		" last_error, refs_fingerprint)"
		" VALUES (?1, ?1, ?3, ?4, CASE WHEN ?5 IS NULL THEN ?4 END, ?5,"
		"  CASE WHEN ?5 IS NULL THEN ?6 END)"
		" ON CONFLICT (repository) DO UPDATE SET"
		"  plugin = coalesce(plugin, excluded.plugin),"
		"  url = excluded.url,"
		"  last_checked_at = excluded.last_checked_at,"
		"  last_ok_at = CASE WHEN ?5 IS NULL THEN ?4 ELSE last_ok_at END,"
		"  last_error = ?5,"
		"  refs_fingerprint = CASE WHEN ?5 IS NULL THEN coalesce(?6, refs_fingerprint)"
		"   ELSE refs_fingerprint END";
	sqlite3_stmt *st = NULL;
	bool failing_before = false;
	int rc;

	if ((rc = store_stmt(s, &st, sql_prev)) < 0)
		return rc;
	store_bind_text(st, 1, repository);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		failing_before = sqlite3_column_int(st, 0) != 0;
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : store_error(s, rc, "cannot read sources");
	store_done(st);
	if (rc < 0)
		return rc;

	if ((rc = store_stmt(s, &st, sql_upsert)) < 0)
		return rc;
	store_bind_text(st, 1, repository);
	store_bind_text(st, 3, url);
	store_bind_int(st, 4, now);
	store_bind_text(st, 5, error);
	store_bind_text(st, 6, fingerprint);
	rc = store_step_done(s, st, "cannot record a source check");
	store_done(st);
	if (rc < 0)
		return rc;

	if (error && !failing_before)
		rc = sluice_audit_appendf(s, now, "source.unreachable", plugin, NULL,
					  "{s:s, s:s, s:s}", "repository", repository, "url", url,
					  "error", error);
	else if (!error && failing_before)
		rc = sluice_audit_appendf(s, now, "source.recovered", plugin, NULL,
					  "{s:s, s:s}", "repository", repository, "url", url);
	return rc;
}

int sluice_store_source_checked(sluice_store *s, const char *repository, const char *url,
				const char *plugin, int64_t now, const char *refs_fingerprint,
				const char *error)
{
	int rc;

	if (!repository || !url)
		return sluice_error_set(SLUICE_EINVAL, "internal: a source needs a repository and url");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = source_checked_locked(s, repository, url, plugin, now, refs_fingerprint, error);
	return store_tx_end(s, rc);
}

/* A plugin id as docs/sources.md allows it: [a-z0-9][a-z0-9._-]{0,62}. */
static bool plugin_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n < 1 || n > 63 || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') ||
		      strchr("._-", id[i])))
			return false;
	return true;
}

static int claim_locked(sluice_store *s, const char *repository, const char *plugin, int64_t now)
{
	static const char sql_owner[] =
		"SELECT repository FROM sources WHERE plugin = ?1 AND repository <> ?2"
		" ORDER BY repository LIMIT 1";
	static const char sql_mine[] =
		"SELECT coalesce(plugin, repository) FROM sources WHERE repository = ?1";
	static const char sql_set[] =
		"INSERT INTO sources (repository, plugin, url) VALUES (?1, ?2, '')"
		" ON CONFLICT (repository) DO UPDATE SET plugin = excluded.plugin";
	/* what was tracked under the repository until now moves to its id */
	static const char sql_tags[] = "UPDATE tags SET plugin = ?2 WHERE plugin = ?1";
	static const char sql_releases[] = "UPDATE releases SET plugin = ?2 WHERE plugin = ?1";
	const char *const moves[] = {sql_tags, sql_releases};
	sqlite3_stmt *st = NULL;
	char *owner = NULL, *mine = NULL;
	int rc;

	if (!plugin_id_ok(plugin)) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "plugin id '%s' is not [a-z0-9][a-z0-9._-]{0,62}; no repository "
				      "may take it",
				      plugin);
		goto done;
	}
	if ((rc = store_stmt(s, &st, sql_mine)) < 0)
		goto done;
	store_bind_text(st, 1, repository);
	if (sqlite3_step(st) == SQLITE_ROW)
		mine = store_col_dup(st, 0);
	store_done(st);
	if (mine && strcmp(mine, repository) != 0) {
		rc = strcmp(mine, plugin) == 0
			     ? 0
			     : sluice_error_set(SLUICE_EREFUSED,
						"repository %s already owns plugin id '%s', not '%s'",
						repository, mine, plugin);
		goto done;
	}
	if ((rc = store_stmt(s, &st, sql_owner)) < 0)
		goto done;
	store_bind_text(st, 1, plugin);
	store_bind_text(st, 2, repository);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		owner = store_col_dup(st, 0);
	store_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = store_error(s, rc, "cannot read sources");
		goto done;
	}
	if (owner) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "plugin id '%s' belongs to repository %s, the first whose "
				      "release validated; another repository cannot take it",
				      plugin, owner);
		goto done;
	}
	if ((rc = store_stmt(s, &st, sql_set)) < 0)
		goto done;
	store_bind_text(st, 1, repository);
	store_bind_text(st, 2, plugin);
	rc = store_step_done(s, st, "cannot record the plugin id");
	store_done(st);
	for (size_t i = 0; rc == 0 && i < sizeof moves / sizeof moves[0]; i++) {
		if ((rc = store_stmt(s, &st, moves[i])) < 0)
			goto done;
		store_bind_text(st, 1, repository);
		store_bind_text(st, 2, plugin);
		rc = store_step_done(s, st, "cannot move the repository's records to its id");
		store_done(st);
	}
	if (rc == 0)
		rc = sluice_audit_appendf(s, now, "source.claimed", plugin, NULL, "{s:s, s:s}",
					  "repository", repository, "plugin", plugin);
done:
	free(owner);
	free(mine);
	return rc;
}

int sluice_store_source_claim(sluice_store *s, const char *repository, const char *plugin,
			      int64_t now)
{
	int rc;

	if (!repository || !plugin)
		return sluice_error_set(SLUICE_EINVAL, "internal: a claim needs a repository and id");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	return store_tx_end(s, claim_locked(s, repository, plugin, now));
}

/* ---- tags ------------------------------------------------------------ */

#define TAG_COLUMNS                                                              \
	"plugin, tag, commit_id, tag_object, moved_to_commit, tagger_email,"     \
	" first_seen_at, deleted_at, moved_at, move_accepted_at"

static const char sql_tag_get[] =
	"SELECT " TAG_COLUMNS " FROM tags WHERE plugin = ?1 AND tag = ?2";

static void read_tag(sluice_stored_tag *r, sqlite3_stmt *st)
{
	r->plugin = store_col_dup(st, 0);
	r->tag = store_col_dup(st, 1);
	store_col_oid(r->commit, st, 2);
	store_col_oid(r->tag_object, st, 3);
	store_col_oid(r->moved_to, st, 4);
	r->tagger_email = store_col_dup(st, 5);
	r->first_seen_at = store_col_time(st, 6);
	r->deleted_at = store_col_time(st, 7);
	r->moved_at = store_col_time(st, 8);
	r->move_accepted_at = store_col_time(st, 9);
}

void sluice_stored_tag_clear(sluice_stored_tag *r)
{
	if (!r)
		return;
	free(r->plugin);
	free(r->tag);
	free(r->tagger_email);
	memset(r, 0, sizeof *r);
}

void sluice_stored_tag_list_clear(sluice_stored_tag_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		sluice_stored_tag_clear(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof *l);
}

int sluice_store_tag_get(sluice_stored_tag *out, sluice_store *s, const char *plugin,
			 const char *tag)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_stmt(s, &st, sql_tag_get)) < 0)
		return rc;
	store_bind_text(st, 1, plugin);
	store_bind_text(st, 2, tag);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_tag(out, st);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = sluice_error_set(SLUICE_ENOTFOUND,
				      "tag %s of %s has never been seen; run 'sluice fetch %s'", tag,
				      plugin, plugin);
	else
		rc = store_error(s, rc, "cannot read tags");
	store_done(st);
	return rc;
}

int sluice_store_tag_list(sluice_stored_tag_list *out, sluice_store *s, const char *plugin)
{
	static const char sql[] =
		"SELECT " TAG_COLUMNS " FROM tags WHERE plugin = ?1 ORDER BY tag";
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, plugin);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->count == cap) {
			cap = cap ? cap * 2 : 8;
			out->items = sluice_xrealloc(out->items, cap * sizeof *out->items);
		}
		memset(&out->items[out->count], 0, sizeof out->items[0]);
		read_tag(&out->items[out->count++], st);
	}
	if (rc == SQLITE_DONE)
		rc = 0;
	else {
		rc = store_error(s, rc, "cannot read tags");
		sluice_stored_tag_list_clear(out);
	}
	store_done(st);
	return rc;
}

static int tag_observe_locked(sluice_store *s, const char *plugin, const char *tag,
			      const char *commit, const char *tag_object,
			      const char *tagger_email, int64_t now,
			      sluice_tag_observation *res)
{
	static const char sql_insert[] =
		"INSERT INTO tags (plugin, tag, commit_id, tag_object, tagger_email, first_seen_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	static const char sql_undelete[] =
		"UPDATE tags SET deleted_at = NULL WHERE plugin = ?1 AND tag = ?2";
	static const char sql_moved[] =
		"UPDATE tags SET moved_to_commit = ?3, moved_tag_object = ?4,"
		" moved_tagger_email = ?5, moved_at = ?6 WHERE plugin = ?1 AND tag = ?2";
	sluice_stored_tag row;
	sqlite3_stmt *st = NULL;
	const char *version = tag_version(tag);
	int rc;

	rc = sluice_store_tag_get(&row, s, plugin, tag);
	if (rc == SLUICE_ENOTFOUND) {
		sluice_error_clear();
		if ((rc = store_stmt(s, &st, sql_insert)) < 0)
			return rc;
		store_bind_text(st, 1, plugin);
		store_bind_text(st, 2, tag);
		store_bind_text(st, 3, commit);
		store_bind_text(st, 4, tag_object);
		store_bind_text(st, 5, tagger_email);
		store_bind_int(st, 6, now);
		rc = store_step_done(s, st, "cannot record a tag");
		store_done(st);
		if (rc < 0)
			return rc;
		res->status = SLUICE_TAG_NEW;
		snprintf(res->commit, sizeof res->commit, "%s", commit);
		snprintf(res->tag_object, sizeof res->tag_object, "%s", tag_object ? tag_object : "");
		res->first_seen_at = now;
		return sluice_audit_appendf(s, now, "tag.recorded", plugin, version,
					    "{s:s, s:s, s:s?, s:s?}", "tag", tag, "commit", commit,
					    "tag_object", tag_object, "tagger_email", tagger_email);
	}
	if (rc < 0)
		return rc;

	memcpy(res->commit, row.commit, sizeof res->commit);
	memcpy(res->tag_object, row.tag_object, sizeof res->tag_object);
	memcpy(res->moved_to, row.moved_to, sizeof res->moved_to);
	res->first_seen_at = row.first_seen_at;
	res->status = row.moved_to[0] ? SLUICE_TAG_MOVED : SLUICE_TAG_SAME;

	if (row.deleted_at) {
		res->was_deleted = true;
		if ((rc = store_stmt(s, &st, sql_undelete)) < 0)
			goto done;
		store_bind_text(st, 1, plugin);
		store_bind_text(st, 2, tag);
		rc = store_step_done(s, st, "cannot record a tag");
		store_done(st);
		if (rc < 0)
			goto done;
		if ((rc = sluice_audit_appendf(s, now, "tag.restored", plugin, version,
					       "{s:s, s:s}", "tag", tag, "commit", commit)) < 0)
			goto done;
	}

	/* Once moved, a tag stays untrusted until an operator accepts the
	 * move, even if it moves back: every new target is recorded. */
	if ((row.moved_to[0] && strcmp(row.moved_to, commit) != 0) ||
	    (!row.moved_to[0] && strcmp(row.commit, commit) != 0)) {
		if ((rc = store_stmt(s, &st, sql_moved)) < 0)
			goto done;
		store_bind_text(st, 1, plugin);
		store_bind_text(st, 2, tag);
		store_bind_text(st, 3, commit);
		store_bind_text(st, 4, tag_object);
		store_bind_text(st, 5, tagger_email);
		store_bind_int(st, 6, now);
		rc = store_step_done(s, st, "cannot record a moved tag");
		store_done(st);
		if (rc < 0)
			goto done;
		res->status = SLUICE_TAG_MOVED;
		snprintf(res->moved_to, sizeof res->moved_to, "%s", commit);
		rc = sluice_audit_appendf(s, now, "tag.moved", plugin, version,
					  "{s:s, s:s, s:s, s:s?, s:s?}", "tag", tag, "recorded_commit",
					  row.commit, "new_commit", commit, "new_tag_object",
					  tag_object, "new_tagger_email", tagger_email);
	}
done:
	sluice_stored_tag_clear(&row);
	return rc;
}

int sluice_store_tag_observe(sluice_store *s, const char *plugin, const char *tag,
			     const char *commit, const char *tag_object,
			     const char *tagger_email, int64_t now,
			     sluice_tag_observation *result)
{
	sluice_tag_observation none;
	int rc;

	if (!result)
		result = &none;
	memset(result, 0, sizeof *result);
	if (!plugin || !tag || !commit || !*commit)
		return sluice_error_set(SLUICE_EINVAL, "internal: a tag needs a plugin, name and commit");
	if (strlen(commit) >= SLUICE_STORE_OID_SZ ||
	    (tag_object && strlen(tag_object) >= SLUICE_STORE_OID_SZ))
		return sluice_error_set(SLUICE_EINVAL, "internal: object id of tag %s is too long", tag);
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = tag_observe_locked(s, plugin, tag, commit, tag_object, tagger_email, now, result);
	return store_tx_end(s, rc);
}

static int tag_deleted_locked(sluice_store *s, const char *plugin, const char *tag, int64_t now)
{
	static const char sql[] =
		"UPDATE tags SET deleted_at = ?3 WHERE plugin = ?1 AND tag = ?2";
	sluice_stored_tag row;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sluice_store_tag_get(&row, s, plugin, tag)) < 0)
		return rc;
	if (row.deleted_at)
		goto done;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		goto done;
	store_bind_text(st, 1, plugin);
	store_bind_text(st, 2, tag);
	store_bind_int(st, 3, now);
	rc = store_step_done(s, st, "cannot record a deleted tag");
	store_done(st);
	if (rc < 0)
		goto done;
	rc = sluice_audit_appendf(s, now, "tag.deleted", plugin, tag_version(tag), "{s:s, s:s}",
				  "tag", tag, "recorded_commit", row.commit);
done:
	sluice_stored_tag_clear(&row);
	return rc;
}

int sluice_store_tag_mark_deleted(sluice_store *s, const char *plugin, const char *tag,
				  int64_t now)
{
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = tag_deleted_locked(s, plugin, tag, now);
	return store_tx_end(s, rc);
}

static int accept_move_locked(sluice_store *s, const char *plugin, const char *tag,
			      const char *snapshot, int64_t now)
{
	static const char sql_tag[] =
		"UPDATE tags SET commit_id = moved_to_commit, tag_object = moved_tag_object,"
		" tagger_email = coalesce(moved_tagger_email, tagger_email),"
		" moved_to_commit = NULL, moved_tag_object = NULL, moved_tagger_email = NULL,"
		" moved_at = NULL, move_accepted_at = ?3 WHERE plugin = ?1 AND tag = ?2";
	static const char sql_void[] =
		"UPDATE approvals SET voided_at = ?3, void_reason = ?4"
		" WHERE voided_at IS NULL AND plugin = ?1 AND version IN"
		"  (SELECT version FROM releases WHERE plugin = ?1 AND tag = ?2)";
	/* The move froze the release (whatever it was doing); accepting it
	 * puts the release back where it stood - pending, paused, in progress
	 * or complete, from its stages started - or it would stay frozen for
	 * good. */
	static const char sql_release[] =
		"UPDATE releases SET commit_id = ?3,"
		" tagger_email = (SELECT tagger_email FROM tags WHERE plugin = ?1 AND tag = ?2),"
		" state = CASE WHEN state <> 'frozen' THEN state"
		"  WHEN stage_index IS NULL THEN 'pending'"
		"  WHEN paused_at IS NOT NULL THEN 'paused'"
		"  WHEN stage_index + 1 >= coalesce(json_array_length(deploy_snapshot, '$.stages'), 0)"
		"   THEN 'complete'"
		"  ELSE 'in_progress' END,"
		" state_reason = CASE WHEN state = 'frozen' THEN 'tag move accepted'"
		"  ELSE state_reason END,"
		" deploy_snapshot = coalesce(?5, deploy_snapshot),"
		" refused_reason = CASE WHEN ?5 IS NULL THEN refused_reason END,"
		" updated_at = ?4 WHERE plugin = ?1 AND tag = ?2";
	/* attestations are bound to their commit: the old one's stop counting */
	static const char sql_attested[] =
		"SELECT count(*) FROM attestations a JOIN releases r ON r.workspace = a.workspace"
		" AND r.plugin = a.plugin AND r.version = a.version AND r.commit_id = a.commit_id"
		" WHERE r.plugin = ?1 AND r.tag = ?2";
	int64_t unattested = 0;
	sluice_stored_tag row;
	sqlite3_stmt *st = NULL;
	int64_t voided = 0;
	char *reason = NULL;
	int rc;

	if ((rc = sluice_store_tag_get(&row, s, plugin, tag)) < 0)
		return rc;
	if (!row.moved_to[0]) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "tag %s of %s has not moved (it points at %s as first recorded); nothing to accept",
				      tag, plugin, row.commit);
		goto done;
	}
	if ((rc = store_stmt(s, &st, sql_tag)) < 0)
		goto done;
	store_bind_text(st, 1, plugin);
	store_bind_text(st, 2, tag);
	store_bind_int(st, 3, now);
	rc = store_step_done(s, st, "cannot accept a tag move");
	store_done(st);
	if (rc < 0)
		goto done;

	reason = sluice_xasprintf("tag %s moved to %s; move accepted by %s", tag, row.moved_to,
				  s->actor);
	if ((rc = store_stmt(s, &st, sql_void)) < 0)
		goto done;
	store_bind_text(st, 1, plugin);
	store_bind_text(st, 2, tag);
	store_bind_int(st, 3, now);
	store_bind_text(st, 4, reason);
	rc = store_step_done(s, st, "cannot void approvals");
	store_done(st);
	if (rc < 0)
		goto done;
	voided = sqlite3_changes64(s->db);

	if ((rc = store_stmt(s, &st, sql_attested)) < 0)
		goto done;
	store_bind_text(st, 1, plugin);
	store_bind_text(st, 2, tag);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		unattested = sqlite3_column_int64(st, 0);
	store_done(st);
	if (rc != SQLITE_ROW) {
		rc = store_error(s, rc, "cannot read attestations");
		goto done;
	}

	if ((rc = store_stmt(s, &st, sql_release)) < 0)
		goto done;
	store_bind_text(st, 1, plugin);
	store_bind_text(st, 2, tag);
	store_bind_text(st, 3, row.moved_to);
	store_bind_int(st, 4, now);
	store_bind_text(st, 5, snapshot);
	rc = store_step_done(s, st, "cannot update the release");
	store_done(st);
	if (rc < 0)
		goto done;

	rc = sluice_audit_appendf(s, now, "tag.move_accepted", plugin, tag_version(tag),
				  "{s:s, s:s, s:s, s:I, s:I}", "tag", tag, "previous_commit", row.commit,
				  "commit", row.moved_to, "approvals_voided", (json_int_t)voided,
				  "attestations_voided", (json_int_t)unattested);
done:
	free(reason);
	sluice_stored_tag_clear(&row);
	return rc;
}

int sluice_store_tag_accept_move(sluice_store *s, const char *plugin, const char *tag,
				 const char *deploy_snapshot, int64_t now)
{
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = accept_move_locked(s, plugin, tag, deploy_snapshot, now);
	return store_tx_end(s, rc);
}

/* ---- versions that tags name ------------------------------------------ */

int store_release_refuse_duplicate(sluice_store *s, const char *workspace, const char *plugin,
				   const char *version, const char *tag, int64_t now)
{
	static const char sql[] =
		"SELECT version, tag FROM releases WHERE workspace = ?1 AND plugin = ?2"
		" AND version <> ?3 ORDER BY seen_at, id";
	sqlite3_stmt *st = NULL;
	char *first = NULL, *reason = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		if (v && sluice_semver_build_variant(v, version)) {
			first = store_col_dup(st, 1);
			break;
		}
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read releases");
	store_done(st);
	if (rc < 0 || !first)
		goto done;
	reason = sluice_xasprintf("%s is the same version as %s, already recorded: build "
				  "metadata (after '+') has no precedence, so it is not a new "
				  "release; tag a new version",
				  tag, first);
	rc = sluice_store_release_set_refused(s, workspace, plugin, version, reason, now);
done:
	free(first);
	free(reason);
	return rc;
}
