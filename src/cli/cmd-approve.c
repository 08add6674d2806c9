/* sluice approve PLUGIN@VERSION --stage NAME: an approver's yes for one
 * stage of one release. The approval binds to the workspace, plugin,
 * version, the commit recorded for the release's tag, and the stage, so it
 * can never count for another version, a moved tag or another stage
 * (PRODUCT.md 3.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/identity.h"
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

/* Live approvals of the stage at the release's commit, by distinct
 * approvers. */
/* Distinct approvers of this release's stage whose approval is still
 * valid now (approval_ttl_days); the planner judges expiry again at the
 * moment the stage would start. */
static size_t count_approvals(const sluice_rollout_input *in, const char *plugin,
			      const sluice_rollout_release *r, const char *stage, int64_t now)
{
	int64_t ttl = in->rules.approval_ttl_days * SLUICE_DAY_SECONDS;
	size_t n = 0;
	for (size_t i = 0; i < in->napprovals; i++) {
		const sluice_rollout_approval *a = &in->approvals[i];
		bool dup = false;
		if (a->voided || strcmp(a->plugin, plugin) || strcmp(a->version, r->version) ||
		    strcmp(a->commit, r->commit) || strcmp(a->stage, stage))
			continue;
		if (ttl > 0 && now - a->at > ttl)
			continue;
		for (size_t j = 0; j < i && !dup; j++) {
			const sluice_rollout_approval *b = &in->approvals[j];
			dup = !b->voided && !strcmp(b->approver, a->approver) &&
			      !strcmp(b->plugin, plugin) && !strcmp(b->version, r->version) &&
			      !strcmp(b->commit, r->commit) && !strcmp(b->stage, stage);
		}
		n += !dup;
	}
	return n;
}

/* Which of the release's attribution e-mails (the tagger; for a
 * lightweight tag "author, committer") belongs to `admin`, compared
 * without case; malloc'd, or NULL. */
static char *made_by(const sluice_admin *admin, const char *attribution)
{
	const char *p = attribution;

	while (p && *p) {
		size_t len;
		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ",");
		while (len && p[len - 1] == ' ')
			len--;
		for (size_t i = 0; len && i < admin->emails.count; i++) {
			const char *m = admin->emails.items[i].s;
			if (m && strlen(m) == len && strncasecmp(m, p, len) == 0)
				return sluice_xstrndup(p, len);
		}
		p += strcspn(p, ",");
	}
	return NULL;
}

/* Other approvers who could give the approval instead, for messages:
 * neither the actor nor, with prevent_self_approval, whoever made the
 * release (their approval would be refused too). */
static char *other_approvers(const sluice_engine *e, const char *actor, const char *attribution)
{
	const sluice_workspace *ws = e->ws;
	sluice_buf b = SLUICE_BUF_INIT;
	for (size_t i = 0; i < ws->nadmins; i++) {
		const sluice_admin *a = &ws->admins[i];
		char *mail;
		if (!(a->roles & SLUICE_ROLE_APPROVER) || !a->id.s || !strcmp(a->id.s, actor))
			continue;
		if (e->rules.prevent_self_approval && (mail = made_by(a, attribution)) != NULL) {
			free(mail);
			continue;
		}
		sluice_buf_printf(&b, "%s%s", b.len ? ", " : "", a->id.s);
	}
	if (!b.len)
		sluice_buf_puts(&b, "none; add one to the workspace's admins");
	return sluice_buf_detach(&b);
}

static int run(struct cli *c)
{
	const char *stage = cli_get(c, "stage"), *comment = cli_get(c, "comment");
	const char *want_commit = cli_get(c, "commit");
	const sluice_rollout_release *r;
	const sluice_admin *admin;
	char when[SLUICE_TIME_BUFSZ];
	int stage_index = -1, rc, min;
	sluice_approval_record rec = {0};
	char *mail = NULL;
	size_t have;
	ops_ctx o = {0};

	if (!stage) {
		cli_error("approve needs the stage: give --stage NAME (see 'sluice status')");
		return EXIT_USAGE;
	}
	/* check and record in one transaction: what was checked still holds */
	if ((rc = ops_begin(&o, c, "approve", SLUICE_ROLE_APPROVER, OPS_TRANSACTION, NULL, &r)) >= 0)
		goto done;
	for (size_t k = 0; k < r->nstages; k++)
		if (r->stages[k].name && !strcmp(r->stages[k].name, stage))
			stage_index = (int)k;
	if (stage_index < 0) {
		sluice_buf names = SLUICE_BUF_INIT;
		for (size_t k = 0; k < r->nstages; k++)
			sluice_buf_printf(&names, "%s%s", k ? ", " : "", r->stages[k].name);
		rc = ops_refuse(&o, "cannot approve %s@%s: it has no stage '%s' (its stages: %s)",
				o.plugin, o.version, stage, names.len ? names.ptr : "none");
		sluice_buf_clear(&names);
		goto done;
	}
	if (want_commit && (strlen(want_commit) < 7 ||
			    strncasecmp(r->commit, want_commit, strlen(want_commit)) != 0)) {
		rc = ops_refuse(&o, "cannot approve %s@%s: its recorded commit is %s, not %s; "
				    "review that commit and approve it",
				o.plugin, o.version, r->commit, want_commit);
		goto done;
	}
	if (r->state == SLUICE_RELEASE_REJECTED || r->state == SLUICE_RELEASE_ROLLED_BACK ||
	    r->state == SLUICE_RELEASE_WITHDRAWN || r->state == SLUICE_RELEASE_SUPERSEDED ||
	    r->state == SLUICE_RELEASE_SKIPPED) {
		rc = ops_refuse(&o, "cannot approve %s@%s: the release is %s and will not roll out "
				    "again",
				o.plugin, o.version, sluice_release_state_name(r->state));
		goto done;
	}
	if (r->tag_moved || r->state == SLUICE_RELEASE_FROZEN) {
		rc = ops_refuse(&o, "cannot approve %s@%s: its tag %s moved away from the recorded "
				    "commit %s; an operator must run 'sluice accept-tag-move %s@%s' "
				    "(which voids approvals) before it can be approved",
				o.plugin, o.version, r->tag ? r->tag : "", r->commit, o.plugin,
				o.version);
		goto done;
	}
	if (r->stage_index >= stage_index) {
		rc = ops_refuse(&o, "cannot approve %s@%s for stage '%s': that stage already "
				    "started",
				o.plugin, o.version, stage);
		goto done;
	}
	admin = sluice_workspace_admin(o.e->ws, o.actor);
	if (o.e->rules.prevent_self_approval && admin &&
	    (mail = made_by(admin, r->tagger_email)) != NULL) {
		char *others = other_approvers(o.e, o.actor, r->tagger_email);
		rc = ops_refuse(&o, "cannot approve %s@%s: %s tagged this release (%s) and "
				    "policy.prevent_self_approval is set; another approver must "
				    "approve it (%s)",
				o.plugin, o.version, o.actor, mail, others);
		free(others);
		free(mail);
		goto done;
	}
	for (size_t i = 0; i < o.in->in.napprovals; i++) {
		const sluice_rollout_approval *a = &o.in->in.approvals[i];
		int64_t ttl = o.in->in.rules.approval_ttl_days * 86400;
		if (a->voided || strcmp(a->approver, o.actor) || strcmp(a->plugin, o.plugin) ||
		    strcmp(a->version, o.version) || strcmp(a->commit, r->commit) ||
		    strcmp(a->stage, stage))
			continue;
		/* an approval that has expired (approval_ttl_days) is renewed:
		 * the store voids it and records the new one */
		if (ttl > 0 && c->now - a->at > ttl) {
			rec.renew = true;
			continue;
		}
		char *others = other_approvers(o.e, o.actor, r->tagger_email);
		rc = ops_refuse(&o, "%s already approved %s@%s for stage '%s' on %s; a second "
				    "approval by the same admin does not count (other approvers: %s)",
				o.actor, o.plugin, o.version, stage, ops_time(when, a->at), others);
		free(others);
		goto done;
	}
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
	/* the new approval, plus the others still valid (a renewed one had
	 * expired, so it is not among them) */
	have = count_approvals(&o.in->in, o.plugin, r, stage, c->now) + 1;
	min = o.e->rules.min_approvals[r->risk >= 0 && r->risk <= 2 ? r->risk : 2];
	if (min < 1)
		min = 1;
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack(
			"{s:s, s:s, s:s, s:s, s:i, s:s, s:s?, s:s, s:I, s:i}", "plugin", o.plugin,
			"version", o.version, "commit", r->commit, "stage", stage, "stage_index",
			stage_index, "approver", o.actor, "comment", comment, "at",
			sluice_time_format(when, c->now), "approvals", (json_int_t)have, "needed",
			min));
		goto done;
	}
	rc = EXIT_OK;
	if (!c->quiet)
		printf("approved %s@%s (commit %.12s) for stage %s by %s: %zu of %d approval%s\n",
		       o.plugin, o.version, r->commit, stage, o.actor, have, min,
		       min == 1 ? "" : "s");
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
