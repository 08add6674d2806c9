/* Releases, approvals, the workspace freeze, and the bridge to the pure
 * planner: load one plugin's state as its input, apply its actions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/release-snapshot.h"
#include "sluice/semver.h"
#include "sluice/util.h"
#include "store-internal.h"

/* ---- recording releases ---------------------------------------------- */

static int release_record_locked(sluice_store *s, const sluice_release_record *r,
				 int64_t *out_id, bool *created)
{
	static const char sql_find[] =
		"SELECT id FROM releases WHERE workspace = ?1 AND plugin = ?2 AND version = ?3";
	static const char sql_insert[] =
		"INSERT INTO releases (workspace, plugin, version, tag, commit_id, tagger_email,"
		" seen_at, deploy_snapshot, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7)";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql_find)) < 0)
		return rc;
	store_bind_text(st, 1, r->workspace);
	store_bind_text(st, 2, r->plugin);
	store_bind_text(st, 3, r->version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out_id = sqlite3_column_int64(st, 0);
		store_done(st);
		return 0;
	}
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(s, rc, "cannot read releases");

	if ((rc = store_stmt(s, &st, sql_insert)) < 0)
		return rc;
	store_bind_text(st, 1, r->workspace);
	store_bind_text(st, 2, r->plugin);
	store_bind_text(st, 3, r->version);
	store_bind_text(st, 4, r->tag);
	store_bind_text(st, 5, r->commit);
	store_bind_text(st, 6, r->tagger_email);
	store_bind_int(st, 7, r->seen_at);
	store_bind_text(st, 8, r->deploy_snapshot);
	rc = store_step_done(s, st, "cannot record a release");
	store_done(st);
	if (rc < 0)
		return rc;
	*out_id = sqlite3_last_insert_rowid(s->db);
	*created = true;
	if ((rc = sluice_audit_appendf(s, r->seen_at, "release.recorded", r->plugin, r->version,
				       "{s:s, s:s, s:s, s:s?}", "workspace", r->workspace, "tag",
				       r->tag, "commit", r->commit, "tagger_email",
				       r->tagger_email)) < 0)
		return rc;
	return store_release_refuse_duplicate(s, r->workspace, r->plugin, r->version, r->tag,
					      r->seen_at);
}

int sluice_store_release_record(sluice_store *s, const sluice_release_record *r,
				int64_t *out_id, bool *created)
{
	int64_t id = 0;
	bool made = false;
	int rc;

	if (!r->workspace || !r->plugin || !r->version || !r->tag || !r->commit)
		return sluice_error_set(SLUICE_EINVAL,
					"internal: a release needs workspace, plugin, version, tag and commit");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = store_tx_end(s, release_record_locked(s, r, &id, &made));
	if (rc == 0) {
		if (out_id)
			*out_id = id;
		if (created)
			*created = made;
	}
	return rc;
}

static int set_refused_locked(sluice_store *s, const char *ws, const char *plugin,
			      const char *version, const char *reason, int64_t now)
{
	static const char sql[] =
		"UPDATE releases SET refused_reason = ?4, updated_at = ?5"
		" WHERE workspace = ?1 AND plugin = ?2 AND version = ?3"
		" AND refused_reason IS NOT ?4";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	store_bind_text(st, 4, reason);
	store_bind_int(st, 5, now);
	rc = store_step_done(s, st, "cannot record a refusal");
	store_done(st);
	if (rc < 0 || sqlite3_changes(s->db) == 0)
		return rc;
	if (reason)
		return sluice_audit_appendf(s, now, "release.refused", plugin, version,
					    "{s:s, s:s}", "workspace", ws, "reason", reason);
	return sluice_audit_appendf(s, now, "release.refusal_cleared", plugin, version,
				    "{s:s}", "workspace", ws);
}

int sluice_store_release_set_refused(sluice_store *s, const char *workspace,
				     const char *plugin, const char *version,
				     const char *reason, int64_t now)
{
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	return store_tx_end(s, set_refused_locked(s, workspace, plugin, version, reason, now));
}

/* ---- approvals and the freeze ---------------------------------------- */

static int approval_add_locked(sluice_store *s, const sluice_approval_record *a, int64_t now)
{
	static const char sql[] =
		"INSERT INTO approvals (workspace, plugin, version, commit_id, stage, approver,"
		" comment, signature, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	static const char sql_renew[] =
		"UPDATE approvals SET voided_at = ?7, void_reason = 'expired; renewed'"
		" WHERE voided_at IS NULL AND workspace = ?1 AND plugin = ?2 AND version = ?3"
		" AND commit_id = ?4 AND stage = ?5 AND approver = ?6";
	sqlite3_stmt *st = NULL;
	int rc;

	if (a->renew) {
		if ((rc = store_stmt(s, &st, sql_renew)) < 0)
			return rc;
		store_bind_text(st, 1, a->workspace);
		store_bind_text(st, 2, a->plugin);
		store_bind_text(st, 3, a->version);
		store_bind_text(st, 4, a->commit);
		store_bind_text(st, 5, a->stage);
		store_bind_text(st, 6, s->actor);
		store_bind_int(st, 7, now);
		rc = store_step_done(s, st, "cannot void the expired approval");
		store_done(st);
		if (rc < 0)
			return rc;
	}
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, a->workspace);
	store_bind_text(st, 2, a->plugin);
	store_bind_text(st, 3, a->version);
	store_bind_text(st, 4, a->commit);
	store_bind_text(st, 5, a->stage);
	store_bind_text(st, 6, s->actor);
	store_bind_text(st, 7, a->comment);
	store_bind_text(st, 8, a->signature);
	store_bind_int(st, 9, now);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return sluice_error_set(SLUICE_EINVAL,
					"%s has already approved %s@%s for stage '%s'; nothing to do",
					s->actor, a->plugin, a->version, a->stage);
	if (rc != SQLITE_DONE)
		return store_error(s, rc, "cannot record the approval");
	return sluice_audit_appendf(s, now, "approval.given", a->plugin, a->version,
				    "{s:s, s:s, s:s, s:s?, s:b}", "workspace", a->workspace,
				    "commit", a->commit, "stage", a->stage, "comment", a->comment,
				    "signed", a->signature != NULL);
}

int sluice_store_approval_add(sluice_store *s, const sluice_approval_record *a, int64_t now)
{
	int rc;

	if (!a->workspace || !a->plugin || !a->version || !a->commit || !a->stage)
		return sluice_error_set(SLUICE_EINVAL,
					"internal: an approval needs workspace, plugin, version, commit and stage");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	return store_tx_end(s, approval_add_locked(s, a, now));
}

static int freeze_locked(sluice_store *s, const char *ws, bool frozen, const char *reason,
			 int64_t now)
{
	static const char sql[] =
		"INSERT INTO workspace_state (workspace, frozen, frozen_by, reason, at)"
		" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (workspace) DO UPDATE SET"
		" frozen = excluded.frozen, frozen_by = excluded.frozen_by,"
		" reason = excluded.reason, at = excluded.at";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_int(st, 2, frozen);
	store_bind_text(st, 3, s->actor);
	store_bind_text(st, 4, reason);
	store_bind_int(st, 5, now);
	rc = store_step_done(s, st, "cannot record the freeze");
	store_done(st);
	if (rc < 0)
		return rc;
	return sluice_audit_appendf(s, now, frozen ? "workspace.frozen" : "workspace.unfrozen",
				    NULL, NULL, "{s:s, s:s?}", "workspace", ws, "reason", reason);
}

int sluice_store_workspace_freeze(sluice_store *s, const char *workspace, bool frozen,
				  const char *reason, int64_t now)
{
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	return store_tx_end(s, freeze_locked(s, workspace, frozen, reason, now));
}

int sluice_store_workspace_frozen(bool *frozen, char **reason, sluice_store *s,
				  const char *workspace)
{
	static const char sql[] =
		"SELECT frozen, reason FROM workspace_state WHERE workspace = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	*frozen = false;
	if (reason)
		*reason = NULL;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*frozen = sqlite3_column_int(st, 0) != 0;
		if (reason && *frozen)
			*reason = store_col_dup(st, 1);
		rc = 0;
	} else
		rc = rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read the workspace state");
	store_done(st);
	return rc;
}

/* ---- loading the planner's input -------------------------------------- */

typedef struct {
	void **ptrs;
	size_t n, cap;
} pool;

static void *pool_keep(pool *p, void *ptr)
{
	if (!ptr)
		return NULL;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->ptrs = sluice_xrealloc(p->ptrs, p->cap * sizeof *p->ptrs);
	}
	p->ptrs[p->n++] = ptr;
	return ptr;
}

static const char *pool_col(pool *p, sqlite3_stmt *st, int col)
{
	return pool_keep(p, store_col_dup(st, col));
}

void sluice_store_plugin_state_free(sluice_store_plugin_state *ps)
{
	pool *p;

	if (!ps)
		return;
	p = ps->priv;
	if (p) {
		for (size_t i = p->n; i-- > 0;)
			free(p->ptrs[i]);
		free(p->ptrs);
		free(p);
	}
	free(ps);
}

static void *keep_in_pool(void *ctx, void *ptr)
{
	return pool_keep(ctx, ptr);
}

/* Stages, controls, risk and lifecycle from a deploy snapshot
 * (release-snapshot.h); one that does not parse leaves the release without
 * stages. The lifecycle stays the release's own: which release's counts
 * is the planner's rule (sluice_rollout_lifecycle_of), never "the newest
 * tag's". */
static void read_snapshot(pool *p, sluice_rollout_release *r, const char *text)
{
	sluice_release_snapshot snap;

	sluice_release_snapshot_decode(&snap, text, keep_in_pool, p);
	r->stages = snap.stages;
	r->nstages = snap.nstages;
	r->require_admin_approval = snap.require_admin_approval;
	r->allow_user_disable = snap.allow_user_disable;
	r->risk = snap.risk;
	if (snap.has_lifecycle) {
		r->review_every_days = snap.review_every_days;
		r->deprecated_at = snap.deprecated_at;
		r->sunset_at = snap.sunset_at;
	}
	sluice_release_snapshot_clear(&snap);
}

static int load_checklist(pool *p, sluice_store *s, sluice_rollout_release *r,
			  const char *ws, const char *plugin)
{
	static const char sql[] =
		"SELECT DISTINCT item FROM attestations"
		" WHERE workspace = ?1 AND plugin = ?2 AND version = ?3 AND commit_id IS ?4"
		" ORDER BY item";
	sqlite3_stmt *st = NULL;
	const char **items = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, r->version);
	store_bind_text(st, 4, r->commit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			items = sluice_xrealloc(items, cap * sizeof *items);
		}
		items[n++] = pool_col(p, st, 0);
	}
	store_done(st);
	pool_keep(p, items);
	r->checklist_done = items;
	r->nchecklist_done = n;
	return rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read attestations");
}

static sluice_rollout_release *sort_base;
static int by_version(const void *a, const void *b)
{
	const sluice_rollout_release *x = &sort_base[*(const size_t *)a];
	const sluice_rollout_release *y = &sort_base[*(const size_t *)b];
	sluice_semver vx, vy;
	int c;

	sluice_semver_init(&vx);
	sluice_semver_init(&vy);
	bool okx = sluice_semver_parse(&vx, x->version) == 0;
	bool oky = sluice_semver_parse(&vy, y->version) == 0;
	if (okx && oky)
		c = sluice_semver_cmp(&vx, &vy);
	else
		c = (int)okx - (int)oky; /* unparsable versions sort lowest */
	sluice_semver_clear(&vx);
	sluice_semver_clear(&vy);
	return c;
}

static int load_releases(pool *p, sluice_store *s, sluice_rollout_plugin *pl, const char *ws,
			 const char *plugin)
{
	static const char sql[] =
		"SELECT r.version, r.tag, r.commit_id, r.tagger_email, r.seen_at, r.state,"
		" r.stage_index, r.stage_started_at, r.paused_at, r.paused_seconds,"
		" r.refused_reason, r.deploy_snapshot, t.moved_to_commit, r.gate_wait_notice_at"
		" FROM releases r LEFT JOIN tags t ON t.plugin = r.plugin AND t.tag = r.tag"
		" WHERE r.workspace = ?1 AND r.plugin = ?2 ORDER BY r.id";
	sqlite3_stmt *st = NULL;
	sluice_rollout_release *rel = NULL;
	char **snapshots = NULL;
	size_t n = 0, cap = 0, *order = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, plugin);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			rel = sluice_xrealloc(rel, cap * sizeof *rel);
			snapshots = sluice_xrealloc(snapshots, cap * sizeof *snapshots);
		}
		sluice_rollout_release *r = &rel[n];
		memset(r, 0, sizeof *r);
		r->version = pool_col(p, st, 0);
		r->tag = pool_col(p, st, 1);
		r->commit = pool_col(p, st, 2);
		r->tagger_email = pool_col(p, st, 3);
		r->seen_at = store_col_time(st, 4);
		if (sluice_release_state_parse(&r->state, (const char *)sqlite3_column_text(st, 5)) < 0)
			r->state = SLUICE_RELEASE_PENDING;
		r->stage_index = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1
									  : sqlite3_column_int(st, 6);
		r->stage_started_at = store_col_time(st, 7);
		r->paused_at = store_col_time(st, 8);
		r->paused_seconds = store_col_time(st, 9);
		r->refused_reason = pool_col(p, st, 10);
		r->refused = r->refused_reason != NULL;
		snapshots[n] = store_col_dup(st, 11);
		r->moved_to_commit = pool_col(p, st, 12);
		r->tag_moved = r->moved_to_commit != NULL;
		r->gate_wait_notice_at = store_col_time(st, 13);
		n++;
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		rc = store_error(s, rc, "cannot read releases");
		goto done;
	}
	rc = 0;
	pool_keep(p, rel);
	pl->releases = rel;
	pl->nreleases = n;
	if (!n)
		goto done;

	/* rank: position in SemVer order, 1 = oldest */
	order = sluice_xcalloc(n, sizeof *order);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_base = rel;
	qsort(order, n, sizeof *order, by_version);
	sort_base = NULL;
	for (size_t i = 0; i < n; i++)
		rel[order[i]].rank = (int64_t)i + 1;
	for (size_t i = 0; i < n; i++) {
		read_snapshot(p, &rel[i], snapshots[i]);
		if ((rc = load_checklist(p, s, &rel[i], ws, plugin)) < 0)
			goto done;
	}
	pl->last_reviewed_at = rel[order[n - 1]].seen_at;
done:
	if (snapshots)
		for (size_t i = 0; i < n; i++)
			free(snapshots[i]);
	free(snapshots);
	free(order);
	return rc;
}

static int load_plugin_row(sluice_store *s, sluice_rollout_plugin *pl, const char *ws,
			   const char *plugin)
{
	static const char sql_withdrawn[] =
		"SELECT count(*) FROM withdrawals WHERE workspace = ?1 AND plugin = ?2"
		" AND version IS NULL AND restored_at IS NULL";
	static const char sql_state[] =
		"SELECT last_reviewed_at, review_notice_at, sunset_notice_at, sunset_withdrawn_for"
		" FROM plugin_state"
		" WHERE workspace = ?1 AND plugin = ?2";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql_withdrawn)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, plugin);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		pl->withdrawn = sqlite3_column_int64(st, 0) > 0;
	store_done(st);
	if (rc != SQLITE_ROW)
		return store_error(s, rc, "cannot read withdrawals");

	if ((rc = store_stmt(s, &st, sql_state)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, plugin);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (store_col_time(st, 0))
			pl->last_reviewed_at = store_col_time(st, 0);
		pl->review_notice_at = store_col_time(st, 1);
		pl->sunset_notice_at = store_col_time(st, 2);
		pl->sunset_withdrawn_for = store_col_time(st, 3);
	}
	store_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read plugins");
}

static int load_approvals(pool *p, sluice_store *s, sluice_store_plugin_state *ps,
			  const char *ws, const char *plugin)
{
	static const char sql[] =
		"SELECT plugin, version, commit_id, stage, approver, at, voided_at IS NOT NULL"
		" FROM approvals WHERE workspace = ?1 AND plugin = ?2 ORDER BY id";
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, plugin);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (ps->napprovals == cap) {
			cap = cap ? cap * 2 : 8;
			ps->approvals = sluice_xrealloc(ps->approvals, cap * sizeof *ps->approvals);
		}
		sluice_rollout_approval *a = &ps->approvals[ps->napprovals++];
		a->plugin = pool_col(p, st, 0);
		a->version = pool_col(p, st, 1);
		a->commit = pool_col(p, st, 2);
		a->stage = pool_col(p, st, 3);
		a->approver = pool_col(p, st, 4);
		a->at = store_col_time(st, 5);
		a->voided = sqlite3_column_int(st, 6) != 0;
	}
	store_done(st);
	pool_keep(p, ps->approvals);
	return rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read approvals");
}

int sluice_store_load_plugin_state(sluice_store_plugin_state **out, sluice_store *s,
				   const char *workspace, const char *plugin)
{
	sluice_store_plugin_state *ps = sluice_xcalloc(1, sizeof *ps);
	pool *p = sluice_xcalloc(1, sizeof *p);
	int rc;

	*out = NULL;
	ps->priv = p;
	ps->plugin.id = pool_keep(p, sluice_xstrdup(plugin));
	if ((rc = load_releases(p, s, &ps->plugin, workspace, plugin)) < 0 ||
	    (rc = load_plugin_row(s, &ps->plugin, workspace, plugin)) < 0 ||
	    (rc = load_approvals(p, s, ps, workspace, plugin)) < 0) {
		sluice_store_plugin_state_free(ps);
		return rc;
	}
	*out = ps;
	return 0;
}

/* ---- applying the plan ------------------------------------------------ */

/* A release row as the transition function needs it. */
typedef struct {
	int64_t id;
	sluice_rollout_release rel; /* state, stage, soak and pause fields only */
} release_ref;

static int find_release(sluice_store *s, release_ref *r, const char *ws, const char *plugin,
			const char *version)
{
	static const char sql[] =
		"SELECT id, state, stage_index, stage_started_at, paused_at, paused_seconds"
		" FROM releases WHERE workspace = ?1 AND plugin = ?2 AND version = ?3";
	sqlite3_stmt *st = NULL;
	int rc;

	memset(r, 0, sizeof *r);
	if (!version)
		return sluice_error_set(SLUICE_EINVAL, "internal: action for %s without a version",
					plugin);
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		if (sluice_release_state_parse(&r->rel.state,
					       (const char *)sqlite3_column_text(st, 1)) < 0)
			r->rel.state = SLUICE_RELEASE_PENDING;
		r->rel.stage_index = sqlite3_column_type(st, 2) == SQLITE_NULL
					     ? -1
					     : sqlite3_column_int(st, 2);
		r->rel.stage_started_at = store_col_time(st, 3);
		r->rel.paused_at = store_col_time(st, 4);
		r->rel.paused_seconds = store_col_time(st, 5);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = sluice_error_set(SLUICE_ENOTFOUND, "release %s@%s is not recorded in %s",
				      plugin, version, ws);
	else
		rc = store_error(s, rc, "cannot read releases");
	store_done(st);
	return rc;
}

/* Writes what sluice_rollout_apply_action made of the release back to its
 * row: the state by its name, the stage, the soak and pause bookkeeping,
 * and the rolled_back mark that keeps a rolled-back release out for good. */
static int store_release(sluice_store *s, const release_ref *r, const char *reason, int64_t at)
{
	static const char sql[] =
		"UPDATE releases SET state = ?2, state_reason = ?3, updated_at = ?4,"
		" stage_index = ?5, stage_started_at = ?6, paused_at = ?7, paused_seconds = ?8,"
		" rolled_back = max(rolled_back, ?9) WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_int(st, 1, r->id);
	store_bind_text(st, 2, sluice_release_state_name(r->rel.state));
	store_bind_text(st, 3, reason);
	store_bind_int(st, 4, at);
	if (r->rel.stage_index >= 0)
		store_bind_int(st, 5, r->rel.stage_index);
	else
		sqlite3_bind_null(st, 5);
	store_bind_time(st, 6, r->rel.stage_started_at);
	store_bind_time(st, 7, r->rel.paused_at);
	store_bind_int(st, 8, r->rel.paused_seconds);
	store_bind_int(st, 9, r->rel.state == SLUICE_RELEASE_ROLLED_BACK);
	rc = store_step_done(s, st, "cannot update a release");
	store_done(st);
	return rc;
}

/* The stage start's own record (stage_starts), after checking the stage
 * still follows the stored one. */
static int record_stage_start(sluice_store *s, const release_ref *r,
			      const sluice_rollout_action *a, bool promote)
{
	static const char sql_insert[] =
		"INSERT INTO stage_starts (release_id, stage_index, stage_name, started_at,"
		" started_by, actor, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = NULL;
	int rc;

	if (r->rel.stage_index != a->stage_index - 1)
		return sluice_error_set(SLUICE_EBUSY,
					"%s@%s is at stage %d, not %d, since it was planned (another sluice ran); plan again",
					a->plugin, a->version, r->rel.stage_index, a->stage_index - 1);
	if ((rc = store_stmt(s, &st, sql_insert)) < 0)
		return rc;
	store_bind_int(st, 1, r->id);
	store_bind_int(st, 2, a->stage_index);
	store_bind_text(st, 3, a->stage ? a->stage : "");
	store_bind_int(st, 4, a->at);
	store_bind_text(st, 5, promote ? "promote" : "controller");
	store_bind_text(st, 6, s->actor);
	store_bind_text(st, 7, a->reason);
	rc = store_step_done(s, st, "cannot record a stage start");
	store_done(st);
	return rc;
}

/* A release action: the row goes through the planner's transition. */
static int apply_release_action(sluice_store *s, const char *ws, const sluice_rollout_action *a,
				bool promote)
{
	release_ref r;
	int rc;

	if ((rc = find_release(s, &r, ws, a->plugin, a->version)) < 0)
		return rc;
	if (a->kind == SLUICE_ACTION_START_STAGE &&
	    (rc = record_stage_start(s, &r, a, promote)) < 0)
		return rc;
	sluice_rollout_apply_action(&r.rel, a);
	return store_release(s, &r, a->reason, a->at);
}

static int withdraw_plugin(sluice_store *s, const char *ws, const sluice_rollout_action *a)
{
	static const char sql[] =
		"INSERT INTO withdrawals (workspace, plugin, version, actor, reason, at)"
		" VALUES (?1, ?2, NULL, ?3, ?4, ?5)";
	static const char sql_sunset[] =
		"INSERT INTO plugin_state (workspace, plugin, sunset_withdrawn_for) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (workspace, plugin) DO UPDATE SET"
		" sunset_withdrawn_for = excluded.sunset_withdrawn_for";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, a->plugin);
	store_bind_text(st, 3, s->actor);
	store_bind_text(st, 4, a->reason);
	store_bind_int(st, 5, a->at);
	rc = store_step_done(s, st, "cannot record a withdrawal");
	store_done(st);
	if (rc < 0 || !a->sunset_at)
		return rc;
	/* a sunset withdraws once per date: a restore after it stands */
	if ((rc = store_stmt(s, &st, sql_sunset)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, a->plugin);
	store_bind_int(st, 3, a->sunset_at);
	rc = store_step_done(s, st, "cannot record a sunset withdrawal");
	store_done(st);
	return rc;
}

static int record_notice(sluice_store *s, const char *ws, const sluice_rollout_action *a)
{
	static const char sql_review[] =
		"INSERT INTO plugin_state (workspace, plugin, review_notice_at) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (workspace, plugin) DO UPDATE SET review_notice_at = excluded.review_notice_at";
	static const char sql_sunset[] =
		"INSERT INTO plugin_state (workspace, plugin, sunset_notice_at) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (workspace, plugin) DO UPDATE SET sunset_notice_at = excluded.sunset_notice_at";
	static const char sql_gate_wait[] =
		"UPDATE releases SET gate_wait_notice_at = ?4 WHERE workspace = ?1 AND plugin = ?2"
		" AND version = ?3";
	sqlite3_stmt *st = NULL;
	int rc;

	if (a->notice == SLUICE_NOTICE_GATE_WAIT) {
		if ((rc = store_stmt(s, &st, sql_gate_wait)) < 0)
			return rc;
		store_bind_text(st, 1, ws);
		store_bind_text(st, 2, a->plugin);
		store_bind_text(st, 3, a->version);
		store_bind_int(st, 4, a->at);
		rc = store_step_done(s, st, "cannot record the waiting-for-data flag");
		store_done(st);
		return rc;
	}
	if (a->notice != SLUICE_NOTICE_REVIEW && a->notice != SLUICE_NOTICE_SUNSET)
		return 0;
	if ((rc = store_stmt(s, &st, a->notice == SLUICE_NOTICE_REVIEW ? sql_review : sql_sunset)) < 0)
		return rc;
	store_bind_text(st, 1, ws);
	store_bind_text(st, 2, a->plugin);
	store_bind_int(st, 3, a->at);
	rc = store_step_done(s, st, "cannot record a notice");
	store_done(st);
	return rc;
}

static const char *audit_action(const sluice_rollout_action *a)
{
	switch (a->kind) {
	case SLUICE_ACTION_START_STAGE: return "stage.started";
	case SLUICE_ACTION_COMPLETE: return "release.completed";
	case SLUICE_ACTION_SUPERSEDE: return "release.superseded";
	case SLUICE_ACTION_SKIP_RELEASE: return "release.skipped";
	case SLUICE_ACTION_PAUSE: return "rollout.paused";
	case SLUICE_ACTION_ROLLBACK: return "rollout.rolled_back";
	case SLUICE_ACTION_WITHDRAW: return "plugin.withdrawn";
	case SLUICE_ACTION_FREEZE_RELEASE: return "release.frozen";
	case SLUICE_ACTION_NOTICE:
		if (a->notice == SLUICE_NOTICE_GATE_WAIT)
			return "notice.gate_wait";
		return a->notice == SLUICE_NOTICE_SUNSET ? "notice.sunset" : "notice.review";
	}
	return "unknown";
}

static int apply_one(sluice_store *s, const char *ws, const sluice_rollout_action *a,
		     bool promote)
{
	json_t *d;
	int rc = 0;

	switch (a->kind) {
	case SLUICE_ACTION_START_STAGE:
	case SLUICE_ACTION_COMPLETE:
	case SLUICE_ACTION_SUPERSEDE:
	case SLUICE_ACTION_SKIP_RELEASE:
	case SLUICE_ACTION_PAUSE:
	case SLUICE_ACTION_ROLLBACK:
	case SLUICE_ACTION_FREEZE_RELEASE:
		rc = apply_release_action(s, ws, a, promote);
		break;
	case SLUICE_ACTION_WITHDRAW:
		rc = withdraw_plugin(s, ws, a);
		break;
	case SLUICE_ACTION_NOTICE:
		rc = record_notice(s, ws, a);
		break;
	}
	if (rc < 0)
		return rc;

	d = json_pack("{s:s, s:s?, s:s?}", "workspace", ws, "reason", a->reason, "commit",
		      a->commit);
	if (!d)
		return sluice_error_set(SLUICE_ENOMEM, "out of memory");
	if (a->stage) {
		json_object_set_new(d, "stage", json_string(a->stage));
		json_object_set_new(d, "stage_index", json_integer(a->stage_index));
	}
	if (a->target_version)
		json_object_set_new(d, "target_version", json_string(a->target_version));
	if (a->sunset_at) {
		char when[SLUICE_TIME_BUFSZ];
		sluice_time_format(when, a->sunset_at);
		json_object_set_new(d, "sunset", json_string(when));
	}
	if (a->kind == SLUICE_ACTION_START_STAGE)
		json_object_set_new(d, "by", json_string(promote ? "promote" : "controller"));
	if (a->gate_metric) /* a breach: its numbers as fields, not only in the reason */
		json_object_update_new(d, json_pack("{s:s, s:f, s:f, s:I}", "metric", a->gate_metric,
						    "value", a->gate_value, "threshold",
						    a->gate_threshold, "samples",
						    (json_int_t)a->gate_samples));
	{
		sluice_audit_entry e = {a->at, NULL, audit_action(a), a->plugin, a->version, d};
		rc = sluice_audit_append(s, &e, NULL);
	}
	json_decref(d);
	return rc;
}

int sluice_store_apply_actions(sluice_store *s, const char *workspace, const sluice_plan *plan,
			       const char *plugin, bool promote, int64_t now)
{
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < plan->nactions; i++) {
		sluice_rollout_action a = plan->actions[i];
		if (!a.plugin || (plugin && strcmp(a.plugin, plugin) != 0))
			continue;
		if (!a.at)
			a.at = now;
		rc = apply_one(s, workspace, &a, promote);
	}
	return store_tx_end(s, rc);
}

int sluice_store_note_approvals_needed(sluice_store *s, const char *workspace,
				       const sluice_plan *plan, const char *plugin, int64_t now)
{
	/* once per release and stage: an earlier row says it was asked for */
	static const char sql[] =
		"SELECT count(*) FROM audit WHERE plugin = ?1 AND version = ?2"
		" AND action = 'approval.needed' AND json_extract(details, '$.stage') = ?3"
		" AND json_extract(details, '$.workspace') = ?4";
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < plan->nblocked; i++) {
		const sluice_rollout_block *b = &plan->blocked[i];
		sqlite3_stmt *st = NULL;
		int64_t seen = 0;

		if (b->kind != SLUICE_BLOCK_APPROVAL || !b->plugin || !b->version || !b->stage ||
		    (plugin && strcmp(b->plugin, plugin) != 0))
			continue;
		if ((rc = store_stmt(s, &st, sql)) < 0)
			break;
		store_bind_text(st, 1, b->plugin);
		store_bind_text(st, 2, b->version);
		store_bind_text(st, 3, b->stage);
		store_bind_text(st, 4, workspace);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			seen = sqlite3_column_int64(st, 0);
		rc = rc == SQLITE_ROW ? 0 : store_error(s, rc, "cannot read the audit log");
		store_done(st);
		if (rc == 0 && !seen)
			rc = sluice_audit_appendf(s, now, "approval.needed", b->plugin, b->version,
						  "{s:s, s:s, s:i, s:s?}", "workspace", workspace,
						  "stage", b->stage, "stage_index", b->stage_index,
						  "reason", b->message);
	}
	return store_tx_end(s, rc);
}
