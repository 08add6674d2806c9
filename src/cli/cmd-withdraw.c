/* sluice withdraw | restore PLUGIN[@VERSION]: the kill switch and its undo.
 * withdraw PLUGIN removes the plugin from every group at the next reconcile
 * and keeps it out, nothing rolls out, until 'sluice restore PLUGIN'.
 * withdraw PLUGIN@VERSION removes that one version: groups fall back as for
 * a rollback. restore PLUGIN@VERSION brings the version back: complete if
 * its last stage had started, else paused at the stage it had reached (an
 * operator resumes it), else pending (docs/commands.md). Allowed while the
 * workspace is frozen. */
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

static int run_withdraw(struct cli *c, bool withdraw)
{
	const char *cmd = withdraw ? "withdraw" : "restore", *reason = cli_get(c, "reason");
	const sluice_rollout_release *r = NULL;
	const char *state = NULL;
	char when[SLUICE_TIME_BUFSZ];
	ops_ctx o = {0};
	int rc;

	if ((rc = ops_begin(&o, c, cmd, SLUICE_ROLE_OPERATOR, OPS_ANY_VERSION, NULL, &r)) >= 0)
		goto done;
	if (withdraw)
		rc = sluice_store_withdraw(o.e->store, o.e->workspace, o.plugin, o.version, reason,
					   c->now);
	else {
		if (r)
			state = sluice_release_state_name(sluice_rollout_restore_state(r));
		rc = sluice_store_restore(o.e->store, o.e->workspace, o.plugin, o.version, state,
					  reason, c->now);
	}
	if (rc < 0) {
		rc = ops_fail(&o, rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack("{s:s, s:s?, s:b, s:s?, s:s?, s:s, s:s}", "plugin",
					      o.plugin, "version", o.version, "withdrawn", withdraw,
					      "state", withdraw ? (r ? "withdrawn" : NULL) : state,
					      "reason", reason, "actor", o.actor, "at",
					      sluice_time_format(when, c->now)));
		goto done;
	}
	rc = EXIT_OK;
	if (c->quiet)
		goto done;
	if (withdraw && !r)
		printf("withdrew %s by %s: it leaves every group at the next reconcile and nothing "
		       "of it rolls out until 'sluice restore %s'\n",
		       o.plugin, o.actor, o.plugin);
	else if (withdraw)
		printf("withdrew %s@%s by %s: groups that have it fall back to the previous "
		       "completed release at the next reconcile, until 'sluice restore %s@%s'\n",
		       o.plugin, o.version, o.actor, o.plugin, o.version);
	else if (!r)
		printf("restored %s by %s: its releases roll out again from the next reconcile\n",
		       o.plugin, o.actor);
	else
		printf("restored %s@%s by %s: it is %s again%s\n", o.plugin, o.version, o.actor,
		       state,
		       !strcmp(state, "paused") ? "; run 'sluice resume' to let it go on" : "");
done:
	ops_close(&o);
	return rc;
}

static int run_on(struct cli *c) { return run_withdraw(c, true); }
static int run_off(struct cli *c) { return run_withdraw(c, false); }

const cli_cmd cmd_withdraw = {
	.name = "withdraw",
	.run = run_on,
	.usage = "withdraw PLUGIN[@VERSION] [--reason TEXT]",
	.summary = "the kill switch: remove a plugin (or one version) from every group (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};

const cli_cmd cmd_restore = {
	.name = "restore",
	.run = run_off,
	.usage = "restore PLUGIN[@VERSION] [--reason TEXT]",
	.summary = "undo a withdrawal (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
