/* The release checklist: the state of each item for one release and
 * whether it is ready for stage 1 (docs/concepts.md, "Stages"; the items
 * are those of docs/configuration.md). Pure, like the planner. */
#include <stdlib.h>
#include <string.h>

#include "sluice/rollout.h"
#include "sluice/util.h"

#include "rollout-internal.h"

/* A recorded release that passed validation has its manifest validated,
 * its permissions reviewed against policy, and is registered. */
const char *const sluice_rollout_checked_items[SLUICE_ROLLOUT_NCHECKED] = {
	"validate-manifest",
	"permission-review",
	"register-plugin",
};

bool sluice_rollout_checked_item(const char *item)
{
	for (size_t i = 0; i < SLUICE_ROLLOUT_NCHECKED; i++)
		if (sluice__streq(sluice_rollout_checked_items[i], item))
			return true;
	return false;
}

static const char *const check_state_names[] = {"missing", "done", "attested", "failed"};

const char *sluice_rollout_check_state_name(sluice_rollout_check_state s)
{
	if ((unsigned)s >= sizeof check_state_names / sizeof *check_state_names)
		return "?";
	return check_state_names[s];
}

void sluice_rollout_checklist(sluice_rollout_checklist_state *out, const sluice_rollout_release *r,
			      const char *const *items, const sluice_rollout_checklist_req *reqs,
			      size_t nreqs, const sluice_rollout_attestation *att, size_t natt)
{
	size_t n = 0;

	memset(out, 0, sizeof *out);
	while (items && items[n])
		n++;
	out->items = sluice_xcalloc(n ? n : 1, sizeof *out->items);
	out->nitems = n;
	out->ready = true;
	for (size_t k = 0; k < n; k++) {
		sluice_rollout_check *c = &out->items[k];
		const sluice_rollout_checklist_req *req = NULL;
		const sluice_rollout_attestation *a = NULL;

		c->item = items[k];
		for (size_t i = 0; i < nreqs; i++)
			if (sluice__streq(reqs[i].item, c->item))
				req = &reqs[i];
		for (size_t i = 0; i < natt; i++)
			if (sluice__streq(att[i].item, c->item))
				a = &att[i]; /* the newest counts */
		c->required = req != NULL;
		c->checked = sluice_rollout_checked_item(c->item);
		c->attest_roles = req && req->by_roles ? req->by_roles
						       : SLUICE__ROLE_CI | SLUICE__ROLE_APPROVER;
		if (c->checked) {
			if (r->refused) {
				c->state = SLUICE_CHECK_FAILED;
				c->detail = r->refused_reason;
			} else {
				c->state = SLUICE_CHECK_DONE;
				c->by = "sluice";
				c->at = r->seen_at;
			}
		} else if (!strcmp(c->item, "start-staged-rollout") && r->stage_index >= 0) {
			c->state = SLUICE_CHECK_DONE;
			c->by = "sluice";
			c->at = r->stage_started_at;
		} else if (a) {
			c->state = SLUICE_CHECK_ATTESTED;
			c->by = a->actor;
			c->at = a->at;
			c->evidence = a->evidence;
		} else {
			c->state = SLUICE_CHECK_MISSING;
		}
		if (c->required && c->state != SLUICE_CHECK_DONE && c->state != SLUICE_CHECK_ATTESTED)
			out->ready = false;
	}
}

void sluice_rollout_checklist_clear(sluice_rollout_checklist_state *c)
{
	if (!c)
		return;
	free(c->items);
	memset(c, 0, sizeof *c);
}
