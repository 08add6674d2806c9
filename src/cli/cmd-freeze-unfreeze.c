/* sluice freeze | unfreeze: an operator stops every stage start and
 * promotion in the workspace, and lets them go again. Soak keeps counting
 * while frozen; rollback, withdraw and gate breaches still act
 * (docs/concepts.md). The policy's freeze windows are separate and shown by
 * 'sluice status'. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"

static const cli_opt opts[] = {
	{"reason", 0, "TEXT", "why (recorded in the audit log)", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static cli_retval run_freeze(struct cli *c, bool frozen)
{
	const char *reason = cli_get(c, "reason");
	sluice_store *s = sluice_engine_store(c->e);
	const char *ws = sluice_engine_workspace_name(c->e);
	char *was_reason = NULL;
	bool was = false;
	cli_retval rc = CLI_OK;
	int lrc;

	if ((lrc = sluice_store_workspace_frozen(&was, &was_reason, s, ws)) < 0 ||
	    (was != frozen &&
	     (lrc = sluice_store_workspace_freeze(s, ws, frozen, reason, c->now)) < 0) ||
	    (lrc = sluice_store_commit(s)) < 0) {
		rc = cli_fail_action(c, lrc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = cli_print_json(json_pack("{s:s, s:b, s:b, s:s?}", "workspace", ws, "frozen",
					      frozen, "changed", was != frozen, "reason",
					      was == frozen ? was_reason : reason));
		goto done;
	}
	if (c->quiet)
		goto done;
	if (was == frozen)
		printf("workspace %s is already %s%s%s; nothing changed\n", ws,
		       frozen ? "frozen" : "unfrozen", was_reason ? ": " : "",
		       was_reason ? was_reason : "");
	else if (frozen)
		printf("workspace %s frozen by %s%s%s: no stage starts and nothing is promoted "
		       "until 'sluice unfreeze'; soak keeps counting, rollback and withdraw still "
		       "work\n",
		       ws, c->actor, reason ? ": " : "", reason ? reason : "");
	else
		printf("workspace %s unfrozen by %s: stages may start again at the next reconcile\n",
		       ws, c->actor);
done:
	free(was_reason);
	return rc;
}

static cli_retval run_on(struct cli *c) { return run_freeze(c, true); }
static cli_retval run_off(struct cli *c) { return run_freeze(c, false); }

const cli_cmd cmd_freeze = {
	.name = "freeze",
	.run = run_on,
	.usage = "freeze [--reason TEXT]",
	.summary = "stop all stage starts and promotions in the workspace (operator)",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_PUBLISH,
	.roles = SLUICE_ROLE_OPERATOR,
};

const cli_cmd cmd_unfreeze = {
	.name = "unfreeze",
	.run = run_off,
	.usage = "unfreeze [--reason TEXT]",
	.summary = "lift an operator's freeze of the workspace (operator)",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_PUBLISH,
	.roles = SLUICE_ROLE_OPERATOR,
};
