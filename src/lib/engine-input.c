/* The planner's input from the engine: the workspace and rollout policy
 * flattened into planner rules, and the stored state of every watched
 * plugin completed with what the store does not know. */
#include <stdlib.h>
#include <string.h>

#include "engine-internal.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/semver.h"
#include "sluice/util.h"

/* Storage behind e->rules. */
typedef struct {
	sluice_rollout_admin *admins;
	const char ***emails;
	sluice_rollout_freeze *freeze;
	sluice_rollout_gate *gates;
	const char **checklist;
} engine_priv;

void sluice__engine_rules_init(sluice_engine *e)
{
	engine_priv *p = e->priv = sluice_xcalloc(1, sizeof(engine_priv));
	const sluice_workspace *ws = e->ws;
	sluice_rollout_rules *r = &e->rules;

	memcpy(r->min_approvals, ws->min_approvals, sizeof r->min_approvals);
	r->prevent_self_approval = ws->prevent_self_approval.set && ws->prevent_self_approval.v;
	r->approval_ttl_days = ws->approval_ttl_days.set ? ws->approval_ttl_days.v : 0;

	p->admins = sluice_xcalloc(ws->nadmins + 1, sizeof *p->admins);
	p->emails = sluice_xcalloc(ws->nadmins + 1, sizeof *p->emails);
	for (size_t i = 0; i < ws->nadmins; i++) {
		const sluice_admin *a = &ws->admins[i];
		p->emails[i] = sluice_xcalloc(a->emails.count + 1, sizeof(char *));
		for (size_t k = 0; k < a->emails.count; k++)
			p->emails[i][k] = a->emails.items[k].s;
		p->admins[i].id = a->id.s;
		p->admins[i].roles = a->roles;
		p->admins[i].emails = p->emails[i];
		p->admins[i].nemails = a->emails.count;
	}
	r->admins = p->admins;
	r->nadmins = ws->nadmins;

	p->freeze = sluice_xcalloc(ws->nfreeze + 1, sizeof *p->freeze);
	for (size_t i = 0; i < ws->nfreeze; i++) {
		p->freeze[i].from = ws->freeze[i].from;
		p->freeze[i].to = ws->freeze[i].to;
		p->freeze[i].reason = ws->freeze[i].reason.s;
	}
	r->freeze = p->freeze;
	r->nfreeze = ws->nfreeze;

	if (!e->policy)
		return;
	r->supersede = e->policy->on_new_release.s &&
		       strcmp(e->policy->on_new_release.s, "supersede") == 0;
	p->gates = sluice_xcalloc(e->policy->ngates + 1, sizeof *p->gates);
	for (size_t i = 0; i < e->policy->ngates; i++) {
		const sluice_health_gate *g = &e->policy->gates[i];
		sluice_rollout_gate *o = &p->gates[i];
		o->stage = g->stage.s;
		o->has_max_tool_error_rate = g->has_max_tool_error_rate;
		o->has_max_refusal_rate = g->has_max_refusal_rate;
		o->has_max_escalation_rate = g->has_max_escalation_rate;
		o->has_min_positive_feedback_ratio = g->has_min_positive_feedback_ratio;
		o->max_tool_error_rate = g->max_tool_error_rate;
		o->max_refusal_rate = g->max_refusal_rate;
		o->max_escalation_rate = g->max_escalation_rate;
		o->min_positive_feedback_ratio = g->min_positive_feedback_ratio;
		o->min_samples = g->min_samples;
		o->min_feedback_samples = g->min_feedback_samples;
		o->rollback_on_breach = g->on_breach.s && strcmp(g->on_breach.s, "rollback") == 0;
		o->has_max_p95_latency_ms = g->has_max_p95_latency_ms;
		o->max_p95_latency_ms = g->max_p95_latency_ms;
		o->has_max_error_rate_increase = g->has_max_error_rate_increase;
		o->max_error_rate_increase = g->max_error_rate_increase;
		o->max_wait_days = g->max_wait_days;
	}
	r->gates = p->gates;
	r->ngates = e->policy->ngates;
	p->checklist = sluice_xcalloc(e->policy->nchecklist + 1, sizeof(char *));
	for (size_t i = 0; i < e->policy->nchecklist; i++)
		p->checklist[i] = e->policy->checklist[i].item.s;
	r->checklist_required = p->checklist;
	r->nchecklist_required = e->policy->nchecklist;
}

void sluice__engine_rules_clear(sluice_engine *e)
{
	engine_priv *p = e->priv;
	if (!p)
		return;
	for (size_t i = 0; p->emails && e->ws && i < e->ws->nadmins; i++)
		free(p->emails[i]);
	free(p->emails);
	free(p->admins);
	free(p->freeze);
	free(p->gates);
	free(p->checklist);
	free(p);
	e->priv = NULL;
}

/* What Sluice checks itself (docs/concepts.md, the release checklist): a
 * recorded release that passed validation has its manifest validated, its
 * permissions reviewed against policy, and is registered. */
#define auto_checklist sluice_rollout_checked_items

typedef struct {
	sluice_store_plugin_state **states;
	size_t nstates;
	sluice_rollout_plugin *plugins;
	sluice_rollout_approval *approvals;
	const char ***lists; /* checklist arrays made here */
	size_t nlists;
	char **problems; /* secret_problem texts made here */
	size_t nproblems;
	sluice_rollout_telemetry *telemetry;
} input_priv;

/* Fills secret_problem of each release from the stored secret checks
 * (sluice_secrets_refresh): the first binding that is not present. */
static int load_secret_problems(input_priv *p, sluice_engine *e, const char *plugin,
				sluice_rollout_plugin *pl)
{
	sluice_secret_row *rows = NULL;
	size_t n = 0;
	int rc = sluice_store_secret_rows(&rows, &n, e->store, e->workspace, plugin, NULL);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (rows[i].present)
			continue;
		for (size_t k = 0; k < pl->nreleases; k++) {
			sluice_rollout_release *r = &pl->releases[k];
			if (r->secret_problem || strcmp(r->version, rows[i].version) != 0)
				continue;
			char *t = sluice_xasprintf("secret %s: %s", rows[i].var,
						   rows[i].problem ? rows[i].problem : "not present");
			p->problems = sluice_xrealloc(p->problems,
						      (p->nproblems + 1) * sizeof *p->problems);
			p->problems[p->nproblems++] = t;
			r->secret_problem = t;
		}
	}
	sluice_secret_rows_free(rows, n);
	return rc;
}

/* The gates' telemetry (docs/telemetry.md): for every release in flight,
 * its rollups since its current stage started, and the stable release's
 * over the same days. Read only when the policy has gates. */
static int load_telemetry(sluice_engine_input *in, input_priv *p, sluice_engine *e)
{
	size_t n = 0, cap = 0;
	int rc = 0;

	if (e->rules.ngates == 0)
		return 0;
	for (size_t i = 0; i < p->nstates; i++) {
		const sluice_rollout_plugin *pl = &p->plugins[i];
		ptrdiff_t stable = sluice_rollout_stable(pl);
		for (size_t k = 0; k < pl->nreleases; k++) {
			const sluice_rollout_release *r = &pl->releases[k];
			sluice_telemetry_summary sum, base;
			sluice_rollout_telemetry *t;

			if (r->state != SLUICE_RELEASE_IN_PROGRESS || r->stage_index < 0 ||
			    !r->stage_started_at)
				continue;
			if ((rc = sluice_store_telemetry_summary(&sum, e->store, e->workspace, pl->id,
								 r->version, r->stage_started_at,
								 e->now)) < 0)
				return rc;
			if (n == cap) {
				cap = cap ? 2 * cap : 8;
				p->telemetry = sluice_xrealloc(p->telemetry, cap * sizeof *p->telemetry);
			}
			t = &p->telemetry[n++];
			memset(t, 0, sizeof *t);
			t->plugin = pl->id;
			t->version = r->version;
			t->stage_index = r->stage_index;
			t->calls = sum.calls;
			t->errors = sum.errors;
			t->refusals = sum.refusals;
			t->escalations = sum.escalations;
			t->feedback_total = sum.feedback_total;
			t->feedback_positive = sum.feedback_positive;
			t->latency_samples = sum.latency_samples;
			t->p95_latency_ms = sum.p95_latency_ms;
			if (stable < 0 || (size_t)stable == k)
				continue;
			if ((rc = sluice_store_telemetry_summary(&base, e->store, e->workspace, pl->id,
								 pl->releases[stable].version,
								 r->stage_started_at, e->now)) < 0)
				return rc;
			t->stable_version = pl->releases[stable].version;
			t->stable_calls = base.calls;
			t->stable_errors = base.errors;
		}
	}
	in->in.telemetry = p->telemetry;
	in->in.ntelemetry = n;
	return rc;
}

static void complete_release(input_priv *p, sluice_rollout_release *r, const sluice_range *range)
{
	sluice_semver v;

	sluice_semver_init(&v);
	if (range && (sluice_semver_parse(&v, r->version) < 0 || !sluice_range_satisfies(range, &v)))
		r->out_of_range = true;
	sluice_semver_clear(&v);
	if (r->refused)
		return;
	size_t n = r->nchecklist_done, cap = n + sizeof auto_checklist / sizeof auto_checklist[0];
	const char **items = sluice_xcalloc(cap + 1, sizeof *items);
	for (size_t i = 0; i < n; i++)
		items[i] = r->checklist_done[i];
	for (size_t k = 0; k < sizeof auto_checklist / sizeof auto_checklist[0]; k++) {
		bool have = false;
		for (size_t i = 0; i < r->nchecklist_done && !have; i++)
			have = strcmp(r->checklist_done[i], auto_checklist[k]) == 0;
		if (!have)
			items[n++] = auto_checklist[k];
	}
	p->lists = sluice_xrealloc(p->lists, (p->nlists + 1) * sizeof *p->lists);
	p->lists[p->nlists++] = items;
	r->checklist_done = items;
	r->nchecklist_done = n;
}

int sluice_engine_input_load(sluice_engine_input **out, sluice_engine *e, const char *plugin)
{
	sluice_engine_input *in = sluice_xcalloc(1, sizeof *in);
	input_priv *p = sluice_xcalloc(1, sizeof *p);
	const sluice_watched *only = NULL;
	size_t napprovals = 0;
	bool frozen = false;
	int rc = 0;

	*out = NULL;
	in->priv = p;
	if (plugin && !(only = sluice_engine_find(e, plugin))) {
		rc = SLUICE_ENOTFOUND;
		goto done;
	}
	in->watched = sluice_xcalloc(e->nwatched + 1, sizeof *in->watched);
	in->ids = sluice_xcalloc(e->nwatched + 1, sizeof *in->ids);
	p->states = sluice_xcalloc(e->nwatched + 1, sizeof *p->states);
	p->plugins = sluice_xcalloc(e->nwatched + 1, sizeof *p->plugins);
	for (size_t i = 0; i < e->nwatched; i++) {
		const sluice_watched *w = &e->watched[i];
		sluice_store_plugin_state *st = NULL;
		sluice_range *range = NULL;
		char *id;

		if (only && w != only)
			continue;
		id = sluice_engine_plugin_id(e, w);
		if ((rc = sluice_store_load_plugin_state(&st, e->store, e->workspace, id)) < 0) {
			free(id);
			goto done;
		}
		if (w->ws_plugin->versions.s &&
		    sluice_range_parse(&range, w->ws_plugin->versions.s, NULL, 0) < 0)
			range = NULL; /* validation already reported it */
		for (size_t k = 0; k < st->plugin.nreleases; k++)
			complete_release(p, &st->plugin.releases[k], range);
		sluice_range_free(range);
		if ((rc = load_secret_problems(p, e, id, &st->plugin)) < 0) {
			sluice_store_plugin_state_free(st);
			free(id);
			goto done;
		}
		in->watched[p->nstates] = w;
		in->ids[p->nstates] = id;
		p->plugins[p->nstates] = st->plugin;
		p->states[p->nstates++] = st;
		napprovals += st->napprovals;
	}
	p->approvals = sluice_xcalloc(napprovals + 1, sizeof *p->approvals);
	for (size_t i = 0; i < p->nstates; i++)
		for (size_t k = 0; k < p->states[i]->napprovals; k++)
			p->approvals[in->in.napprovals++] = p->states[i]->approvals[k];
	if ((rc = sluice_store_workspace_frozen(&frozen, &in->frozen_reason, e->store,
						e->workspace)) < 0)
		goto done;
	in->in.plugins = p->plugins;
	in->in.nplugins = p->nstates;
	in->in.approvals = p->approvals;
	in->in.rules = e->rules;
	in->in.rules.frozen = frozen;
	in->in.rules.frozen_reason = in->frozen_reason;
	in->in.now = e->now;
	rc = load_telemetry(in, p, e);
done:
	if (rc < 0)
		sluice_engine_input_free(in);
	else
		*out = in;
	return rc;
}

void sluice_engine_input_free(sluice_engine_input *in)
{
	if (!in)
		return;
	input_priv *p = in->priv;
	for (size_t i = 0; i < p->nstates; i++) {
		sluice_store_plugin_state_free(p->states[i]);
		free(in->ids[i]);
	}
	for (size_t i = 0; i < p->nlists; i++)
		free(p->lists[i]);
	free(p->lists);
	for (size_t i = 0; i < p->nproblems; i++)
		free(p->problems[i]);
	free(p->problems);
	free(p->states);
	free(p->plugins);
	free(p->approvals);
	free(p->telemetry);
	free(p);
	free(in->ids);
	free(in->watched);
	free(in->frozen_reason);
	free(in);
}

/* ---- action text ---------------------------------------------------------- */

char *sluice_engine_action_text(const sluice_rollout_action *a)
{
	sluice_buf b = SLUICE_BUF_INIT;

	sluice_buf_printf(&b, "%s%s%s: ", a->plugin ? a->plugin : "?", a->version ? "@" : "",
			  a->version ? a->version : "");
	switch (a->kind) {
	case SLUICE_ACTION_START_STAGE:
		sluice_buf_printf(&b, "start stage %s (%d)", a->stage ? a->stage : "?",
				  a->stage_index + 1);
		break;
	case SLUICE_ACTION_COMPLETE:
		sluice_buf_puts(&b, "complete");
		break;
	case SLUICE_ACTION_SUPERSEDE:
		sluice_buf_printf(&b, "superseded by %s",
				  a->target_version ? a->target_version : "?");
		break;
	case SLUICE_ACTION_SKIP_RELEASE:
		sluice_buf_puts(&b, "skip");
		break;
	case SLUICE_ACTION_PAUSE:
		sluice_buf_puts(&b, "pause");
		break;
	case SLUICE_ACTION_ROLLBACK:
		sluice_buf_printf(&b, "roll back to %s",
				  a->target_version ? a->target_version : "nothing (removed)");
		break;
	case SLUICE_ACTION_WITHDRAW:
		sluice_buf_puts(&b, "withdraw");
		break;
	case SLUICE_ACTION_FREEZE_RELEASE:
		sluice_buf_puts(&b, "freeze");
		break;
	default:
		sluice_buf_puts(&b, "notice");
		break;
	}
	if (a->reason && *a->reason)
		sluice_buf_printf(&b, ": %s", a->reason);
	return sluice_buf_detach(&b);
}
