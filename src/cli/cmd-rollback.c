/* sluice rollback PLUGIN[@VERSION]: an operator puts every group back on the
 * newest earlier release that completed and was not rolled back, or removes
 * the plugin where there is none. A rolled-back release is never applied
 * again automatically; a newer release rolls out normally (PRODUCT.md 3.4).
 * Allowed while the workspace is frozen. */
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"reason", 0, "TEXT", "why, for the audit log", false},
	OPS_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static int run(struct cli *c)
{
	const char *reason = cli_get(c, "reason");
	const sluice_rollout_plugin *p;
	const sluice_rollout_release *r = NULL, *target = NULL;
	char when[SLUICE_TIME_BUFSZ];
	json_t *undone = NULL;
	ptrdiff_t from = -1, t;
	ops_ctx o = {0};
	int rc;

	/* decide and apply in one transaction: all or nothing, and on the
	 * state that was read */
	if ((rc = ops_begin(&o, c, "rollback", SLUICE_ROLE_OPERATOR,
			    OPS_ANY_VERSION | OPS_TRANSACTION, &p, &r)) >= 0)
		goto done;
	/* The release to undo: the one named, else the newest one groups hold
	 * (the rollout in flight, or the stable release). */
	if (r)
		from = r - p->releases;
	else
		for (size_t i = 0; i < p->nreleases; i++)
			if (sluice_rollout_reached(&p->releases[i]) &&
			    (from < 0 || p->releases[i].rank > p->releases[from].rank))
				from = (ptrdiff_t)i;
	if (from < 0) {
		rc = ops_refuse(&o, "cannot roll back %s: no group has a release of it", o.plugin);
		goto done;
	}
	r = &p->releases[from];
	if (!sluice_rollout_reached(r)) {
		rc = ops_refuse(&o, "cannot roll back %s@%s: it is %s%s", o.plugin, r->version,
				sluice_release_state_name(r->state),
				r->stage_index < 0 ? " and no group has it" : "");
		goto done;
	}
	if (!o.version)
		o.version = sluice_xstrdup(r->version);
	t = sluice_rollout_rollback_target(p, (size_t)from);
	target = t >= 0 ? &p->releases[t] : NULL;

	/* Every release newer than the target that groups may hold is undone
	 * with it, so that every group really ends on the target. */
	undone = json_array();
	for (size_t i = 0; i < p->nreleases; i++) {
		const sluice_rollout_release *x = &p->releases[i];
		if ((ptrdiff_t)i != from && (!sluice_rollout_reached(x) || (target && x->rank <= target->rank)))
			continue;
		rc = sluice_store_release_rollback(o.e->store, o.e->workspace, o.plugin, x->version,
						   target ? target->version : NULL, reason, c->now);
		if (rc < 0)
			break;
		json_array_append_new(undone, json_string(x->version));
	}
	if (rc == 0)
		rc = sluice_store_commit(o.e->store);
	if (rc < 0) {
		sluice_store_rollback(o.e->store);
		rc = ops_fail(&o, rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack("{s:s, s:s, s:O, s:s?, s:s?, s:s?, s:s, s:s}",
					      "plugin", o.plugin, "version", r->version,
					      "rolled_back", undone, "target_version",
					      target ? target->version : NULL, "target_commit",
					      target ? target->commit : NULL, "reason", reason, "actor",
					      o.actor, "at", sluice_time_format(when, c->now)));
		goto done;
	}
	rc = EXIT_OK;
	if (c->quiet)
		goto done;
	if (target)
		printf("rolled back %s@%s by %s: every group that had it goes back to %s (commit "
		       "%.12s) at the next reconcile; %s will not roll out again\n",
		       o.plugin, r->version, o.actor, target->version, target->commit, r->version);
	else
		printf("rolled back %s@%s by %s: no earlier release completed, so the plugin is "
		       "removed from every group at the next reconcile; %s will not roll out again\n",
		       o.plugin, r->version, o.actor, r->version);
done:
	json_decref(undone);
	ops_close(&o);
	return rc;
}

const cli_cmd cmd_rollback = {
	.name = "rollback",
	.run = run,
	.usage = "rollback PLUGIN[@VERSION] [--reason TEXT]",
	.summary = "put every group back on the previous completed release (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
