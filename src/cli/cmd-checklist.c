/* sluice checklist PLUGIN@VERSION: the nine release-checklist items
 * (docs/configuration.md) for one release - done by Sluice (validation, permission
 * review, registration; and the staged rollout once its first stage
 * started), attested (who, when, evidence), or missing - with the items the
 * rollout policy requires before stage 1 and the release's risk class.
 * The states are the planner's (sluice_rollout_checklist); this prints
 * them. Read-only; it needs no role. */
#include <stdio.h>
#include <stdlib.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	CLI_OPT_WORKSPACE,
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

/* The role names of `roles` as a JSON array. */
static json_t *roles_json(unsigned roles)
{
	static const unsigned bits[] = {SLUICE_ROLE_APPROVER, SLUICE_ROLE_OPERATOR,
					SLUICE_ROLE_AUDITOR, SLUICE_ROLE_CI};
	json_t *jr = json_array();
	for (size_t i = 0; i < 4; i++)
		if (roles & bits[i])
			json_array_append_new(jr, json_string(sluice_role_name(bits[i])));
	return jr;
}

static cli_retval run(struct cli *c)
{
	const sluice_rollout_release *r = c->r;
	const sluice_rollout_policy *policy = sluice_engine_policy(c->e);
	sluice_attestation_list att = {0};
	sluice_rollout_attestation *atts = NULL;
	sluice_rollout_checklist_req *reqs = NULL;
	sluice_rollout_checklist_state list = {0};
	sluice_buf text = SLUICE_BUF_INIT, missing = SLUICE_BUF_INIT;
	json_t *items = NULL;
	char when[SLUICE_TIME_BUFSZ];
	const char *policy_name;
	size_t nreqs = 0;
	bool ready;
	cli_retval rc = CLI_OK;
	int lrc;

	if ((lrc = sluice_store_attestation_list(&att, sluice_engine_store(c->e),
						 sluice_engine_workspace_name(c->e), c->plugin,
						 c->version)) < 0) {
		rc = cli_fail(lrc);
		goto done;
	}
	atts = sluice_xcalloc(att.count + 1, sizeof *atts);
	for (size_t i = 0; i < att.count; i++)
		atts[i] = (sluice_rollout_attestation){att.items[i].item, att.items[i].actor,
						       att.items[i].evidence, att.items[i].at};
	reqs = sluice_xcalloc((policy ? policy->nchecklist : 0) + 1, sizeof *reqs);
	for (size_t i = 0; policy && i < policy->nchecklist; i++)
		if (policy->checklist[i].item.s)
			reqs[nreqs++] = (sluice_rollout_checklist_req){
				policy->checklist[i].item.s, policy->checklist[i].by_roles};
	sluice_rollout_checklist(&list, r, sluice_checklist_items, reqs, nreqs, atts, att.count);
	ready = list.ready;

	policy_name = policy && policy->name.s ? policy->name.s
							 : SLUICE_ENGINE_DEFAULT_POLICY;
	sluice_buf_printf(&text, "%s@%s (commit %.12s, risk %s), rollout policy %s\n", c->plugin,
			  c->version, r->commit, sluice_risk_name((sluice_risk)r->risk), policy_name);
	items = json_array();
	for (size_t k = 0; k < list.nitems; k++) {
		const sluice_rollout_check *it = &list.items[k];
		sluice_buf line = SLUICE_BUF_INIT;
		json_t *j;

		if (it->required && it->state != SLUICE_CHECK_DONE &&
		    it->state != SLUICE_CHECK_ATTESTED)
			sluice_buf_printf(&missing, "%s%s", missing.len ? ", " : "", it->item);
		j = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b}", "item", it->item, "state",
			      sluice_rollout_check_state_name(it->state), "by", it->by, "at",
			      it->at ? sluice_time_format(when, it->at) : NULL, "evidence",
			      it->evidence, "required", it->required);
		if (it->detail)
			json_object_set_new(j, "detail", json_string(it->detail));
		if (!it->checked)
			json_object_set_new(j, "attest_roles", roles_json(it->attest_roles));
		json_array_append_new(items, j);

		switch (it->state) {
		case SLUICE_CHECK_DONE:
			sluice_buf_printf(&line, "done by sluice (%s)", cli_time(when, it->at));
			break;
		case SLUICE_CHECK_ATTESTED:
			sluice_buf_printf(&line, "attested by %s %s%s%s", it->by,
					  cli_time(when, it->at), it->evidence ? ": " : "",
					  it->evidence ? it->evidence : "");
			break;
		case SLUICE_CHECK_FAILED:
			sluice_buf_printf(&line, "failed: %s", it->detail ? it->detail : "refused");
			break;
		case SLUICE_CHECK_MISSING:
			sluice_buf_puts(&line, "missing");
			if (!it->checked) {
				sluice_buf_puts(&line, " (attest: ");
				put_roles(&line, it->attest_roles);
				sluice_buf_puts(&line, ")");
			}
			break;
		}
		sluice_buf_printf(&text, "  %-22s %s%s\n", it->item, line.ptr,
				  it->required ? "  [required before stage 1]" : "");
		sluice_buf_clear(&line);
	}
	if (c->output == CLI_OUT_JSON) {
		rc = cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:O}", "plugin",
					      c->plugin, "version", c->version, "commit", r->commit,
					      "risk", sluice_risk_name((sluice_risk)r->risk),
					      "rollout_policy", policy_name, "ready", ready, "items",
					      items));
		goto done;
	}
	if (ready)
		sluice_buf_puts(&text, "ready for stage 1: every required item is done\n");
	else
		sluice_buf_printf(&text, "not ready for stage 1: missing %s\n", missing.ptr);
	if (!c->quiet)
		fputs(text.ptr, stdout);
done:
	json_decref(items);
	sluice_buf_clear(&text);
	sluice_buf_clear(&missing);
	sluice_rollout_checklist_clear(&list);
	free(reqs);
	free(atts);
	sluice_attestation_list_clear(&att);
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
	.flags = CLI_ENGINE | CLI_VIEW | CLI_INPUT,
	.ref = CLI_REF_RELEASE,
};
