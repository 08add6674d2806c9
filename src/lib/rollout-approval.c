/* Which approvals count for a stage of a release, and whether an approver
 * may give one: the rules of docs/concepts.md, "Approvals", written once
 * for the planner and for `approve`'s reply. Pure, like the planner. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sluice/error.h"
#include "sluice/rollout.h"
#include "sluice/util.h"

#include "rollout-internal.h"

int sluice_rollout_approvals_needed(const sluice_rollout_rules *rules, int risk)
{
	int k = risk < 0 ? 0 : risk > 2 ? 2 : risk;
	return rules->min_approvals[k] < 1 ? 1 : rules->min_approvals[k];
}

const char *sluice_rollout_made_by(size_t *len, const sluice_rollout_admin *a,
				   const char *attribution)
{
	const char *email = attribution;

	while (email && *email) {
		const char *end = strchr(email, ',');
		size_t n = end ? (size_t)(end - email) : strlen(email);
		for (size_t e = 0; n && e < a->nemails; e++) {
			if (a->emails[e] && strlen(a->emails[e]) == n &&
			    !strncasecmp(a->emails[e], email, n)) {
				*len = n;
				return email;
			}
		}
		email = end ? end + 1 : NULL;
		while (email && *email == ' ')
			email++;
	}
	*len = 0;
	return NULL;
}

static ptrdiff_t admin_index(const sluice_rollout_rules *rules, const char *id)
{
	for (size_t i = 0; i < rules->nadmins; i++)
		if (sluice__streq(rules->admins[i].id, id))
			return (ptrdiff_t)i;
	return -1;
}

void sluice_rollout_approvals_count(sluice_rollout_approvals *out, const sluice_rollout_input *in,
				    const char *plugin, const sluice_rollout_release *r,
				    const char *stage, int64_t at)
{
	const sluice_rollout_rules *rules = &in->rules;
	int64_t ttl = rules->approval_ttl_days * SLUICE_DAY_SECONDS;
	size_t len;

	memset(out, 0, sizeof *out);
	out->needed = sluice_rollout_approvals_needed(rules, r->risk);
	out->nadmins = rules->nadmins;
	out->admins = sluice_xcalloc(rules->nadmins ? rules->nadmins : 1, sizeof *out->admins);
	for (size_t i = 0; i < rules->nadmins; i++) {
		out->admins[i].approver = rules->admins[i].roles & SLUICE__ROLE_APPROVER;
		out->admins[i].self =
			rules->prevent_self_approval &&
			sluice_rollout_made_by(&len, &rules->admins[i], r->tagger_email);
	}
	for (size_t i = 0; i < in->napprovals; i++) {
		const sluice_rollout_approval *ap = &in->approvals[i];
		sluice_rollout_approver *who;
		ptrdiff_t ai;

		/* bound to plugin, version, commit and stage */
		if (ap->voided || !sluice__streq(ap->plugin, plugin) ||
		    !sluice__streq(ap->version, r->version) ||
		    !sluice__streq(ap->commit, r->commit) || !sluice__streq(ap->stage, stage))
			continue;
		if ((ai = admin_index(rules, ap->approver)) < 0 || !out->admins[ai].approver)
			continue;
		who = &out->admins[ai];
		if (who->self) {
			who->self_tried = true;
			continue;
		}
		if (ttl > 0 && at - ap->at > ttl) {
			if (ap->at + ttl > who->expired_at)
				who->expired_at = ap->at + ttl;
			continue;
		}
		who->counted = true;
		if (ap->at > who->approved_at)
			who->approved_at = ap->at;
	}
	for (size_t i = 0; i < out->nadmins; i++) {
		if (out->admins[i].counted) {
			out->admins[i].expired_at = 0;
			out->have++;
		}
	}
}

void sluice_rollout_approvals_clear(sluice_rollout_approvals *a)
{
	if (!a)
		return;
	free(a->admins);
	memset(a, 0, sizeof *a);
}

/* Other approvers who could give the approval instead, for messages:
 * neither the actor nor an admin whose approval would not count. */
static char *other_approvers(const sluice_rollout_rules *rules, const sluice_rollout_approvals *c,
			     const char *actor)
{
	sluice_buf b = SLUICE_BUF_INIT;
	for (size_t i = 0; i < c->nadmins; i++) {
		const char *id = rules->admins[i].id;
		if (!c->admins[i].approver || c->admins[i].self || !id || sluice__streq(id, actor))
			continue;
		sluice_buf_printf(&b, "%s%s", b.len ? ", " : "", id);
	}
	if (!b.len)
		sluice_buf_puts(&b, "none; add one to the workspace's admins");
	return sluice_buf_detach(&b);
}

int sluice_rollout_approve_check(sluice_rollout_approve_result *out,
				 const sluice_rollout_input *in, const char *plugin,
				 const sluice_rollout_release *r, const char *stage,
				 const char *commit, const char *actor)
{
	sluice_rollout_approvals c = {0};
	const sluice_rollout_approver *me = NULL;
	char when[SLUICE_TIME_BUFSZ];
	ptrdiff_t ai;
	int err = 0;

	memset(out, 0, sizeof *out);
	out->stage_index = -1;
	for (size_t k = 0; k < r->nstages; k++)
		if (sluice__streq(r->stages[k].name, stage))
			out->stage_index = (int)k;
	if (out->stage_index < 0) {
		sluice_buf names = SLUICE_BUF_INIT;
		for (size_t k = 0; k < r->nstages; k++)
			sluice_buf_printf(&names, "%s%s", k ? ", " : "", r->stages[k].name);
		err = sluice_error_set(SLUICE_EREFUSED,
				       "cannot approve %s@%s: it has no stage '%s' (its stages: %s)",
				       plugin, r->version, stage, names.len ? names.ptr : "none");
		sluice_buf_clear(&names);
		return err;
	}
	if (commit && (strlen(commit) < 7 || !r->commit ||
		       strncasecmp(r->commit, commit, strlen(commit)) != 0))
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot approve %s@%s: its recorded commit is %s, not %s; "
					"review that commit and approve it",
					plugin, r->version, r->commit ? r->commit : "unknown", commit);
	if (sluice_release_state_is_final(r->state))
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot approve %s@%s: the release is %s and will not roll "
					"out again",
					plugin, r->version, sluice_release_state_name(r->state));
	if (r->tag_moved || r->state == SLUICE_RELEASE_FROZEN)
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot approve %s@%s: its tag %s moved away from the "
					"recorded commit %s; an operator must run 'sluice "
					"accept-tag-move %s@%s' (which voids approvals) before it "
					"can be approved",
					plugin, r->version, r->tag ? r->tag : "", r->commit, plugin,
					r->version);
	if (r->stage_index >= out->stage_index)
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot approve %s@%s for stage '%s': that stage already "
					"started",
					plugin, r->version, stage);

	sluice_rollout_approvals_count(&c, in, plugin, r, stage, in->now);
	out->needed = c.needed;
	out->have = c.have;
	if ((ai = admin_index(&in->rules, actor)) >= 0)
		me = &c.admins[ai];
	if (me && me->self) {
		size_t len = 0;
		const char *mail = sluice_rollout_made_by(&len, &in->rules.admins[ai],
							  r->tagger_email);
		char *others = other_approvers(&in->rules, &c, actor);
		err = sluice_error_set(SLUICE_EREFUSED,
				       "cannot approve %s@%s: %s tagged this release (%.*s) and "
				       "policy.prevent_self_approval is set; another approver must "
				       "approve it (%s)",
				       plugin, r->version, actor, (int)len, mail ? mail : "", others);
		free(others);
		goto done;
	}
	if (me && me->counted) {
		char *others = other_approvers(&in->rules, &c, actor);
		err = sluice_error_set(SLUICE_EREFUSED,
				       "%s already approved %s@%s for stage '%s' on %s; a second "
				       "approval by the same admin does not count (other approvers: "
				       "%s)",
				       actor, plugin, r->version, stage,
				       sluice_time_format(when, me->approved_at), others);
		free(others);
		goto done;
	}
	/* an expired approval (approval_ttl_days) is renewed: the store voids
	 * it and records the new one */
	out->renew = me && me->expired_at;
	if (me && me->approver)
		out->have++;
done:
	sluice_rollout_approvals_clear(&c);
	return err;
}
