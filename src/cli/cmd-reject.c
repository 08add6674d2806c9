/* sluice reject PLUGIN@VERSION: an approver stops a release for good. It
 * never starts another stage; groups that already have it keep it until a
 * newer release reaches them or an operator rolls it back
 * (docs/concepts.md). */
#include <stdio.h>
#include <string.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"comment", 0, "TEXT", "why, for the audit log", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

/* Checks and records in the command's one transaction: what was checked
 * still holds. */
static cli_retval run(struct cli *c)
{
	const char *comment = cli_get(c, "comment");
	const sluice_rollout_release *r = c->r;
	sluice_store *s = sluice_engine_store(c->e);
	char when[SLUICE_TIME_BUFSZ];
	int lrc;

	if ((lrc = sluice_rollout_reject_check(c->plugin, r)) < 0)
		return cli_fail_action(c, lrc);
	if ((lrc = sluice_store_release_reject(s, sluice_engine_workspace_name(c->e), c->plugin,
					       c->version, r->commit, comment, c->now)) < 0 ||
	    (lrc = sluice_store_commit(s)) < 0)
		return cli_fail_action(c, lrc);
	if (c->output == CLI_OUT_JSON)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s}", "plugin",
						c->plugin, "version", c->version, "commit",
						r->commit, "state", "rejected", "actor", c->actor,
						"comment", comment, "at",
						sluice_time_format(when, c->now)));
	if (!c->quiet)
		printf("rejected %s@%s (commit %.12s) by %s: it will not start another stage%s\n",
		       c->plugin, c->version, r->commit, c->actor,
		       r->stage_index >= 0 ? "; groups that have it keep it until a newer "
					     "release reaches them or 'sluice rollback'"
					   : "");
	return CLI_OK;
}

const cli_cmd cmd_reject = {
	.name = "reject",
	.run = run,
	.usage = "reject PLUGIN@VERSION [--comment TEXT]",
	.summary = "stop a release for good (approver)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT,
	.roles = SLUICE_ROLE_APPROVER,
	.ref = CLI_REF_RELEASE,
};
