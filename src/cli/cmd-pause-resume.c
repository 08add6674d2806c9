/* sluice pause | resume PLUGIN[@VERSION]: an operator holds a rollout where
 * it is and lets it go on. While paused no stage starts and the soak stops;
 * the paused time is added to the soak on resume. Which release they act
 * on is the planner's sluice_rollout_pause_target (docs/concepts.md,
 * "Operator actions"). */
#include <stdio.h>

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

static cli_retval run_pause(struct cli *c, bool pause)
{
	const char *reason = cli_get(c, "reason");
	const sluice_rollout_release *r;
	char when[SLUICE_TIME_BUFSZ];
	sluice_store *s = sluice_engine_store(c->e);
	const char *ws = sluice_engine_workspace_name(c->e);
	size_t at;
	int rc;

	if ((rc = sluice_rollout_pause_target(&at, c->p, c->version, pause)) < 0)
		return cli_fail_action(c, rc);
	r = &c->p->releases[at];
	if (!c->version)
		c->version = sluice_xstrdup(r->version);
	rc = pause ? sluice_store_release_pause(s, ws, c->plugin, c->version, reason, c->now)
		   : sluice_store_release_resume(s, ws, c->plugin, c->version, reason, c->now);
	if (rc < 0)
		return cli_fail_action(c, rc);
	if (c->output == CLI_OUT_JSON)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:s}", "plugin",
						c->plugin, "version", c->version, "state",
						pause ? "paused" : "in_progress", "stage",
						r->stage_index >= 0 ? r->stages[r->stage_index].name
								    : NULL,
						"reason", reason, "actor", c->actor, "at",
						sluice_time_format(when, c->now)));
	if (c->quiet)
		return CLI_OK;
	if (pause)
		printf("paused %s@%s at stage %s by %s: no stage starts and the soak stops until "
		       "'sluice resume %s'\n",
		       c->plugin, c->version,
		       r->stage_index >= 0 ? r->stages[r->stage_index].name : "(none yet)", c->actor,
		       c->plugin);
	else
		printf("resumed %s@%s by %s: the soak goes on from where it stopped\n", c->plugin,
		       c->version, c->actor);
	return CLI_OK;
}

static cli_retval run_on(struct cli *c) { return run_pause(c, true); }
static cli_retval run_off(struct cli *c) { return run_pause(c, false); }

const cli_cmd cmd_pause = {
	.name = "pause",
	.run = run_on,
	.usage = "pause PLUGIN[@VERSION] [--reason TEXT]",
	.summary = "hold a rollout: no stage starts and the soak stops (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT | CLI_PUBLISH,
	.roles = SLUICE_ROLE_OPERATOR,
	.ref = CLI_REF_ANY,
};

const cli_cmd cmd_resume = {
	.name = "resume",
	.run = run_off,
	.usage = "resume PLUGIN[@VERSION] [--reason TEXT]",
	.summary = "let a paused rollout go on (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT | CLI_PUBLISH,
	.roles = SLUICE_ROLE_OPERATOR,
	.ref = CLI_REF_ANY,
};
