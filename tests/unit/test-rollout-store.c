/* One state machine: every planner table row (rollout-rows.h) is planned,
 * and its plan applied twice - through the planner's transition
 * (sluice_rollout_apply_plugin_action, what `plan --at` simulates with)
 * and through a real SQLite store (sluice_store_apply_actions). The
 * release states, stages, soak and pause fields and the plugin's
 * withdrawal and notices must come out the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/error.h"
#include "sluice/rollout.h"
#include "sluice/store.h"
#include "sluice/util.h"

#include "rollout-rows.h"
#include "store-fixture.h"

/* "0.1.0 complete stage 2 started 1796... paused 0/0" per release, then
 * the plugin's line. */
static char *render_state(const sluice_rollout_plugin *p)
{
	sluice_buf b = SLUICE_BUF_INIT;
	for (size_t i = 0; i < p->nreleases; i++) {
		const sluice_rollout_release *r = &p->releases[i];
		sluice_buf_printf(&b, "%s %s stage %d started %lld paused %lld/%lld gate wait %lld\n",
				  r->version, sluice_release_state_name(r->state), r->stage_index,
				  (long long)r->stage_started_at, (long long)r->paused_at,
				  (long long)r->paused_seconds, (long long)r->gate_wait_notice_at);
	}
	sluice_buf_printf(&b,
			  "plugin withdrawn %d review notice %lld sunset notice %lld"
			  " sunset withdrawn for %lld\n",
			  p->withdrawn, (long long)p->review_notice_at,
			  (long long)p->sunset_notice_at, (long long)p->sunset_withdrawn_for);
	return sluice_buf_detach(&b);
}

static void sql(const char *path, char *text /* taken */)
{
	if (raw_exec(path, text) != SQLITE_OK)
		fail_msg("%s: %s", text, errbuf);
	free(text);
}

/* Puts the row's stored state into workspace `ws` of the store. */
static void seed(fixture *f, const char *ws, const world *w)
{
	for (size_t i = 0; i < w->nrel; i++) {
		const sluice_rollout_release *r = &w->rel[i];
		sluice_release_record rec = {ws, PLUGIN, r->version, r->tag, r->commit,
					     r->tagger_email, NULL, r->seen_at};
		assert_int_equal(sluice_store_release_record(f->s, &rec, NULL, NULL), 0);
		sql(f->path, sluice_xasprintf(
				     "UPDATE releases SET state = '%s', stage_index = nullif(%d, -1),"
				     " stage_started_at = %lld, paused_at = %lld,"
				     " paused_seconds = %lld, gate_wait_notice_at = nullif(%lld, 0)"
				     " WHERE workspace = '%s' AND version = '%s'",
				     sluice_release_state_name(r->state), r->stage_index,
				     (long long)r->stage_started_at, (long long)r->paused_at,
				     (long long)r->paused_seconds, (long long)r->gate_wait_notice_at,
				     ws, r->version));
		/* 0 is "none": stored as NULL */
		sql(f->path, sluice_xasprintf("UPDATE releases SET stage_started_at ="
					      " nullif(stage_started_at, 0), paused_at ="
					      " nullif(paused_at, 0) WHERE workspace = '%s'",
					      ws));
	}
	if (w->plugin.withdrawn)
		sql(f->path, sluice_xasprintf("INSERT INTO withdrawals (workspace, plugin, actor, at)"
					      " VALUES ('%s', '%s', 'test', 1)",
					      ws, PLUGIN));
	sql(f->path, sluice_xasprintf("INSERT INTO plugin_state (workspace, plugin,"
				      " review_notice_at, sunset_notice_at, sunset_withdrawn_for)"
				      " VALUES ('%s', '%s', nullif(%lld, 0), nullif(%lld, 0),"
				      " nullif(%lld, 0))",
				      ws, PLUGIN, (long long)w->plugin.review_notice_at,
				      (long long)w->plugin.sunset_notice_at,
				      (long long)w->plugin.sunset_withdrawn_for));
}

static void test_every_row_same_in_store(void **state)
{
	fixture *f = *state;
	size_t nrows = sizeof rows / sizeof *rows, changed = 0, planned = 0;
	int failures = 0;

	for (size_t i = 0; i < nrows; i++) {
		world w;
		sluice_plan *plan = NULL;
		sluice_store_plugin_state *ps = NULL;
		sluice_rollout_release sim_rel[6];
		sluice_rollout_plugin sim;
		char *ws = sluice_xasprintf("row-%zu", i);
		char *before, *want, *got;

		world_init(&w);
		rows[i].setup(&w);
		world_bind(&w);
		assert_int_equal(sluice_rollout_plan(&plan, &w.in), 0);

		/* the transition the planner and plan --at use */
		sim = w.plugin;
		memcpy(sim_rel, w.rel, sizeof sim_rel);
		sim.releases = sim_rel;
		before = render_state(&sim);
		for (size_t k = 0; k < plan->nactions; k++)
			if (!sluice_rollout_apply_plugin_action(&sim, &plan->actions[k]) &&
			    plan->actions[k].kind != SLUICE_ACTION_NOTICE)
				fail_msg("row %zu: action %zu applies to nothing", i, k);
		want = render_state(&sim);

		/* the store */
		seed(f, ws, &w);
		assert_int_equal(sluice_store_apply_actions(f->s, ws, plan, NULL, false, w.in.now), 0);
		assert_int_equal(sluice_store_load_plugin_state(&ps, f->s, ws, PLUGIN), 0);
		assert_int_equal(ps->plugin.nreleases, w.nrel);
		got = render_state(&ps->plugin);

		if (strcmp(want, got)) {
			failures++;
			char *acts = render_actions(plan);
			fprintf(stderr, "row %zu: %s\n-- actions:\n%s-- transition:\n%s-- store:\n%s\n",
				i, rows[i].name, acts, want, got);
			free(acts);
		}
		/* every action changes what it applies to */
		changed += strcmp(before, want) != 0;
		planned += rows[i].actions[0] != '\0';
		free(before);
		free(want);
		free(got);
		free(ws);
		sluice_store_plugin_state_free(ps);
		sluice_rollout_plan_free(plan);
	}
	assert_int_equal(failures, 0);
	assert_int_equal(changed, planned);
	assert_true(planned > nrows / 3);
}

static int setup(void **state)
{
	*state = fixture_open("sluice-rollout-store", "sluice.db");
	sluice_store_set_actor(((fixture *)*state)->s, "controller");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_row_same_in_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
