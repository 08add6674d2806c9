/* The audit log: canonical form, hash chain, tamper detection (edits, gaps,
 * broken links), append-only triggers and prune with checkpoint. */
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
#include "sluice/util.h"

#include "store-fixture.h"

#define T0 1796083200 /* 2026-12-01T00:00:00Z */
#define DAY 86400

static int setup(void **state)
{
	*state = fixture_open("sluice-audit", "sluice.db");
	return 0;
}

static const char drop_triggers[] =
	"DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;";

/* n rows, one a day from `at`, alternating plugins */
static void append_rows(sluice_store *s, int n, int64_t at)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(sluice_audit_appendf(s, at + (int64_t)i * DAY, "stage.started",
						      i % 2 ? "p1" : "p2", "0.1.0",
						      "{s:s, s:i}", "stage", "pilot", "n", i),
				 0);
	}
}

static void verify_ok(sluice_store *s, int64_t rows)
{
	sluice_audit_report r;
	assert_int_equal(sluice_audit_verify(s, &r), 0);
	if (!r.ok)
		fail_msg("verify: row %lld: %s", (long long)r.bad_id, r.problem);
	assert_int_equal(r.rows, rows);
}

static void verify_bad(sluice_store *s, int64_t bad_id, const char *problem)
{
	sluice_audit_report r;
	if (sluice_audit_verify(s, &r) < 0)
		fail_msg("verify failed: %s", sluice_error_last());
	assert_false(r.ok);
	assert_int_equal(r.bad_id, bad_id);
	assert_string_equal(r.problem, problem);
}

static void test_canonical_and_known_hash(void **state)
{
	(void)state;
	sluice_audit_row row = {
		.id = 1, .at = T0, .actor = "admin-ana", .action = "stage.started",
		.plugin = "backend-pr-reviewer", .version = "0.1.0",
		.details = "{\"stage\":\"devex-dogfood\"}", .admin_commit = NULL,
	};
	char *c = NULL;
	size_t len = 0;
	char hash[SLUICE_AUDIT_HASH_SZ];

	assert_int_equal(sluice_audit_canonical(&c, &len, &row), 0);
	assert_string_equal(c, "sluice-audit-v1\nid=1:1\nat=10:1796083200\nactor=9:admin-ana\n"
			       "action=13:stage.started\nplugin=19:backend-pr-reviewer\n"
			       "version=5:0.1.0\ndetails=25:{\"stage\":\"devex-dogfood\"}\n"
			       "admin_commit=-\n");
	assert_int_equal(len, strlen(c));
	free(c);
	/* computed independently (Python hashlib) from docs/database.md */
	assert_int_equal(sluice_audit_hash(hash,
					   "0000000000000000000000000000000000000000000000000000000000000000",
					   &row), 0);
	assert_string_equal(hash, "93597bb837ab1f715e5c7783b889fd2e4289011dfe21e70f15bda5d4472b2b05");
}

static void test_append_and_verify(void **state)
{
	fixture *f = *state;
	sluice_audit_report r;
	json_t *d = json_pack("{s:s, s:i, s:[s]}", "zeta", "z", "alpha", 1, "mid", "x");
	sluice_audit_entry e = {T0, "admin-ben", "approval.given", "p", "1.0.0", d};
	int64_t id = 0;

	/* an empty log verifies */
	assert_int_equal(sluice_audit_verify(f->s, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.rows, 0);

	sluice_store_set_admin_commit(f->s, "abc123");
	assert_int_equal(sluice_audit_append(f->s, &e, &id), 0);
	json_decref(d);
	assert_int_equal(id, 1);
	/* details are stored with sorted keys; actor and admin commit kept */
	assert_int_equal(raw_int(f->path,
				 "SELECT count(*) FROM audit WHERE id = 1 AND actor = 'admin-ben'"
				 " AND admin_commit = 'abc123'"
				 " AND details = '{\"alpha\":1,\"mid\":[\"x\"],\"zeta\":\"z\"}'"
				 " AND prev_hash = printf('%.64d', 0)"),
			 1);
	/* the store's actor when the entry names none */
	sluice_store_set_actor(f->s, "admin-ana");
	sluice_store_set_admin_commit(f->s, NULL);
	append_rows(f->s, 4, T0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE actor = 'admin-ana'"
					  " AND admin_commit IS NULL"), 4);
	assert_int_equal(sluice_audit_verify(f->s, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.rows, 5);
	assert_int_equal(r.first_id, 1);
	assert_int_equal(r.last_id, 5);
	assert_int_equal(strlen(r.head_hash), 64);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM v_audit WHERE at = '2026-12-01T00:00:00Z'"),
			 2);

	/* details must be an object; an action is required */
	e.details = json_integer(3);
	assert_int_equal(sluice_audit_append(f->s, &e, NULL), SLUICE_EINVAL);
	json_decref(e.details);
	e.details = NULL;
	e.action = NULL;
	assert_int_equal(sluice_audit_append(f->s, &e, NULL), SLUICE_EINVAL);
	verify_ok(f->s, 5);
}

static void test_triggers_refuse_update_and_delete(void **state)
{
	fixture *f = *state;

	append_rows(f->s, 3, T0);
	assert_int_equal(raw_exec(f->path, "UPDATE audit SET actor = 'mallory' WHERE id = 2"),
			 SQLITE_CONSTRAINT);
	assert_string_equal(errbuf, "audit rows are append-only");
	assert_int_equal(raw_exec(f->path, "DELETE FROM audit WHERE id = 3"), SQLITE_CONSTRAINT);
	assert_string_equal(errbuf, "audit rows are append-only");
	assert_int_equal(raw_exec(f->path, "DELETE FROM audit"), SQLITE_CONSTRAINT);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE actor = 'controller'"), 3);
	verify_ok(f->s, 3);
}

static void test_edited_row_is_named(void **state)
{
	fixture *f = *state;
	char sql[512];

	append_rows(f->s, 6, T0);
	verify_ok(f->s, 6);
	snprintf(sql, sizeof sql, "%s UPDATE audit SET details = '{\"stage\":\"general\"}' WHERE id = 4",
		 drop_triggers);
	assert_int_equal(raw_exec(f->path, sql), SQLITE_OK);
	verify_bad(f->s, 4, "row 4's content does not match its hash (the row was changed)");
}

static void test_edit_of_each_field_is_detected(void **state)
{
	fixture *f = *state;
	static const char *const edits[] = {
		"UPDATE audit SET at = at + 1 WHERE id = 2",
		"UPDATE audit SET actor = 'x' WHERE id = 2",
		"UPDATE audit SET action = 'x' WHERE id = 2",
		"UPDATE audit SET plugin = NULL WHERE id = 2",
		"UPDATE audit SET version = '9.9.9' WHERE id = 2",
		"UPDATE audit SET admin_commit = 'deadbeef' WHERE id = 2",
		"UPDATE audit SET hash = substr(hash, 2) || '0' WHERE id = 2",
	};

	append_rows(f->s, 3, T0);
	assert_int_equal(raw_exec(f->path, drop_triggers), SQLITE_OK);
	assert_int_equal(raw_exec(f->path, "CREATE TABLE saved AS SELECT * FROM audit"), SQLITE_OK);
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		assert_int_equal(raw_exec(f->path, edits[i]), SQLITE_OK);
		verify_bad(f->s, 2, "row 2's content does not match its hash (the row was changed)");
		assert_int_equal(raw_exec(f->path, "DELETE FROM audit; INSERT INTO audit SELECT * FROM saved"),
				 SQLITE_OK);
		verify_ok(f->s, 3);
	}
}

static void test_rehashed_edit_breaks_the_next_link(void **state)
{
	fixture *f = *state;
	sluice_audit_row row = {.id = 2, .at = T0 + DAY, .actor = "controller",
				.action = "stage.started", .plugin = "p1", .version = "0.1.0",
				.details = "{\"n\":99,\"stage\":\"pilot\"}"};
	char prev[SLUICE_AUDIT_HASH_SZ], hash[SLUICE_AUDIT_HASH_SZ], sql[1024];
	sqlite3 *db;
	sqlite3_stmt *st;

	append_rows(f->s, 4, T0);
	/* an attacker edits row 2 and recomputes its hash, but not the rest */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT prev_hash FROM audit WHERE id = 2", -1, &st,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(prev, sizeof prev, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(sluice_audit_hash(hash, prev, &row), 0);
	snprintf(sql, sizeof sql, "%s UPDATE audit SET details = '%s', hash = '%s' WHERE id = 2",
		 drop_triggers, row.details, hash);
	assert_int_equal(raw_exec(f->path, sql), SQLITE_OK);
	verify_bad(f->s, 3, "row 3's prev_hash is not the hash of row 2 (broken link)");
}

static void test_gap_is_found(void **state)
{
	fixture *f = *state;
	char sql[256];

	append_rows(f->s, 6, T0);
	snprintf(sql, sizeof sql, "%s DELETE FROM audit WHERE id = 3", drop_triggers);
	assert_int_equal(raw_exec(f->path, sql), SQLITE_OK);
	verify_bad(f->s, 4, "row 3 is missing (gap before row 4)");
	assert_int_equal(raw_exec(f->path, "DELETE FROM audit WHERE id = 4"), SQLITE_OK);
	verify_bad(f->s, 5, "rows 3 to 4 are missing (gap before row 5)");
}

static void test_deleted_start_without_checkpoint(void **state)
{
	fixture *f = *state;
	char sql[256];

	append_rows(f->s, 5, T0);
	snprintf(sql, sizeof sql, "%s DELETE FROM audit WHERE id < 3", drop_triggers);
	assert_int_equal(raw_exec(f->path, sql), SQLITE_OK);
	verify_bad(f->s, 3, "rows 1 to 2 are missing and no checkpoint records a prune");
}

static void test_transaction_rollback_drops_rows(void **state)
{
	fixture *f = *state;

	append_rows(f->s, 2, T0);
	assert_int_equal(sluice_store_begin(f->s), 0);
	append_rows(f->s, 3, T0);
	assert_int_equal(sluice_store_rollback(f->s), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 2);
	append_rows(f->s, 1, T0);
	verify_ok(f->s, 3);
}

static void test_prune_keeps_the_chain(void **state)
{
	fixture *f = *state;
	sluice_audit_prune_result res;
	sluice_audit_report r;

	/* rows 1..10 on days 0..9 */
	append_rows(f->s, 10, T0);
	/* at day 40, keep 35 days: days 0..4 go */
	sluice_store_set_actor(f->s, "admin-ana");
	assert_int_equal(sluice_audit_prune(f->s, T0 + 40 * DAY, 35, &res), 0);
	assert_int_equal(res.deleted, 5);
	assert_int_equal(res.first_kept_id, 6);
	assert_int_equal(res.checkpoint_id, 11);
	assert_int_equal(raw_int(f->path, "SELECT min(id) FROM audit"), 6);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE id = 11 AND"
					  " action = 'audit.checkpoint' AND actor = 'admin-ana' AND"
					  " json_extract(details, '$.first_kept_id') = 6 AND"
					  " json_extract(details, '$.continues_from') ="
					  "  (SELECT prev_hash FROM audit WHERE id = 6)"),
			 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit_prune"), 0);
	assert_int_equal(sluice_audit_verify(f->s, &r), 0);
	assert_true(r.ok);
	assert_int_equal(r.first_id, 6);
	assert_int_equal(r.last_id, 11);

	/* nothing old enough: no checkpoint, nothing removed */
	assert_int_equal(sluice_audit_prune(f->s, T0 + 40 * DAY, 35, &res), 0);
	assert_int_equal(res.deleted, 0);
	assert_int_equal(res.checkpoint_id, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 6);

	/* appends continue the chain; a second prune removes the first checkpoint too */
	append_rows(f->s, 2, T0 + 50 * DAY);
	assert_int_equal(sluice_audit_prune(f->s, T0 + 100 * DAY, 0, &res), 0);
	assert_int_equal(res.deleted, 8); /* 6..13 */
	assert_int_equal(res.first_kept_id, 14);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 1);
	verify_ok(f->s, 1);
	append_rows(f->s, 1, T0 + 101 * DAY);
	verify_ok(f->s, 2);

}

static void test_tampering_after_prune(void **state)
{
	fixture *f = *state;
	sluice_audit_prune_result res;

	append_rows(f->s, 10, T0);
	assert_int_equal(sluice_audit_prune(f->s, T0 + 40 * DAY, 35, &res), 0);
	assert_int_equal(res.first_kept_id, 6);
	assert_int_equal(raw_exec(f->path, "DROP TRIGGER audit_no_delete;"
					   " CREATE TABLE saved AS SELECT * FROM audit;"
					   " DELETE FROM audit WHERE id = 6"),
			 SQLITE_OK);
	verify_bad(f->s, 7, "the log starts at row 7 but checkpoint row 11 says it continues from row 6");
	/* a forged first row that claims to continue from elsewhere */
	assert_int_equal(raw_exec(f->path, "DELETE FROM audit; INSERT INTO audit SELECT * FROM saved;"
					   " DROP TRIGGER audit_no_update;"
					   " UPDATE audit SET prev_hash = printf('%.64d', 1) WHERE id = 6"),
			 SQLITE_OK);
	verify_bad(f->s, 6, "row 6's prev_hash differs from the hash checkpoint row 11 continues from (broken link)");
}

static void test_prune_only_removes_a_prefix(void **state)
{
	fixture *f = *state;
	sluice_audit_prune_result res;

	/* `at` follows --now and can go backwards: an old row after a new
	 * one stays, so the chain has no hole */
	assert_int_equal(sluice_audit_appendf(f->s, T0, "a", NULL, NULL, NULL), 0);
	assert_int_equal(sluice_audit_appendf(f->s, T0 + 100 * DAY, "b", NULL, NULL, NULL), 0);
	assert_int_equal(sluice_audit_appendf(f->s, T0, "c", NULL, NULL, NULL), 0);
	assert_int_equal(sluice_audit_prune(f->s, T0 + 101 * DAY, 30, &res), 0);
	assert_int_equal(res.deleted, 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'c'"), 1);
	verify_ok(f->s, 3);

	assert_int_equal(sluice_audit_prune(f->s, T0, -1, &res), SLUICE_EINVAL);
}

static void test_prune_rolls_back_with_the_caller(void **state)
{
	fixture *f = *state;
	sluice_audit_prune_result res;

	append_rows(f->s, 4, T0);
	assert_int_equal(sluice_store_begin(f->s), 0);
	assert_int_equal(sluice_audit_prune(f->s, T0 + 10 * DAY, 1, &res), 0);
	assert_int_equal(res.deleted, 4);
	assert_int_equal(sluice_store_rollback(f->s), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 4);
	verify_ok(f->s, 4);
}

static int collect(const sluice_audit_row *row, void *ctx)
{
	sluice_buf *b = ctx;
	sluice_buf_printf(b, "%lld:%s:%s ", (long long)row->id, row->action,
			  row->plugin ? row->plugin : "-");
	return 0;
}

static int stop_at_two(const sluice_audit_row *row, void *ctx)
{
	(*(int *)ctx)++;
	return row->id == 2 ? 7 : 0;
}

static void test_foreach(void **state)
{
	fixture *f = *state;
	sluice_audit_filter flt = {0};
	sluice_buf b = SLUICE_BUF_INIT;
	int n = 0;

	append_rows(f->s, 5, T0);
	assert_int_equal(sluice_audit_foreach(f->s, NULL, collect, &b), 0);
	assert_string_equal(b.ptr, "1:stage.started:p2 2:stage.started:p1 3:stage.started:p2 "
				   "4:stage.started:p1 5:stage.started:p2 ");
	sluice_buf_clear(&b);
	flt.plugin = "p1";
	flt.newest_first = true;
	assert_int_equal(sluice_audit_foreach(f->s, &flt, collect, &b), 0);
	assert_string_equal(b.ptr, "4:stage.started:p1 2:stage.started:p1 ");
	sluice_buf_clear(&b);
	memset(&flt, 0, sizeof flt);
	flt.since = T0 + 2 * DAY;
	flt.limit = 2;
	assert_int_equal(sluice_audit_foreach(f->s, &flt, collect, &b), 0);
	assert_string_equal(b.ptr, "3:stage.started:p2 4:stage.started:p1 ");
	sluice_buf_clear(&b);
	assert_int_equal(sluice_audit_foreach(f->s, NULL, stop_at_two, &n), 7);
	assert_int_equal(n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_and_known_hash),
		cmocka_unit_test_setup_teardown(test_append_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_triggers_refuse_update_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited_row_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_of_each_field_is_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rehashed_edit_breaks_the_next_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_is_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_start_without_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_rollback_drops_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_the_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampering_after_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_only_removes_a_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_rolls_back_with_the_caller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
