/* Whether the operators' and approvers' commands apply to a release, and
 * what they decide: reject, pause and resume, restore, rollback
 * (docs/concepts.md, "Operator actions"). The commands parse, call these,
 * apply the result and print. Pure, like the planner. */
#include <stdlib.h>
#include <string.h>

#include "sluice/error.h"
#include "sluice/rollout.h"
#include "sluice/util.h"

#include "rollout-internal.h"

int sluice_rollout_reject_check(const char *plugin, const sluice_rollout_release *r)
{
	switch (r->state) {
	case SLUICE_RELEASE_PENDING:
	case SLUICE_RELEASE_IN_PROGRESS:
	case SLUICE_RELEASE_PAUSED:
	case SLUICE_RELEASE_FROZEN:
		return 0;
	case SLUICE_RELEASE_COMPLETE:
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot reject %s@%s: it is complete (every stage started); "
					"an operator can take it back with 'sluice rollback %s'",
					plugin, r->version, plugin);
	default:
		return sluice_error_set(SLUICE_EREFUSED, "cannot reject %s@%s: it is already %s",
					plugin, r->version, sluice_release_state_name(r->state));
	}
}

int sluice_rollout_pause_target(size_t *out, const sluice_rollout_plugin *p,
				const char *version, bool pause)
{
	const char *cmd = pause ? "pause" : "resume";
	sluice_release_state want = pause ? SLUICE_RELEASE_IN_PROGRESS : SLUICE_RELEASE_PAUSED;
	ptrdiff_t best = -1, named = -1;

	for (size_t i = 0; i < p->nreleases; i++) {
		const sluice_rollout_release *r = &p->releases[i];
		if (version && !sluice__streq(r->version, version))
			continue;
		named = (ptrdiff_t)i;
		if (r->state == want && (best < 0 || r->rank > p->releases[best].rank))
			best = (ptrdiff_t)i;
	}
	if (best >= 0) {
		*out = (size_t)best;
		return 0;
	}
	if (version && named >= 0)
		return sluice_error_set(SLUICE_EREFUSED, "cannot %s %s@%s: it is %s; %s", cmd,
					p->id, version,
					sluice_release_state_name(p->releases[named].state),
					pause ? "only a rollout in progress can be paused"
					      : "only a paused rollout can be resumed");
	return sluice_error_set(SLUICE_EREFUSED, "cannot %s %s: no rollout of it is %s", cmd,
				p->id, pause ? "in progress" : "paused");
}

sluice_release_state sluice_rollout_restore_state(const sluice_rollout_release *r)
{
	if (r->nstages > 0 && r->stage_index == (int)r->nstages - 1)
		return SLUICE_RELEASE_COMPLETE;
	return r->stage_index >= 0 ? SLUICE_RELEASE_PAUSED : SLUICE_RELEASE_PENDING;
}

int sluice_rollout_rollback(sluice_rollout_rollback_plan *out, const sluice_rollout_plugin *p,
			    const char *version)
{
	const sluice_rollout_release *r, *target;
	ptrdiff_t from = -1;

	memset(out, 0, sizeof *out);
	/* The release to undo: the one named, else the newest one groups hold
	 * (the rollout in flight, or the stable release). */
	for (size_t i = 0; i < p->nreleases; i++) {
		if (version ? sluice__streq(p->releases[i].version, version)
			    : sluice_rollout_reached(&p->releases[i]) &&
				      (from < 0 || p->releases[i].rank > p->releases[from].rank))
			from = (ptrdiff_t)i;
	}
	if (from < 0 && version)
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot roll back %s@%s: no such release has been recorded",
					p->id, version);
	if (from < 0)
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot roll back %s: no group has a release of it", p->id);
	r = &p->releases[from];
	if (!sluice_rollout_reached(r))
		return sluice_error_set(SLUICE_EREFUSED, "cannot roll back %s@%s: it is %s%s", p->id,
					r->version, sluice_release_state_name(r->state),
					r->stage_index < 0 ? " and no group has it" : "");
	out->from = (size_t)from;
	out->target = sluice_rollout_rollback_target(p, (size_t)from);
	target = out->target >= 0 ? &p->releases[out->target] : NULL;

	/* Every release newer than the target that groups may hold is undone
	 * with it, so that every group really ends on the target. */
	out->undone = sluice_xcalloc(p->nreleases, sizeof *out->undone);
	for (size_t i = 0; i < p->nreleases; i++) {
		const sluice_rollout_release *x = &p->releases[i];
		if ((ptrdiff_t)i != from &&
		    (!sluice_rollout_reached(x) || (target && x->rank <= target->rank)))
			continue;
		out->undone[out->nundone++] = i;
	}
	return 0;
}

void sluice_rollout_rollback_clear(sluice_rollout_rollback_plan *plan)
{
	if (!plan)
		return;
	free(plan->undone);
	memset(plan, 0, sizeof *plan);
}

int64_t sluice_rollout_review_due(const sluice_rollout_plugin *p, int64_t now, bool *overdue)
{
	/* the review interval of the release users have, as for the other
	 * lifecycle dates (sluice_rollout_lifecycle_of) */
	sluice_rollout_lifecycle lc;
	sluice_rollout_lifecycle_of(&lc, p);
	int64_t due = lc.review_every_days > 0 && p->last_reviewed_at
			      ? p->last_reviewed_at + lc.review_every_days * SLUICE_DAY_SECONDS
			      : 0;

	*overdue = due && now >= due;
	return due;
}
