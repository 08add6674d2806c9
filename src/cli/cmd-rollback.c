/* sluice rollback PLUGIN[@VERSION]: an operator puts every group back on the
 * newest earlier release that completed and was not rolled back, or removes
 * the plugin where there is none. A rolled-back release is never applied
 * again automatically; a newer release rolls out normally. The planner
 * decides (sluice_rollout_rollback, docs/concepts.md "Operator actions");
 * this applies and prints. Allowed while the workspace is frozen. */
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
	sluice_rollout_rollback_plan plan = {0};
	char when[SLUICE_TIME_BUFSZ];
	json_t *undone = NULL;
	ops_ctx o = {0};
	int rc;

	/* decide and apply in one transaction: all or nothing, and on the
	 * state that was read */
	if ((rc = ops_begin(&o, c, "rollback", SLUICE_ROLE_OPERATOR,
			    OPS_ANY_VERSION | OPS_TRANSACTION, &p, &r)) >= 0)
		goto done;
	if ((rc = sluice_rollout_rollback(&plan, p, o.version)) < 0) {
		rc = ops_fail(&o, rc);
		goto done;
	}
	r = &p->releases[plan.from];
	target = plan.target >= 0 ? &p->releases[plan.target] : NULL;
	if (!o.version)
		o.version = sluice_xstrdup(r->version);

	undone = json_array();
	for (size_t i = 0; i < plan.nundone; i++) {
		const sluice_rollout_release *x = &p->releases[plan.undone[i]];
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
	sluice_rollout_rollback_clear(&plan);
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
