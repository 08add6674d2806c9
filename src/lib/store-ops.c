/* The administrators' actions on the store: rejections, pause and resume,
 * rollback, withdrawals, users' opt-outs and checklist attestations
 * (approvals and the freeze are in store-rollout.c). Each function checks the state it changes
 * inside its own unit of work (joining the caller's transaction), so two
 * admins acting at once never both succeed on the same precondition, and
 * each writes its audit row in that same unit. The actor is the store's
 * (sluice_store_set_actor). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/util.h"
#include "store-internal.h"

static bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The stored state of a release, or ENOTFOUND naming it. *state is
 * malloc'd. */
static int release_state(char **state, sluice_store *s, const char *workspace,
			 const char *plugin, const char *version)
{
	static const char sql[] =
		"SELECT state FROM releases WHERE workspace = ?1 AND plugin = ?2 AND version = ?3";
	sqlite3_stmt *st = NULL;
	int rc;

	*state = NULL;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*state = store_col_dup(st, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = sluice_error_set(SLUICE_ENOTFOUND,
				      "%s@%s is not a recorded release; run 'sluice status' for the releases",
				      plugin, version);
	else
		rc = store_error(s, rc, "cannot read releases");
	store_done(st);
	return rc;
}

/* ---- rejections ------------------------------------------------------- */

static int reject_locked(sluice_store *s, const char *workspace, const char *plugin,
			 const char *version, const char *commit, const char *comment,
			 int64_t now)
{
	static const char sql_insert[] =
		"INSERT INTO rejections (workspace, plugin, version, commit_id, actor, comment, at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	static const char sql_update[] =
		"UPDATE releases SET state = 'rejected', state_reason = ?4, paused_at = NULL,"
		" updated_at = ?5 WHERE workspace = ?1 AND plugin = ?2 AND version = ?3";
	sqlite3_stmt *st = NULL;
	char *state = NULL, *why = NULL;
	int rc;

	if ((rc = release_state(&state, s, workspace, plugin, version)) < 0)
		return rc;
	if (streq(state, "rejected")) {
		rc = sluice_error_set(SLUICE_EREFUSED, "%s@%s is already rejected", plugin,
				      version);
		goto done;
	}
	if ((rc = store_stmt(s, &st, sql_insert)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	store_bind_text(st, 4, commit);
	store_bind_text(st, 5, sluice_store_actor(s));
	store_bind_text(st, 6, comment);
	store_bind_int(st, 7, now);
	rc = store_step_done(s, st, "cannot record the rejection");
	store_done(st);
	if (rc < 0)
		goto done;

	why = comment ? sluice_xasprintf("rejected by %s: %s", sluice_store_actor(s), comment)
		      : sluice_xasprintf("rejected by %s", sluice_store_actor(s));
	if ((rc = store_stmt(s, &st, sql_update)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	store_bind_text(st, 4, why);
	store_bind_int(st, 5, now);
	rc = store_step_done(s, st, "cannot mark the release rejected");
	store_done(st);
	if (rc < 0)
		goto done;
	rc = sluice_audit_appendf(s, now, "release.rejected", plugin, version,
				  "{s:s, s:s, s:s?}", "commit", commit, "previous_state", state,
				  "comment", comment);
done:
	free(why);
	free(state);
	return rc;
}

int sluice_store_release_reject(sluice_store *s, const char *workspace, const char *plugin,
				const char *version, const char *commit, const char *comment,
				int64_t now)
{
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = reject_locked(s, workspace, plugin, version, commit, comment, now);
	return store_tx_end(s, rc);
}

/* ---- release state changes ------------------------------------------- */

typedef enum { OP_PAUSE, OP_RESUME, OP_ROLLBACK, OP_WITHDRAW, OP_RESTORE } release_op;

static int transition_locked(sluice_store *s, release_op op, const char *workspace,
			     const char *plugin, const char *version, const char *new_state,
			     const char *target, const char *reason, int64_t now)
{
	static const char sql_pause[] =
		"UPDATE releases SET state = 'paused', paused_at = ?4, state_reason = ?5,"
		" updated_at = ?4 WHERE workspace = ?1 AND plugin = ?2 AND version = ?3"
		" AND state = 'in_progress'";
	/* The pause closes: its length joins the stage's paused time, which
	 * the planner subtracts from the soak. */
	static const char sql_resume[] =
		"UPDATE releases SET state = 'in_progress',"
		" paused_seconds = paused_seconds + max(0, ?4 - coalesce(paused_at, ?4)),"
		" paused_at = NULL, state_reason = NULL, updated_at = ?4"
		" WHERE workspace = ?1 AND plugin = ?2 AND version = ?3 AND state = 'paused'";
	static const char sql_rollback[] =
		"UPDATE releases SET state = 'rolled_back', rolled_back = 1, paused_at = NULL,"
		" state_reason = ?5, updated_at = ?4"
		" WHERE workspace = ?1 AND plugin = ?2 AND version = ?3"
		" AND state NOT IN ('rolled_back', 'withdrawn')";
	static const char sql_withdraw[] =
		"UPDATE releases SET state = 'withdrawn', withdrawn = 1, paused_at = NULL,"
		" state_reason = ?5, updated_at = ?4"
		" WHERE workspace = ?1 AND plugin = ?2 AND version = ?3 AND withdrawn = 0";
	static const char sql_restore[] =
		"UPDATE releases SET state = ?6, withdrawn = 0, paused_at = CASE WHEN ?6 ="
		" 'paused' THEN ?4 END, state_reason = ?5, updated_at = ?4"
		" WHERE workspace = ?1 AND plugin = ?2 AND version = ?3 AND withdrawn = 1";
	static const char *const sqls[] = {sql_pause, sql_resume, sql_rollback, sql_withdraw,
					   sql_restore};
	static const char *const actions[] = {"rollout.paused", "rollout.resumed",
					      "rollout.rolled_back", "release.withdrawn",
					      "release.restored"};
	sqlite3_stmt *st = NULL;
	char *state = NULL;
	int rc;

	if ((rc = release_state(&state, s, workspace, plugin, version)) < 0)
		return rc;
	if ((rc = store_stmt(s, &st, sqls[op])) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	store_bind_int(st, 4, now);
	store_bind_text(st, 5, reason);
	if (op == OP_RESTORE)
		store_bind_text(st, 6, new_state);
	rc = store_step_done(s, st, "cannot change the release");
	store_done(st);
	if (rc < 0)
		goto done;
	if (sqlite3_changes64(s->db) == 0) {
		static const char *const wants[] = {
			"only a rollout in progress can be paused",
			"only a paused rollout can be resumed",
			"it is already rolled back or withdrawn",
			"it is already withdrawn",
			"it is not withdrawn",
		};
		rc = sluice_error_set(SLUICE_EREFUSED, "%s@%s is %s: %s", plugin, version,
				      state ? state : "?", wants[op]);
		goto done;
	}
	rc = sluice_audit_appendf(s, now, actions[op], plugin, version,
				  "{s:s, s:s?, s:s?, s:s?}", "previous_state", state, "reason",
				  reason, "target_version", target, "state", new_state);
done:
	free(state);
	return rc;
}

static int transition(sluice_store *s, release_op op, const char *workspace,
		      const char *plugin, const char *version, const char *new_state,
		      const char *target, const char *reason, int64_t now)
{
	int rc;

	if (!workspace || !plugin || !version)
		return sluice_error_set(SLUICE_EINVAL,
					"internal: a release change needs workspace, plugin and version");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = transition_locked(s, op, workspace, plugin, version, new_state, target, reason, now);
	return store_tx_end(s, rc);
}

int sluice_store_release_pause(sluice_store *s, const char *workspace, const char *plugin,
			       const char *version, const char *reason, int64_t now)
{
	return transition(s, OP_PAUSE, workspace, plugin, version, NULL, NULL, reason, now);
}

int sluice_store_release_resume(sluice_store *s, const char *workspace, const char *plugin,
				const char *version, const char *reason, int64_t now)
{
	return transition(s, OP_RESUME, workspace, plugin, version, NULL, NULL, reason, now);
}

int sluice_store_release_rollback(sluice_store *s, const char *workspace, const char *plugin,
				  const char *version, const char *target_version,
				  const char *reason, int64_t now)
{
	return transition(s, OP_ROLLBACK, workspace, plugin, version, NULL, target_version,
			  reason, now);
}

/* ---- withdrawals (the kill switch) ------------------------------------ */

static int withdraw_locked(sluice_store *s, const char *workspace, const char *plugin,
			   const char *version, const char *reason, int64_t now)
{
	static const char sql_live[] =
		"SELECT count(*) FROM withdrawals WHERE workspace = ?1 AND plugin = ?2"
		" AND version IS ?3 AND restored_at IS NULL";
	static const char sql_insert[] =
		"INSERT INTO withdrawals (workspace, plugin, version, actor, reason, at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *st = NULL;
	int64_t live = 0;
	int rc;

	if ((rc = store_stmt(s, &st, sql_live)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		live = sqlite3_column_int64(st, 0);
		rc = 0;
	} else
		rc = store_error(s, rc, "cannot read withdrawals");
	store_done(st);
	if (rc < 0)
		return rc;
	if (live > 0) {
		if (version)
			return sluice_error_set(SLUICE_EREFUSED, "%s@%s is already withdrawn",
						plugin, version);
		return sluice_error_set(SLUICE_EREFUSED, "%s is already withdrawn", plugin);
	}
	if ((rc = store_stmt(s, &st, sql_insert)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	store_bind_text(st, 4, sluice_store_actor(s));
	store_bind_text(st, 5, reason);
	store_bind_int(st, 6, now);
	rc = store_step_done(s, st, "cannot record the withdrawal");
	store_done(st);
	if (rc < 0)
		return rc;
	if (version)
		return transition_locked(s, OP_WITHDRAW, workspace, plugin, version, NULL, NULL,
					 reason, now);
	return sluice_audit_appendf(s, now, "plugin.withdrawn", plugin, NULL, "{s:s?}",
				    "reason", reason);
}

int sluice_store_withdraw(sluice_store *s, const char *workspace, const char *plugin,
			  const char *version, const char *reason, int64_t now)
{
	int rc;

	if (!workspace || !plugin)
		return sluice_error_set(SLUICE_EINVAL,
					"internal: a withdrawal needs workspace and plugin");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = withdraw_locked(s, workspace, plugin, version, reason, now);
	return store_tx_end(s, rc);
}

static int restore_locked(sluice_store *s, const char *workspace, const char *plugin,
			  const char *version, const char *new_state, const char *reason,
			  int64_t now)
{
	static const char sql_restore[] =
		"UPDATE withdrawals SET restored_at = ?4, restored_by = ?5"
		" WHERE workspace = ?1 AND plugin = ?2 AND version IS ?3 AND restored_at IS NULL";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql_restore)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	store_bind_int(st, 4, now);
	store_bind_text(st, 5, sluice_store_actor(s));
	rc = store_step_done(s, st, "cannot record the restore");
	store_done(st);
	if (rc < 0)
		return rc;
	if (sqlite3_changes64(s->db) == 0) {
		if (version)
			return sluice_error_set(SLUICE_EREFUSED, "%s@%s is not withdrawn", plugin,
						version);
		return sluice_error_set(SLUICE_EREFUSED,
					"%s is not withdrawn (to restore one version, give PLUGIN@VERSION)",
					plugin);
	}
	if (version)
		return transition_locked(s, OP_RESTORE, workspace, plugin, version, new_state,
					 NULL, reason, now);
	return sluice_audit_appendf(s, now, "plugin.restored", plugin, NULL, "{s:s?}", "reason",
				    reason);
}

int sluice_store_restore(sluice_store *s, const char *workspace, const char *plugin,
			 const char *version, const char *new_state, const char *reason,
			 int64_t now)
{
	int rc;

	if (!workspace || !plugin || (version && !new_state))
		return sluice_error_set(SLUICE_EINVAL,
					"internal: a restore needs workspace, plugin (and a state for a version)");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = restore_locked(s, workspace, plugin, version, new_state, reason, now);
	return store_tx_end(s, rc);
}

int sluice_store_withdrawn(bool *out, sluice_store *s, const char *workspace,
			   const char *plugin, const char *version)
{
	static const char sql[] =
		"SELECT count(*) FROM withdrawals WHERE workspace = ?1 AND plugin = ?2"
		" AND version IS ?3 AND restored_at IS NULL";
	sqlite3_stmt *st = NULL;
	int rc;

	*out = false;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0) > 0;
		rc = 0;
	} else
		rc = store_error(s, rc, "cannot read withdrawals");
	store_done(st);
	return rc;
}

/* ---- users' opt-outs ------------------------------------------------- */

static int optout_locked(sluice_store *s, const char *workspace, const char *plugin,
			 const char *user, bool disabled, int64_t now, bool *changed)
{
	static const char sql_add[] =
		"INSERT INTO user_optouts (workspace, plugin, user_id, actor, at)"
		" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
	static const char sql_del[] =
		"DELETE FROM user_optouts WHERE workspace = ?1 AND plugin = ?2 AND user_id = ?3";
	sqlite3_stmt *st = NULL;
	int rc;

	*changed = false;
	if ((rc = store_stmt(s, &st, disabled ? sql_add : sql_del)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, user);
	if (disabled) {
		store_bind_text(st, 4, sluice_store_actor(s));
		store_bind_int(st, 5, now);
	}
	rc = store_step_done(s, st, "cannot record the user's choice");
	store_done(st);
	if (rc < 0 || sqlite3_changes64(s->db) == 0)
		return rc;
	*changed = true;
	return sluice_audit_appendf(s, now, disabled ? "user.disabled" : "user.enabled", plugin,
				    NULL, "{s:s}", "user", user);
}

int sluice_store_optout_set(sluice_store *s, const char *workspace, const char *plugin,
			    const char *user, bool disabled, int64_t now, bool *changed)
{
	bool dummy;
	int rc;

	if (!workspace || !plugin || !user)
		return sluice_error_set(SLUICE_EINVAL,
					"internal: an opt-out needs workspace, plugin and user");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = optout_locked(s, workspace, plugin, user, disabled, now, changed ? changed : &dummy);
	return store_tx_end(s, rc);
}

/* ---- checklist attestations ------------------------------------------ */

static int attest_locked(sluice_store *s, const char *workspace, const char *plugin,
			 const char *version, const char *item, const char *evidence, int64_t now)
{
	static const char sql[] =
		"INSERT INTO attestations (workspace, plugin, version, item, actor, evidence, at,"
		" commit_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT commit_id FROM releases"
		" WHERE workspace = ?1 AND plugin = ?2 AND version = ?3))";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	store_bind_text(st, 4, item);
	store_bind_text(st, 5, sluice_store_actor(s));
	store_bind_text(st, 6, evidence);
	store_bind_int(st, 7, now);
	rc = store_step_done(s, st, "cannot record the attestation");
	store_done(st);
	if (rc < 0)
		return rc;
	return sluice_audit_appendf(s, now, "checklist.attested", plugin, version,
				    "{s:s, s:s?}", "item", item, "evidence", evidence);
}

int sluice_store_attest(sluice_store *s, const char *workspace, const char *plugin,
			const char *version, const char *item, const char *evidence, int64_t now)
{
	int rc;

	if (!workspace || !plugin || !version || !item)
		return sluice_error_set(SLUICE_EINVAL,
					"internal: an attestation needs workspace, plugin, version and item");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = attest_locked(s, workspace, plugin, version, item, evidence, now);
	return store_tx_end(s, rc);
}

void sluice_attestation_list_clear(sluice_attestation_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++) {
		free(l->items[i].item);
		free(l->items[i].actor);
		free(l->items[i].evidence);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

int sluice_store_attestation_list(sluice_attestation_list *out, sluice_store *s,
				  const char *workspace, const char *plugin,
				  const char *version)
{
	static const char sql[] =
		"SELECT a.item, a.actor, a.evidence, a.at FROM attestations a"
		" JOIN releases r ON r.workspace = a.workspace AND r.plugin = a.plugin"
		" AND r.version = a.version AND r.commit_id = a.commit_id"
		" WHERE a.workspace = ?1 AND a.plugin = ?2 AND a.version = ?3 ORDER BY a.id";
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sluice_attestation *a;
		if (out->count == cap) {
			cap = cap ? cap * 2 : 8;
			out->items = sluice_xrealloc(out->items, cap * sizeof *out->items);
		}
		a = &out->items[out->count++];
		a->item = store_col_dup(st, 0);
		a->actor = store_col_dup(st, 1);
		a->evidence = store_col_dup(st, 2);
		a->at = store_col_time(st, 3);
	}
	rc = rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read attestations");
	store_done(st);
	if (rc < 0)
		sluice_attestation_list_clear(out);
	return rc;
}

int sluice_store_optout_list(char ***out, size_t *n, sluice_store *s, const char *workspace,
			     const char *user)
{
	return store_strv_query(out, n, s,
				"SELECT plugin FROM user_optouts WHERE workspace = ?1 AND user_id = ?2"
				" ORDER BY plugin",
				workspace, user, "cannot read opt-outs");
}
