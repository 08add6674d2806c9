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
	/* at day 95, keep 90 days: days 0..4 go */
	sluice_store_set_actor(f->s, "admin-ana");
	assert_int_equal(sluice_audit_prune(f->s, T0 + 95 * DAY, 90, 90, &res), 0);
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
	assert_int_equal(sluice_audit_prune(f->s, T0 + 95 * DAY, 90, 90, &res), 0);
	assert_int_equal(res.deleted, 0);
	assert_int_equal(res.checkpoint_id, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 6);

	/* appends continue the chain; a second prune removes the first checkpoint too */
	append_rows(f->s, 2, T0 + 50 * DAY);
	assert_int_equal(sluice_audit_prune(f->s, T0 + 190 * DAY, 90, 90, &res), 0);
	assert_int_equal(res.deleted, 8); /* 6..13 */
	assert_int_equal(res.first_kept_id, 14);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 1);
	verify_ok(f->s, 1);
	append_rows(f->s, 1, T0 + 191 * DAY);
	verify_ok(f->s, 2);

}

static void test_tampering_after_prune(void **state)
{
	fixture *f = *state;
	sluice_audit_prune_result res;

	append_rows(f->s, 10, T0);
	assert_int_equal(sluice_audit_prune(f->s, T0 + 95 * DAY, 90, 90, &res), 0);
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
	assert_int_equal(sluice_audit_prune(f->s, T0 + 161 * DAY, 90, 90, &res), 0);
	assert_int_equal(res.deleted, 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'c'"), 1);
	verify_ok(f->s, 3);
}

static void test_prune_rolls_back_with_the_caller(void **state)
{
	fixture *f = *state;
	sluice_audit_prune_result res;

	append_rows(f->s, 4, T0);
	assert_int_equal(sluice_store_begin(f->s), 0);
	assert_int_equal(sluice_audit_prune(f->s, T0 + 100 * DAY, 90, 90, &res), 0);
	assert_int_equal(res.deleted, 4);
	assert_int_equal(sluice_store_rollback(f->s), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 4);
	verify_ok(f->s, 4);
}

static void test_prune_never_inside_the_retention(void **state)
{
	fixture *f = *state;
	sluice_audit_prune_result res;

	append_rows(f->s, 10, T0);
	/* the attack: anyone deleting everything with 0 days */
	assert_int_equal(sluice_audit_prune(f->s, T0 + 500 * DAY, 0, 400, &res), SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "cannot prune audit rows younger than the retention of 400 days "
			    "(policy.audit_retention_days); give --older-than-days 400 or more");
	assert_int_equal(sluice_audit_prune(f->s, T0 + 500 * DAY, 399, 400, &res), SLUICE_EREFUSED);
	/* a retention below the floor is invalid whatever was asked */
	assert_int_equal(sluice_audit_prune(f->s, T0 + 500 * DAY, 400, 89, &res), SLUICE_EINVAL);
	assert_string_equal(sluice_error_last(),
			    "the audit retention must be at least 90 days (got 89); set "
			    "policy.audit_retention_days to 90 or more");
	assert_int_equal(res.deleted, 0);
	assert_int_equal(res.checkpoint_id, 0);
	/* nothing changed: the ten rows, no checkpoint */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 10);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'audit.checkpoint'"), 0);
	verify_ok(f->s, 10);
	/* more than the retention is allowed: rows older than 495 days at day 500 */
	assert_int_equal(sluice_audit_prune(f->s, T0 + 500 * DAY, 495, 400, &res), 0);
	assert_int_equal(res.deleted, 5);
	verify_ok(f->s, 6);
}

static void test_head(void **state)
{
	fixture *f = *state;
	char hash[SLUICE_AUDIT_HASH_SZ], parsed[SLUICE_AUDIT_HASH_SZ], text[128];
	sluice_audit_report r;
	int64_t id = -1, pid = 0;

	/* empty: row 0 and the zero hash */
	assert_int_equal(sluice_audit_head(f->s, &id, hash), 0);
	assert_int_equal(id, 0);
	assert_string_equal(hash, "0000000000000000000000000000000000000000000000000000000000000000");
	append_rows(f->s, 3, T0);
	assert_int_equal(sluice_audit_head(f->s, &id, hash), 0);
	assert_int_equal(id, 3);
	assert_int_equal(sluice_audit_verify(f->s, &r), 0);
	assert_string_equal(hash, r.head_hash);

	snprintf(text, sizeof text, "%lld:%s", (long long)id, hash);
	assert_int_equal(sluice_audit_head_parse(&pid, parsed, text), 0);
	assert_int_equal(pid, 3);
	assert_string_equal(parsed, hash);
	assert_int_equal(sluice_audit_verify_head(f->s, pid, parsed, &r), 0);
	assert_true(r.ok);

	static const char *const bad[] = {
		"", "3", "3:", ":abc", "x:0000000000000000000000000000000000000000000000000000000000000000",
		"0:0000000000000000000000000000000000000000000000000000000000000000",
		"-1:0000000000000000000000000000000000000000000000000000000000000000",
		"3 :0000000000000000000000000000000000000000000000000000000000000000",
		"3:000000000000000000000000000000000000000000000000000000000000000",
		"3:000000000000000000000000000000000000000000000000000000000000000A",
		"3:0000000000000000000000000000000000000000000000000000000000000000x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(sluice_audit_head_parse(&pid, parsed, bad[i]), SLUICE_EINVAL);
	assert_string_equal(sluice_error_last(),
			    "'3:0000000000000000000000000000000000000000000000000000000000000000x' is "
			    "not an audit head; give ID:HASH as 'sluice audit head' prints it (a row "
			    "id, a colon, 64 lowercase hex digits)");
}

static void test_cut_tail_is_found(void **state)
{
	fixture *f = *state;
	char hash5[SLUICE_AUDIT_HASH_SZ];
	sluice_audit_report r;
	int64_t id;

	append_rows(f->s, 5, T0);
	assert_int_equal(sluice_audit_head(f->s, &id, hash5), 0);
	assert_int_equal(raw_exec(f->path, "DROP TRIGGER audit_no_delete;"
					   " CREATE TABLE saved AS SELECT * FROM audit;"
					   " DELETE FROM audit WHERE id = 5"),
			 SQLITE_OK);
	verify_bad(f->s, 5, "row 5 is missing from the end of the log (ids up to 5 were handed out)");
	assert_int_equal(raw_exec(f->path, "DELETE FROM audit WHERE id >= 4"), SQLITE_OK);
	verify_bad(f->s, 4, "rows 4 to 5 are missing from the end of the log (ids up to 5 were handed out)");
	/* new rows do not paper over the cut: they continue past id 5 */
	append_rows(f->s, 1, T0 + 9 * DAY);
	assert_int_equal(raw_int(f->path, "SELECT max(id) FROM audit"), 6);
	verify_bad(f->s, 6, "rows 4 to 5 are missing (gap before row 6)");

	/* an attacker who also lowers the counter: the head kept elsewhere
	 * still tells */
	assert_int_equal(raw_exec(f->path, "DELETE FROM audit WHERE id >= 4;"
					   " UPDATE sqlite_sequence SET seq = 3 WHERE name = 'audit'"),
			 SQLITE_OK);
	verify_ok(f->s, 3);
	assert_int_equal(sluice_audit_verify_head(f->s, 5, hash5, &r), 0);
	assert_false(r.ok);
	assert_int_equal(r.bad_id, 5);
	assert_string_equal(r.problem, "the given head, row 5, is not in the log (it ends at row 3): "
				       "rows were cut from its end");
	/* one who removes the counter row */
	assert_int_equal(raw_exec(f->path, "DELETE FROM sqlite_sequence WHERE name = 'audit'"),
			 SQLITE_OK);
	verify_bad(f->s, 3, "the log's id counter (sqlite_sequence) was removed; rows may have been "
			    "cut from its end");
	/* or sets it below the last row */
	assert_int_equal(raw_exec(f->path, "DELETE FROM audit; INSERT INTO audit SELECT * FROM saved;"
					   " UPDATE sqlite_sequence SET seq = 2 WHERE name = 'audit'"),
			 SQLITE_OK);
	verify_bad(f->s, 5, "the log's id counter (sqlite_sequence) says 2 but row 5 exists: the "
			    "counter was edited");
}

static void test_head_proves_the_log_unchanged(void **state)
{
	fixture *f = *state;
	char hash[SLUICE_AUDIT_HASH_SZ];
	sluice_audit_report r;
	sluice_audit_prune_result res;
	int64_t id;

	append_rows(f->s, 4, T0);
	assert_int_equal(sluice_audit_head(f->s, &id, hash), 0);
	/* the chain rewritten whole from row 1 (consistent, but not the same) */
	assert_int_equal(raw_exec(f->path, "DROP TRIGGER audit_no_delete; DELETE FROM audit;"
					   " UPDATE sqlite_sequence SET seq = 0 WHERE name = 'audit'"),
			 SQLITE_OK);
	sluice_store_set_actor(f->s, "mallory");
	append_rows(f->s, 4, T0);
	verify_ok(f->s, 4);
	assert_int_equal(sluice_audit_verify_head(f->s, id, hash, &r), 0);
	assert_false(r.ok);
	assert_int_equal(r.bad_id, 4);
	assert_memory_equal(r.problem, "row 4 is not the given head: its hash is ", 41);
	assert_non_null(strstr(r.problem, "(the log was rewritten)"));

	/* a head from before the last prune cannot be proven */
	assert_int_equal(sluice_audit_head(f->s, &id, hash), 0);
	assert_int_equal(sluice_audit_prune(f->s, T0 + 100 * DAY, 90, 90, &res), 0);
	assert_int_equal(sluice_audit_verify_head(f->s, 2, hash, &r), 0);
	assert_false(r.ok);
	assert_string_equal(r.problem, "the given head, row 2, was pruned (the log starts at row 5); "
				       "give a head newer than the last prune");
	assert_int_equal(sluice_audit_verify_head(f->s, 0, hash, &r), SLUICE_EINVAL);
}

#define C1 "1111111111111111111111111111111111111111"

/* One of each action that writes a state row, through the store. */
static void record_actions(sluice_store *s)
{
	sluice_release_record rel = {"eng", "rev", "0.1.0", "v0.1.0", C1, NULL, NULL, T0};
	sluice_release_record rel2 = {"eng", "rev", "0.2.0", "v0.2.0", C1, NULL, NULL, T0};
	sluice_approval_record a = {"eng", "rev", "0.1.0", C1, "dogfood", NULL, NULL, false};
	sluice_rollout_action start = {.kind = SLUICE_ACTION_START_STAGE, .plugin = "rev",
				       .version = "0.1.0", .commit = C1, .stage_index = 0,
				       .stage = "dogfood", .reason = "first stage", .at = T0 + 3};
	sluice_plan plan = {&start, 1, NULL, 0};

	assert_int_equal(sluice_store_release_record(s, &rel, NULL, NULL), 0);
	assert_int_equal(sluice_store_release_record(s, &rel2, NULL, NULL), 0);
	sluice_store_set_actor(s, "admin-ana");
	assert_int_equal(sluice_store_approval_add(s, &a, T0 + 1), 0);
	sluice_store_set_actor(s, "ci-bot");
	assert_int_equal(sluice_store_attest(s, "eng", "rev", "0.1.0", "contract-tests", NULL, T0 + 2), 0);
	sluice_store_set_actor(s, "controller");
	assert_int_equal(sluice_store_apply_actions(s, "eng", &plan, NULL, false, T0 + 3), 0);
	sluice_store_set_actor(s, "admin-ben");
	assert_int_equal(sluice_store_release_reject(s, "eng", "rev", "0.2.0", C1, "no", T0 + 4), 0);
	assert_int_equal(sluice_store_withdraw(s, "eng", "rev", NULL, "bad", T0 + 5), 0);
	assert_int_equal(sluice_store_workspace_freeze(s, "eng", true, "holiday", T0 + 6), 0);
}

static void test_state_rows_need_their_audit_rows(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *forge;
		const char *problem;
	} cases[] = {
		{"INSERT INTO approvals (workspace, plugin, version, commit_id, stage, approver, at)"
		 " VALUES ('eng', 'rev', '0.1.0', '" C1 "', 'general', 'mallory', 1796083300)",
		 "approval 2 (mallory, rev@0.1.0, stage general) has no approval.given audit row: it "
		 "was written around sluice"},
		/* a second row exactly like a real one needs a second audit row */
		{"INSERT INTO attestations (workspace, plugin, version, item, actor, at)"
		 " SELECT workspace, plugin, version, item, actor, at FROM attestations WHERE id = 1",
		 "attestation 1 (ci-bot, rev@0.1.0, contract-tests) has no checklist.attested audit "
		 "row: it was written around sluice"},
		{"INSERT INTO rejections (workspace, plugin, version, commit_id, actor, at)"
		 " VALUES ('eng', 'rev', '0.1.0', '" C1 "', 'mallory', 1796083300)",
		 "rejection 2 (mallory, rev@0.1.0) has no release.rejected audit row: it was written "
		 "around sluice"},
		{"INSERT INTO attestations (workspace, plugin, version, item, actor, at)"
		 " VALUES ('eng', 'rev', '0.1.0', 'security-review', 'mallory', 1796083300)",
		 "attestation 2 (mallory, rev@0.1.0, security-review) has no checklist.attested audit "
		 "row: it was written around sluice"},
		{"INSERT INTO stage_starts (release_id, stage_index, stage_name, started_at, started_by,"
		 " actor) VALUES (1, 1, 'general', 1796083300, 'promote', 'mallory')",
		 "stage start 2 (rev@0.1.0, stage 1 general) has no stage.started audit row: it was "
		 "written around sluice"},
		{"INSERT INTO withdrawals (workspace, plugin, version, actor, at)"
		 " VALUES ('eng', 'rev', '0.1.0', 'mallory', 1796083300)",
		 "withdrawal 2 (mallory, rev@0.1.0) has no plugin.withdrawn audit row: it was written "
		 "around sluice"},
		{"UPDATE workspace_state SET frozen = 0, frozen_by = 'mallory', at = 1796083300",
		 "the unfreeze of workspace eng (by mallory) has no workspace.unfrozen audit row: it "
		 "was written around sluice"},
		/* an edited row no longer matches its audit row */
		{"UPDATE approvals SET stage = 'general' WHERE id = 1",
		 "approval 1 (admin-ana, rev@0.1.0, stage general) has no approval.given audit row: "
		 "it was written around sluice"},
		{"UPDATE attestations SET actor = 'admin-ana'",
		 "attestation 1 (admin-ana, rev@0.1.0, contract-tests) has no checklist.attested audit "
		 "row: it was written around sluice"},
	};
	char sql[1024];

	record_actions(f->s);
	verify_ok(f->s, 8);
	assert_int_equal(raw_exec(f->path, "CREATE TEMP TABLE x (y); "
					   "CREATE TABLE s_approvals AS SELECT * FROM approvals;"
					   "CREATE TABLE s_rejections AS SELECT * FROM rejections;"
					   "CREATE TABLE s_attestations AS SELECT * FROM attestations;"
					   "CREATE TABLE s_stage_starts AS SELECT * FROM stage_starts;"
					   "CREATE TABLE s_withdrawals AS SELECT * FROM withdrawals;"
					   "CREATE TABLE s_workspace_state AS SELECT * FROM workspace_state;"),
			 SQLITE_OK);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(raw_exec(f->path, cases[i].forge), SQLITE_OK);
		verify_bad(f->s, 0, cases[i].problem);
		snprintf(sql, sizeof sql,
			 "DELETE FROM approvals; INSERT INTO approvals SELECT * FROM s_approvals;"
			 "DELETE FROM rejections; INSERT INTO rejections SELECT * FROM s_rejections;"
			 "DELETE FROM attestations; INSERT INTO attestations SELECT * FROM s_attestations;"
			 "DELETE FROM stage_starts; INSERT INTO stage_starts SELECT * FROM s_stage_starts;"
			 "DELETE FROM withdrawals; INSERT INTO withdrawals SELECT * FROM s_withdrawals;"
			 "DELETE FROM workspace_state;"
			 " INSERT INTO workspace_state SELECT * FROM s_workspace_state;");
		assert_int_equal(raw_exec(f->path, sql), SQLITE_OK);
		verify_ok(f->s, 8);
	}
}

static void test_pruned_state_rows_are_not_cross_checked(void **state)
{
	fixture *f = *state;
	sluice_audit_prune_result res;

	/* every action's audit row is older than the retention and pruned;
	 * their state rows stay and verify */
	record_actions(f->s);
	append_rows(f->s, 1, T0 + 200 * DAY);
	assert_int_equal(sluice_audit_prune(f->s, T0 + 200 * DAY, 90, 90, &res), 0);
	assert_int_equal(res.deleted, 8);
	verify_ok(f->s, 2);
	/* a row forged after the cutoff is still found */
	assert_int_equal(raw_exec(f->path, "INSERT INTO approvals (workspace, plugin, version,"
					   " commit_id, stage, approver, at) VALUES ('eng', 'rev',"
					   " '0.1.0', '" C1 "', 'general', 'mallory', 1796083200 + 150 * 86400)"),
			 SQLITE_OK);
	verify_bad(f->s, 0, "approval 2 (mallory, rev@0.1.0, stage general) has no approval.given "
			    "audit row: it was written around sluice");
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
		cmocka_unit_test_setup_teardown(test_prune_never_inside_the_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_tail_is_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_proves_the_log_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_rows_need_their_audit_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pruned_state_rows_are_not_cross_checked, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
