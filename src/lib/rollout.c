/* The rollout planner (docs/concepts.md).
 *
 * Pure: no I/O, no clock. For each plugin it works on a scratch copy of
 * the stored release states and takes steps until nothing more changes at
 * `now`: tag moves freeze releases, lower new releases are skipped, a
 * newer release supersedes or queues behind the one in flight, health
 * gates pause or roll back, and the active release starts its next stage
 * when nothing blocks it. A step that changed something discards the
 * blocks it found, so the plan lists only what still blocks at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sluice/error.h"
#include "sluice/rollout.h"
#include "sluice/util.h"

#include "rollout-internal.h"

enum { MODE_PLAN, MODE_PROMOTE };

typedef struct {
	const sluice_rollout_input *in;
	sluice_plan *plan;
	size_t cap_actions, cap_blocked, cap_gates;
	int mode;
	const char *promote_reason;
} planner;

static const char *const action_names[] = {
	"start_stage", "complete", "supersede", "skip_release", "pause",
	"rollback",    "withdraw", "freeze_release", "notice",
};
static const char *const gate_result_names[] = {"pass", "breach", "waiting"};
static const char *const block_names[] = {
	"approval", "soak", "gate", "freeze", "secret", "policy", "checklist", "tag_moved",
};

const char *sluice_rollout_action_name(sluice_rollout_action_kind k)
{
	if ((unsigned)k >= sizeof action_names / sizeof *action_names)
		return "?";
	return action_names[k];
}

const char *sluice_gate_result_name(sluice_gate_result r)
{
	if ((unsigned)r >= sizeof gate_result_names / sizeof *gate_result_names)
		return "?";
	return gate_result_names[r];
}

const char *sluice_rollout_block_name(sluice_rollout_block_kind k)
{
	if ((unsigned)k >= sizeof block_names / sizeof *block_names)
		return "?";
	return block_names[k];
}

/* ---- small helpers -------------------------------------------------------- */

/* gmtime_r converts without reading the clock or the time zone, so the
 * planner still depends on nothing but its input. */
char *sluice__rollout_day(char buf[16], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		snprintf(buf, 16, "?");
		return buf;
	}
	if (!strftime(buf, 16, "%Y-%m-%d", &tm))
		snprintf(buf, 16, "?");
	return buf;
}

#define day sluice__rollout_day

static char *xdup(const char *s)
{
	return s ? sluice_xstrdup(s) : NULL;
}

static char *short_commit(char buf[16], const char *commit)
{
	snprintf(buf, 16, "%.7s", commit ? commit : "unknown");
	return buf;
}

static const char *plural(int64_t n)
{
	return n == 1 ? "" : "s";
}

static const char *stage_name(const sluice_rollout_release *r, int k)
{
	if (k < 0 || k >= (int)r->nstages)
		return NULL;
	return r->stages[k].name;
}

/* Adds an action (its reason taken) to the plan. */
static sluice_rollout_action *add_action(planner *pl, sluice_rollout_action_kind kind,
					 const char *plugin, const sluice_rollout_release *r,
					 int stage_index, char *reason)
{
	sluice_plan *p = pl->plan;
	sluice_rollout_action *a;

	if (p->nactions == pl->cap_actions) {
		pl->cap_actions = pl->cap_actions ? 2 * pl->cap_actions : 8;
		p->actions = sluice_xrealloc(p->actions, pl->cap_actions * sizeof *p->actions);
	}
	a = &p->actions[p->nactions++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->plugin = xdup(plugin);
	a->version = r ? xdup(r->version) : NULL;
	a->commit = r ? xdup(r->commit) : NULL;
	a->stage_index = stage_index;
	a->stage = r ? xdup(stage_name(r, stage_index)) : NULL;
	a->reason = reason;
	a->at = pl->in->now;
	return a;
}

static void add_block(planner *pl, const char *plugin, const sluice_rollout_release *r,
		      int stage_index, sluice_rollout_block_kind kind, int64_t opens_at,
		      char *message /* taken */)
{
	sluice_plan *p = pl->plan;
	sluice_rollout_block *b;

	if (p->nblocked == pl->cap_blocked) {
		pl->cap_blocked = pl->cap_blocked ? 2 * pl->cap_blocked : 8;
		p->blocked = sluice_xrealloc(p->blocked, pl->cap_blocked * sizeof *p->blocked);
	}
	b = &p->blocked[p->nblocked++];
	memset(b, 0, sizeof *b);
	b->plugin = xdup(plugin);
	b->version = r ? xdup(r->version) : NULL;
	b->stage_index = r ? stage_index : -1;
	b->stage = r ? xdup(stage_name(r, stage_index)) : NULL;
	b->kind = kind;
	b->message = message;
	b->opens_at = opens_at;
}

static void block_clear(sluice_rollout_block *b)
{
	free(b->plugin);
	free(b->version);
	free(b->stage);
	free(b->message);
}

static void truncate_blocks(planner *pl, size_t mark)
{
	while (pl->plan->nblocked > mark)
		block_clear(&pl->plan->blocked[--pl->plan->nblocked]);
}

/* The freeze window covering t, extended through windows that continue
 * it. Returns the window or NULL; *end is where the freeze ends. */
static const sluice_rollout_freeze *freeze_at(const sluice_rollout_rules *rules, int64_t t,
					      int64_t *end)
{
	const sluice_rollout_freeze *first = NULL;
	bool grew = true;

	for (size_t i = 0; i < rules->nfreeze; i++) {
		const sluice_rollout_freeze *w = &rules->freeze[i];
		if (w->from <= t && t < w->to) {
			first = w;
			break;
		}
	}
	if (!first)
		return NULL;
	*end = first->to;
	while (grew) {
		grew = false;
		for (size_t i = 0; i < rules->nfreeze; i++) {
			const sluice_rollout_freeze *w = &rules->freeze[i];
			if (w->from <= *end && *end < w->to) {
				*end = w->to;
				grew = true;
			}
		}
	}
	return first;
}

/* ---- classification ------------------------------------------------------ */

static bool in_flight(const sluice_rollout_release *r)
{
	if (r->stage_index < 0 || r->stage_index >= (int)r->nstages - 1)
		return false;
	return r->state == SLUICE_RELEASE_IN_PROGRESS || r->state == SLUICE_RELEASE_PAUSED ||
	       r->state == SLUICE_RELEASE_FROZEN;
}

static ptrdiff_t newest(const sluice_rollout_release *rs, size_t n,
			bool (*pred)(const sluice_rollout_release *))
{
	ptrdiff_t best = -1;
	for (size_t i = 0; i < n; i++)
		if (pred(&rs[i]) && (best < 0 || rs[i].rank > rs[best].rank))
			best = (ptrdiff_t)i;
	return best;
}

/* The stable release among the scratch releases rs (sluice_rollout_stable). */
static ptrdiff_t stable_of(const sluice_rollout_release *rs, size_t n)
{
	sluice_rollout_plugin p = {.releases = (sluice_rollout_release *)rs, .nreleases = n};
	return sluice_rollout_stable(&p);
}

typedef struct {
	ptrdiff_t stable, flight, fresh; /* indexes or -1 */
	int64_t floor;                   /* rank a new release must exceed */
	bool has_floor;
} situation;

static bool is_candidate(const sluice_rollout_release *r, const situation *s)
{
	return r->state == SLUICE_RELEASE_PENDING && !r->refused && !r->tag_moved &&
	       !r->out_of_range && r->nstages > 0 && (!s->has_floor || r->rank > s->floor);
}

static void classify(situation *s, const sluice_rollout_release *rs, size_t n)
{
	s->stable = stable_of(rs, n);
	s->flight = newest(rs, n, in_flight);
	s->has_floor = s->stable >= 0 || s->flight >= 0;
	s->floor = 0;
	if (s->stable >= 0)
		s->floor = rs[s->stable].rank;
	if (s->flight >= 0 && (s->stable < 0 || rs[s->flight].rank > s->floor))
		s->floor = rs[s->flight].rank;
	s->fresh = -1;
	for (size_t i = 0; i < n; i++)
		if (is_candidate(&rs[i], s) && (s->fresh < 0 || rs[i].rank > rs[s->fresh].rank))
			s->fresh = (ptrdiff_t)i;
}

/* ---- what blocks a stage ------------------------------------------------- */

static const sluice_rollout_telemetry *telemetry_for(const sluice_rollout_input *in,
						     const char *plugin,
						     const sluice_rollout_release *r, int k)
{
	for (size_t i = 0; i < in->ntelemetry; i++) {
		const sluice_rollout_telemetry *t = &in->telemetry[i];
		if (t->stage_index == k && sluice__streq(t->plugin, plugin) && sluice__streq(t->version, r->version))
			return t;
	}
	return NULL;
}

static bool gate_applies(const sluice_rollout_gate *g, const char *stage)
{
	return !g->stage || !strcmp(g->stage, "*") || sluice__streq(g->stage, stage);
}

typedef struct {
	bool breached;
	bool rollback;
	char *why;  /* the breach, malloc'd */
	const char *metric; /* the breach's numbers */
	double value, threshold;
	int64_t samples;
	int gates;  /* how many gates apply */
	bool waiting;        /* some gate waits for data */
	int64_t wait_days;   /* the smallest max_wait_days of a waiting gate; 0 none */
	char *wait_why;      /* the first "waiting for data" message, malloc'd */
} gate_result;

static void gate_wait(planner *pl, gate_result *res, const char *plugin,
		      const sluice_rollout_release *r, int next, const sluice_rollout_gate *g,
		      bool *once, char *msg)
{
	res->waiting = true;
	if (g->max_wait_days > 0 && (res->wait_days == 0 || g->max_wait_days < res->wait_days))
		res->wait_days = g->max_wait_days;
	if (*once) {
		free(msg);
		return;
	}
	*once = true;
	if (!res->wait_why)
		res->wait_why = sluice_xstrdup(msg);
	add_block(pl, plugin, r, next, SLUICE_BLOCK_GATE, 0, msg);
}

static void gate_breach(gate_result *res, const sluice_rollout_gate *g, char *why)
{
	res->breached = true;
	res->rollback = g->rollback_on_breach;
	res->why = why;
}

/* Records one metric's evaluation in the plan (replacing an earlier one
 * of the same release, stage and metric); a breach also in *res. */
static void gate_eval(planner *pl, gate_result *res, const char *plugin,
		      const sluice_rollout_release *r, int k, const char *metric, double value,
		      double threshold, int64_t samples, int64_t min_samples, sluice_gate_result result)
{
	sluice_plan *p = pl->plan;
	sluice_rollout_gate_eval *e = NULL;

	for (size_t i = 0; i < p->ngates && !e; i++)
		if (p->gates[i].stage_index == k && !strcmp(p->gates[i].metric, metric) &&
		    sluice__streq(p->gates[i].plugin, plugin) &&
		    sluice__streq(p->gates[i].version, r->version))
			e = &p->gates[i];
	if (!e) {
		if (p->ngates == pl->cap_gates) {
			pl->cap_gates = pl->cap_gates ? 2 * pl->cap_gates : 8;
			p->gates = sluice_xrealloc(p->gates, pl->cap_gates * sizeof *p->gates);
		}
		e = &p->gates[p->ngates++];
		memset(e, 0, sizeof *e);
		e->plugin = xdup(plugin);
		e->version = xdup(r->version);
		e->stage_index = k;
		e->stage = xdup(stage_name(r, k));
		e->metric = metric;
	}
	e->value = value;
	e->threshold = threshold;
	e->samples = samples;
	e->min_samples = min_samples;
	e->result = result;
	if (result == SLUICE_GATE_BREACH) {
		res->metric = metric;
		res->value = value;
		res->threshold = threshold;
		res->samples = samples;
	}
}

static double ratio(int64_t n, int64_t d)
{
	return d > 0 ? (double)n / (double)d : 0.0;
}

/* Evaluates the gates of stage k of r over the telemetry since it started
 * (docs/telemetry.md): a breach is returned at once, with the numbers;
 * too few samples add a "waiting for data" block, which holds the next
 * stage and is neither a pass nor a breach. */
static void check_gates(planner *pl, gate_result *res, const char *plugin,
			const sluice_rollout_release *r, int next)
{
	const sluice_rollout_input *in = pl->in;
	int k = r->stage_index;
	const char *sname = stage_name(r, k);
	static const sluice_rollout_telemetry none;
	const sluice_rollout_telemetry *t = telemetry_for(in, plugin, r, k);
	bool waited_calls = false, waited_fb = false, waited_lat = false, waited_stable = false;

	if (!t)
		t = &none;
	memset(res, 0, sizeof *res);
	for (size_t i = 0; i < in->rules.ngates && !res->breached; i++) {
		const sluice_rollout_gate *g = &in->rules.gates[i];
		bool rates = g->has_max_tool_error_rate || g->has_max_refusal_rate ||
			     g->has_max_escalation_rate;
		int64_t min_calls = g->min_samples > 0 ? g->min_samples : 1;
		int64_t min_fb = g->min_feedback_samples > 0 ? g->min_feedback_samples
							     : g->min_samples;
		bool relative = g->has_max_error_rate_increase && t->stable_version &&
				!sluice__streq(t->stable_version, r->version);
		struct {
			bool has;
			double max;
			int64_t n;
			const char *what, *metric;
		} checks[] = {
			{g->has_max_tool_error_rate, g->max_tool_error_rate, t->errors, "tool error rate",
			 "tool_error_rate"},
			{g->has_max_refusal_rate, g->max_refusal_rate, t->refusals, "refusal rate",
			 "refusal_rate"},
			{g->has_max_escalation_rate, g->max_escalation_rate, t->escalations,
			 "escalation rate", "escalation_rate"},
		};

		if (!gate_applies(g, sname))
			continue;
		res->gates++;
		for (size_t c = 0; c < sizeof checks / sizeof *checks; c++)
			if (checks[c].has && t->calls < min_calls)
				gate_eval(pl, res, plugin, r, k, checks[c].metric,
					  ratio(checks[c].n, t->calls), checks[c].max, t->calls,
					  min_calls, SLUICE_GATE_WAITING);
		if (relative && t->calls < min_calls)
			gate_eval(pl, res, plugin, r, k, "error_rate_increase",
				  ratio(t->errors, t->calls) - ratio(t->stable_errors, t->stable_calls),
				  g->max_error_rate_increase, t->calls, min_calls, SLUICE_GATE_WAITING);
		if ((rates || relative) && t->calls < min_calls) {
			gate_wait(pl, res, plugin, r, next, g, &waited_calls,
				  sluice_xasprintf("waiting for data: %lld of %lld tool calls since %s "
						   "started",
						   (long long)t->calls, (long long)min_calls, sname));
		} else if (rates) {
			for (size_t c = 0; c < sizeof checks / sizeof *checks; c++) {
				double rate = (double)checks[c].n / (double)t->calls;
				if (!checks[c].has)
					continue;
				gate_eval(pl, res, plugin, r, k, checks[c].metric, rate, checks[c].max,
					  t->calls, min_calls,
					  rate <= checks[c].max ? SLUICE_GATE_PASS : SLUICE_GATE_BREACH);
				if (rate <= checks[c].max)
					continue;
				gate_breach(res, g, sluice_xasprintf(
					"%s %.1f%% (%lld of %lld calls) in %s is above the "
					"gate's %.1f%%",
					checks[c].what, 100.0 * rate, (long long)checks[c].n,
					(long long)t->calls, sname, 100.0 * checks[c].max));
				return;
			}
		}
		if (relative && t->calls >= min_calls) {
			if (t->stable_calls < min_calls) {
				gate_eval(pl, res, plugin, r, k, "error_rate_increase",
					  ratio(t->errors, t->calls) -
						  ratio(t->stable_errors, t->stable_calls),
					  g->max_error_rate_increase, t->stable_calls, min_calls,
					  SLUICE_GATE_WAITING);
				gate_wait(pl, res, plugin, r, next, g, &waited_stable,
					  sluice_xasprintf("waiting for data: %lld of %lld tool calls of "
							   "the stable release %s over the same days",
							   (long long)t->stable_calls, (long long)min_calls,
							   t->stable_version));
			} else {
				double rate = (double)t->errors / (double)t->calls;
				double base = (double)t->stable_errors / (double)t->stable_calls;
				/* a hair of slack so that equal rates never breach by rounding */
				bool over = rate - base > g->max_error_rate_increase + 1e-9;
				gate_eval(pl, res, plugin, r, k, "error_rate_increase", rate - base,
					  g->max_error_rate_increase,
					  t->calls < t->stable_calls ? t->calls : t->stable_calls,
					  min_calls, over ? SLUICE_GATE_BREACH : SLUICE_GATE_PASS);
				if (over) {
					gate_breach(res, g, sluice_xasprintf(
						"tool error rate %.1f%% (%lld of %lld calls) in %s is "
						"%.1f points above the stable release %s's %.1f%% "
						"(%lld of %lld calls) over the same days; the gate "
						"allows %.1f",
						100.0 * rate, (long long)t->errors, (long long)t->calls,
						sname, 100.0 * (rate - base), t->stable_version,
						100.0 * base, (long long)t->stable_errors,
						(long long)t->stable_calls,
						100.0 * g->max_error_rate_increase));
					return;
				}
			}
		}
		if (g->has_max_p95_latency_ms) {
			bool lwait = t->latency_samples < min_calls;
			gate_eval(pl, res, plugin, r, k, "p95_latency_ms", (double)t->p95_latency_ms,
				  (double)g->max_p95_latency_ms, t->latency_samples, min_calls,
				  lwait ? SLUICE_GATE_WAITING
				  : t->p95_latency_ms > g->max_p95_latency_ms ? SLUICE_GATE_BREACH
									      : SLUICE_GATE_PASS);
			if (lwait) {
				/* too few calls says it already */
				waited_lat = waited_lat || waited_calls;
				gate_wait(pl, res, plugin, r, next, g, &waited_lat,
					  sluice_xasprintf("waiting for data: %lld of %lld tool calls with "
							   "a latency since %s started",
							   (long long)t->latency_samples,
							   (long long)min_calls, sname));
			} else if (t->p95_latency_ms > g->max_p95_latency_ms) {
				gate_breach(res, g, sluice_xasprintf(
					"p95 latency %lld ms (%lld calls) in %s is above the "
					"gate's %lld ms",
					(long long)t->p95_latency_ms, (long long)t->latency_samples,
					sname, (long long)g->max_p95_latency_ms));
				return;
			}
		}
		if (g->has_min_positive_feedback_ratio) {
			int64_t fb_min = min_fb > 0 ? min_fb : 1;
			double fb = ratio(t->feedback_positive, t->feedback_total);
			gate_eval(pl, res, plugin, r, k, "positive_feedback_ratio", fb,
				  g->min_positive_feedback_ratio, t->feedback_total, fb_min,
				  t->feedback_total < fb_min ? SLUICE_GATE_WAITING
				  : fb < g->min_positive_feedback_ratio ? SLUICE_GATE_BREACH
									 : SLUICE_GATE_PASS);
			if (t->feedback_total < min_fb || t->feedback_total == 0) {
				gate_wait(pl, res, plugin, r, next, g, &waited_fb,
					  sluice_xasprintf("waiting for data: %lld of %lld "
							   "feedback ratings since %s started",
							   (long long)t->feedback_total,
							   (long long)(min_fb > 0 ? min_fb : 1), sname));
			} else {
				double ratio = (double)t->feedback_positive / (double)t->feedback_total;
				if (ratio < g->min_positive_feedback_ratio) {
					gate_breach(res, g, sluice_xasprintf(
						"positive feedback %.1f%% (%lld of %lld ratings) in "
						"%s is below the gate's %.1f%%",
						100.0 * ratio, (long long)t->feedback_positive,
						(long long)t->feedback_total, sname,
						100.0 * g->min_positive_feedback_ratio));
					return;
				}
			}
		}
	}
}

static void gate_numbers(sluice_rollout_action *a, const gate_result *g)
{
	a->gate_metric = g->metric;
	a->gate_value = g->value;
	a->gate_threshold = g->threshold;
	a->gate_samples = g->samples;
}

/* Checks the approvals of stage `next` of r as they will stand at t_start
 * (the moment the stage could start otherwise). Adds an approval block
 * when some are missing and returns false; on success appends "approved
 * by ..." to `approved`. */
static bool check_approvals(planner *pl, const char *plugin, const sluice_rollout_release *r,
			    int next, int64_t t_start, sluice_buf *approved)
{
	const sluice_rollout_input *in = pl->in;
	const sluice_rollout_rules *rules = &in->rules;
	sluice_rollout_approvals c;
	sluice_buf msg = SLUICE_BUF_INIT, names = SLUICE_BUF_INIT, notes = SLUICE_BUF_INIT;
	int have = 0, needed;
	char d[16];
	bool ok;

	sluice_rollout_approvals_count(&c, in, plugin, r, stage_name(r, next), t_start);
	needed = c.needed;
	for (size_t i = 0; i < c.nadmins; i++)
		if (c.admins[i].counted)
			sluice_buf_printf(approved, "%s%s", ++have == 1 ? "approved by " : ", ",
					  rules->admins[i].id);
	ok = have >= needed;
	if (ok)
		goto done;

	for (size_t i = 0; i < c.nadmins; i++) {
		const sluice_rollout_admin *a = &rules->admins[i];
		const sluice_rollout_approver *st = &c.admins[i];
		if (!st->approver)
			continue;
		if (st->self) {
			if (st->self_tried)
				sluice_buf_printf(&notes, "; %s's approval does not count: %s tagged "
						  "this release", a->id, a->id);
			else
				sluice_buf_printf(&notes, "; %s tagged this release and cannot "
						  "approve it", a->id);
			continue;
		}
		if (st->counted)
			continue;
		sluice_buf_printf(&names, "%s%s", names.len ? ", " : "", a->id);
		if (st->expired_at)
			sluice_buf_printf(&notes, "; %s's approval %s %s%s", a->id,
					  st->expired_at < in->now ? "expired" : "expires",
					  day(d, st->expired_at),
					  st->expired_at < in->now ? "" : ", before the stage can start");
	}
	if (have > 0)
		sluice_buf_printf(&msg, "needs %d more approval%s (%d of %d", needed - have,
				  plural(needed - have), have, needed);
	else
		sluice_buf_printf(&msg, "needs %d approval%s (", needed, plural(needed));
	if (names.len)
		sluice_buf_printf(&msg, "%sapprovers: %s", have > 0 ? "; " : "", names.ptr);
	else
		sluice_buf_printf(&msg, "%sno admin with the approver role may approve it",
				  have > 0 ? "; " : "");
	sluice_buf_printf(&msg, "%s)", notes.ptr ? notes.ptr : "");
	add_block(pl, plugin, r, next, SLUICE_BLOCK_APPROVAL, 0, sluice_buf_detach(&msg));
done:
	sluice_buf_clear(&msg);
	sluice_buf_clear(&names);
	sluice_buf_clear(&notes);
	sluice_rollout_approvals_clear(&c);
	return ok;
}

static bool has_item(const sluice_rollout_release *r, const char *item)
{
	for (size_t i = 0; i < r->nchecklist_done; i++)
		if (sluice__streq(r->checklist_done[i], item))
			return true;
	return false;
}

/* Orders one stage's reasons the way people read them: what is missing
 * from people first (checklist, secrets, approvals), then time. */
static void sort_blocks(sluice_plan *p, size_t from)
{
	static const int order[] = {
		[SLUICE_BLOCK_CHECKLIST] = 0, [SLUICE_BLOCK_SECRET] = 1,
		[SLUICE_BLOCK_APPROVAL] = 2,  [SLUICE_BLOCK_SOAK] = 3,
		[SLUICE_BLOCK_GATE] = 4,      [SLUICE_BLOCK_FREEZE] = 5,
		[SLUICE_BLOCK_POLICY] = 6,    [SLUICE_BLOCK_TAG_MOVED] = 7,
	};
	for (size_t i = from + 1; i < p->nblocked; i++) {
		sluice_rollout_block b = p->blocked[i];
		size_t j = i;
		while (j > from && order[p->blocked[j - 1].kind] > order[b.kind]) {
			p->blocked[j] = p->blocked[j - 1];
			j--;
		}
		p->blocked[j] = b;
	}
}

/* ---- steps ------------------------------------------------------------------ */

/* Starts stage `next` of r (and completes the release at its last stage). */
static void start_stage(planner *pl, const char *plugin, sluice_rollout_release *rs, size_t n,
			sluice_rollout_release *r, int next, const char *why)
{
	ptrdiff_t before = stable_of(rs, n);
	char *done;

	sluice_rollout_apply_action(r, add_action(pl, SLUICE_ACTION_START_STAGE, plugin, r, next, sluice_xstrdup(why)));
	if (next != (int)r->nstages - 1)
		return;
	if (before >= 0)
		done = sluice_xasprintf("last stage %s started: %s is the stable version (was %s)",
					stage_name(r, next), r->version, rs[before].version);
	else
		done = sluice_xasprintf("last stage %s started: %s is the stable version",
					stage_name(r, next), r->version);
	sluice_rollout_apply_action(r, add_action(pl, SLUICE_ACTION_COMPLETE, plugin, r, next, done));
}

/* Tries to move the active release r one stage on. Returns true when the
 * state changed (a stage started, or a gate breach acted). */
static bool advance(planner *pl, const sluice_rollout_plugin *p, sluice_rollout_release *rs,
		    size_t n, sluice_rollout_release *r)
{
	const sluice_rollout_input *in = pl->in;
	const sluice_rollout_rules *rules = &in->rules;
	int k = r->stage_index, next = k + 1;
	size_t mark = pl->plan->nblocked;
	sluice_buf why = SLUICE_BUF_INIT, approved = SLUICE_BUF_INIT;
	int64_t t_start = in->now, fend = 0;
	const sluice_rollout_freeze *w;
	char d[16], c[16];
	bool changed = false;

	if (next >= (int)r->nstages)
		return false;
	if (r->state == SLUICE_RELEASE_PAUSED) {
		add_block(pl, p->id, r, next, SLUICE_BLOCK_POLICY, 0,
			  sluice_xasprintf("paused; soak is stopped until an operator runs "
					   "'sluice resume %s'", p->id));
		return false;
	}

	if (k < 0) {
		sluice_buf_printf(&why, "new release %s (%s, commit %s)", r->version,
				  r->tag ? r->tag : r->version, short_commit(c, r->commit));
		if (pl->mode == MODE_PROMOTE)
			sluice_buf_printf(&why, "; promoted by an operator: %s",
					  pl->promote_reason);
	} else if (pl->mode == MODE_PROMOTE) {
		sluice_buf_printf(&why, "promoted by an operator: %s", pl->promote_reason);
	} else {
		gate_result g;
		const sluice_rollout_stage *st = &r->stages[k];

		check_gates(pl, &g, p->id, r, next);
		if (g.breached) {
			if (g.rollback) {
				ptrdiff_t to;
				sluice_rollout_plugin tmp = *p;
				tmp.releases = rs;
				tmp.nreleases = n;
				to = sluice_rollout_rollback_target(&tmp, (size_t)(r - rs));
				sluice_rollout_action *a;
				if (to >= 0)
					a = add_action(pl, SLUICE_ACTION_ROLLBACK, p->id, r, k,
						       sluice_xasprintf("%s; rolling back to %s", g.why,
									rs[to].version));
				else
					a = add_action(pl, SLUICE_ACTION_ROLLBACK, p->id, r, k,
						       sluice_xasprintf("%s; rolling back: no earlier "
									"release, the plugin is removed",
									g.why));
				a->target_version = to >= 0 ? xdup(rs[to].version) : NULL;
				gate_numbers(a, &g);
				sluice_rollout_apply_action(r, a);
			} else {
				sluice_rollout_action *a = add_action(pl, SLUICE_ACTION_PAUSE, p->id, r, k,
						  sluice_xasprintf("%s; pausing", g.why));
				gate_numbers(a, &g);
				sluice_rollout_apply_action(r, a);
			}
			free(g.why);
			free(g.wait_why);
			changed = true;
			goto done;
		}
		/* waiting past max_wait_days: flagged once per stage, still held */
		if (g.waiting && g.wait_days > 0 &&
		    in->now >= r->stage_started_at + g.wait_days * SLUICE_DAY_SECONDS &&
		    r->gate_wait_notice_at < r->stage_started_at) {
			sluice_rollout_action *a = add_action(
				pl, SLUICE_ACTION_NOTICE, p->id, r, k,
				sluice_xasprintf("%s: still waiting after %lld day%s (max_wait_days); "
						 "the next stage stays held until the data comes or "
						 "an operator promotes it",
						 g.wait_why ? g.wait_why : "waiting for data",
						 (long long)g.wait_days, plural(g.wait_days)));
			a->notice = SLUICE_NOTICE_GATE_WAIT;
			r->gate_wait_notice_at = in->now;
		}
		free(g.wait_why);
		if (st->duration_days > 0) {
			int64_t end = r->stage_started_at + st->duration_days * SLUICE_DAY_SECONDS +
				      r->paused_seconds;
			if (in->now < end) {
				add_block(pl, p->id, r, next, SLUICE_BLOCK_SOAK, end,
					  sluice_xasprintf("soak ends %s", day(d, end)));
				t_start = end;
			} else {
				sluice_buf_printf(&why, "%s soaked %lld day%s", st->name,
						  (long long)st->duration_days,
						  plural(st->duration_days));
			}
		} else {
			sluice_buf_printf(&why, "%s has no soak", st->name);
		}
		if (g.gates > 0)
			sluice_buf_printf(&why, "; health gates pass");
	}

	/* A freeze window holds the stage until it ends; approvals must still
	 * be valid then. */
	if ((w = freeze_at(rules, t_start, &fend)) != NULL) {
		add_block(pl, p->id, r, next, SLUICE_BLOCK_FREEZE, fend,
			  w->reason && *w->reason
				  ? sluice_xasprintf("freeze window (%s) until %s", w->reason,
						     day(d, fend))
				  : sluice_xasprintf("freeze window until %s", day(d, fend)));
		t_start = fend;
	}
	if (rules->frozen)
		add_block(pl, p->id, r, next, SLUICE_BLOCK_FREEZE, 0,
			  rules->frozen_reason && *rules->frozen_reason
				  ? sluice_xasprintf("workspace frozen by an operator (%s) until "
						     "'sluice unfreeze'", rules->frozen_reason)
				  : sluice_xstrdup("workspace frozen by an operator until "
						   "'sluice unfreeze'"));
	if (next == 0) {
		sluice_buf missing = SLUICE_BUF_INIT;
		for (size_t i = 0; i < rules->nchecklist_required; i++)
			if (!has_item(r, rules->checklist_required[i]))
				sluice_buf_printf(&missing, "%s%s", missing.len ? ", " : "",
						  rules->checklist_required[i]);
		if (missing.len)
			add_block(pl, p->id, r, next, SLUICE_BLOCK_CHECKLIST, 0,
				  sluice_xasprintf("checklist items not done: %s (see 'sluice "
						   "checklist %s@%s')",
						   missing.ptr, p->id, r->version));
		sluice_buf_clear(&missing);
	}
	if (r->secret_problem)
		add_block(pl, p->id, r, next, SLUICE_BLOCK_SECRET, 0,
			  sluice_xstrdup(r->secret_problem));
	if (r->stages[next].requires_approval || (next == 0 && r->require_admin_approval))
		check_approvals(pl, p->id, r, next, t_start, &approved);
	sort_blocks(pl->plan, mark);

	if (pl->plan->nblocked > mark)
		goto done;
	if (approved.len)
		sluice_buf_printf(&why, "%s%s", why.len ? "; " : "", approved.ptr);
	start_stage(pl, p->id, rs, n, r, next, why.ptr ? why.ptr : "");
	changed = true;
done:
	sluice_buf_clear(&why);
	sluice_buf_clear(&approved);
	return changed;
}

static void block_frozen(planner *pl, const sluice_rollout_plugin *p,
			 const sluice_rollout_release *r)
{
	char a[16], b[16];
	int next = r->stage_index + 1 < (int)r->nstages ? r->stage_index + 1 : -1;
	add_block(pl, p->id, r, next, SLUICE_BLOCK_TAG_MOVED, 0,
		  sluice_xasprintf("tag %s moved from %s to %s; nothing happens until an "
				   "operator runs 'sluice accept-tag-move %s@%s'",
				   r->tag ? r->tag : r->version, short_commit(a, r->commit),
				   short_commit(b, r->moved_to_commit), p->id, r->version));
}

/* One step for plugin p. Returns true when it changed the scratch state. */
static bool step(planner *pl, const sluice_rollout_plugin *p, sluice_rollout_release *rs,
		 size_t n)
{
	const sluice_rollout_rules *rules = &pl->in->rules;
	situation s;
	bool changed = false;
	sluice_rollout_release *active = NULL;
	char c[16], c2[16];

	/* A moved tag freezes the release, whatever it was doing. */
	for (size_t i = 0; i < n; i++) {
		sluice_rollout_release *r = &rs[i];
		if (!r->tag_moved)
			continue;
		if (r->state == SLUICE_RELEASE_PENDING || r->state == SLUICE_RELEASE_IN_PROGRESS ||
		    r->state == SLUICE_RELEASE_PAUSED || r->state == SLUICE_RELEASE_COMPLETE) {
			sluice_rollout_apply_action(r, add_action(pl, SLUICE_ACTION_FREEZE_RELEASE, p->id, r, r->stage_index,
					  sluice_xasprintf("tag %s moved from %s to %s; frozen until an "
							   "operator accepts the move",
							   r->tag ? r->tag : r->version,
							   short_commit(c, r->commit),
							   short_commit(c2, r->moved_to_commit))));
			changed = true;
		}
	}
	if (changed)
		return true;

	classify(&s, rs, n);

	/* Only the highest new release goes on; anything lower is skipped. */
	for (size_t i = 0; i < n; i++) {
		sluice_rollout_release *r = &rs[i];
		char *why;
		if (r->state != SLUICE_RELEASE_PENDING || r->out_of_range || (ptrdiff_t)i == s.fresh)
			continue;
		if (s.has_floor && r->rank <= s.floor) {
			if (s.stable >= 0 && r->rank <= rs[s.stable].rank)
				why = sluice_xasprintf("%s is not newer than the stable release %s",
						       r->version, rs[s.stable].version);
			else
				why = sluice_xasprintf("%s is not newer than %s, which is rolling out",
						       r->version, rs[s.flight].version);
		} else if (s.fresh >= 0 && r->rank < rs[s.fresh].rank) {
			why = sluice_xasprintf("a higher new release, %s, goes out instead",
					       rs[s.fresh].version);
		} else {
			continue;
		}
		sluice_rollout_apply_action(r, add_action(pl, SLUICE_ACTION_SKIP_RELEASE, p->id, r, -1, why));
		changed = true;
	}
	if (changed)
		return true;

	if (s.flight >= 0 && s.fresh >= 0) {
		sluice_rollout_release *f = &rs[s.flight], *nw = &rs[s.fresh];
		if (rules->supersede) {
			sluice_rollout_action *a = add_action(
				pl, SLUICE_ACTION_SUPERSEDE, p->id, f, f->stage_index,
				sluice_xasprintf("newer release %s supersedes it (on_new_release: "
						 "supersede)",
						 nw->version));
			a->target_version = xdup(nw->version);
			sluice_rollout_apply_action(f, a);
			return true;
		}
		add_block(pl, p->id, nw, 0, SLUICE_BLOCK_POLICY, 0,
			  sluice_xasprintf("queued until %s finishes (on_new_release: queue)",
					   f->version));
		active = f;
	} else if (s.flight >= 0) {
		active = &rs[s.flight];
	} else if (s.fresh >= 0) {
		active = &rs[s.fresh];
	}

	/* What cannot go on, newest first as found. */
	for (size_t i = 0; i < n; i++) {
		const sluice_rollout_release *r = &rs[i];
		if (r->state == SLUICE_RELEASE_FROZEN &&
		    (s.stable < 0 || r->rank >= rs[s.stable].rank))
			block_frozen(pl, p, r);
		else if (r->state == SLUICE_RELEASE_PENDING && r->refused && !r->out_of_range &&
			 (!s.has_floor || r->rank > s.floor))
			add_block(pl, p->id, r, r->nstages ? 0 : -1, SLUICE_BLOCK_POLICY, 0,
				  sluice_xasprintf("release %s refused: %s", r->version,
						   r->refused_reason ? r->refused_reason
								     : "it failed validation"));
	}

	if (active && (active->state == SLUICE_RELEASE_PENDING ||
		       active->state == SLUICE_RELEASE_IN_PROGRESS ||
		       active->state == SLUICE_RELEASE_PAUSED))
		return advance(pl, p, rs, n, active);
	return false;
}

/* Lifecycle (docs/concepts.md, Lifecycle): that of the release users have
 * (sluice_rollout_lifecycle_of), never of a newer release still pending,
 * refused or waiting for approval. The sunset withdraws the plugin once
 * per sunset date: a `restore` after it stands. Returns true when the
 * plugin is withdrawn (nothing else is planned for it). */
static bool lifecycle(planner *pl, const sluice_rollout_plugin *p)
{
	const sluice_rollout_input *in = pl->in;
	int64_t notice_days = in->rules.sunset_notice_days > 0 ? in->rules.sunset_notice_days : 14;
	sluice_rollout_lifecycle lc;
	char d[16], d2[16];

	if (p->withdrawn) {
		add_block(pl, p->id, NULL, -1, SLUICE_BLOCK_POLICY, 0,
			  sluice_xstrdup("withdrawn from every group; nothing rolls out until an "
					 "operator restores it"));
		return true;
	}
	sluice_rollout_lifecycle_of(&lc, p);
	if (lc.sunset_at > 0 && in->now >= lc.sunset_at && p->sunset_withdrawn_for != lc.sunset_at) {
		sluice_rollout_action *a =
			add_action(pl, SLUICE_ACTION_WITHDRAW, p->id, NULL, -1,
				   sluice_xasprintf("sunset date %s reached: withdrawn from every group",
						    day(d, lc.sunset_at)));
		a->sunset_at = lc.sunset_at;
		return true;
	}
	if (lc.sunset_at > 0 && in->now < lc.sunset_at &&
	    p->sunset_notice_at < lc.sunset_at - notice_days * SLUICE_DAY_SECONDS &&
	    in->now >= lc.sunset_at - notice_days * SLUICE_DAY_SECONDS) {
		sluice_rollout_action *a;
		if (lc.deprecated_at > 0 && lc.deprecated_at <= in->now)
			a = add_action(pl, SLUICE_ACTION_NOTICE, p->id, NULL, -1,
				       sluice_xasprintf("deprecated since %s; sunset on %s: it will be "
							"withdrawn from every group",
							day(d2, lc.deprecated_at), day(d, lc.sunset_at)));
		else
			a = add_action(pl, SLUICE_ACTION_NOTICE, p->id, NULL, -1,
				       sluice_xasprintf("sunset on %s: it will be withdrawn from every "
							"group",
							day(d, lc.sunset_at)));
		a->notice = SLUICE_NOTICE_SUNSET;
	}
	if (lc.review_every_days > 0 && p->last_reviewed_at > 0) {
		int64_t due = p->last_reviewed_at + lc.review_every_days * SLUICE_DAY_SECONDS;
		if (in->now >= due && p->review_notice_at < due) {
			sluice_rollout_action *a = add_action(
				pl, SLUICE_ACTION_NOTICE, p->id, NULL, -1,
				sluice_xasprintf("review overdue since %s (due every %lld day%s)",
						 day(d, due), (long long)lc.review_every_days,
						 plural(lc.review_every_days)));
			a->notice = SLUICE_NOTICE_REVIEW;
		}
	}
	return false;
}

static sluice_rollout_release *scratch(const sluice_rollout_plugin *p)
{
	sluice_rollout_release *rs = sluice_xcalloc(p->nreleases ? p->nreleases : 1, sizeof *rs);
	if (p->nreleases)
		memcpy(rs, p->releases, p->nreleases * sizeof *rs);
	return rs;
}

static void plan_plugin(planner *pl, const sluice_rollout_plugin *p)
{
	sluice_rollout_release *rs;
	size_t limit = 8;

	if (lifecycle(pl, p))
		return;
	rs = scratch(p);
	for (size_t i = 0; i < p->nreleases; i++)
		limit += 4 + p->releases[i].nstages;
	/* Each step changes at least one state forward, so this ends; the
	 * limit only guards against inconsistent stored state. */
	for (size_t iter = 0; iter < limit; iter++) {
		size_t mark = pl->plan->nblocked;
		if (!step(pl, p, rs, p->nreleases))
			break;
		truncate_blocks(pl, mark);
	}
	free(rs);
}

int sluice_rollout_plan(sluice_plan **out, const sluice_rollout_input *in)
{
	planner pl = {in, sluice_xcalloc(1, sizeof(sluice_plan)), 0, 0, 0, MODE_PLAN, NULL};

	for (size_t i = 0; i < in->nplugins; i++)
		plan_plugin(&pl, &in->plugins[i]);
	*out = pl.plan;
	return 0;
}

void sluice_rollout_plan_free(sluice_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nactions; i++) {
		sluice_rollout_action *a = &p->actions[i];
		free(a->plugin);
		free(a->version);
		free(a->commit);
		free(a->stage);
		free(a->target_version);
		free(a->reason);
	}
	for (size_t i = 0; i < p->nblocked; i++)
		block_clear(&p->blocked[i]);
	for (size_t i = 0; i < p->ngates; i++) {
		free(p->gates[i].plugin);
		free(p->gates[i].version);
		free(p->gates[i].stage);
	}
	free(p->actions);
	free(p->blocked);
	free(p->gates);
	free(p);
}

/* ---- gate evaluations, for status and plan -------------------------------- */

static void gate_value_text(sluice_buf *b, const char *metric, double v)
{
	if (!strcmp(metric, "p95_latency_ms"))
		sluice_buf_printf(b, "%.0f ms", v);
	else if (!strcmp(metric, "error_rate_increase"))
		sluice_buf_printf(b, "%+.1f points", 100.0 * v);
	else
		sluice_buf_printf(b, "%.1f%%", 100.0 * v);
}

char *sluice_rollout_gate_text(const sluice_rollout_gate_eval *g)
{
	sluice_buf b = SLUICE_BUF_INIT;
	bool fb = !strcmp(g->metric, "positive_feedback_ratio");
	bool lat = !strcmp(g->metric, "p95_latency_ms");

	sluice_buf_printf(&b, "%s in %s: ", g->metric, g->stage ? g->stage : "?");
	if (g->samples > 0)
		gate_value_text(&b, g->metric, g->value);
	else
		sluice_buf_puts(&b, "no data");
	sluice_buf_printf(&b, " (gate: %s ", fb ? "at least" : "at most");
	gate_value_text(&b, g->metric, g->threshold);
	sluice_buf_printf(&b, "), %lld of %lld %s: %s", (long long)g->samples,
			  (long long)g->min_samples,
			  fb ? "ratings" : lat ? "calls with a latency" : "calls",
			  sluice_gate_result_name(g->result));
	return sluice_buf_detach(&b);
}

char *sluice_rollout_explain_gates(const sluice_plan *p, const char *plugin, const char *version)
{
	sluice_buf b = SLUICE_BUF_INIT;

	sluice_buf_puts(&b, "");
	for (size_t i = 0; p && i < p->ngates; i++) {
		const sluice_rollout_gate_eval *g = &p->gates[i];
		if ((plugin && !sluice__streq(g->plugin, plugin)) ||
		    (version && !sluice__streq(g->version, version)))
			continue;
		char *line = sluice_rollout_gate_text(g);
		sluice_buf_printf(&b, "%s\n", line);
		free(line);
	}
	return sluice_buf_detach(&b);
}

json_t *sluice_rollout_gates_json(const sluice_plan *p, const char *plugin, const char *version)
{
	json_t *a = json_array();

	for (size_t i = 0; p && i < p->ngates; i++) {
		const sluice_rollout_gate_eval *g = &p->gates[i];
		if ((plugin && !sluice__streq(g->plugin, plugin)) ||
		    (version && !sluice__streq(g->version, version)))
			continue;
		json_array_append_new(
			a, json_pack("{s:s?, s:i, s:s, s:o, s:f, s:I, s:I, s:s}", "stage", g->stage,
				     "stage_index", g->stage_index, "metric", g->metric, "value",
				     g->samples > 0 ? json_real(g->value) : json_null(), "threshold",
				     g->threshold, "samples", (json_int_t)g->samples, "min_samples",
				     (json_int_t)g->min_samples, "result",
				     sluice_gate_result_name(g->result)));
	}
	return a;
}

static bool same_stage(const sluice_rollout_block *a, const sluice_rollout_block *b)
{
	return sluice__streq(a->plugin, b->plugin) && a->stage_index == b->stage_index &&
	       ((!a->version && !b->version) || sluice__streq(a->version, b->version));
}

int64_t sluice_rollout_stage_opens_at(const sluice_plan *p, size_t i)
{
	int64_t opens = 0;
	for (size_t j = i; j < p->nblocked && same_stage(&p->blocked[i], &p->blocked[j]); j++) {
		if (p->blocked[j].opens_at == 0)
			return 0;
		if (p->blocked[j].opens_at > opens)
			opens = p->blocked[j].opens_at;
	}
	return opens;
}

static char *explain(const sluice_plan *p, const char *plugin, bool any_version,
		     const char *version)
{
	sluice_buf b = SLUICE_BUF_INIT;

	sluice_buf_puts(&b, "");
	for (size_t i = 0; i < p->nblocked;) {
		const sluice_rollout_block *first = &p->blocked[i];
		size_t j = i;
		if ((plugin && !sluice__streq(first->plugin, plugin)) ||
		    (!any_version && (version || first->version) &&
		     (!version || !first->version || !sluice__streq(first->version, version)))) {
			i++;
			continue;
		}
		sluice_buf_printf(&b, "%s: ",
				  first->stage ? first->stage
					       : first->version ? first->version : first->plugin);
		for (; j < p->nblocked && same_stage(first, &p->blocked[j]); j++)
			sluice_buf_printf(&b, "%s%s", j > i ? "; " : "", p->blocked[j].message);
		sluice_buf_puts(&b, "\n");
		i = j;
	}
	return sluice_buf_detach(&b);
}

char *sluice_rollout_explain(const sluice_plan *p, const char *plugin)
{
	return explain(p, plugin, true, NULL);
}

char *sluice_rollout_explain_release(const sluice_plan *p, const char *plugin, const char *version)
{
	return explain(p, plugin, false, version);
}

/* ---- promote --------------------------------------------------------------- */

int sluice_rollout_promote(sluice_plan **out, const sluice_rollout_input *in,
			   const char *plugin, const char *version, const char *reason)
{
	planner pl = {in, NULL, 0, 0, 0, MODE_PROMOTE, reason};
	const sluice_rollout_plugin *p = NULL;
	sluice_rollout_release *rs = NULL, *r = NULL;
	situation s;
	int err = 0;

	*out = NULL;
	if (!reason || !*reason)
		return sluice_error_set(SLUICE_EINVAL,
					"promote needs a reason; give one with --reason TEXT");
	for (size_t i = 0; i < in->nplugins; i++)
		if (sluice__streq(in->plugins[i].id, plugin))
			p = &in->plugins[i];
	if (!p)
		return sluice_error_set(SLUICE_ENOTFOUND, "no plugin '%s' in this workspace",
					plugin ? plugin : "");
	if (p->withdrawn)
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot promote %s: it is withdrawn from every group", p->id);

	rs = scratch(p);
	pl.plan = sluice_xcalloc(1, sizeof(sluice_plan));
	classify(&s, rs, p->nreleases);
	if (s.flight >= 0)
		r = &rs[s.flight];
	else if (s.fresh >= 0)
		r = &rs[s.fresh];
	if (!r) {
		err = sluice_error_set(SLUICE_ENOTFOUND,
				       "nothing to promote: %s has no release rolling out", p->id);
		goto done;
	}
	if (version && !sluice__streq(version, r->version)) {
		err = sluice_error_set(SLUICE_EREFUSED,
				       "cannot promote %s@%s: the release rolling out is %s",
				       p->id, version, r->version);
		goto done;
	}
	if (r->tag_moved || r->state == SLUICE_RELEASE_FROZEN) {
		err = sluice_error_set(SLUICE_EREFUSED,
				       "cannot promote %s@%s: its tag moved; run 'sluice "
				       "accept-tag-move %s@%s' first",
				       p->id, r->version, p->id, r->version);
		goto done;
	}
	if (r->state == SLUICE_RELEASE_PAUSED) {
		err = sluice_error_set(SLUICE_EREFUSED,
				       "cannot promote %s@%s: it is paused; run 'sluice resume "
				       "%s' first",
				       p->id, r->version, p->id);
		goto done;
	}
	if (!advance(&pl, p, rs, p->nreleases, r)) {
		char *why = sluice_rollout_explain(pl.plan, NULL);
		size_t len = strlen(why);
		while (len && why[len - 1] == '\n')
			why[--len] = '\0';
		err = sluice_error_set(SLUICE_EREFUSED, "cannot promote %s@%s: %s", p->id,
				       r->version, why);
		free(why);
		goto done;
	}
done:
	free(rs);
	if (err) {
		sluice_rollout_plan_free(pl.plan);
		return err;
	}
	*out = pl.plan;
	return 0;
}

/* ---- simulation (plan --at) -------------------------------------------------- */

static void consider(int64_t *next, int64_t t, int64_t candidate)
{
	if (candidate > t && (*next == 0 || candidate < *next))
		*next = candidate;
}

int sluice_rollout_simulate(sluice_plan **out, const sluice_rollout_input *in, int64_t until)
{
	sluice_rollout_plugin *plugins = sluice_xcalloc(in->nplugins ? in->nplugins : 1,
							sizeof *plugins);
	sluice_rollout_input sim = *in;
	sluice_plan *result = sluice_xcalloc(1, sizeof *result);
	size_t cap = 0;
	int64_t t = in->now;
	int64_t notice_days = in->rules.sunset_notice_days > 0 ? in->rules.sunset_notice_days : 14;

	for (size_t i = 0; i < in->nplugins; i++) {
		plugins[i] = in->plugins[i];
		plugins[i].releases = scratch(&in->plugins[i]);
	}
	sim.plugins = plugins;
	if (until < t)
		until = t;

	/* Every pass either reaches `until` or moves t forward to a moment
	 * something opens; the count only guards against a runaway input. */
	for (int pass = 0; pass < 10000; pass++) {
		sluice_plan *p = NULL;
		int64_t next = 0;

		sim.now = t;
		sluice_rollout_plan(&p, &sim);
		for (size_t i = 0; i < p->nactions; i++) {
			/* as the store applies it */
			for (size_t k = 0; k < in->nplugins; k++)
				if (sluice_rollout_apply_plugin_action(&plugins[k], &p->actions[i]))
					break;
			if (result->nactions == cap) {
				cap = cap ? 2 * cap : 16;
				result->actions = sluice_xrealloc(result->actions,
								  cap * sizeof *result->actions);
			}
			result->actions[result->nactions++] = p->actions[i]; /* moved */
		}
		p->nactions = 0;
		if (t >= until) {
			result->blocked = p->blocked;
			result->nblocked = p->nblocked;
			result->gates = p->gates;
			result->ngates = p->ngates;
			p->blocked = NULL;
			p->nblocked = 0;
			p->gates = NULL;
			p->ngates = 0;
			sluice_rollout_plan_free(p);
			break;
		}
		for (size_t i = 0; i < p->nblocked; i++)
			consider(&next, t, p->blocked[i].opens_at);
		for (size_t i = 0; i < in->nplugins; i++) {
			const sluice_rollout_plugin *q = &plugins[i];
			sluice_rollout_lifecycle lc;
			sluice_rollout_lifecycle_of(&lc, q);
			if (lc.sunset_at > 0) {
				consider(&next, t, lc.sunset_at);
				consider(&next, t, lc.sunset_at - notice_days * SLUICE_DAY_SECONDS);
			}
			if (lc.review_every_days > 0 && q->last_reviewed_at > 0)
				consider(&next, t, q->last_reviewed_at +
							   lc.review_every_days * SLUICE_DAY_SECONDS);
		}
		sluice_rollout_plan_free(p);
		t = next == 0 || next > until ? until : next;
	}

	for (size_t i = 0; i < in->nplugins; i++)
		free(plugins[i].releases);
	free(plugins);
	*out = result;
	return 0;
}
