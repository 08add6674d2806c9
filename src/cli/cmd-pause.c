/* sluice pause | resume PLUGIN[@VERSION]: an operator holds a rollout where
 * it is and lets it go on. While paused no stage starts and the soak stops;
 * the paused time is added to the soak on resume. Which release they act
 * on is the planner's sluice_rollout_pause_target (docs/concepts.md,
 * "Operator actions"). */
#include <stdio.h>

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

static int run_pause(struct cli *c, bool pause)
{
	const char *cmd = pause ? "pause" : "resume", *reason = cli_get(c, "reason");
	const sluice_rollout_plugin *p;
	const sluice_rollout_release *r, *any; /* any: the release named, checked by ops_begin */
	char when[SLUICE_TIME_BUFSZ];
	ops_ctx o = {0};
	size_t at;
	int rc;

	if ((rc = ops_begin(&o, c, cmd, SLUICE_ROLE_OPERATOR, OPS_ANY_VERSION, &p, &any)) >= 0)
		goto done;
	if ((rc = sluice_rollout_pause_target(&at, p, o.version, pause)) < 0) {
		rc = ops_fail(&o, rc);
		goto done;
	}
	r = &p->releases[at];
	if (!o.version)
		o.version = sluice_xstrdup(r->version);
	rc = pause ? sluice_store_release_pause(o.e->store, o.e->workspace, o.plugin, o.version,
						reason, c->now)
		   : sluice_store_release_resume(o.e->store, o.e->workspace, o.plugin, o.version,
						 reason, c->now);
	if (rc < 0) {
		rc = ops_fail(&o, rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:s}", "plugin",
					      o.plugin, "version", o.version, "state",
					      pause ? "paused" : "in_progress", "stage",
					      r->stage_index >= 0 ? r->stages[r->stage_index].name
								  : NULL,
					      "reason", reason, "actor", o.actor, "at",
					      sluice_time_format(when, c->now)));
		goto done;
	}
	rc = EXIT_OK;
	if (c->quiet)
		goto done;
	if (pause)
		printf("paused %s@%s at stage %s by %s: no stage starts and the soak stops until "
		       "'sluice resume %s'\n",
		       o.plugin, o.version,
		       r->stage_index >= 0 ? r->stages[r->stage_index].name : "(none yet)", o.actor,
		       o.plugin);
	else
		printf("resumed %s@%s by %s: the soak goes on from where it stopped\n", o.plugin,
		       o.version, o.actor);
done:
	ops_close(&o);
	return rc;
}

static int run_on(struct cli *c) { return run_pause(c, true); }
static int run_off(struct cli *c) { return run_pause(c, false); }

const cli_cmd cmd_pause = {
	.name = "pause",
	.run = run_on,
	.usage = "pause PLUGIN[@VERSION] [--reason TEXT]",
	.summary = "hold a rollout: no stage starts and the soak stops (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};

const cli_cmd cmd_resume = {
	.name = "resume",
	.run = run_off,
	.usage = "resume PLUGIN[@VERSION] [--reason TEXT]",
	.summary = "let a paused rollout go on (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
