/* The administrators' actions on the store (store-ops.c): each checks its
 * precondition, changes the state and writes its audit row in one unit of
 * work; a refused action changes nothing and writes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/tree.h"
#include "sluice/util.h"

#include "store-fixture.h"

#define WS "engineering"
#define P "backend-pr-reviewer"
#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"
#define T0 1796083200 /* 2026-12-01T00:00:00Z */

/* the text of one value, malloc'd ("" for NULL or no row) */
static char *raw_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *v;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	v = sluice_xstrdup(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)
				   ? (const char *)sqlite3_column_text(st, 0)
				   : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void expect_text(const char *path, const char *sql, const char *want)
{
	char *got = raw_text(path, sql);
	assert_string_equal(got, want);
	free(got);
}

static int64_t audit_rows(fixture *f)
{
	return raw_int(f->path, "SELECT count(*) FROM audit");
}

static void record(fixture *f, const char *version, const char *commit)
{
	char *tag = sluice_xasprintf("v%s", version);
	sluice_release_record r = {WS, P, version, tag, commit, "devex-lead@acme.example",
				   "{\"stages\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", T0};
	assert_int_equal(sluice_store_release_record(f->s, &r, NULL, NULL), 0);
	free(tag);
}

static int setup(void **state)
{
	fixture *f = fixture_open("sluice-ops", "sluice.db");
	sluice_store_set_actor(f->s, "admin-ana");
	record(f, "0.1.0", C1);
	record(f, "0.1.1", C2);
	*state = f;
	return 0;
}

static void test_reject(void **state)
{
	fixture *f = *state;
	int64_t before = audit_rows(f);

	assert_int_equal(sluice_store_release_reject(f->s, WS, P, "0.1.1", C2, "breaks CI", T0 + 60), 0);
	expect_text(f->path, "SELECT state || '|' || state_reason FROM releases WHERE version = '0.1.1'",
		    "rejected|rejected by admin-ana: breaks CI");
	expect_text(f->path, "SELECT actor || '|' || commit_id || '|' || comment FROM rejections",
		    "admin-ana|" C2 "|breaks CI");
	expect_text(f->path, "SELECT action || '|' || actor FROM audit ORDER BY id DESC LIMIT 1",
		    "release.rejected|admin-ana");
	assert_int_equal(audit_rows(f), before + 1);

	/* twice: refused, nothing written */
	assert_int_equal(sluice_store_release_reject(f->s, WS, P, "0.1.1", C2, NULL, T0 + 120),
			 SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "already rejected"));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM rejections"), 1);
	assert_int_equal(audit_rows(f), before + 1);

	/* unknown release */
	assert_int_equal(sluice_store_release_reject(f->s, WS, P, "9.9.9", C2, NULL, T0),
			 SLUICE_ENOTFOUND);
	assert_int_equal(audit_rows(f), before + 1);
}

static void test_pause_resume(void **state)
{
	fixture *f = *state;
	sqlite3 *db;

	/* only a rollout in progress can be paused */
	assert_int_equal(sluice_store_release_pause(f->s, WS, P, "0.1.0", NULL, T0), SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "0.1.0 is pending: only a rollout in progress"));

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE releases SET state = 'in_progress', stage_index = 0,"
					  " stage_started_at = 1796083200, paused_seconds = 100"
					  " WHERE version = '0.1.0'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(sluice_store_release_pause(f->s, WS, P, "0.1.0", "incident", T0 + 1000), 0);
	expect_text(f->path, "SELECT state || '|' || paused_at FROM releases WHERE version = '0.1.0'",
		    "paused|1796084200");
	assert_int_equal(sluice_store_release_pause(f->s, WS, P, "0.1.0", NULL, T0 + 1100),
			 SLUICE_EREFUSED);
	/* resume adds the pause (3600 s) to the stage's paused time */
	assert_int_equal(sluice_store_release_resume(f->s, WS, P, "0.1.0", NULL, T0 + 4600), 0);
	expect_text(f->path, "SELECT state || '|' || paused_seconds || '|' || coalesce(paused_at, '-')"
			     " FROM releases WHERE version = '0.1.0'",
		    "in_progress|3700|-");
	assert_int_equal(sluice_store_release_resume(f->s, WS, P, "0.1.0", NULL, T0 + 4700),
			 SLUICE_EREFUSED);
	expect_text(f->path, "SELECT group_concat(action, ',') FROM audit WHERE action LIKE 'rollout.%'",
		    "rollout.paused,rollout.resumed");
}

static void test_rollback_in_transaction(void **state)
{
	fixture *f = *state;
	int64_t before = audit_rows(f);

	/* two releases in one transaction; a failure rolls both back */
	assert_int_equal(sluice_store_begin(f->s), 0);
	assert_int_equal(sluice_store_release_rollback(f->s, WS, P, "0.1.1", "0.1.0", "bad", T0), 0);
	assert_int_equal(sluice_store_release_rollback(f->s, WS, P, "0.1.0", NULL, "bad", T0), 0);
	assert_int_equal(sluice_store_rollback(f->s), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM releases WHERE rolled_back = 1"), 0);
	assert_int_equal(audit_rows(f), before);

	assert_int_equal(sluice_store_release_rollback(f->s, WS, P, "0.1.1", "0.1.0", "bad", T0), 0);
	expect_text(f->path, "SELECT state || '|' || rolled_back FROM releases WHERE version = '0.1.1'",
		    "rolled_back|1");
	expect_text(f->path, "SELECT json_extract(details, '$.target_version') FROM audit"
			     " WHERE action = 'rollout.rolled_back'",
		    "0.1.0");
	assert_int_equal(sluice_store_release_rollback(f->s, WS, P, "0.1.1", NULL, NULL, T0),
			 SLUICE_EREFUSED);
}

static void test_withdraw_restore(void **state)
{
	fixture *f = *state;
	bool w = true;

	assert_int_equal(sluice_store_withdrawn(&w, f->s, WS, P, NULL), 0);
	assert_false(w);
	assert_int_equal(sluice_store_restore(f->s, WS, P, NULL, NULL, NULL, T0), SLUICE_EREFUSED);

	/* the whole plugin */
	assert_int_equal(sluice_store_withdraw(f->s, WS, P, NULL, "incident 42", T0), 0);
	assert_int_equal(sluice_store_withdrawn(&w, f->s, WS, P, NULL), 0);
	assert_true(w);
	assert_int_equal(sluice_store_withdraw(f->s, WS, P, NULL, NULL, T0), SLUICE_EREFUSED);
	assert_int_equal(sluice_store_restore(f->s, WS, P, NULL, NULL, "fixed", T0 + 60), 0);
	assert_int_equal(sluice_store_withdrawn(&w, f->s, WS, P, NULL), 0);
	assert_false(w);
	expect_text(f->path, "SELECT restored_by || '|' || restored_at FROM withdrawals",
		    "admin-ana|1796083260");

	/* one version: the release is marked, and restored to the given state */
	assert_int_equal(sluice_store_withdraw(f->s, WS, P, "0.1.0", NULL, T0 + 120), 0);
	expect_text(f->path, "SELECT state || '|' || withdrawn FROM releases WHERE version = '0.1.0'",
		    "withdrawn|1");
	assert_int_equal(sluice_store_withdrawn(&w, f->s, WS, P, NULL), 0);
	assert_false(w);
	assert_int_equal(sluice_store_restore(f->s, WS, P, "0.1.0", "paused", NULL, T0 + 180), 0);
	expect_text(f->path, "SELECT state || '|' || withdrawn || '|' || paused_at FROM releases"
			     " WHERE version = '0.1.0'",
		    "paused|0|1796083380");
	expect_text(f->path, "SELECT group_concat(action, ',') FROM audit WHERE action LIKE '%.withdrawn'"
			     " OR action LIKE '%.restored'",
		    "plugin.withdrawn,plugin.restored,release.withdrawn,release.restored");
}

static void test_optouts(void **state)
{
	fixture *f = *state;
	char **list = NULL;
	size_t n = 9;
	bool changed = false;

	assert_int_equal(sluice_store_optout_set(f->s, WS, P, "carol", true, T0, &changed), 0);
	assert_true(changed);
	assert_int_equal(sluice_store_optout_set(f->s, WS, "other", "carol", true, T0, &changed), 0);
	assert_int_equal(sluice_store_optout_set(f->s, WS, P, "carol", true, T0, &changed), 0);
	assert_false(changed);
	assert_int_equal(sluice_store_optout_list(&list, &n, f->s, WS, "carol"), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0], P);
	assert_string_equal(list[1], "other");
	assert_null(list[2]);
	sluice_strv_free(list);

	assert_int_equal(sluice_store_optout_set(f->s, WS, P, "carol", false, T0, &changed), 0);
	assert_true(changed);
	assert_int_equal(sluice_store_optout_set(f->s, WS, P, "carol", false, T0, &changed), 0);
	assert_false(changed);
	assert_int_equal(sluice_store_optout_list(&list, &n, f->s, WS, "dan"), 0);
	assert_int_equal(n, 0);
	sluice_strv_free(list);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action LIKE 'user.%'"), 3);
}

static void test_attest(void **state)
{
	fixture *f = *state;
	sluice_attestation_list l = {0};

	sluice_store_set_actor(f->s, "ci-bot");
	assert_int_equal(sluice_store_attest(f->s, WS, P, "0.1.0", "contract-tests",
					     "https://ci.example/1", T0), 0);
	assert_int_equal(sluice_store_attest(f->s, WS, P, "0.1.0", "security-review", NULL, T0 + 1), 0);
	assert_int_equal(sluice_store_attestation_list(&l, f->s, WS, P, "0.1.0"), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].item, "contract-tests");
	assert_string_equal(l.items[0].actor, "ci-bot");
	assert_string_equal(l.items[0].evidence, "https://ci.example/1");
	assert_null(l.items[1].evidence);
	assert_int_equal(l.items[1].at, T0 + 1);
	sluice_attestation_list_clear(&l);
	assert_int_equal(sluice_store_attestation_list(&l, f->s, WS, P, "0.1.1"), 0);
	assert_int_equal(l.count, 0);
	sluice_attestation_list_clear(&l);
	expect_text(f->path, "SELECT json_extract(details, '$.item') FROM audit"
			     " WHERE action = 'checklist.attested' ORDER BY id LIMIT 1",
		    "contract-tests");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_in_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdraw_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attest, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
