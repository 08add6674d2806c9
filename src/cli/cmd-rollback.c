/* sluice rollback PLUGIN[@VERSION]: an operator puts every group back on the
 * newest earlier release that completed and was not rolled back, or removes
 * the plugin where there is none. A rolled-back release is never applied
 * again automatically; a newer release rolls out normally. The planner
 * decides (sluice_rollout_rollback, docs/concepts.md "Operator actions");
 * this applies and prints. Allowed while the workspace is frozen. */
#include <stdio.h>
#include <string.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"reason", 0, "TEXT", "why, for the audit log", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

/* Decides and applies in the command's one transaction: all or nothing,
 * and on the state that was read. */
static cli_retval run(struct cli *c)
{
	const char *reason = cli_get(c, "reason");
	const sluice_rollout_plugin *p = c->p;
	const sluice_rollout_release *r, *target;
	sluice_rollout_rollback_plan plan = {0};
	sluice_store *s = sluice_engine_store(c->e);
	char when[SLUICE_TIME_BUFSZ];
	json_t *undone = NULL;
	cli_retval rc = CLI_OK;
	int lrc;

	if ((lrc = sluice_rollout_rollback(&plan, p, c->version)) < 0) {
		rc = cli_fail_action(c, lrc);
		goto done;
	}
	r = &p->releases[plan.from];
	target = plan.target >= 0 ? &p->releases[plan.target] : NULL;
	if (!c->version)
		c->version = sluice_xstrdup(r->version);

	undone = json_array();
	lrc = 0;
	for (size_t i = 0; i < plan.nundone && lrc == 0; i++) {
		const sluice_rollout_release *x = &p->releases[plan.undone[i]];
		lrc = sluice_store_release_rollback(s, sluice_engine_workspace_name(c->e), c->plugin,
						    x->version, target ? target->version : NULL,
						    reason, c->now);
		if (lrc == 0)
			json_array_append_new(undone, json_string(x->version));
	}
	if (lrc < 0 || (lrc = sluice_store_commit(s)) < 0) {
		rc = cli_fail_action(c, lrc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = cli_print_json(json_pack("{s:s, s:s, s:O, s:s?, s:s?, s:s?, s:s, s:s}",
					      "plugin", c->plugin, "version", r->version,
					      "rolled_back", undone, "target_version",
					      target ? target->version : NULL, "target_commit",
					      target ? target->commit : NULL, "reason", reason, "actor",
					      c->actor, "at", sluice_time_format(when, c->now)));
		goto done;
	}
	if (c->quiet)
		goto done;
	if (target)
		printf("rolled back %s@%s by %s: every group that had it goes back to %s (commit "
		       "%.12s) now; %s will not roll out again\n",
		       c->plugin, r->version, c->actor, target->version, target->commit, r->version);
	else
		printf("rolled back %s@%s by %s: no earlier release completed, so the plugin is "
		       "removed from every group now; %s will not roll out again\n",
		       c->plugin, r->version, c->actor, r->version);
done:
	sluice_rollout_rollback_clear(&plan);
	json_decref(undone);
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
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT | CLI_PUBLISH,
	.roles = SLUICE_ROLE_OPERATOR,
	.ref = CLI_REF_ANY,
};
