/* sluice promote PLUGIN[@VERSION] --reason TEXT: an operator starts the next
 * stage now. It skips the soak and the health gates, never approvals, the
 * checklist, secrets, a moved tag or a freeze - the planner's promote check
 * decides (docs/concepts.md). Check and start run in one transaction, so a
 * reconcile at the same moment cannot start the stage twice. */
#include <stdio.h>
#include <string.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"reason", 0, "TEXT", "why the soak and gates are skipped (required)", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static cli_retval check(struct cli *c)
{
	const char *reason = cli_get(c, "reason");

	if (!reason || !*reason) {
		cli_error("promote needs a reason: give --reason TEXT (it is recorded with the stage "
			  "start)");
		return CLI_USAGE;
	}
	return CLI_OK;
}

static cli_retval run(struct cli *c)
{
	const char *reason = cli_get(c, "reason");
	const sluice_rollout_action *start = NULL;
	sluice_store *s = sluice_engine_store(c->e);
	bool complete = false;
	sluice_plan *plan = NULL;
	char when[SLUICE_TIME_BUFSZ];
	cli_retval rc = CLI_OK;
	int lrc;

	if ((lrc = sluice_rollout_promote(&plan, &c->in->in, c->plugin, c->version, reason)) < 0) {
		/* nothing to promote is refused too: the operator asked for a
		 * stage start that policy cannot give */
		rc = cli_fail_action(c, lrc == SLUICE_ENOTFOUND ? SLUICE_EREFUSED : lrc);
		goto done;
	}
	for (size_t i = 0; i < plan->nactions; i++) {
		if (plan->actions[i].kind == SLUICE_ACTION_START_STAGE && !start)
			start = &plan->actions[i];
		if (plan->actions[i].kind == SLUICE_ACTION_COMPLETE)
			complete = true;
	}
	if (!start) {
		rc = cli_refuse(c, "cannot promote %s: no stage is left to start", c->plugin);
		goto done;
	}
	if (!c->version)
		c->version = sluice_xstrdup(start->version);
	if ((lrc = sluice_store_apply_actions(s, sluice_engine_workspace_name(c->e), plan,
					      c->plugin, true, c->now)) < 0 ||
	    (lrc = sluice_store_commit(s)) < 0) {
		rc = cli_fail_action(c, lrc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = cli_print_json(json_pack("{s:s, s:s, s:s?, s:s?, s:i, s:b, s:s, s:s, s:s}",
					      "plugin", c->plugin, "version", start->version, "commit",
					      start->commit, "stage", start->stage, "stage_index",
					      start->stage_index, "complete", complete, "reason", reason,
					      "actor", c->actor, "at",
					      sluice_time_format(when, start->at ? start->at : c->now)));
		goto done;
	}
	if (!c->quiet)
		printf("promoted %s@%s by %s: stage %s started now (%s)%s\n", c->plugin,
		       start->version, c->actor, start->stage ? start->stage : "?", reason,
		       complete ? "; it was the last stage, the release is complete and stable"
				: "");
done:
	sluice_rollout_plan_free(plan);
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
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT | CLI_PUBLISH,
	.roles = SLUICE_ROLE_OPERATOR,
	.ref = CLI_REF_ANY,
	.check = check,
};
