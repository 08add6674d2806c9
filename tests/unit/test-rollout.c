/* Table tests of the rollout planner (docs/concepts.md).
 *
 * Every row of rollout-rows.h plans at `now`, and the whole plan - action
 * kinds, reasons, blocked kinds, messages and opening dates - is compared
 * with what the row expects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/error.h"
#include "sluice/rollout.h"
#include "sluice/util.h"

#include "rollout-rows.h"

static void test_table(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		world w;
		sluice_plan *plan = NULL;
		world_init(&w);
		rows[i].setup(&w);
		world_bind(&w);
		assert_int_equal(sluice_rollout_plan(&plan, &w.in), 0);
		char *acts = render_actions(plan);
		char *blk = render_blocked(plan);
		char *gates = render_gates(plan);
		if (strcmp(acts, rows[i].actions) || strcmp(blk, rows[i].blocked) ||
		    (rows[i].gates && strcmp(gates, rows[i].gates))) {
			failures++;
			fprintf(stderr,
				"row %zu: %s\n-- actions expected:\n%s-- got:\n%s"
				"-- blocked expected:\n%s-- got:\n%s-- gates expected:\n%s-- got:\n%s\n",
				i, rows[i].name, rows[i].actions, acts, rows[i].blocked, blk,
				rows[i].gates ? rows[i].gates : "(not compared)\n", gates);
		}
		free(acts);
		free(blk);
		free(gates);
		sluice_rollout_plan_free(plan);
	}
	assert_int_equal(failures, 0);
}

/* The one-line explanation `plan` prints per blocked stage. */
static void test_explain(void **state)
{
	(void)state;
	world w;
	sluice_plan *plan = NULL;
	world_init(&w);
	in_stage(&w.rel[0], 1, "2026-12-07T09:00:00Z");
	w.in.now = T("2026-12-10T09:00:00Z");
	world_bind(&w);
	assert_int_equal(sluice_rollout_plan(&plan, &w.in), 0);
	char *text = sluice_rollout_explain(plan, PLUGIN);
	assert_string_equal(text, "backend-general: needs 1 approval (approvers: admin-ana, "
				  "admin-ben); soak ends 2026-12-21\n");
	free(text);
	/* approval has no known end, so the stage has none */
	assert_int_equal(sluice_rollout_stage_opens_at(plan, 0), 0);
	text = sluice_rollout_explain(plan, "other-plugin");
	assert_string_equal(text, "");
	free(text);
	sluice_rollout_plan_free(plan);

	/* a stage held only by time opens at the latest of its reasons */
	world_init(&w);
	s_soak_ends_in_window(&w);
	w.in.rules.min_approvals[1] = 1;
	approve(&w, "admin-ana", "0.1.0", C010, "backend-general", "2026-12-09T09:00:00Z");
	world_bind(&w);
	assert_int_equal(sluice_rollout_plan(&plan, &w.in), 0);
	text = sluice_rollout_explain(plan, NULL);
	assert_string_equal(text, "backend-general: soak ends 2026-12-21; freeze window "
				  "(year-end freeze) until 2027-01-04\n");
	free(text);
	assert_int_equal(sluice_rollout_stage_opens_at(plan, 0), T("2027-01-04T00:00:00Z"));
	sluice_rollout_plan_free(plan);
}

/* The actions carry what the store needs to apply them. */
static void test_action_fields(void **state)
{
	(void)state;
	world w;
	sluice_plan *plan = NULL;

	world_init(&w);
	s_supersede(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_plan(&plan, &w.in), 0);
	assert_int_equal(plan->nactions, 2);
	assert_int_equal(plan->actions[0].kind, SLUICE_ACTION_SUPERSEDE);
	assert_string_equal(plan->actions[0].target_version, "0.1.1");
	assert_int_equal(plan->actions[1].kind, SLUICE_ACTION_START_STAGE);
	assert_string_equal(plan->actions[1].plugin, PLUGIN);
	assert_string_equal(plan->actions[1].commit, C011);
	assert_int_equal(plan->actions[1].stage_index, 0);
	assert_int_equal(plan->actions[1].at, w.in.now);
	/* the input is not changed: the plan is only a plan */
	assert_int_equal(w.rel[0].state, SLUICE_RELEASE_IN_PROGRESS);
	assert_int_equal(w.rel[1].state, SLUICE_RELEASE_PENDING);
	sluice_rollout_plan_free(plan);

	world_init(&w);
	s_gate_breach_rollback(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_plan(&plan, &w.in), 0);
	assert_int_equal(plan->nactions, 1);
	assert_string_equal(plan->actions[0].target_version, "0.0.9");
	sluice_rollout_plan_free(plan);

	world_init(&w);
	s_review_overdue(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_plan(&plan, &w.in), 0);
	assert_int_equal(plan->actions[0].notice, SLUICE_NOTICE_REVIEW);
	assert_null(plan->actions[0].version);
	sluice_rollout_plan_free(plan);
}

/* plan --at: a 30-day replay of the reference rollout. */
static void test_simulate(void **state)
{
	(void)state;
	world w;
	sluice_plan *plan = NULL;
	char d[32];

	world_init(&w);
	s_admin_approved(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_simulate(&plan, &w.in, T("2026-12-02T09:00:00Z")), 0);
	char *acts = render_actions(plan);
	assert_string_equal(acts,
			    "start_stage 0.1.0 devex-dogfood: new release 0.1.0 (v0.1.0, commit "
			    "a1b2c3d); approved by admin-ana\n"
			    "start_stage 0.1.0 backend-pilot: devex-dogfood soaked 7 days\n");
	free(acts);
	assert_string_equal(day_of(d, plan->actions[0].at), "2026-11-02");
	assert_string_equal(day_of(d, plan->actions[1].at), "2026-11-09");
	char *text = sluice_rollout_explain(plan, NULL);
	assert_string_equal(text, "backend-general: needs 1 approval (approvers: admin-ana, "
				  "admin-ben)\n");
	free(text);
	sluice_rollout_plan_free(plan);
	/* the input is untouched */
	assert_int_equal(w.rel[0].state, SLUICE_RELEASE_PENDING);

	/* with the last approval given ahead, it completes on day 21, and a
	 * year-end freeze window does not matter yet */
	approve(&w, "admin-ben", "0.1.0", C010, "backend-general", "2026-11-20T09:00:00Z");
	s_window(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_simulate(&plan, &w.in, T("2026-12-02T09:00:00Z")), 0);
	assert_int_equal(plan->nactions, 4);
	assert_int_equal(plan->actions[3].kind, SLUICE_ACTION_COMPLETE);
	assert_string_equal(day_of(d, plan->actions[3].at), "2026-11-23");
	assert_int_equal(plan->nblocked, 0);
	sluice_rollout_plan_free(plan);

	/* started late: the freeze window holds backend-pilot until it ends
	 * (approvals kept valid here; expiry has its own rows) */
	w.in.now = T("2026-12-15T09:00:00Z");
	w.in.rules.approval_ttl_days = 0;
	world_bind(&w);
	assert_int_equal(sluice_rollout_simulate(&plan, &w.in, T("2027-01-10T00:00:00Z")), 0);
	assert_int_equal(plan->nactions, 2);
	assert_string_equal(day_of(d, plan->actions[1].at), "2027-01-04");
	text = sluice_rollout_explain(plan, NULL);
	assert_string_equal(text, "backend-general: soak ends 2027-01-18\n");
	free(text);
	sluice_rollout_plan_free(plan);
}

/* ---- promote ---------------------------------------------------------------- */

static void test_promote(void **state)
{
	(void)state;
	world w;
	sluice_plan *plan = NULL;

	/* skips soak */
	world_init(&w);
	s_soaking(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, "0.1.0", "hotfix for #12"),
			 0);
	char *acts = render_actions(plan);
	assert_string_equal(acts, "start_stage 0.1.0 backend-pilot: promoted by an operator: "
				  "hotfix for #12\n");
	free(acts);
	sluice_rollout_plan_free(plan);

	/* skips gates still waiting for data */
	world_init(&w);
	s_gate_waiting(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, NULL, "enough data"), 0);
	assert_int_equal(plan->nactions, 1);
	assert_int_equal(plan->nblocked, 0);
	sluice_rollout_plan_free(plan);

	/* never approvals */
	world_init(&w);
	s_pilot(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, NULL, "urgent"),
			 SLUICE_EREFUSED);
	assert_null(plan);
	assert_string_equal(sluice_error_last(),
			    "cannot promote backend-pr-reviewer@0.1.0: backend-general: needs 1 "
			    "approval (approvers: admin-ana, admin-ben)");

	/* with the approval it completes the release */
	approve(&w, "admin-ana", "0.1.0", C010, "backend-general", "2026-11-10T08:00:00Z");
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, NULL, "urgent"), 0);
	acts = render_actions(plan);
	assert_string_equal(acts,
			    "start_stage 0.1.0 backend-general: promoted by an operator: urgent; "
			    "approved by admin-ana\n"
			    "complete 0.1.0 backend-general: last stage backend-general started: "
			    "0.1.0 is the stable version\n");
	free(acts);
	sluice_rollout_plan_free(plan);

	/* never while frozen */
	world_init(&w);
	s_frozen(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, NULL, "urgent"),
			 SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "cannot promote backend-pr-reviewer@0.1.0: backend-pilot: workspace "
			    "frozen by an operator (incident 42) until 'sluice unfreeze'");
	world_init(&w);
	s_in_window(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, NULL, "urgent"),
			 SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "cannot promote backend-pr-reviewer@0.1.0: backend-pilot: freeze "
			    "window (year-end freeze) until 2027-01-04");

	/* a reason is required */
	world_init(&w);
	s_soaking(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, NULL, ""), SLUICE_EINVAL);
	assert_string_equal(sluice_error_last(),
			    "promote needs a reason; give one with --reason TEXT");

	/* paused, wrong version, moved tag, nothing to promote, unknown plugin */
	world_init(&w);
	s_paused(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, NULL, "x"), SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "cannot promote backend-pr-reviewer@0.1.0: it is paused; run 'sluice "
			    "resume backend-pr-reviewer' first");
	world_init(&w);
	s_soaking(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, "0.1.1", "x"),
			 SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(), "cannot promote backend-pr-reviewer@0.1.1: the "
						 "release rolling out is 0.1.0");
	world_init(&w);
	s_tag_moved_frozen(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, NULL, "x"), SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "cannot promote backend-pr-reviewer@0.1.0: its tag moved; run 'sluice "
			    "accept-tag-move backend-pr-reviewer@0.1.0' first");
	world_init(&w);
	s_not_newer_than_stable(&w);
	w.nrel = 1;
	world_bind(&w);
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, PLUGIN, NULL, "x"), SLUICE_ENOTFOUND);
	assert_string_equal(sluice_error_last(),
			    "nothing to promote: backend-pr-reviewer has no release rolling out");
	assert_int_equal(sluice_rollout_promote(&plan, &w.in, "nope", NULL, "x"), SLUICE_ENOTFOUND);
	assert_string_equal(sluice_error_last(), "no plugin 'nope' in this workspace");
}

/* ---- stable, rollback target, assignment, resolution ----------------------- */

/* 0.0.9 complete, 0.1.0 complete, 0.1.1 in backend-pilot. */
static void three_releases(world *w)
{
	world_init(w);
	w->rel[0].version = "0.0.9";
	w->rel[0].tag = "v0.0.9";
	w->rel[0].commit = C009;
	w->rel[0].rank = 9;
	in_stage(&w->rel[0], 2, "2026-09-01T09:00:00Z");
	in_stage(add_rel(w, "0.1.0", C010, 10), 2, "2026-10-01T09:00:00Z");
	in_stage(add_rel(w, "0.1.1", C011, 11), 1, "2026-11-01T09:00:00Z");
	world_bind(w);
}

static void test_stable_and_rollback(void **state)
{
	(void)state;
	world w;
	three_releases(&w);
	assert_int_equal(sluice_rollout_stable(&w.plugin), 1);
	assert_int_equal(sluice_rollout_rollback_target(&w.plugin, 2), 1);
	assert_int_equal(sluice_rollout_rollback_target(&w.plugin, 1), 0);
	assert_int_equal(sluice_rollout_rollback_target(&w.plugin, 0), -1);
	/* a rolled-back release is neither stable nor a rollback target */
	w.rel[1].state = SLUICE_RELEASE_ROLLED_BACK;
	assert_int_equal(sluice_rollout_stable(&w.plugin), 0);
	assert_int_equal(sluice_rollout_rollback_target(&w.plugin, 2), 0);
	w.rel[0].state = SLUICE_RELEASE_WITHDRAWN;
	assert_int_equal(sluice_rollout_stable(&w.plugin), -1);
	assert_int_equal(sluice_rollout_rollback_target(&w.plugin, 2), -1);
}

/* Which release's lifecycle counts (sluice_rollout_lifecycle_of): the
 * release users have, never a newer pending, refused or unfinished one;
 * the workspace's own dates come on top. */
static void ws_earlier_sunset(world *w)
{
	s_sunset_stable(w);
	w->plugin.sunset_at = T("2026-10-15T00:00:00Z");
}

static void ws_later_sunset(world *w)
{
	s_sunset_stable(w);
	w->plugin.sunset_at = T("2027-01-01T00:00:00Z");
	w->plugin.review_every_days = 30;
	w->rel[1].review_every_days = 180;
}

static void nothing_reached(world *w)
{
	w->rel[0].sunset_at = T("2026-11-01T00:00:00Z");
}

static void rolled_back_newer(world *w)
{
	s_sunset_stable(w);
	w->rel[1].state = SLUICE_RELEASE_ROLLED_BACK;
}

static void test_lifecycle_of(void **state)
{
	static const struct {
		const char *name;
		void (*setup)(world *w);
		ptrdiff_t release;
		const char *sunset; /* NULL: none */
		int64_t review_every_days;
	} cases[] = {
		{"a pending newer release: the stable one", s_sunset_pending, 0, NULL, 0},
		{"a refused newer release: the stable one", s_sunset_refused, 0, NULL, 0},
		{"a newer release in flight: the stable one", s_sunset_in_flight, 0, NULL, 0},
		{"the newer release completed: its own", s_sunset_stable, 1, "2026-11-01T00:00:00Z", 0},
		{"a rolled-back newer release: the one before", rolled_back_newer, 0, NULL, 0},
		{"no stable release: the one in flight", s_sunset_first_in_flight, 0,
		 "2026-11-01T00:00:00Z", 0},
		{"nothing reached any group: none", nothing_reached, -1, NULL, 0},
		{"the workspace's earlier sunset wins", ws_earlier_sunset, 1, "2026-10-15T00:00:00Z", 0},
		{"the release's earlier sunset wins; the workspace's review interval",
		 ws_later_sunset, 1, "2026-11-01T00:00:00Z", 30},
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		world w;
		sluice_rollout_lifecycle lc;
		world_init(&w);
		cases[i].setup(&w);
		world_bind(&w);
		sluice_rollout_lifecycle_of(&lc, &w.plugin);
		int64_t want = cases[i].sunset ? T(cases[i].sunset) : 0;
		if (lc.release != cases[i].release || lc.sunset_at != want ||
		    lc.review_every_days != cases[i].review_every_days) {
			failures++;
			fprintf(stderr, "lifecycle %zu: %s: release %td sunset %lld review %lld\n", i,
				cases[i].name, lc.release, (long long)lc.sunset_at,
				(long long)lc.review_every_days);
		}
	}
	assert_int_equal(failures, 0);
}

static void test_assigned(void **state)
{
	(void)state;
	world w;
	three_releases(&w);
	/* cumulative: stages 1..2 of 0.1.1 have it, the rest keep stable 0.1.0 */
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "platform-devex"), 2);
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "backend-engineers-pilot"), 2);
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "backend-engineers"), 1);
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "staff-engineers"), -1);

	/* superseded: groups keep it until the newer one reaches them */
	w.rel[2].state = SLUICE_RELEASE_SUPERSEDED;
	in_stage(add_rel(&w, "0.1.2", C012, 12), 0, "2026-11-05T09:00:00Z");
	world_bind(&w);
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "platform-devex"), 3);
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "backend-engineers-pilot"), 2);
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "backend-engineers"), 1);

	/* rolled back: back to the stable release */
	w.rel[3].state = SLUICE_RELEASE_ROLLED_BACK;
	w.rel[2].state = SLUICE_RELEASE_ROLLED_BACK;
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "platform-devex"), 1);

	/* withdrawn plugin: nobody */
	w.plugin.withdrawn = true;
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "backend-engineers"), -1);

	/* a new plugin: groups not reached have nothing */
	world_init(&w);
	in_stage(&w.rel[0], 0, "2026-11-02T09:00:00Z");
	world_bind(&w);
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "platform-devex"), 0);
	assert_int_equal(sluice_rollout_assigned(&w.plugin, "backend-engineers"), -1);
}

static void test_resolve_user(void **state)
{
	(void)state;
	world w;
	sluice_rollout_grant *g = NULL;
	size_t n = 0;
	const char *const groups[] = {"backend-engineers", "platform-devex"};
	const char *const off[] = {PLUGIN};
	sluice_rollout_user u = {"alice", groups, 2, NULL, 0};

	three_releases(&w);
	assert_int_equal(sluice_rollout_resolve_user(&g, &n, &w.plugin, 1, &u), 0);
	assert_int_equal(n, 1);
	assert_string_equal(g[0].plugin, PLUGIN);
	assert_string_equal(g[0].version, "0.1.1"); /* the newest of her groups */
	assert_string_equal(g[0].commit, C011);
	assert_string_equal(g[0].via_group, "platform-devex");
	assert_true(g[0].user_can_disable);
	assert_false(g[0].disabled);
	free(g);

	/* opted out, allowed */
	u.disabled = off;
	u.ndisabled = 1;
	assert_int_equal(sluice_rollout_resolve_user(&g, &n, &w.plugin, 1, &u), 0);
	assert_true(g[0].disabled);
	free(g);

	/* enforced: allow_user_disable false ignores the opt-out */
	w.rel[2].allow_user_disable = false;
	assert_int_equal(sluice_rollout_resolve_user(&g, &n, &w.plugin, 1, &u), 0);
	assert_false(g[0].user_can_disable);
	assert_false(g[0].disabled);
	free(g);

	/* a user in no reached group gets nothing */
	const char *const staff[] = {"staff-engineers"};
	sluice_rollout_user sam = {"sam", staff, 1, NULL, 0};
	assert_int_equal(sluice_rollout_resolve_user(&g, &n, &w.plugin, 1, &sam), 0);
	assert_int_equal(n, 0);
	free(g);
}

static void test_rank(void **state)
{
	(void)state;
	sluice_rollout_release rs[5] = {{.version = "0.10.0"}, {.version = "0.2.0"},
					{.version = "0.2.0-rc.1"}, {.version = "0.2.0+build.7"},
					{.version = "1.0.0"}};
	assert_int_equal(sluice_rollout_rank(rs, 5), 0);
	assert_int_equal(rs[2].rank, 0);
	assert_int_equal(rs[1].rank, 1);
	assert_int_equal(rs[3].rank, 1); /* build metadata does not order */
	assert_int_equal(rs[0].rank, 3);
	assert_int_equal(rs[4].rank, 4);
	rs[1].version = "v0.2.0";
	assert_int_equal(sluice_rollout_rank(rs, 5), SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(),
			       "release version 'v0.2.0' is not a semantic version"));
}

static void test_state_names(void **state)
{
	(void)state;
	sluice_release_state s;
	for (int i = SLUICE_RELEASE_PENDING; i <= SLUICE_RELEASE_SKIPPED; i++) {
		assert_int_equal(sluice_release_state_parse(
					 &s, sluice_release_state_name((sluice_release_state)i)),
				 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(sluice_release_state_name(SLUICE_RELEASE_ROLLED_BACK), "rolled_back");
	assert_int_equal(sluice_release_state_parse(&s, "done"), SLUICE_EINVAL);
	assert_string_equal(sluice_error_last(), "unknown release state 'done'");
	assert_string_equal(sluice_rollout_block_name(SLUICE_BLOCK_TAG_MOVED), "tag_moved");
	assert_string_equal(sluice_rollout_action_name(SLUICE_ACTION_SKIP_RELEASE),
			    "skip_release");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_action_fields),
		cmocka_unit_test(test_simulate),
		cmocka_unit_test(test_promote),
		cmocka_unit_test(test_stable_and_rollback),
		cmocka_unit_test(test_lifecycle_of),
		cmocka_unit_test(test_assigned),
		cmocka_unit_test(test_resolve_user),
		cmocka_unit_test(test_rank),
		cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
