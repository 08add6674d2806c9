/* sluice approve PLUGIN@VERSION --stage NAME: an approver's yes for one
 * stage of one release. The approval binds to the workspace, plugin,
 * version, the commit recorded for the release's tag, and the stage, so it
 * can never count for another version, a moved tag or another stage
 * (docs/concepts.md, "Approvals"). */
#include <stdio.h>
#include <string.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"stage", 0, "NAME", "the stage approved (required)", false},
	{"comment", 0, "TEXT", "why, for the audit log", false},
	{"commit", 0, "SHA", "refuse unless the release is still at this commit (the one reviewed)",
	 false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static cli_retval check(struct cli *c)
{
	if (!cli_get(c, "stage")) {
		cli_error("approve needs the stage: give --stage NAME (see 'sluice status')");
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* A stage the release does not have is a wrong name (exit 2), not a
 * refusal: the planner's check below decides everything else. */
static cli_retval check_stage(struct cli *c, const char *stage)
{
	sluice_buf names = SLUICE_BUF_INIT;
	cli_retval rc;

	for (size_t k = 0; k < c->r->nstages; k++)
		if (c->r->stages[k].name && strcmp(c->r->stages[k].name, stage) == 0)
			return CLI_OK;
	for (size_t k = 0; k < c->r->nstages; k++)
		sluice_buf_printf(&names, "%s%s", k ? ", " : "", c->r->stages[k].name);
	rc = cli_invalid(c, "cannot approve %s@%s: it has no stage '%s' (its stages: %s)",
			 c->plugin, c->version, stage, names.len ? names.ptr : "none");
	sluice_buf_clear(&names);
	return rc;
}

/* Checks and records in the command's one transaction: what was checked
 * still holds. */
static cli_retval run(struct cli *c)
{
	const char *stage = cli_get(c, "stage"), *comment = cli_get(c, "comment");
	const char *want_commit = cli_get(c, "commit");
	const sluice_rollout_release *r = c->r;
	sluice_store *s = sluice_engine_store(c->e);
	sluice_rollout_approve_result ok;
	char when[SLUICE_TIME_BUFSZ];
	sluice_approval_record rec = {0};
	cli_retval rc;
	int lrc;

	if ((rc = check_stage(c, stage)) != CLI_OK)
		return rc;
	if ((lrc = sluice_rollout_approve_check(&ok, &c->in->in, c->plugin, r, stage, want_commit,
						c->actor)) < 0)
		return cli_fail_action(c, lrc);
	rec.renew = ok.renew;
	rec.workspace = sluice_engine_workspace_name(c->e);
	rec.plugin = c->plugin;
	rec.version = c->version;
	rec.commit = r->commit;
	rec.stage = stage;
	rec.comment = comment;
	if ((lrc = sluice_store_approval_add(s, &rec, c->now)) < 0 ||
	    (lrc = sluice_store_commit(s)) < 0)
		/* another process recorded the same approval meanwhile */
		return cli_fail_action(c, lrc == SLUICE_EINVAL ? SLUICE_EREFUSED : lrc);
	if (c->output == CLI_OUT_JSON)
		return cli_print_json(json_pack(
			"{s:s, s:s, s:s, s:s, s:i, s:s, s:s?, s:s, s:I, s:i}", "plugin", c->plugin,
			"version", c->version, "commit", r->commit, "stage", stage, "stage_index",
			ok.stage_index, "approver", c->actor, "comment", comment, "at",
			sluice_time_format(when, c->now), "approvals", (json_int_t)ok.have, "needed",
			ok.needed));
	if (c->quiet)
		return CLI_OK;
	/* "1 of 2 approvals", but "3 approvals (2 needed)" once past it */
	if (ok.have <= ok.needed)
		printf("approved %s@%s (commit %.12s) for stage %s by %s: %d of %d approval%s\n",
		       c->plugin, c->version, r->commit, stage, c->actor, ok.have, ok.needed,
		       ok.needed == 1 ? "" : "s");
	else
		printf("approved %s@%s (commit %.12s) for stage %s by %s: %d approvals (%d "
		       "needed)\n",
		       c->plugin, c->version, r->commit, stage, c->actor, ok.have, ok.needed);
	return CLI_OK;
}

const cli_cmd cmd_approve = {
	.name = "approve",
	.run = run,
	.usage = "approve PLUGIN@VERSION --stage NAME [--comment TEXT] [--commit SHA]",
	.summary = "approve one stage of a release, bound to its recorded commit (approver)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT,
	.roles = SLUICE_ROLE_APPROVER,
	.ref = CLI_REF_RELEASE,
	.check = check,
};
