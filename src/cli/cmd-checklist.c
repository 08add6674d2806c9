/* sluice checklist PLUGIN@VERSION: the nine release-checklist items of
 * PRODUCT.md 3.6 for one release - done by Sluice (validation, permission
 * review, registration; and the staged rollout once its first stage
 * started), attested (who, when, evidence), or missing - with the items the
 * rollout policy requires before stage 1 and the release's risk class.
 * Read-only; it needs no role. */
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	OPS_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

/* "ci or approver" for the roles that may attest `item` */
static void put_roles(sluice_buf *b, unsigned roles)
{
	static const unsigned bits[] = {SLUICE_ROLE_APPROVER, SLUICE_ROLE_OPERATOR,
					SLUICE_ROLE_AUDITOR, SLUICE_ROLE_CI};
	size_t n = 0;
	for (size_t i = 0; i < 4; i++)
		if (roles & bits[i])
			sluice_buf_printf(b, "%s%s", n++ ? " or " : "", sluice_role_name(bits[i]));
}

static int run(struct cli *c)
{
	const sluice_rollout_release *r;
	sluice_attestation_list att = {0};
	sluice_buf text = SLUICE_BUF_INIT, missing = SLUICE_BUF_INIT;
	json_t *items = NULL;
	char when[SLUICE_TIME_BUFSZ];
	const char *policy_name;
	bool ready = true;
	ops_ctx o = {0};
	int rc;

	if ((rc = ops_begin(&o, c, "checklist", 0, OPS_READONLY, NULL, &r)) >= 0)
		goto done;
	if ((rc = sluice_store_attestation_list(&att, o.e->store, o.e->workspace, o.plugin,
						o.version)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	policy_name = o.e->policy && o.e->policy->name.s ? o.e->policy->name.s
							 : SLUICE_ENGINE_DEFAULT_POLICY;
	sluice_buf_printf(&text, "%s@%s (commit %.12s, risk %s), rollout policy %s\n", o.plugin,
			  o.version, r->commit, sluice_risk_name((sluice_risk)r->risk), policy_name);
	items = json_array();
	for (const char *const *it = sluice_checklist_items; *it; it++) {
		const sluice_attestation *a = NULL;
		const sluice_checklist_req *req = NULL;
		const char *state, *by = NULL, *evidence = NULL, *detail = NULL;
		unsigned roles = SLUICE_ROLE_CI | SLUICE_ROLE_APPROVER;
		int64_t at = 0;
		sluice_buf line = SLUICE_BUF_INIT;

		for (size_t i = 0; o.e->policy && i < o.e->policy->nchecklist; i++)
			if (o.e->policy->checklist[i].item.s &&
			    !strcmp(o.e->policy->checklist[i].item.s, *it))
				req = &o.e->policy->checklist[i];
		if (req && req->by_roles)
			roles = req->by_roles;
		for (size_t i = 0; i < att.count; i++)
			if (!strcmp(att.items[i].item, *it))
				a = &att.items[i]; /* the newest counts */

		if (ops_one_of(ops_checked_items, *it)) {
			if (r->refused) {
				state = "failed";
				detail = r->refused_reason;
			} else {
				state = "done";
				by = "sluice";
				at = r->seen_at;
			}
		} else if (!strcmp(*it, "start-staged-rollout") && r->stage_index >= 0) {
			state = "done";
			by = "sluice";
			at = r->stage_started_at;
		} else if (a) {
			state = "attested";
			by = a->actor;
			at = a->at;
			evidence = a->evidence;
		} else
			state = "missing";
		if (req && strcmp(state, "done") && strcmp(state, "attested")) {
			ready = false;
			sluice_buf_printf(&missing, "%s%s", missing.len ? ", " : "", *it);
		}

		json_t *j = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b}", "item", *it, "state",
				      state, "by", by, "at", at ? sluice_time_format(when, at) : NULL,
				      "evidence", evidence, "required", req != NULL);
		if (detail)
			json_object_set_new(j, "detail", json_string(detail));
		if (!ops_one_of(ops_checked_items, *it)) {
			json_t *jr = json_array();
			static const unsigned bits[] = {SLUICE_ROLE_APPROVER, SLUICE_ROLE_OPERATOR,
							SLUICE_ROLE_AUDITOR, SLUICE_ROLE_CI};
			for (size_t i = 0; i < 4; i++)
				if (roles & bits[i])
					json_array_append_new(jr, json_string(sluice_role_name(bits[i])));
			json_object_set_new(j, "attest_roles", jr);
		}
		json_array_append_new(items, j);

		if (!strcmp(state, "done"))
			sluice_buf_printf(&line, "done by sluice (%s)", ops_time(when, at));
		else if (!strcmp(state, "attested"))
			sluice_buf_printf(&line, "attested by %s %s%s%s", by, ops_time(when, at),
					  evidence ? ": " : "", evidence ? evidence : "");
		else if (!strcmp(state, "failed"))
			sluice_buf_printf(&line, "failed: %s", detail ? detail : "refused");
		else {
			sluice_buf_puts(&line, "missing");
			if (!ops_one_of(ops_checked_items, *it)) {
				sluice_buf_puts(&line, " (attest: ");
				put_roles(&line, roles);
				sluice_buf_puts(&line, ")");
			}
		}
		sluice_buf_printf(&text, "  %-22s %s%s\n", *it, line.ptr,
				  req ? "  [required before stage 1]" : "");
		sluice_buf_clear(&line);
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:O}", "plugin",
					      o.plugin, "version", o.version, "commit", r->commit,
					      "risk", sluice_risk_name((sluice_risk)r->risk),
					      "rollout_policy", policy_name, "ready", ready, "items",
					      items));
		goto done;
	}
	if (ready)
		sluice_buf_puts(&text, "ready for stage 1: every required item is done\n");
	else
		sluice_buf_printf(&text, "not ready for stage 1: missing %s\n", missing.ptr);
	rc = EXIT_OK;
	if (!c->quiet)
		fputs(text.ptr, stdout);
done:
	json_decref(items);
	sluice_buf_clear(&text);
	sluice_buf_clear(&missing);
	sluice_attestation_list_clear(&att);
	ops_close(&o);
	return rc;
}

const cli_cmd cmd_checklist = {
	.name = "checklist",
	.run = run,
	.usage = "checklist PLUGIN@VERSION",
	.summary = "the nine release-checklist items of a release and their state",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
