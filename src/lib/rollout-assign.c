/* Which release each group and user has: stable and in-flight releases,
 * rollback targets, per-user resolution. Pure, like the planner. */
#include <stdlib.h>
#include <string.h>

#include "sluice/error.h"
#include "sluice/rollout.h"
#include "sluice/semver.h"
#include "sluice/util.h"

static const char *const state_names[] = {
	"pending",   "in_progress", "paused",    "complete", "rolled_back",
	"rejected",  "superseded",  "withdrawn", "frozen",   "skipped",
};

const char *sluice_release_state_name(sluice_release_state s)
{
	if ((unsigned)s >= sizeof state_names / sizeof *state_names)
		return "?";
	return state_names[s];
}

int sluice_release_state_parse(sluice_release_state *out, const char *name)
{
	for (size_t i = 0; name && i < sizeof state_names / sizeof *state_names; i++) {
		if (!strcmp(state_names[i], name)) {
			*out = (sluice_release_state)i;
			return 0;
		}
	}
	return sluice_error_set(SLUICE_EINVAL, "unknown release state '%s'",
				name ? name : "");
}

int sluice_rollout_rank(sluice_rollout_release *releases, size_t n)
{
	sluice_semver *v = sluice_xcalloc(n ? n : 1, sizeof *v);
	size_t parsed = 0;
	int err = 0;

	for (; parsed < n; parsed++) {
		if (sluice_semver_parse(&v[parsed], releases[parsed].version) < 0) {
			err = sluice_error_set(SLUICE_EINVAL, "release version '%s' is not a "
					       "semantic version: %s",
					       releases[parsed].version ? releases[parsed].version : "",
					       sluice_error_last());
			goto done;
		}
	}
	/* rank = how many versions are lower: O(n^2), n is a plugin's
	 * release count */
	for (size_t i = 0; i < n; i++) {
		int64_t lower = 0;
		for (size_t j = 0; j < n; j++)
			if (sluice_semver_cmp(&v[j], &v[i]) < 0)
				lower++;
		releases[i].rank = lower;
	}
done:
	for (size_t i = 0; i < parsed && i < n; i++)
		sluice_semver_clear(&v[i]);
	free(v);
	return err;
}

/* Whether r's last stage started and it still stands: the definition of a
 * stable release in docs/concepts.md. A frozen (moved tag) release keeps
 * its recorded commit deployed, so it still counts. */
static bool completed_and_standing(const sluice_rollout_release *r)
{
	return r->nstages > 0 && r->stage_index == (int)r->nstages - 1 &&
	       r->state != SLUICE_RELEASE_ROLLED_BACK &&
	       r->state != SLUICE_RELEASE_WITHDRAWN;
}

ptrdiff_t sluice_rollout_stable(const sluice_rollout_plugin *p)
{
	ptrdiff_t best = -1;
	for (size_t i = 0; i < p->nreleases; i++) {
		const sluice_rollout_release *r = &p->releases[i];
		if (completed_and_standing(r) &&
		    (best < 0 || r->rank > p->releases[best].rank))
			best = (ptrdiff_t)i;
	}
	return best;
}

ptrdiff_t sluice_rollout_rollback_target(const sluice_rollout_plugin *p, size_t from)
{
	ptrdiff_t best = -1;
	if (from >= p->nreleases)
		return -1;
	for (size_t i = 0; i < p->nreleases; i++) {
		const sluice_rollout_release *r = &p->releases[i];
		if (i == from || r->rank >= p->releases[from].rank ||
		    !completed_and_standing(r))
			continue;
		if (best < 0 || r->rank > p->releases[best].rank)
			best = (ptrdiff_t)i;
	}
	return best;
}

static bool stage_has_group(const sluice_rollout_stage *st, const char *group)
{
	for (size_t g = 0; g < st->ngroups; g++)
		if (st->groups[g] && !strcmp(st->groups[g], group))
			return true;
	return false;
}

/* Whether `group` is in stages 0..upto of r (stages are cumulative). */
static bool reached(const sluice_rollout_release *r, int upto, const char *group)
{
	for (int k = 0; k <= upto && k < (int)r->nstages; k++)
		if (stage_has_group(&r->stages[k], group))
			return true;
	return false;
}

bool sluice_rollout_reached(const sluice_rollout_release *r)
{
	if (r->stage_index < 0)
		return false;
	switch (r->state) {
	case SLUICE_RELEASE_IN_PROGRESS:
	case SLUICE_RELEASE_PAUSED:
	case SLUICE_RELEASE_FROZEN:
	case SLUICE_RELEASE_SUPERSEDED:
	case SLUICE_RELEASE_REJECTED:
	case SLUICE_RELEASE_COMPLETE:
		return true;
	default:
		return false;
	}
}

/* A release that some groups may still hold although it is not stable:
 * started, not undone. Superseded and rejected releases stay with the
 * groups they reached until something newer reaches them. */
static bool in_groups(const sluice_rollout_release *r)
{
	return sluice_rollout_reached(r) && r->state != SLUICE_RELEASE_COMPLETE;
}

ptrdiff_t sluice_rollout_assigned(const sluice_rollout_plugin *p, const char *group)
{
	ptrdiff_t stable, best = -1;

	if (p->withdrawn || !group)
		return -1;
	stable = sluice_rollout_stable(p);
	if (stable >= 0) {
		const sluice_rollout_release *s = &p->releases[stable];
		if (reached(s, (int)s->nstages - 1, group))
			best = stable;
	}
	for (size_t i = 0; i < p->nreleases; i++) {
		const sluice_rollout_release *r = &p->releases[i];
		if (!in_groups(r) || (stable >= 0 && r->rank <= p->releases[stable].rank))
			continue;
		if (!reached(r, r->stage_index, group))
			continue;
		if (best < 0 || r->rank > p->releases[best].rank)
			best = (ptrdiff_t)i;
	}
	return best;
}

static int64_t earlier(int64_t a, int64_t b)
{
	return a > 0 && (b <= 0 || a < b) ? a : b;
}

void sluice_rollout_lifecycle_of(sluice_rollout_lifecycle *out, const sluice_rollout_plugin *p)
{
	ptrdiff_t from = sluice_rollout_stable(p);

	memset(out, 0, sizeof *out);
	if (from < 0)
		for (size_t i = 0; i < p->nreleases; i++)
			if (sluice_rollout_reached(&p->releases[i]) &&
			    (from < 0 || p->releases[i].rank > p->releases[from].rank))
				from = (ptrdiff_t)i;
	out->release = from;
	if (from >= 0) {
		const sluice_rollout_release *r = &p->releases[from];
		out->review_every_days = r->review_every_days;
		out->deprecated_at = r->deprecated_at;
		out->sunset_at = r->sunset_at;
	}
	if (p->review_every_days > 0)
		out->review_every_days = p->review_every_days;
	out->deprecated_at = earlier(p->deprecated_at, out->deprecated_at);
	out->sunset_at = earlier(p->sunset_at, out->sunset_at);
}

static bool has_string(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && !strcmp(v[i], s))
			return true;
	return false;
}

int sluice_rollout_resolve_user(sluice_rollout_grant **out, size_t *n,
				const sluice_rollout_plugin *plugins, size_t nplugins,
				const sluice_rollout_user *user)
{
	sluice_rollout_grant *grants = sluice_xcalloc(nplugins ? nplugins : 1, sizeof *grants);
	size_t count = 0;

	for (size_t i = 0; i < nplugins; i++) {
		const sluice_rollout_plugin *p = &plugins[i];
		ptrdiff_t best = -1;
		const char *via = NULL;

		for (size_t g = 0; g < user->ngroups; g++) {
			ptrdiff_t r = sluice_rollout_assigned(p, user->groups[g]);
			if (r >= 0 && (best < 0 || p->releases[r].rank > p->releases[best].rank)) {
				best = r;
				via = user->groups[g];
			}
		}
		if (best < 0)
			continue;
		const sluice_rollout_release *r = &p->releases[best];
		sluice_rollout_grant *gr = &grants[count++];
		gr->plugin = p->id;
		gr->version = r->version;
		gr->commit = r->commit;
		gr->via_group = via;
		gr->user_can_disable = r->allow_user_disable;
		/* With allow_user_disable: false the plugin is enforced, so a
		 * stored opt-out (from when it was allowed) is ignored. */
		gr->disabled = r->allow_user_disable &&
			       has_string(user->disabled, user->ndisabled, p->id);
	}
	*out = grants;
	*n = count;
	return 0;
}

/* Whether r is in flight for status: started and not finished, or frozen
 * by a moved tag before its first stage. */
static bool current_in_flight(const sluice_rollout_release *r)
{
	return sluice_release_in_flight(r) || r->state == SLUICE_RELEASE_FROZEN;
}

ptrdiff_t sluice_rollout_current(const sluice_rollout_plugin *p)
{
	ptrdiff_t stable = sluice_rollout_stable(p), best = -1;

	for (size_t i = 0; i < p->nreleases; i++) {
		const sluice_rollout_release *r = &p->releases[i];
		if (!r->refused && current_in_flight(r) &&
		    (best < 0 || r->rank > p->releases[best].rank))
			best = (ptrdiff_t)i;
	}
	if (best >= 0)
		return best;
	for (size_t i = 0; i < p->nreleases; i++) {
		const sluice_rollout_release *r = &p->releases[i];
		bool waits_or_ended = r->state == SLUICE_RELEASE_PENDING ||
				      r->state == SLUICE_RELEASE_ROLLED_BACK ||
				      r->state == SLUICE_RELEASE_REJECTED ||
				      r->state == SLUICE_RELEASE_SUPERSEDED ||
				      r->state == SLUICE_RELEASE_WITHDRAWN;
		if (r->refused || !waits_or_ended || (ptrdiff_t)i == stable ||
		    (stable >= 0 && r->rank <= p->releases[stable].rank))
			continue;
		if (best < 0 || r->rank > p->releases[best].rank)
			best = (ptrdiff_t)i;
	}
	return best;
}

bool sluice_rollout_queued(const sluice_rollout_plugin *p, size_t i)
{
	ptrdiff_t cur = sluice_rollout_current(p);
	const sluice_rollout_release *r = &p->releases[i];

	return cur >= 0 && (size_t)cur != i && current_in_flight(&p->releases[cur]) &&
	       !r->refused && r->state == SLUICE_RELEASE_PENDING &&
	       r->rank > p->releases[cur].rank;
}
