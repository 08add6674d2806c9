/* sluice reject PLUGIN@VERSION: an approver stops a release for good. It
 * never starts another stage; groups that already have it keep it until a
 * newer release reaches them or an operator rolls it back
 * (docs/concepts.md). */
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"comment", 0, "TEXT", "why, for the audit log", false},
	OPS_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static int run(struct cli *c)
{
	const char *comment = cli_get(c, "comment");
	const sluice_rollout_release *r;
	char when[SLUICE_TIME_BUFSZ];
	ops_ctx o = {0};
	int rc;

	/* check and record in one transaction: what was checked still holds */
	if ((rc = ops_begin(&o, c, "reject", SLUICE_ROLE_APPROVER, OPS_TRANSACTION, NULL, &r)) >= 0)
		goto done;
	if ((rc = sluice_rollout_reject_check(o.plugin, r)) < 0) {
		rc = ops_fail(&o, rc);
		goto done;
	}
	if ((rc = sluice_store_release_reject(o.e->store, o.e->workspace, o.plugin, o.version,
					      r->commit, comment, c->now)) < 0 ||
	    (rc = sluice_store_commit(o.e->store)) < 0) {
		rc = ops_fail(&o, rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s}", "plugin",
					      o.plugin, "version", o.version, "commit", r->commit,
					      "state", "rejected", "actor", o.actor, "comment",
					      comment, "at", sluice_time_format(when, c->now)));
		goto done;
	}
	rc = EXIT_OK;
	if (!c->quiet)
		printf("rejected %s@%s (commit %.12s) by %s: it will not start another stage%s\n",
		       o.plugin, o.version, r->commit, o.actor,
		       r->stage_index >= 0 ? "; groups that have it keep it until a newer "
					     "release reaches them or 'sluice rollback'"
					   : "");
done:
	ops_close(&o);
	return rc;
}

const cli_cmd cmd_reject = {
	.name = "reject",
	.run = run,
	.usage = "reject PLUGIN@VERSION [--comment TEXT]",
	.summary = "stop a release for good (approver)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
