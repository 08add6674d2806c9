/* sluice approve PLUGIN@VERSION --stage NAME: an approver's yes for one
 * stage of one release. The approval binds to the workspace, plugin,
 * version, the commit recorded for the release's tag, and the stage, so it
 * can never count for another version, a moved tag or another stage
 * (docs/concepts.md, "Approvals"). */
#include <stdio.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"stage", 0, "NAME", "the stage approved (required)", false},
	{"comment", 0, "TEXT", "why, for the audit log", false},
	{"commit", 0, "SHA", "refuse unless the release is still at this commit (the one reviewed)",
	 false},
	OPS_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static int run(struct cli *c)
{
	const char *stage = cli_get(c, "stage"), *comment = cli_get(c, "comment");
	const char *want_commit = cli_get(c, "commit");
	const sluice_rollout_release *r;
	sluice_rollout_approve_result ok;
	char when[SLUICE_TIME_BUFSZ];
	sluice_approval_record rec = {0};
	ops_ctx o = {0};
	int rc;

	if (!stage) {
		cli_error("approve needs the stage: give --stage NAME (see 'sluice status')");
		return EXIT_USAGE;
	}
	/* check and record in one transaction: what was checked still holds */
	if ((rc = ops_begin(&o, c, "approve", SLUICE_ROLE_APPROVER, OPS_TRANSACTION, NULL, &r)) >= 0)
		goto done;
	if ((rc = sluice_rollout_approve_check(&ok, &o.in->in, o.plugin, r, stage, want_commit,
					       o.actor)) < 0) {
		rc = ops_fail(&o, rc);
		goto done;
	}
	rec.renew = ok.renew;
	rec.workspace = o.e->workspace;
	rec.plugin = o.plugin;
	rec.version = o.version;
	rec.commit = r->commit;
	rec.stage = stage;
	rec.comment = comment;
	if ((rc = sluice_store_approval_add(o.e->store, &rec, c->now)) < 0 ||
	    (rc = sluice_store_commit(o.e->store)) < 0) {
		/* another process recorded the same approval meanwhile */
		rc = ops_fail(&o, rc == SLUICE_EINVAL ? SLUICE_EREFUSED : rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack(
			"{s:s, s:s, s:s, s:s, s:i, s:s, s:s?, s:s, s:I, s:i}", "plugin", o.plugin,
			"version", o.version, "commit", r->commit, "stage", stage, "stage_index",
			ok.stage_index, "approver", o.actor, "comment", comment, "at",
			sluice_time_format(when, c->now), "approvals", (json_int_t)ok.have, "needed",
			ok.needed));
		goto done;
	}
	rc = EXIT_OK;
	if (c->quiet)
		goto done;
	/* "1 of 2 approvals", but "3 approvals (2 needed)" once past it */
	if (ok.have <= ok.needed)
		printf("approved %s@%s (commit %.12s) for stage %s by %s: %d of %d approval%s\n",
		       o.plugin, o.version, r->commit, stage, o.actor, ok.have, ok.needed,
		       ok.needed == 1 ? "" : "s");
	else
		printf("approved %s@%s (commit %.12s) for stage %s by %s: %d approvals (%d "
		       "needed)\n",
		       o.plugin, o.version, r->commit, stage, o.actor, ok.have, ok.needed);
done:
	ops_close(&o);
	return rc;
}

const cli_cmd cmd_approve = {
	.name = "approve",
	.run = run,
	.usage = "approve PLUGIN@VERSION --stage NAME [--comment TEXT] [--commit SHA]",
	.summary = "approve one stage of a release, bound to its recorded commit (approver)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
