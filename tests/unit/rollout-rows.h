/* The planner's table rows (docs/concepts.md), shared by the programs
 * that replay them: test-rollout.c compares each row's plan with what the
 * row expects; test-rollout-store.c applies each plan through the
 * planner's transition and through a real store and compares the states.
 *
 * Every row starts from the reference rollout of backend-pr-reviewer
 * (devex-dogfood 7 days, backend-pilot 14 days, backend-general with
 * requires_approval; controls.require_admin_approval true) and changes
 * what the rule needs. Include after <cmocka.h>. */
#ifndef SLUICE_TEST_ROLLOUT_ROWS_H
#define SLUICE_TEST_ROLLOUT_ROWS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/rollout.h"
#include "sluice/util.h"

/* Each program uses only some of the helpers. */
#define ROWS_FN static __attribute__((unused))

#define PLUGIN "backend-pr-reviewer"
#define C010 "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
#define C011 "b2c3d4e5f60718293a4b5c6d7e8f901234567890"
#define C012 "c3d4e5f60718293a4b5c6d7e8f90123456789012"
#define C009 "0909090909090909090909090909090909090909"

static const char *const g_devex[] = {"platform-devex"};
static const char *const g_pilot[] = {"backend-engineers-pilot"};
static const char *const g_general[] = {"backend-engineers"};
static const sluice_rollout_stage ref_stages[] = {
	{"devex-dogfood", g_devex, 1, 7, false},
	{"backend-pilot", g_pilot, 1, 14, false},
	{"backend-general", g_general, 1, 0, true},
};

static const char *const ana_mail[] = {"ana@acme.example"};
static const char *const ben_mail[] = {"ben@acme.example"};
static const char *const lead_mail[] = {"devex-lead@acme.example"};
static const sluice_rollout_admin admins[] = {
	{"admin-ana", 1 | 2, ana_mail, 1},
	{"admin-ben", 1, ben_mail, 1},
	{"devex-lead", 2, lead_mail, 1},
	{"ci-bot", 8, NULL, 0},
};

ROWS_FN int64_t T(const char *s)
{
	int64_t t = 0;
	assert_int_equal(sluice_time_parse(&t, s), 0);
	return t;
}

#define DAY SLUICE_DAY_SECONDS

typedef struct {
	sluice_rollout_release rel[6];
	size_t nrel;
	sluice_rollout_plugin plugin;
	sluice_rollout_approval appr[8];
	size_t nappr;
	sluice_rollout_telemetry tel[4];
	size_t ntel;
	sluice_rollout_gate gates[3];
	size_t ngates;
	sluice_rollout_freeze freeze[3];
	size_t nfreeze;
	sluice_rollout_input in;
} world;

ROWS_FN sluice_rollout_release *add_rel(world *w, const char *version, const char *commit,
				       int64_t rank)
{
	sluice_rollout_release *r = &w->rel[w->nrel++];
	memset(r, 0, sizeof *r);
	r->version = version;
	r->tag = version == NULL ? NULL
		 : !strcmp(version, "0.1.0") ? "v0.1.0"
		 : !strcmp(version, "0.1.1") ? "v0.1.1"
		 : !strcmp(version, "0.1.2") ? "v0.1.2"
					     : "v0.0.9";
	r->commit = commit;
	r->rank = rank;
	r->tagger_email = "dev@acme.example";
	r->seen_at = T("2026-11-01T12:00:00Z");
	r->state = SLUICE_RELEASE_PENDING;
	r->stage_index = -1;
	r->stages = ref_stages;
	r->nstages = 3;
	r->require_admin_approval = true;
	r->allow_user_disable = true;
	r->risk = 1;
	return r;
}

ROWS_FN void approve(world *w, const char *who, const char *version, const char *commit,
		    const char *stage, const char *at)
{
	sluice_rollout_approval *a = &w->appr[w->nappr++];
	memset(a, 0, sizeof *a);
	a->plugin = PLUGIN;
	a->version = version;
	a->commit = commit;
	a->stage = stage;
	a->approver = who;
	a->at = T(at);
}

/* Puts r in stage k, started at `at`. */
ROWS_FN void in_stage(sluice_rollout_release *r, int k, const char *at)
{
	r->state = k == (int)r->nstages - 1 ? SLUICE_RELEASE_COMPLETE : SLUICE_RELEASE_IN_PROGRESS;
	r->stage_index = k;
	r->stage_started_at = T(at);
}

ROWS_FN void world_init(world *w)
{
	memset(w, 0, sizeof *w);
	add_rel(w, "0.1.0", C010, 10);
	w->in.rules.min_approvals[0] = w->in.rules.min_approvals[1] =
		w->in.rules.min_approvals[2] = 1;
	w->in.rules.prevent_self_approval = true;
	w->in.rules.approval_ttl_days = 30;
	w->in.rules.admins = admins;
	w->in.rules.nadmins = 4;
	w->in.now = T("2026-11-02T09:00:00Z");
}

ROWS_FN void world_bind(world *w)
{
	w->plugin.id = PLUGIN;
	w->plugin.releases = w->rel;
	w->plugin.nreleases = w->nrel;
	w->in.plugins = &w->plugin;
	w->in.nplugins = 1;
	w->in.approvals = w->appr;
	w->in.napprovals = w->nappr;
	w->in.telemetry = w->tel;
	w->in.ntelemetry = w->ntel;
	w->in.rules.gates = w->gates;
	w->in.rules.ngates = w->ngates;
	w->in.rules.freeze = w->freeze;
	w->in.rules.nfreeze = w->nfreeze;
}

ROWS_FN char *day_of(char buf[32], int64_t t)
{
	sluice_time_format(buf, t);
	buf[10] = '\0';
	return buf;
}

/* "start_stage 0.1.0 devex-dogfood: reason" per action. */
ROWS_FN char *render_actions(const sluice_plan *p)
{
	sluice_buf b = SLUICE_BUF_INIT;
	sluice_buf_puts(&b, "");
	for (size_t i = 0; i < p->nactions; i++) {
		const sluice_rollout_action *a = &p->actions[i];
		sluice_buf_printf(&b, "%s %s %s: %s\n", sluice_rollout_action_name(a->kind),
				  a->version ? a->version : "-", a->stage ? a->stage : "-",
				  a->reason);
	}
	return sluice_buf_detach(&b);
}

/* "[kind] 0.1.0 backend-pilot: message (opens 2026-11-09)" per reason. */
ROWS_FN char *render_blocked(const sluice_plan *p)
{
	sluice_buf b = SLUICE_BUF_INIT;
	char d[32];
	sluice_buf_puts(&b, "");
	for (size_t i = 0; i < p->nblocked; i++) {
		const sluice_rollout_block *x = &p->blocked[i];
		sluice_buf_printf(&b, "[%s] %s %s: %s", sluice_rollout_block_name(x->kind),
				  x->version ? x->version : "-", x->stage ? x->stage : "-",
				  x->message);
		if (x->opens_at)
			sluice_buf_printf(&b, " (opens %s)", day_of(d, x->opens_at));
		sluice_buf_puts(&b, "\n");
	}
	return sluice_buf_detach(&b);
}

/* "0.1.0 devex-dogfood tool_error_rate 0.0500/0.0500 100/50 pass" per gate
 * metric evaluated (value/threshold samples/min_samples result). */
ROWS_FN char *render_gates(const sluice_plan *p)
{
	sluice_buf b = SLUICE_BUF_INIT;
	sluice_buf_puts(&b, "");
	for (size_t i = 0; i < p->ngates; i++) {
		const sluice_rollout_gate_eval *g = &p->gates[i];
		sluice_buf_printf(&b, "%s %s %s %.4f/%.4f %lld/%lld %s\n", g->version,
				  g->stage ? g->stage : "-", g->metric, g->value, g->threshold,
				  (long long)g->samples, (long long)g->min_samples,
				  sluice_gate_result_name(g->result));
	}
	return sluice_buf_detach(&b);
}

typedef struct {
	const char *name;
	void (*setup)(world *w);
	const char *actions;
	const char *blocked;
	const char *gates; /* render_gates of the plan; NULL: not compared */
} row;

/* ---- setups, one per rule ------------------------------------------------ */

ROWS_FN void s_new_release(world *w) { (void)w; }

ROWS_FN void s_admin_approved(world *w)
{
	approve(w, "admin-ana", "0.1.0", C010, "devex-dogfood", "2026-11-02T08:00:00Z");
}

static void s_no_admin_approval(world *w) { w->rel[0].require_admin_approval = false; }

ROWS_FN void s_soaking(world *w)
{
	in_stage(&w->rel[0], 0, "2026-11-02T09:00:00Z");
	w->in.now = T("2026-11-05T09:00:00Z");
}

ROWS_FN void s_soaked(world *w)
{
	in_stage(&w->rel[0], 0, "2026-11-02T09:00:00Z");
	w->in.now = T("2026-11-09T09:00:00Z");
}

ROWS_FN void s_paused_time_excluded(world *w)
{
	s_soaked(w);
	w->rel[0].paused_seconds = 2 * DAY;
}

ROWS_FN void s_paused(world *w)
{
	s_soaking(w);
	w->rel[0].state = SLUICE_RELEASE_PAUSED;
	w->rel[0].paused_at = T("2026-11-04T09:00:00Z");
	w->in.now = T("2026-11-20T09:00:00Z");
}

ROWS_FN void s_pilot(world *w)
{
	in_stage(&w->rel[0], 1, "2026-11-09T09:00:00Z");
	w->in.now = T("2026-11-10T09:00:00Z");
}

ROWS_FN void s_general_approved(world *w)
{
	in_stage(&w->rel[0], 1, "2026-11-09T09:00:00Z");
	approve(w, "admin-ben", "0.1.0", C010, "backend-general", "2026-11-20T10:00:00Z");
	w->in.now = T("2026-11-23T09:00:00Z");
}

ROWS_FN void s_general_unapproved(world *w)
{
	in_stage(&w->rel[0], 1, "2026-11-09T09:00:00Z");
	w->in.now = T("2026-11-23T09:00:00Z");
}

ROWS_FN void s_wrong_version(world *w)
{
	s_general_unapproved(w);
	approve(w, "admin-ben", "0.1.1", C010, "backend-general", "2026-11-20T10:00:00Z");
}

ROWS_FN void s_wrong_commit(world *w)
{
	s_general_unapproved(w);
	approve(w, "admin-ben", "0.1.0", C011, "backend-general", "2026-11-20T10:00:00Z");
}

ROWS_FN void s_wrong_stage(world *w)
{
	s_general_unapproved(w);
	approve(w, "admin-ben", "0.1.0", C010, "backend-pilot", "2026-11-20T10:00:00Z");
}

ROWS_FN void s_voided(world *w)
{
	s_general_approved(w);
	w->appr[0].voided = true;
}

ROWS_FN void s_not_an_approver(world *w)
{
	s_general_unapproved(w);
	approve(w, "devex-lead", "0.1.0", C010, "backend-general", "2026-11-20T10:00:00Z");
}

ROWS_FN void s_self_approval(world *w)
{
	s_general_unapproved(w);
	w->rel[0].tagger_email = "Ana@ACME.example";
	approve(w, "admin-ana", "0.1.0", C010, "backend-general", "2026-11-20T10:00:00Z");
}

ROWS_FN void s_self_not_approved(world *w)
{
	s_general_unapproved(w);
	w->rel[0].tagger_email = "ana@acme.example";
}

/* a lightweight tag: the author is nobody's, the committer is admin-ben */
ROWS_FN void s_self_committer(world *w)
{
	s_general_unapproved(w);
	w->rel[0].tagger_email = "dev@acme.example, BEN@acme.example";
	approve(w, "admin-ben", "0.1.0", C010, "backend-general", "2026-11-20T10:00:00Z");
}

ROWS_FN void s_self_allowed(world *w)
{
	s_self_approval(w);
	w->in.rules.prevent_self_approval = false;
}

ROWS_FN void s_two_needed(world *w)
{
	s_general_approved(w);
	w->in.rules.min_approvals[1] = 2;
}

ROWS_FN void s_two_same_approver(world *w)
{
	s_two_needed(w);
	approve(w, "admin-ben", "0.1.0", C010, "backend-general", "2026-11-21T10:00:00Z");
}

ROWS_FN void s_two_distinct(world *w)
{
	s_two_needed(w);
	approve(w, "admin-ana", "0.1.0", C010, "backend-general", "2026-11-21T10:00:00Z");
}

ROWS_FN void s_high_risk(world *w)
{
	s_general_approved(w);
	w->in.rules.min_approvals[2] = 2;
	w->rel[0].risk = 2;
}

/* A risk below 0 is class 0 (low) for the planner and, since they share
 * sluice_rollout_approvals_needed, for approve's reply too (which once
 * took it for high). */
ROWS_FN void s_negative_risk(world *w)
{
	s_general_approved(w);
	w->in.rules.min_approvals[2] = 2;
	w->rel[0].risk = -1;
}

ROWS_FN void s_expired(world *w)
{
	s_general_unapproved(w);
	approve(w, "admin-ana", "0.1.0", C010, "backend-general", "2026-10-22T09:00:00Z");
}

ROWS_FN void s_expires_before_start(world *w)
{
	s_pilot(w);
	w->in.now = T("2026-11-20T09:00:00Z");
	approve(w, "admin-ana", "0.1.0", C010, "backend-general", "2026-10-22T09:00:00Z");
}

ROWS_FN void s_no_ttl(world *w)
{
	s_expired(w);
	w->in.rules.approval_ttl_days = 0;
}

ROWS_FN void s_rejected(world *w)
{
	s_general_approved(w);
	w->rel[0].state = SLUICE_RELEASE_REJECTED;
}

ROWS_FN void s_after_rejected(world *w)
{
	s_rejected(w);
	add_rel(w, "0.1.1", C011, 11);
	approve(w, "admin-ana", "0.1.1", C011, "devex-dogfood", "2026-11-22T09:00:00Z");
}

ROWS_FN void s_frozen(world *w)
{
	s_soaked(w);
	w->in.rules.frozen = true;
	w->in.rules.frozen_reason = "incident 42";
}

ROWS_FN void s_frozen_rollback_allowed(world *w)
{
	s_frozen(w);
	w->gates[w->ngates++] = (sluice_rollout_gate){
		.has_max_tool_error_rate = true, .max_tool_error_rate = 0.05, .min_samples = 20,
		.rollback_on_breach = true};
	w->tel[w->ntel++] = (sluice_rollout_telemetry){PLUGIN, "0.1.0", 0, 40, 5, 0, 0, 0, 0};
}

ROWS_FN void s_window(world *w)
{
	w->freeze[w->nfreeze++] = (sluice_rollout_freeze){
		T("2026-12-20T00:00:00Z"), T("2027-01-04T00:00:00Z"), "year-end freeze"};
}

ROWS_FN void s_in_window(world *w)
{
	s_window(w);
	in_stage(&w->rel[0], 0, "2026-12-10T09:00:00Z");
	w->in.now = T("2026-12-22T09:00:00Z");
}

ROWS_FN void s_soak_ends_in_window(world *w)
{
	s_window(w);
	in_stage(&w->rel[0], 1, "2026-12-07T09:00:00Z");
	w->in.now = T("2026-12-10T09:00:00Z");
}

ROWS_FN void s_chained_windows(world *w)
{
	s_in_window(w);
	w->freeze[w->nfreeze++] = (sluice_rollout_freeze){
		T("2027-01-04T00:00:00Z"), T("2027-01-06T00:00:00Z"), "stocktake"};
}

ROWS_FN void s_soak_counts_in_window(world *w)
{
	s_in_window(w);
	w->in.now = T("2027-01-04T09:00:00Z");
}

ROWS_FN void s_highest_wins(world *w)
{
	add_rel(w, "0.1.2", C012, 12);
	add_rel(w, "0.1.1", C011, 11);
	approve(w, "admin-ana", "0.1.2", C012, "devex-dogfood", "2026-11-02T08:00:00Z");
}

ROWS_FN void s_not_newer_than_stable(world *w)
{
	in_stage(&w->rel[0], 2, "2026-11-23T09:00:00Z");
	add_rel(w, "0.0.9", C009, 9);
	w->in.now = T("2026-11-24T09:00:00Z");
}

ROWS_FN void s_queue(world *w)
{
	s_pilot(w);
	add_rel(w, "0.1.1", C011, 11);
	approve(w, "admin-ana", "0.1.1", C011, "devex-dogfood", "2026-11-10T08:00:00Z");
}

ROWS_FN void s_queue_newest_only(world *w)
{
	s_queue(w);
	add_rel(w, "0.1.2", C012, 12);
}

ROWS_FN void s_supersede(world *w)
{
	s_queue(w);
	w->in.rules.supersede = true;
}

ROWS_FN void s_queue_then_next(world *w)
{
	s_general_approved(w);
	add_rel(w, "0.1.1", C011, 11);
	approve(w, "admin-ana", "0.1.1", C011, "devex-dogfood", "2026-11-22T08:00:00Z");
}

ROWS_FN void s_rolled_back(world *w)
{
	in_stage(&w->rel[0], 2, "2026-11-23T09:00:00Z");
	add_rel(w, "0.1.1", C011, 11);
	in_stage(&w->rel[1], 0, "2026-11-24T09:00:00Z");
	w->rel[1].state = SLUICE_RELEASE_ROLLED_BACK;
	approve(w, "admin-ana", "0.1.1", C011, "devex-dogfood", "2026-11-24T08:00:00Z");
	w->in.now = T("2026-12-24T09:00:00Z");
}

ROWS_FN void gate_errors(world *w, bool rollback)
{
	w->gates[w->ngates++] = (sluice_rollout_gate){
		.stage = "*", .has_max_tool_error_rate = true, .max_tool_error_rate = 0.05,
		.min_samples = 50, .rollback_on_breach = rollback};
}

ROWS_FN void s_gate_waiting(world *w)
{
	s_soaked(w);
	gate_errors(w, false);
	w->tel[w->ntel++] = (sluice_rollout_telemetry){PLUGIN, "0.1.0", 0, 12, 0, 0, 0, 0, 0};
}

ROWS_FN void s_gate_no_telemetry(world *w)
{
	s_soaked(w);
	gate_errors(w, false);
}

ROWS_FN void s_gate_pass(world *w)
{
	s_soaked(w);
	gate_errors(w, false);
	w->tel[w->ntel++] = (sluice_rollout_telemetry){PLUGIN, "0.1.0", 0, 100, 5, 0, 0, 0, 0};
}

ROWS_FN void s_gate_breach_pause(world *w)
{
	s_soaking(w);
	gate_errors(w, false);
	w->tel[w->ntel++] = (sluice_rollout_telemetry){PLUGIN, "0.1.0", 0, 80, 6, 0, 0, 0, 0};
}

ROWS_FN void s_gate_breach_rollback(world *w)
{
	w->rel[0].rank = 9;
	w->rel[0].version = "0.0.9";
	w->rel[0].tag = "v0.0.9";
	w->rel[0].commit = C009;
	in_stage(&w->rel[0], 2, "2026-10-01T09:00:00Z");
	add_rel(w, "0.1.0", C010, 10);
	in_stage(&w->rel[1], 0, "2026-11-02T09:00:00Z");
	w->in.now = T("2026-11-05T09:00:00Z");
	gate_errors(w, true);
	w->gates[0].has_max_refusal_rate = true;
	w->gates[0].max_refusal_rate = 0.10;
	w->tel[w->ntel++] = (sluice_rollout_telemetry){PLUGIN, "0.1.0", 0, 200, 2, 30, 0, 0, 0};
}

ROWS_FN void s_gate_breach_rollback_none(world *w)
{
	s_soaking(w);
	gate_errors(w, true);
	w->gates[0].has_max_escalation_rate = true;
	w->gates[0].max_escalation_rate = 0.02;
	w->tel[w->ntel++] = (sluice_rollout_telemetry){PLUGIN, "0.1.0", 0, 50, 0, 0, 3, 0, 0};
}

/* the p95, relative and max_wait_days gates (docs/telemetry.md) */
ROWS_FN void s_p95_breach(world *w)
{
	s_soaking(w);
	w->gates[w->ngates++] = (sluice_rollout_gate){
		.stage = "*", .has_max_p95_latency_ms = true, .max_p95_latency_ms = 500,
		.min_samples = 50};
	w->tel[w->ntel++] = (sluice_rollout_telemetry){
		.plugin = PLUGIN, .version = "0.1.0", .stage_index = 0, .calls = 60,
		.latency_samples = 60, .p95_latency_ms = 800};
}

ROWS_FN void s_p95_waiting(world *w)
{
	s_p95_breach(w);
	w->in.now = T("2026-11-09T09:00:00Z");
	w->tel[0].latency_samples = 10;
}

/* 0.0.9 is stable; 0.1.0 soaked its first stage; 20% errors */
ROWS_FN void s_relative(world *w, int64_t stable_calls, int64_t stable_errors)
{
	w->rel[0].rank = 9;
	w->rel[0].version = "0.0.9";
	w->rel[0].tag = "v0.0.9";
	w->rel[0].commit = C009;
	in_stage(&w->rel[0], 2, "2026-10-01T09:00:00Z");
	add_rel(w, "0.1.0", C010, 10);
	in_stage(&w->rel[1], 0, "2026-11-02T09:00:00Z");
	w->in.now = T("2026-11-09T09:00:00Z");
	w->gates[w->ngates++] = (sluice_rollout_gate){
		.stage = "*", .has_max_tool_error_rate = true, .max_tool_error_rate = 0.5,
		.has_max_error_rate_increase = true, .max_error_rate_increase = 0.02,
		.min_samples = 50};
	w->tel[w->ntel++] = (sluice_rollout_telemetry){
		.plugin = PLUGIN, .version = "0.1.0", .stage_index = 0, .calls = 100,
		.errors = 20, .stable_version = "0.0.9", .stable_calls = stable_calls,
		.stable_errors = stable_errors};
}

ROWS_FN void s_relative_equal(world *w)
{
	s_relative(w, 200, 40);
}

ROWS_FN void s_relative_breach(world *w)
{
	s_relative(w, 200, 20);
}

ROWS_FN void s_relative_stable_waiting(world *w)
{
	s_relative(w, 10, 2);
}

ROWS_FN void s_wait_flagged(world *w)
{
	s_gate_waiting(w);
	w->gates[0].max_wait_days = 5;
}

ROWS_FN void s_wait_flagged_once(world *w)
{
	s_wait_flagged(w);
	w->rel[0].gate_wait_notice_at = T("2026-11-08T09:00:00Z");
}

ROWS_FN void s_wait_not_yet(world *w)
{
	s_wait_flagged(w);
	w->gates[0].max_wait_days = 10;
}

ROWS_FN void s_feedback_waiting(world *w)
{
	s_soaked(w);
	w->gates[w->ngates++] = (sluice_rollout_gate){
		.has_min_positive_feedback_ratio = true, .min_positive_feedback_ratio = 0.7,
		.min_samples = 50, .min_feedback_samples = 10};
	w->tel[w->ntel++] = (sluice_rollout_telemetry){PLUGIN, "0.1.0", 0, 100, 0, 0, 0, 3, 4};
}

ROWS_FN void s_feedback_breach(world *w)
{
	s_feedback_waiting(w);
	w->tel[0].feedback_positive = 4;
	w->tel[0].feedback_total = 10;
}

ROWS_FN void s_gate_other_stage(world *w)
{
	s_soaked(w);
	gate_errors(w, false);
	w->gates[0].stage = "backend-pilot";
}

ROWS_FN void s_gate_other_stage_counts(world *w)
{
	s_soaked(w);
	gate_errors(w, false);
	w->tel[w->ntel++] = (sluice_rollout_telemetry){PLUGIN, "0.1.0", 1, 500, 0, 0, 0, 0, 0};
}

static const char *const required_items[] = {"contract-tests", "security-review"};
static const char *const done_items[] = {"contract-tests"};

ROWS_FN void s_checklist(world *w)
{
	s_admin_approved(w);
	w->in.rules.checklist_required = required_items;
	w->in.rules.nchecklist_required = 2;
	w->rel[0].checklist_done = done_items;
	w->rel[0].nchecklist_done = 1;
}

ROWS_FN void s_secret(world *w)
{
	s_admin_approved(w);
	w->rel[0].secret_problem =
		"secret codex/backend-pr-reviewer/service-token not found in enterprise-secrets";
}

ROWS_FN void s_tag_moved(world *w)
{
	s_soaking(w);
	w->rel[0].tag_moved = true;
	w->rel[0].moved_to_commit = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";
}

ROWS_FN void s_tag_moved_frozen(world *w)
{
	s_tag_moved(w);
	w->rel[0].state = SLUICE_RELEASE_FROZEN;
}

ROWS_FN void s_refused(world *w)
{
	in_stage(&w->rel[0], 2, "2026-11-01T09:00:00Z");
	add_rel(w, "0.1.1", C011, 11);
	w->rel[1].refused = true;
	w->rel[1].refused_reason = "permissions.repository.write exceeds the workspace maximum";
}

ROWS_FN void s_review_overdue(world *w)
{
	in_stage(&w->rel[0], 2, "2026-08-01T09:00:00Z");
	w->plugin.review_every_days = 90;
	w->plugin.last_reviewed_at = T("2026-08-01T09:00:00Z");
}

ROWS_FN void s_review_noticed(world *w)
{
	s_review_overdue(w);
	w->plugin.review_notice_at = T("2026-10-31T09:00:00Z");
}

ROWS_FN void s_sunset_ahead(world *w)
{
	in_stage(&w->rel[0], 2, "2026-08-01T09:00:00Z");
	w->plugin.deprecated_at = T("2026-10-01T00:00:00Z");
	w->plugin.sunset_at = T("2026-11-15T00:00:00Z");
}

ROWS_FN void s_sunset_far(world *w)
{
	s_sunset_ahead(w);
	w->plugin.sunset_at = T("2026-11-17T00:00:00Z");
}

ROWS_FN void s_sunset_noticed(world *w)
{
	s_sunset_ahead(w);
	w->plugin.sunset_notice_at = T("2026-11-01T00:00:00Z");
}

ROWS_FN void s_sunset_passed(world *w)
{
	s_sunset_noticed(w);
	w->in.now = T("2026-11-15T00:00:00Z");
}

ROWS_FN void s_withdrawn(world *w)
{
	s_sunset_passed(w);
	w->plugin.withdrawn = true;
}

/* Lifecycle from the release users have (docs/concepts.md, Lifecycle):
 * 0.1.0 is stable without a lifecycle; a newer 0.1.1 carries a sunset
 * that passed on 2026-11-01 (and a deprecation before it). */
ROWS_FN sluice_rollout_release *sunset_011(world *w)
{
	in_stage(&w->rel[0], 2, "2026-08-01T09:00:00Z");
	sluice_rollout_release *r = add_rel(w, "0.1.1", C011, 11);
	r->deprecated_at = T("2026-10-01T00:00:00Z");
	r->sunset_at = T("2026-11-01T00:00:00Z");
	return r;
}

ROWS_FN void s_sunset_pending(world *w) { sunset_011(w); }

ROWS_FN void s_sunset_refused(world *w)
{
	sluice_rollout_release *r = sunset_011(w);
	r->refused = true;
	r->refused_reason = "plugin.yaml: lifecycle set by an unreviewed tag";
}

ROWS_FN void s_sunset_in_flight(world *w)
{
	in_stage(sunset_011(w), 0, "2026-11-01T09:00:00Z");
}

ROWS_FN void s_sunset_stable(world *w)
{
	in_stage(sunset_011(w), 2, "2026-11-01T09:00:00Z");
}

/* no stable release yet: the one in flight is what users have */
ROWS_FN void s_sunset_first_in_flight(world *w)
{
	in_stage(&w->rel[0], 0, "2026-10-20T09:00:00Z");
	w->rel[0].sunset_at = T("2026-11-01T00:00:00Z");
}

/* the sunset withdrew it once and an operator restored it */
ROWS_FN void s_sunset_restored(world *w)
{
	s_sunset_stable(w);
	w->plugin.sunset_withdrawn_for = T("2026-11-01T00:00:00Z");
}

/* restored after an earlier sunset; the stable release now sets a new one */
ROWS_FN void s_sunset_new_date(world *w)
{
	s_sunset_stable(w);
	w->plugin.sunset_withdrawn_for = T("2026-06-01T00:00:00Z");
}

static const char *const g_a[] = {"platform-devex"};
static const char *const g_b[] = {"backend-engineers"};
static const sluice_rollout_stage quick_stages[] = {
	{"dogfood", g_a, 1, 0, false},
	{"everyone", g_b, 1, 0, false},
};

ROWS_FN void s_no_soak_chain(world *w)
{
	w->rel[0].stages = quick_stages;
	w->rel[0].nstages = 2;
	w->rel[0].require_admin_approval = false;
}

ROWS_FN void s_no_soak_gate_holds(world *w)
{
	s_no_soak_chain(w);
	gate_errors(w, false);
}

/* ---- the table -------------------------------------------------------------- */

static const row rows[] = {
	{"3.3 require_admin_approval gates the first stage", s_new_release, "",
	 "[approval] 0.1.0 devex-dogfood: needs 1 approval (approvers: admin-ana, admin-ben)\n"},
	{"3.2 first stage starts once approved; its soak holds the next", s_admin_approved,
	 "start_stage 0.1.0 devex-dogfood: new release 0.1.0 (v0.1.0, commit a1b2c3d); "
	 "approved by admin-ana\n",
	 "[soak] 0.1.0 backend-pilot: soak ends 2026-11-09 (opens 2026-11-09)\n"},
	{"3.2 without require_admin_approval the first stage starts at once",
	 s_no_admin_approval,
	 "start_stage 0.1.0 devex-dogfood: new release 0.1.0 (v0.1.0, commit a1b2c3d)\n",
	 "[soak] 0.1.0 backend-pilot: soak ends 2026-11-09 (opens 2026-11-09)\n"},
	{"3.2 soak counts from the stage start", s_soaking, "",
	 "[soak] 0.1.0 backend-pilot: soak ends 2026-11-09 (opens 2026-11-09)\n"},
	{"3.2 soaked stage: next stage starts (cumulative)", s_soaked,
	 "start_stage 0.1.0 backend-pilot: devex-dogfood soaked 7 days\n",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2026-11-23 (opens 2026-11-23)\n"},
	{"3.2 paused time does not count toward soak", s_paused_time_excluded, "",
	 "[soak] 0.1.0 backend-pilot: soak ends 2026-11-11 (opens 2026-11-11)\n"},
	{"3.4 a paused rollout starts nothing", s_paused, "",
	 "[policy] 0.1.0 backend-pilot: paused; soak is stopped until an operator runs "
	 "'sluice resume backend-pr-reviewer'\n"},
	{"3.2 requires_approval and soak both hold the last stage", s_pilot, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2026-11-23 (opens 2026-11-23)\n"},
	{"3.2 starting the last stage completes the release", s_general_approved,
	 "start_stage 0.1.0 backend-general: backend-pilot soaked 14 days; approved by "
	 "admin-ben\n"
	 "complete 0.1.0 backend-general: last stage backend-general started: 0.1.0 is the "
	 "stable version\n",
	 ""},
	{"3.3 an approval for another version does not count", s_wrong_version, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"},
	{"3.3 an approval for another commit does not count", s_wrong_commit, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"},
	{"3.3 an approval for another stage does not count", s_wrong_stage, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"},
	{"3.1 voided approvals (accepted tag move) do not count", s_voided, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"},
	{"3.3 an admin without the approver role does not count", s_not_an_approver, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"},
	{"3.3 prevent_self_approval: the tagger's approval does not count", s_self_approval, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ben; admin-ana's "
	 "approval does not count: admin-ana tagged this release)\n"},
	{"3.3 prevent_self_approval: the tagger is not listed as approver", s_self_not_approved,
	 "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ben; admin-ana "
	 "tagged this release and cannot approve it)\n"},
	{"3.3 prevent_self_approval: a lightweight tag's committer may not approve",
	 s_self_committer, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana; admin-ben's "
	 "approval does not count: admin-ben tagged this release)\n"},
	{"3.3 without prevent_self_approval the tagger may approve", s_self_allowed,
	 "start_stage 0.1.0 backend-general: backend-pilot soaked 14 days; approved by "
	 "admin-ana\n"
	 "complete 0.1.0 backend-general: last stage backend-general started: 0.1.0 is the "
	 "stable version\n",
	 ""},
	{"3.3 min_approvals counts approvers", s_two_needed, "",
	 "[approval] 0.1.0 backend-general: needs 1 more approval (1 of 2; approvers: "
	 "admin-ana)\n"},
	{"3.3 the same approver twice counts once", s_two_same_approver, "",
	 "[approval] 0.1.0 backend-general: needs 1 more approval (1 of 2; approvers: "
	 "admin-ana)\n"},
	{"3.3 distinct approvers reach min_approvals", s_two_distinct,
	 "start_stage 0.1.0 backend-general: backend-pilot soaked 14 days; approved by "
	 "admin-ana, admin-ben\n"
	 "complete 0.1.0 backend-general: last stage backend-general started: 0.1.0 is the "
	 "stable version\n",
	 ""},
	{"1.1 min_approvals by risk class", s_high_risk, "",
	 "[approval] 0.1.0 backend-general: needs 1 more approval (1 of 2; approvers: "
	 "admin-ana)\n"},
	{"1.1 a risk below 0 counts as low, not high", s_negative_risk,
	 "start_stage 0.1.0 backend-general: backend-pilot soaked 14 days; approved by "
	 "admin-ben\n"
	 "complete 0.1.0 backend-general: last stage backend-general started: 0.1.0 is the "
	 "stable version\n",
	 ""},
	{"3.3 approval_ttl_days: an old approval has expired", s_expired, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben; "
	 "admin-ana's approval expired 2026-11-21)\n"},
	{"3.3 approval_ttl_days counts to when the stage would start", s_expires_before_start,
	 "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben; "
	 "admin-ana's approval expires 2026-11-21, before the stage can start)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2026-11-23 (opens 2026-11-23)\n"},
	{"3.3 approval_ttl_days 0: approvals do not expire", s_no_ttl,
	 "start_stage 0.1.0 backend-general: backend-pilot soaked 14 days; approved by "
	 "admin-ana\n"
	 "complete 0.1.0 backend-general: last stage backend-general started: 0.1.0 is the "
	 "stable version\n",
	 ""},
	{"3.3 a rejected release stops for good", s_rejected, "", ""},
	{"3.3 a newer release goes on after a rejected one", s_after_rejected,
	 "start_stage 0.1.1 devex-dogfood: new release 0.1.1 (v0.1.1, commit b2c3d4e); "
	 "approved by admin-ana\n",
	 "[soak] 0.1.1 backend-pilot: soak ends 2026-11-30 (opens 2026-11-30)\n"},
	{"3.4 freeze: no stage starts", s_frozen, "",
	 "[freeze] 0.1.0 backend-pilot: workspace frozen by an operator (incident 42) until "
	 "'sluice unfreeze'\n"},
	{"3.4 freeze: a gate breach still rolls back", s_frozen_rollback_allowed,
	 "rollback 0.1.0 devex-dogfood: tool error rate 12.5% (5 of 40 calls) in devex-dogfood "
	 "is above the gate's 5.0%; rolling back: no earlier release, the plugin is removed\n",
	 ""},
	{"3.4 a freeze window holds a stage until it ends", s_in_window, "",
	 "[freeze] 0.1.0 backend-pilot: freeze window (year-end freeze) until 2027-01-04 "
	 "(opens 2027-01-04)\n"},
	{"3.4 a soak ending inside a freeze window opens after it", s_soak_ends_in_window, "",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2026-12-21 (opens 2026-12-21)\n"
	 "[freeze] 0.1.0 backend-general: freeze window (year-end freeze) until 2027-01-04 "
	 "(opens 2027-01-04)\n"},
	{"3.4 back-to-back freeze windows join", s_chained_windows, "",
	 "[freeze] 0.1.0 backend-pilot: freeze window (year-end freeze) until 2027-01-06 "
	 "(opens 2027-01-06)\n"},
	{"3.4 soak keeps counting during a freeze", s_soak_counts_in_window,
	 "start_stage 0.1.0 backend-pilot: devex-dogfood soaked 7 days\n",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2027-01-18 (opens 2027-01-18)\n"},
	{"3.1 the highest new release wins, lower ones are skipped", s_highest_wins,
	 "skip_release 0.1.0 -: a higher new release, 0.1.2, goes out instead\n"
	 "skip_release 0.1.1 -: a higher new release, 0.1.2, goes out instead\n"
	 "start_stage 0.1.2 devex-dogfood: new release 0.1.2 (v0.1.2, commit c3d4e5f); "
	 "approved by admin-ana\n",
	 "[soak] 0.1.2 backend-pilot: soak ends 2026-11-09 (opens 2026-11-09)\n"},
	{"3.1 a release not newer than the stable one is skipped", s_not_newer_than_stable,
	 "skip_release 0.0.9 -: 0.0.9 is not newer than the stable release 0.1.0\n", ""},
	{"3.4 queue: the newer release waits for the current one", s_queue, "",
	 "[policy] 0.1.1 devex-dogfood: queued until 0.1.0 finishes (on_new_release: queue)\n"
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2026-11-23 (opens 2026-11-23)\n"},
	{"3.4 queue: only the newest waiting release is queued", s_queue_newest_only,
	 "skip_release 0.1.1 -: a higher new release, 0.1.2, goes out instead\n",
	 "[policy] 0.1.2 devex-dogfood: queued until 0.1.0 finishes (on_new_release: queue)\n"
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2026-11-23 (opens 2026-11-23)\n"},
	{"3.4 supersede: the current one stops, the newer starts at stage 1", s_supersede,
	 "supersede 0.1.0 backend-pilot: newer release 0.1.1 supersedes it (on_new_release: "
	 "supersede)\n"
	 "start_stage 0.1.1 devex-dogfood: new release 0.1.1 (v0.1.1, commit b2c3d4e); "
	 "approved by admin-ana\n",
	 "[soak] 0.1.1 backend-pilot: soak ends 2026-11-17 (opens 2026-11-17)\n"},
	{"3.4 queue: the queued release starts when the current one completes",
	 s_queue_then_next,
	 "start_stage 0.1.0 backend-general: backend-pilot soaked 14 days; approved by "
	 "admin-ben\n"
	 "complete 0.1.0 backend-general: last stage backend-general started: 0.1.0 is the "
	 "stable version\n"
	 "start_stage 0.1.1 devex-dogfood: new release 0.1.1 (v0.1.1, commit b2c3d4e); "
	 "approved by admin-ana\n",
	 "[soak] 0.1.1 backend-pilot: soak ends 2026-11-30 (opens 2026-11-30)\n"},
	{"3.4 a rolled-back release is never applied again", s_rolled_back, "", ""},
	{"3.5 too few samples: waiting for data", s_gate_waiting, "",
	 "[gate] 0.1.0 backend-pilot: waiting for data: 12 of 50 tool calls since devex-dogfood "
	 "started\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.0000/0.0500 12/50 waiting\n"},
	{"3.5 no telemetry at all: waiting for data", s_gate_no_telemetry, "",
	 "[gate] 0.1.0 backend-pilot: waiting for data: 0 of 50 tool calls since devex-dogfood "
	 "started\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.0000/0.0500 0/50 waiting\n"},
	{"3.5 gates pass: the next stage starts", s_gate_pass,
	 "start_stage 0.1.0 backend-pilot: devex-dogfood soaked 7 days; health gates pass\n",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2026-11-23 (opens 2026-11-23)\n"
	 "[gate] 0.1.0 backend-general: waiting for data: 0 of 50 tool calls since "
	 "backend-pilot started\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.0500/0.0500 100/50 pass\n"
	 "0.1.0 backend-pilot tool_error_rate 0.0000/0.0500 0/50 waiting\n"},
	{"3.5 a breach pauses at once, during soak", s_gate_breach_pause,
	 "pause 0.1.0 devex-dogfood: tool error rate 7.5% (6 of 80 calls) in devex-dogfood is "
	 "above the gate's 5.0%; pausing\n",
	 "[policy] 0.1.0 backend-pilot: paused; soak is stopped until an operator runs "
	 "'sluice resume backend-pr-reviewer'\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.0750/0.0500 80/50 breach\n"},
	{"3.5 a breach rolls back to the previous stable release", s_gate_breach_rollback,
	 "rollback 0.1.0 devex-dogfood: refusal rate 15.0% (30 of 200 calls) in devex-dogfood "
	 "is above the gate's 10.0%; rolling back to 0.0.9\n",
	 "",
	 "0.1.0 devex-dogfood tool_error_rate 0.0100/0.0500 200/50 pass\n"
	 "0.1.0 devex-dogfood refusal_rate 0.1500/0.1000 200/50 breach\n"},
	{"3.5 a breach without an earlier release removes the plugin",
	 s_gate_breach_rollback_none,
	 "rollback 0.1.0 devex-dogfood: escalation rate 6.0% (3 of 50 calls) in devex-dogfood "
	 "is above the gate's 2.0%; rolling back: no earlier release, the plugin is removed\n",
	 "",
	 "0.1.0 devex-dogfood tool_error_rate 0.0000/0.0500 50/50 pass\n"
	 "0.1.0 devex-dogfood escalation_rate 0.0600/0.0200 50/50 breach\n"},
	{"3.5 p95 latency above the gate pauses", s_p95_breach,
	 "pause 0.1.0 devex-dogfood: p95 latency 800 ms (60 calls) in devex-dogfood is above the gate's 500 ms; pausing\n",
	 "[policy] 0.1.0 backend-pilot: paused; soak is stopped until an operator runs 'sluice resume backend-pr-reviewer'\n",
	 "0.1.0 devex-dogfood p95_latency_ms 800.0000/500.0000 60/50 breach\n"},
	{"3.5 too few calls with a latency: waiting for data", s_p95_waiting,
	 "",
	 "[gate] 0.1.0 backend-pilot: waiting for data: 10 of 50 tool calls with a latency since devex-dogfood started\n",
	 "0.1.0 devex-dogfood p95_latency_ms 800.0000/500.0000 10/50 waiting\n"},
	{"3.5 relative gate: equal to the stable release's rate passes", s_relative_equal,
	 "start_stage 0.1.0 backend-pilot: devex-dogfood soaked 7 days; health gates pass\n",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2026-11-23 (opens 2026-11-23)\n"
	 "[gate] 0.1.0 backend-general: waiting for data: 0 of 50 tool calls since backend-pilot started\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.2000/0.5000 100/50 pass\n"
	 "0.1.0 devex-dogfood error_rate_increase 0.0000/0.0200 100/50 pass\n"
	 "0.1.0 backend-pilot tool_error_rate 0.0000/0.5000 0/50 waiting\n"},
	{"3.5 relative gate: more than max_error_rate_increase above stable pauses",
	 s_relative_breach,
	 "pause 0.1.0 devex-dogfood: tool error rate 20.0% (20 of 100 calls) in devex-dogfood is 10.0 points above the stable release 0.0.9's 10.0% (20 of 200 calls) over the same days; the gate allows 2.0; pausing\n",
	 "[policy] 0.1.0 backend-pilot: paused; soak is stopped until an operator runs 'sluice resume backend-pr-reviewer'\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.2000/0.5000 100/50 pass\n"
	 "0.1.0 devex-dogfood error_rate_increase 0.1000/0.0200 100/50 breach\n"},
	{"3.5 relative gate: too few stable calls waits", s_relative_stable_waiting,
	 "",
	 "[gate] 0.1.0 backend-pilot: waiting for data: 10 of 50 tool calls of the stable release 0.0.9 over the same days\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.2000/0.5000 100/50 pass\n"
	 "0.1.0 devex-dogfood error_rate_increase 0.0000/0.0200 10/50 waiting\n"},
	{"3.5 waiting past max_wait_days is flagged once, still held", s_wait_flagged,
	 "notice 0.1.0 devex-dogfood: waiting for data: 12 of 50 tool calls since devex-dogfood started: still waiting after 5 days (max_wait_days); the next stage stays held until the data comes or an operator promotes it\n",
	 "[gate] 0.1.0 backend-pilot: waiting for data: 12 of 50 tool calls since devex-dogfood started\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.0000/0.0500 12/50 waiting\n"},
	{"3.5 the waiting flag goes out once per stage", s_wait_flagged_once,
	 "",
	 "[gate] 0.1.0 backend-pilot: waiting for data: 12 of 50 tool calls since devex-dogfood started\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.0000/0.0500 12/50 waiting\n"},
	{"3.5 waiting within max_wait_days is not flagged", s_wait_not_yet,
	 "",
	 "[gate] 0.1.0 backend-pilot: waiting for data: 12 of 50 tool calls since devex-dogfood started\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.0000/0.0500 12/50 waiting\n"},
	{"3.5 too few feedback ratings: waiting for data", s_feedback_waiting, "",
	 "[gate] 0.1.0 backend-pilot: waiting for data: 4 of 10 feedback ratings since "
	 "devex-dogfood started\n",
	 "0.1.0 devex-dogfood positive_feedback_ratio 0.7500/0.7000 4/10 waiting\n"},
	{"3.5 low positive feedback is a breach", s_feedback_breach,
	 "pause 0.1.0 devex-dogfood: positive feedback 40.0% (4 of 10 ratings) in "
	 "devex-dogfood is below the gate's 70.0%; pausing\n",
	 "[policy] 0.1.0 backend-pilot: paused; soak is stopped until an operator runs "
	 "'sluice resume backend-pr-reviewer'\n",
	 "0.1.0 devex-dogfood positive_feedback_ratio 0.4000/0.7000 10/10 breach\n"},
	{"3.5 a gate for another stage does not apply", s_gate_other_stage,
	 "start_stage 0.1.0 backend-pilot: devex-dogfood soaked 7 days\n",
	 "[approval] 0.1.0 backend-general: needs 1 approval (approvers: admin-ana, admin-ben)\n"
	 "[soak] 0.1.0 backend-general: soak ends 2026-11-23 (opens 2026-11-23)\n"
	 "[gate] 0.1.0 backend-general: waiting for data: 0 of 50 tool calls since "
	 "backend-pilot started\n",
	 "0.1.0 backend-pilot tool_error_rate 0.0000/0.0500 0/50 waiting\n"},
	{"3.5 telemetry of another stage does not count", s_gate_other_stage_counts, "",
	 "[gate] 0.1.0 backend-pilot: waiting for data: 0 of 50 tool calls since devex-dogfood "
	 "started\n",
	 "0.1.0 devex-dogfood tool_error_rate 0.0000/0.0500 0/50 waiting\n"},
	{"3.6 checklist items are needed before stage 1", s_checklist, "",
	 "[checklist] 0.1.0 devex-dogfood: checklist items not done: security-review (see "
	 "'sluice checklist backend-pr-reviewer@0.1.0')\n"},
	{"4 a failing secret binding holds the stage", s_secret, "",
	 "[secret] 0.1.0 devex-dogfood: secret codex/backend-pr-reviewer/service-token not "
	 "found in enterprise-secrets\n"},
	{"3.1 a moved tag freezes the release", s_tag_moved,
	 "freeze_release 0.1.0 devex-dogfood: tag v0.1.0 moved from a1b2c3d to 9f8e7d6; "
	 "frozen until an operator accepts the move\n",
	 "[tag_moved] 0.1.0 backend-pilot: tag v0.1.0 moved from a1b2c3d to 9f8e7d6; nothing "
	 "happens until an operator runs 'sluice accept-tag-move backend-pr-reviewer@0.1.0'\n"},
	{"3.1 a frozen release does nothing", s_tag_moved_frozen, "",
	 "[tag_moved] 0.1.0 backend-pilot: tag v0.1.0 moved from a1b2c3d to 9f8e7d6; nothing "
	 "happens until an operator runs 'sluice accept-tag-move backend-pr-reviewer@0.1.0'\n"},
	{"1.1 a refused release never starts", s_refused, "",
	 "[policy] 0.1.1 devex-dogfood: release 0.1.1 refused: permissions.repository.write "
	 "exceeds the workspace maximum\n"},
	{"3.7 review overdue: one notice", s_review_overdue,
	 "notice - -: review overdue since 2026-10-30 (due every 90 days)\n", ""},
	{"3.7 review notice already sent", s_review_noticed, "", ""},
	{"3.7 sunset ahead: notice beforehand", s_sunset_ahead,
	 "notice - -: deprecated since 2026-10-01; sunset on 2026-11-15: it will be withdrawn "
	 "from every group\n",
	 ""},
	{"3.7 sunset further than the notice period: nothing yet", s_sunset_far, "", ""},
	{"3.7 sunset notice already sent", s_sunset_noticed, "", ""},
	{"3.7 sunset passed: withdrawn", s_sunset_passed,
	 "withdraw - -: sunset date 2026-11-15 reached: withdrawn from every group\n", ""},
	{"3.7 a pending newer release's sunset withdraws nothing", s_sunset_pending, "",
	 "[approval] 0.1.1 devex-dogfood: needs 1 approval (approvers: admin-ana, admin-ben)\n"},
	{"3.7 a refused newer release's sunset withdraws nothing", s_sunset_refused, "",
	 "[policy] 0.1.1 devex-dogfood: release 0.1.1 refused: plugin.yaml: lifecycle set by "
	 "an unreviewed tag\n"},
	{"3.7 a newer release in flight: the stable one's lifecycle counts", s_sunset_in_flight,
	 "", "[soak] 0.1.1 backend-pilot: soak ends 2026-11-08 (opens 2026-11-08)\n"},
	{"3.7 the newer release is stable: its sunset withdraws", s_sunset_stable,
	 "withdraw - -: sunset date 2026-11-01 reached: withdrawn from every group\n", ""},
	{"3.7 no stable release: the one in flight counts", s_sunset_first_in_flight,
	 "withdraw - -: sunset date 2026-11-01 reached: withdrawn from every group\n", ""},
	{"3.7 restored after its sunset: not withdrawn again", s_sunset_restored,
	 "", ""},
	{"3.7 a new sunset date after a restore withdraws once more", s_sunset_new_date,
	 "withdraw - -: sunset date 2026-11-01 reached: withdrawn from every group\n", ""},
	{"3.4 a withdrawn plugin stays out", s_withdrawn, "",
	 "[policy] - -: withdrawn from every group; nothing rolls out until an operator "
	 "restores it\n"},
	{"3.2 stages without soak follow each other in one pass", s_no_soak_chain,
	 "start_stage 0.1.0 dogfood: new release 0.1.0 (v0.1.0, commit a1b2c3d)\n"
	 "start_stage 0.1.0 everyone: dogfood has no soak\n"
	 "complete 0.1.0 everyone: last stage everyone started: 0.1.0 is the stable version\n",
	 ""},
	{"3.5 a stage without soak still waits for gate data", s_no_soak_gate_holds,
	 "start_stage 0.1.0 dogfood: new release 0.1.0 (v0.1.0, commit a1b2c3d)\n",
	 "[gate] 0.1.0 everyone: waiting for data: 0 of 50 tool calls since dogfood started\n",
	 "0.1.0 dogfood tool_error_rate 0.0000/0.0500 0/50 waiting\n"},
};

#endif
