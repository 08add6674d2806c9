/* sluice freeze | unfreeze: an operator stops every stage start and
 * promotion in the workspace, and lets them go again. Soak keeps counting
 * while frozen; rollback, withdraw and gate breaches still act
 * (PRODUCT.md 3.4). The policy's freeze windows are separate and shown by
 * 'sluice status'. */
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"

static const cli_opt opts[] = {
	{"reason", 0, "TEXT", "why (recorded in the audit log)", false},
	OPS_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static int run_freeze(struct cli *c, bool frozen)
{
	const char *reason = cli_get(c, "reason");
	char *was_reason = NULL;
	bool was = false;
	ops_ctx o = {0};
	int rc;

	if ((rc = ops_open(&o, c, frozen ? "freeze" : "unfreeze", false)) >= 0)
		return rc;
	if ((rc = ops_authorize(&o, SLUICE_ROLE_OPERATOR)) >= 0)
		goto done;
	if ((rc = sluice_store_begin(o.e->store)) < 0 ||
	    (rc = sluice_store_workspace_frozen(&was, &was_reason, o.e->store, o.e->workspace)) < 0 ||
	    (was != frozen &&
	     (rc = sluice_store_workspace_freeze(o.e->store, o.e->workspace, frozen, reason,
						 c->now)) < 0) ||
	    (rc = sluice_store_commit(o.e->store)) < 0) {
		sluice_store_rollback(o.e->store);
		rc = ops_fail(&o, rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack("{s:s, s:b, s:b, s:s?}", "workspace", o.e->workspace,
					      "frozen", frozen, "changed", was != frozen, "reason",
					      was == frozen ? was_reason : reason));
		goto done;
	}
	rc = EXIT_OK;
	if (c->quiet)
		goto done;
	if (was == frozen)
		printf("workspace %s is already %s%s%s; nothing changed\n", o.e->workspace,
		       frozen ? "frozen" : "unfrozen", was_reason ? ": " : "",
		       was_reason ? was_reason : "");
	else if (frozen)
		printf("workspace %s frozen by %s%s%s: no stage starts and nothing is promoted "
		       "until 'sluice unfreeze'; soak keeps counting, rollback and withdraw still "
		       "work\n",
		       o.e->workspace, o.actor, reason ? ": " : "", reason ? reason : "");
	else
		printf("workspace %s unfrozen by %s: stages may start again at the next reconcile\n",
		       o.e->workspace, o.actor);
done:
	free(was_reason);
	ops_close(&o);
	return rc;
}

static int run_on(struct cli *c) { return run_freeze(c, true); }
static int run_off(struct cli *c) { return run_freeze(c, false); }

const cli_cmd cmd_freeze = {
	.name = "freeze",
	.run = run_on,
	.usage = "freeze [--reason TEXT]",
	.summary = "stop all stage starts and promotions in the workspace (operator)",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
};

const cli_cmd cmd_unfreeze = {
	.name = "unfreeze",
	.run = run_off,
	.usage = "unfreeze [--reason TEXT]",
	.summary = "lift an operator's freeze of the workspace (operator)",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
};
