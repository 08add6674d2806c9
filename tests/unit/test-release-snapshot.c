/* The deploy snapshot format: what the encoder writes from a real plugin
 * the decoder reads back, a stored snapshot of a known text decodes to
 * known values, and text that is not a snapshot decodes to nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/config.h"
#include "sluice/release-snapshot.h"
#include "sluice/tree.h"
#include "sluice/util.h"

static sluice_plugin *load_example(void)
{
	char *dir = sluice_path_join(SLUICE_SOURCE_DIR, "examples/plugins/backend-pr-reviewer");
	sluice_tree *tree = NULL;
	sluice_plugin *pl = NULL;
	sluice_diags d;

	sluice_diags_init(&d);
	assert_int_equal(sluice_tree_open_dir(&tree, dir), 0);
	assert_int_equal(sluice_plugin_load(&pl, tree, 0, &d), 0);
	assert_non_null(pl);
	assert_int_equal(d.errors, 0);
	sluice_diags_clear(&d);
	sluice_tree_free(tree);
	free(dir);
	return pl;
}

static void round_trip(void **state)
{
	(void)state;
	sluice_plugin *pl = load_example();
	const sluice_deploy *d = &pl->deploy;
	sluice_release_snapshot s;
	char *text = sluice_release_snapshot_encode(pl);

	assert_non_null(text);
	sluice_release_snapshot_decode(&s, text, NULL, NULL);
	/* the example has three stages; a round trip of nothing proves nothing */
	assert_int_equal(d->nstages, 3);
	assert_int_equal(s.nstages, d->nstages);
	for (size_t i = 0; i < d->nstages; i++) {
		const sluice_stage *want = &d->stages[i];
		const sluice_rollout_stage *got = &s.stages[i];
		assert_string_equal(got->name, want->name.s);
		assert_int_equal(got->ngroups, want->groups.count);
		for (size_t k = 0; k < want->groups.count; k++)
			assert_string_equal(got->groups[k], want->groups.items[k].s);
		assert_int_equal(got->duration_days,
				 want->duration_days.set ? want->duration_days.v : 0);
		assert_int_equal(got->requires_approval,
				 want->requires_approval.set && want->requires_approval.v);
	}
	assert_true(s.require_admin_approval);
	assert_true(s.allow_user_disable);
	assert_true(s.collect_feedback);
	assert_string_equal(s.audit_dashboard, "ai-tooling-audit");
	assert_int_equal(s.risk, (int)pl->risk);
	assert_true(s.has_lifecycle);
	assert_int_equal(s.review_every_days, 180);
	assert_int_equal(s.deprecated_at, 0);
	assert_int_equal(s.sunset_at, 0);
	sluice_release_snapshot_clear(&s);
	assert_null(s.stages);
	free(text);
	sluice_plugin_free(pl);
}

/* A snapshot as an older pass stored it: the decoder must keep reading it. */
static void known_text(void **state)
{
	(void)state;
	static const char text[] =
		"{\"controls\":{\"allow_user_disable\":false,\"audit_dashboard\":null,"
		"\"collect_feedback\":false,\"require_admin_approval\":true},"
		"\"lifecycle\":{\"deprecated_at\":1790000000,\"sunset_at\":1800000000},"
		"\"risk\":2,\"stages\":[{\"duration_days\":3,\"groups\":[\"a\",\"b\"],"
		"\"name\":\"one\",\"requires_approval\":false},{\"duration_days\":0,"
		"\"groups\":[],\"name\":\"two\",\"requires_approval\":true}]}";
	sluice_release_snapshot s;

	sluice_release_snapshot_decode(&s, text, NULL, NULL);
	assert_int_equal(s.nstages, 2);
	assert_string_equal(s.stages[0].name, "one");
	assert_int_equal(s.stages[0].ngroups, 2);
	assert_string_equal(s.stages[0].groups[1], "b");
	assert_int_equal(s.stages[0].duration_days, 3);
	assert_false(s.stages[0].requires_approval);
	assert_string_equal(s.stages[1].name, "two");
	assert_int_equal(s.stages[1].ngroups, 0);
	assert_true(s.stages[1].requires_approval);
	assert_true(s.require_admin_approval);
	assert_false(s.allow_user_disable);
	assert_null(s.audit_dashboard);
	assert_int_equal(s.risk, 2);
	assert_true(s.has_lifecycle);
	assert_int_equal(s.review_every_days, 0);
	assert_int_equal(s.deprecated_at, 1790000000);
	assert_int_equal(s.sunset_at, 1800000000);
	sluice_release_snapshot_clear(&s);
}

static void not_a_snapshot(void **state)
{
	(void)state;
	const char *bad[] = {NULL, "", "not json", "[]", "42", "{\"stages\":{}}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sluice_release_snapshot s;
		sluice_release_snapshot_decode(&s, bad[i], NULL, NULL);
		assert_int_equal(s.nstages, 0);
		assert_null(s.stages);
		assert_false(s.require_admin_approval);
		assert_int_equal(s.risk, 0);
		assert_false(s.has_lifecycle);
		sluice_release_snapshot_clear(&s);
	}
}

typedef struct {
	void *ptrs[64];
	size_t n;
} kept;

static void *keep(void *ctx, void *ptr)
{
	kept *k = ctx;
	assert_true(k->n < 64);
	k->ptrs[k->n++] = ptr;
	return ptr;
}

/* With a keeper (the store's pool) the decoded values outlive the
 * snapshot. */
static void keeper_owns(void **state)
{
	(void)state;
	sluice_plugin *pl = load_example();
	char *text = sluice_release_snapshot_encode(pl);
	kept k = {{0}, 0};
	sluice_release_snapshot s;

	sluice_release_snapshot_decode(&s, text, keep, &k);
	const sluice_rollout_stage *stages = s.stages;
	sluice_release_snapshot_clear(&s);
	/* 1 stage array + 3 names + 3 group arrays + 3 groups + the dashboard */
	assert_int_equal(k.n, 11);
	assert_string_equal(stages[2].name, "backend-general");
	assert_string_equal(stages[2].groups[0], "backend-engineers");
	for (size_t i = 0; i < k.n; i++)
		free(k.ptrs[i]);
	free(text);
	sluice_plugin_free(pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(known_text),
		cmocka_unit_test(not_a_snapshot),
		cmocka_unit_test(keeper_owns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
