/* The release state machine: what each planned action does to a release
 * and to its plugin. The planner, `plan --at`'s simulation and the store
 * all go through these, so a plan and its application cannot drift apart
 * (docs/concepts.md, "States"). Pure, like the planner. */
#include "sluice/rollout.h"

#include "rollout-internal.h"

bool sluice_release_state_is_final(sluice_release_state s)
{
	switch (s) {
	case SLUICE_RELEASE_REJECTED:
	case SLUICE_RELEASE_ROLLED_BACK:
	case SLUICE_RELEASE_WITHDRAWN:
	case SLUICE_RELEASE_SUPERSEDED:
	case SLUICE_RELEASE_SKIPPED:
		return true;
	default:
		return false;
	}
}

bool sluice_release_in_flight(const sluice_rollout_release *r)
{
	switch (r->state) {
	case SLUICE_RELEASE_IN_PROGRESS:
	case SLUICE_RELEASE_PAUSED:
		return true;
	case SLUICE_RELEASE_FROZEN:
		return r->stage_index >= 0;
	default:
		return false;
	}
}

bool sluice_rollout_action_state(sluice_release_state *out, sluice_rollout_action_kind k)
{
	switch (k) {
	case SLUICE_ACTION_START_STAGE: *out = SLUICE_RELEASE_IN_PROGRESS; return true;
	case SLUICE_ACTION_COMPLETE: *out = SLUICE_RELEASE_COMPLETE; return true;
	case SLUICE_ACTION_SUPERSEDE: *out = SLUICE_RELEASE_SUPERSEDED; return true;
	case SLUICE_ACTION_SKIP_RELEASE: *out = SLUICE_RELEASE_SKIPPED; return true;
	case SLUICE_ACTION_PAUSE: *out = SLUICE_RELEASE_PAUSED; return true;
	case SLUICE_ACTION_ROLLBACK: *out = SLUICE_RELEASE_ROLLED_BACK; return true;
	case SLUICE_ACTION_FREEZE_RELEASE: *out = SLUICE_RELEASE_FROZEN; return true;
	case SLUICE_ACTION_WITHDRAW:
	case SLUICE_ACTION_NOTICE:
		break;
	}
	return false;
}

bool sluice_rollout_apply_action(sluice_rollout_release *r, const sluice_rollout_action *a)
{
	sluice_release_state next;

	if (!sluice_rollout_action_state(&next, a->kind))
		return false;
	switch (a->kind) {
	case SLUICE_ACTION_START_STAGE:
		r->stage_index = a->stage_index;
		r->stage_started_at = a->at;
		r->paused_seconds = 0;
		r->paused_at = 0;
		break;
	case SLUICE_ACTION_PAUSE:
		r->paused_at = a->at;
		break;
	default:
		break;
	}
	r->state = next;
	return true;
}

bool sluice_rollout_apply_plugin_action(sluice_rollout_plugin *p, const sluice_rollout_action *a)
{
	if (!sluice__streq(p->id, a->plugin))
		return false;
	switch (a->kind) {
	case SLUICE_ACTION_WITHDRAW:
		p->withdrawn = true;
		if (a->sunset_at)
			p->sunset_withdrawn_for = a->sunset_at;
		return true;
	case SLUICE_ACTION_NOTICE:
		if (a->notice == SLUICE_NOTICE_GATE_WAIT) {
			for (size_t i = 0; a->version && i < p->nreleases; i++)
				if (sluice__streq(p->releases[i].version, a->version))
					p->releases[i].gate_wait_notice_at = a->at;
			return true;
		}
		if (a->notice == SLUICE_NOTICE_SUNSET)
			p->sunset_notice_at = a->at;
		else if (a->notice == SLUICE_NOTICE_REVIEW)
			p->review_notice_at = a->at;
		return true;
	default:
		break;
	}
	for (size_t i = 0; a->version && i < p->nreleases; i++)
		if (sluice__streq(p->releases[i].version, a->version))
			return sluice_rollout_apply_action(&p->releases[i], a);
	return false;
}
