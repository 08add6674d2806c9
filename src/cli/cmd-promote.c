/* sluice promote PLUGIN[@VERSION] --reason TEXT: an operator starts the next
 * stage now. It skips the soak and the health gates, never approvals, the
 * checklist, secrets, a moved tag or a freeze - the planner's promote check
 * decides (PRODUCT.md 3.4). Check and start run in one transaction, so a
 * reconcile at the same moment cannot start the stage twice. */
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"reason", 0, "TEXT", "why the soak and gates are skipped (required)", false},
	OPS_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static int run(struct cli *c)
{
	const char *reason = cli_get(c, "reason");
	const sluice_rollout_action *start = NULL;
	bool complete = false;
	sluice_plan *plan = NULL;
	char when[SLUICE_TIME_BUFSZ];
	ops_ctx o = {0};
	int rc;

	if (!reason || !*reason) {
		cli_error("promote needs a reason: give --reason TEXT (it is recorded with the stage "
			  "start)");
		return EXIT_USAGE;
	}
	if ((rc = ops_begin(&o, c, "promote", SLUICE_ROLE_OPERATOR,
			    OPS_ANY_VERSION | OPS_TRANSACTION, NULL, NULL)) >= 0)
		goto done;
	if ((rc = sluice_rollout_promote(&plan, &o.in->in, o.plugin, o.version, reason)) < 0) {
		/* nothing to promote is refused too: the operator asked for a
		 * stage start that policy cannot give */
		rc = ops_fail(&o, rc == SLUICE_ENOTFOUND ? SLUICE_EREFUSED : rc);
		goto done;
	}
	for (size_t i = 0; i < plan->nactions; i++) {
		if (plan->actions[i].kind == SLUICE_ACTION_START_STAGE && !start)
			start = &plan->actions[i];
		if (plan->actions[i].kind == SLUICE_ACTION_COMPLETE)
			complete = true;
	}
	if (!start) {
		rc = ops_refuse(&o, "cannot promote %s: no stage is left to start", o.plugin);
		goto done;
	}
	if (!o.version)
		o.version = sluice_xstrdup(start->version);
	if ((rc = sluice_store_apply_actions(o.e->store, o.e->workspace, plan, o.plugin, true,
					     c->now)) < 0 ||
	    (rc = sluice_store_commit(o.e->store)) < 0) {
		sluice_store_rollback(o.e->store);
		rc = ops_fail(&o, rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack("{s:s, s:s, s:s?, s:s?, s:i, s:b, s:s, s:s, s:s}",
					      "plugin", o.plugin, "version", start->version, "commit",
					      start->commit, "stage", start->stage, "stage_index",
					      start->stage_index, "complete", complete, "reason", reason,
					      "actor", o.actor, "at",
					      sluice_time_format(when, start->at ? start->at : c->now)));
		goto done;
	}
	rc = EXIT_OK;
	if (!c->quiet)
		printf("promoted %s@%s by %s: stage %s started now (%s)%s\n", o.plugin,
		       start->version, o.actor, start->stage ? start->stage : "?", reason,
		       complete ? "; it was the last stage, the release is complete and stable"
				: "");
done:
	if (o.e && sluice_store_in_transaction(o.e->store))
		sluice_store_rollback(o.e->store);
	sluice_rollout_plan_free(plan);
	ops_close(&o);
	return rc;
}

const cli_cmd cmd_promote = {
	.name = "promote",
	.run = run,
	.usage = "promote PLUGIN[@VERSION] --reason TEXT",
	.summary = "start the next stage now, skipping soak and gates, never approvals (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
