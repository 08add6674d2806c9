/* sluice withdraw | restore PLUGIN[@VERSION]: the kill switch and its undo.
 * withdraw PLUGIN removes the plugin from every group - published at once -
 * and keeps it out, nothing rolls out, until 'sluice restore PLUGIN'.
 * withdraw PLUGIN@VERSION removes that one version: groups fall back as for
 * a rollback. restore PLUGIN@VERSION brings the version back: complete if
 * its last stage had started, else paused at the stage it had reached (an
 * operator resumes it), else pending (docs/commands.md). Allowed while the
 * workspace is frozen. Withdrawing what is withdrawn, or restoring what is
 * not, changes nothing and says so (as freeze and unfreeze do). */
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

static cli_retval run_withdraw(struct cli *c, bool withdraw)
{
	const char *reason = cli_get(c, "reason");
	const sluice_rollout_release *r = c->r;
	sluice_store *s = sluice_engine_store(c->e);
	const char *ws = sluice_engine_workspace_name(c->e);
	const char *state = NULL, *name = c->version;
	char when[SLUICE_TIME_BUFSZ];
	bool was = false;
	int rc;

	if ((rc = sluice_store_withdrawn(&was, s, ws, c->plugin, c->version)) < 0)
		return cli_fail(rc);
	if (was == withdraw) {
		/* nothing to do: say so, as a repeated freeze does */
		if (c->output == CLI_OUT_JSON)
			return cli_print_json(json_pack("{s:s, s:s?, s:b, s:b, s:s?}", "plugin",
							c->plugin, "version", c->version,
							"withdrawn", withdraw, "changed", false,
							"actor", c->actor));
		if (!c->quiet)
			printf("%s%s%s is %s; nothing changed\n", c->plugin, name ? "@" : "",
			       name ? name : "", withdraw ? "already withdrawn" : "not withdrawn");
		return CLI_OK;
	}
	if (withdraw)
		rc = sluice_store_withdraw(s, ws, c->plugin, c->version, reason, c->now);
	else {
		if (r)
			state = sluice_release_state_name(sluice_rollout_restore_state(r));
		rc = sluice_store_restore(s, ws, c->plugin, c->version, state, reason, c->now);
	}
	if (rc < 0 || (rc = sluice_store_commit(s)) < 0)
		return cli_fail_action(c, rc);
	if (c->output == CLI_OUT_JSON)
		return cli_print_json(json_pack("{s:s, s:s?, s:b, s:b, s:s?, s:s?, s:s, s:s}",
						"plugin", c->plugin, "version", c->version,
						"withdrawn", withdraw, "changed", true, "state",
						withdraw ? (r ? "withdrawn" : NULL) : state, "reason",
						reason, "actor", c->actor, "at",
						sluice_time_format(when, c->now)));
	if (c->quiet)
		return CLI_OK;
	if (withdraw && !r)
		printf("withdrew %s by %s: it leaves every group now and nothing of it rolls out "
		       "until 'sluice restore %s'\n",
		       c->plugin, c->actor, c->plugin);
	else if (withdraw) {
		/* name what they fall back to: the newest earlier release that
		 * completed (a superseded or rolled-back one never is) */
		ptrdiff_t back = c->p ? sluice_rollout_rollback_target(c->p, (size_t)(r - c->p->releases))
				      : -1;
		if (back >= 0)
			printf("withdrew %s@%s by %s: groups that have it fall back to %s now, until "
			       "'sluice restore %s@%s'\n",
			       c->plugin, c->version, c->actor, c->p->releases[back].version, c->plugin,
			       c->version);
		else
			printf("withdrew %s@%s by %s: groups that have it no longer get %s (no earlier "
			       "release completed), until 'sluice restore %s@%s'\n",
			       c->plugin, c->version, c->actor, c->plugin, c->plugin, c->version);
	}
	else if (!r)
		printf("restored %s by %s: its groups have it again and its releases roll out "
		       "from the next reconcile\n",
		       c->plugin, c->actor);
	else
		printf("restored %s@%s by %s: it is %s again%s\n", c->plugin, c->version, c->actor,
		       state,
		       !strcmp(state, "paused") ? "; run 'sluice resume' to let it go on" : "");
	return CLI_OK;
}

static cli_retval run_on(struct cli *c) { return run_withdraw(c, true); }
static cli_retval run_off(struct cli *c) { return run_withdraw(c, false); }

const cli_cmd cmd_withdraw = {
	.name = "withdraw",
	.run = run_on,
	.usage = "withdraw PLUGIN[@VERSION] [--reason TEXT]",
	.summary = "the kill switch: remove a plugin (or one version) from every group (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT | CLI_PUBLISH,
	.roles = SLUICE_ROLE_OPERATOR,
	.ref = CLI_REF_ANY,
};

const cli_cmd cmd_restore = {
	.name = "restore",
	.run = run_off,
	.usage = "restore PLUGIN[@VERSION] [--reason TEXT]",
	.summary = "undo a withdrawal (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT | CLI_PUBLISH,
	.roles = SLUICE_ROLE_OPERATOR,
	.ref = CLI_REF_ANY,
};
