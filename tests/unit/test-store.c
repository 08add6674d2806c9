/* The store: open and migrate, refusal of foreign and newer databases,
 * transactions, sources and the tag trust records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"
#define C3 "3333333333333333333333333333333333333333"
#define T0 1796083200 /* 2026-12-01T00:00:00Z */

typedef struct {
	char dir[64];
	char *path;
	sluice_store *s;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/sluice-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->path = sluice_xasprintf("%s/state/sub/sluice.db", f->dir);
	assert_int_equal(sluice_store_open(&f->s, f->path, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char *cmd = sluice_xasprintf("rm -rf '%s'", f->dir);
	sluice_store_free(f->s);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->path);
	free(f);
	return 0;
}

/* Runs SQL on the file directly, as another program (or an attacker)
 * would; returns SQLite's result code. */
static int raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return rc;
}

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *raw_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *v = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = sluice_xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_open_creates_and_migrates(void **state)
{
	fixture *f = *state;
	sluice_store *again = NULL;
	char *jm;

	assert_int_equal(access(f->path, F_OK), 0);
	assert_int_equal(sluice_store_schema_version(f->s), SLUICE_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SLUICE_STORE_SCHEMA_VERSION);
	jm = raw_text(f->path, "PRAGMA journal_mode");
	assert_string_equal(jm, "wal");
	free(jm);
	/* every table and view the schema promises */
	assert_int_equal(raw_int(f->path,
				 "SELECT count(*) FROM sqlite_schema WHERE name IN ("
				 "'sources','tags','releases','stage_starts','approvals',"
				 "'rejections','attestations','user_optouts','workspace_state',"
				 "'leases','withdrawals','audit','audit_prune',"
				 "'v_rollouts','v_approvals','v_audit','v_stage_starts')"),
			 17);

	/* re-open: no migration runs again, nothing changes */
	assert_int_equal(sluice_store_open(&again, f->path, 0), 0);
	assert_int_equal(sluice_store_schema_version(again), SLUICE_STORE_SCHEMA_VERSION);
	sluice_store_free(again);
	assert_int_equal(sluice_store_open(&again, f->path, SLUICE_STORE_READONLY), 0);
	sluice_store_free(again);
	assert_int_equal(sluice_store_integrity_check(f->s), 0);
}

static void test_newer_schema_refused(void **state)
{
	fixture *f = *state;
	sluice_store *s2 = (sluice_store *)1;
	char want[512];

	sluice_store_free(f->s);
	f->s = NULL;
	assert_int_equal(raw_exec(f->path, "PRAGMA user_version = 7"), SQLITE_OK);
	assert_int_equal(sluice_store_open(&s2, f->path, 0), SLUICE_ESTORE);
	assert_null(s2);
	snprintf(want, sizeof want,
		 "database %s has schema version 7, newer than this sluice (%d); upgrade sluice",
		 f->path, SLUICE_STORE_SCHEMA_VERSION);
	assert_string_equal(sluice_error_last(), want);
	assert_int_equal(sluice_store_open(&s2, f->path, SLUICE_STORE_READONLY), SLUICE_ESTORE);
	assert_string_equal(sluice_error_last(), want);
	/* nothing was changed by the refused opens */
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 7);
}

static void test_foreign_database_refused(void **state)
{
	fixture *f = *state;
	sluice_store *s2 = NULL;
	char *other = sluice_xasprintf("%s/other.db", f->dir);
	char *notdb = sluice_xasprintf("%s/notdb", f->dir);
	FILE *fp;

	assert_int_equal(raw_exec(other, "CREATE TABLE t (x)"), SQLITE_OK);
	assert_int_equal(sluice_store_open(&s2, other, 0), SLUICE_ESTORE);
	assert_non_null(strstr(sluice_error_last(), "is a SQLite database of another program"));
	assert_int_equal(raw_int(other, "SELECT count(*) FROM sqlite_schema"), 1);

	fp = fopen(notdb, "w");
	fputs("this is not a database, just some text that is long enough to look like a header\n",
	      fp);
	fclose(fp);
	assert_int_equal(sluice_store_open(&s2, notdb, 0), SLUICE_ESTORE);
	assert_non_null(strstr(sluice_error_last(), "file is not a database"));
	assert_non_null(strstr(sluice_error_last(), notdb));
	free(other);
	free(notdb);
}

static void test_readonly_missing(void **state)
{
	fixture *f = *state;
	sluice_store *s2 = NULL;
	char *missing = sluice_xasprintf("%s/nope/sluice.db", f->dir);
	char want[512];

	assert_int_equal(sluice_store_open(&s2, missing, SLUICE_STORE_READONLY), SLUICE_ENOTFOUND);
	snprintf(want, sizeof want, "no database at %s yet; run 'sluice reconcile' to create it",
		 missing);
	assert_string_equal(sluice_error_last(), want);
	assert_int_not_equal(access(missing, F_OK), 0);
	free(missing);
}

static int64_t audit_rows(const char *path)
{
	return raw_int(path, "SELECT count(*) FROM audit");
}

static void test_rollback_leaves_rows_unchanged(void **state)
{
	fixture *f = *state;
	sluice_stored_tag row;

	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C1, NULL, NULL, T0, NULL), 0);
	assert_int_equal(audit_rows(f->path), 1);

	assert_int_equal(sluice_store_begin(f->s), 0);
	assert_true(sluice_store_in_transaction(f->s));
	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v2.0.0", C2, NULL, NULL, T0, NULL), 0);
	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C3, NULL, NULL, T0, NULL), 0);
	assert_int_equal(sluice_store_rollback(f->s), 0);
	assert_false(sluice_store_in_transaction(f->s));

	assert_int_equal(sluice_store_tag_get(&row, f->s, "p", "v2.0.0"), SLUICE_ENOTFOUND);
	assert_int_equal(sluice_store_tag_get(&row, f->s, "p", "v1.0.0"), 0);
	assert_string_equal(row.commit, C1);
	assert_string_equal(row.moved_to, "");
	sluice_stored_tag_clear(&row);
	assert_int_equal(audit_rows(f->path), 1);

	/* commit keeps both the change and its audit row */
	assert_int_equal(sluice_store_begin(f->s), 0);
	assert_int_equal(sluice_store_begin(f->s), SLUICE_ERROR); /* no nesting */
	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v2.0.0", C2, NULL, NULL, T0, NULL), 0);
	assert_int_equal(sluice_store_commit(f->s), 0);
	assert_int_equal(audit_rows(f->path), 2);
}

static void test_failed_unit_rolls_back_inside_transaction(void **state)
{
	fixture *f = *state;

	/* a failing call inside the caller's transaction undoes only itself */
	assert_int_equal(sluice_store_begin(f->s), 0);
	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C1, NULL, NULL, T0, NULL), 0);
	assert_int_equal(sluice_store_tag_accept_move(f->s, "p", "v1.0.0", T0), SLUICE_EINVAL);
	assert_int_equal(sluice_store_tag_mark_deleted(f->s, "p", "v9.9.9", T0), SLUICE_ENOTFOUND);
	assert_int_equal(sluice_store_commit(f->s), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM tags"), 1);
	assert_int_equal(audit_rows(f->path), 1);
}

static void test_tag_observe(void **state)
{
	fixture *f = *state;
	sluice_tag_observation o;
	sluice_stored_tag row;
	sluice_stored_tag_list list;
	char *action;

	/* first seen: recorded */
	assert_int_equal(sluice_store_tag_observe(f->s, "rev", "v0.1.0", C1, C3, "Dev@Acme.example",
						  T0, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_NEW);
	assert_string_equal(o.commit, C1);
	assert_string_equal(o.tag_object, C3);
	assert_int_equal(o.first_seen_at, T0);
	action = raw_text(f->path, "SELECT action || ' ' || version || ' ' || details FROM audit");
	assert_string_equal(action, "tag.recorded 0.1.0 {\"commit\":\"" C1 "\",\"tag\":\"v0.1.0\","
				    "\"tag_object\":\"" C3 "\",\"tagger_email\":\"Dev@Acme.example\"}");
	free(action);

	/* seen again at the same commit: nothing new */
	assert_int_equal(sluice_store_tag_observe(f->s, "rev", "v0.1.0", C1, C3, NULL, T0 + 60, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_SAME);
	assert_string_equal(o.commit, C1);
	assert_int_equal(o.first_seen_at, T0);
	assert_int_equal(audit_rows(f->path), 1);

	/* moved: reported with the recorded commit, audited once */
	assert_int_equal(sluice_store_tag_observe(f->s, "rev", "v0.1.0", C2, NULL, "x@acme.example",
						  T0 + 120, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_MOVED);
	assert_string_equal(o.commit, C1);
	assert_string_equal(o.moved_to, C2);
	assert_int_equal(sluice_store_tag_observe(f->s, "rev", "v0.1.0", C2, NULL, NULL, T0 + 180, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_MOVED);
	assert_string_equal(o.commit, C1);
	assert_int_equal(audit_rows(f->path), 2);
	action = raw_text(f->path, "SELECT details FROM audit WHERE action = 'tag.moved'");
	assert_non_null(strstr(action, "\"recorded_commit\":\"" C1 "\""));
	assert_non_null(strstr(action, "\"new_commit\":\"" C2 "\""));
	free(action);

	/* moving back does not restore trust: still MOVED until accepted */
	assert_int_equal(sluice_store_tag_observe(f->s, "rev", "v0.1.0", C1, C3, NULL, T0 + 240, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_MOVED);
	assert_string_equal(o.moved_to, C1);
	assert_int_equal(audit_rows(f->path), 3);

	/* the record itself */
	assert_int_equal(sluice_store_tag_get(&row, f->s, "rev", "v0.1.0"), 0);
	assert_string_equal(row.commit, C1);
	assert_string_equal(row.tagger_email, "Dev@Acme.example");
	assert_int_equal(row.moved_at, T0 + 240);
	sluice_stored_tag_clear(&row);

	/* other plugins and tags are separate */
	assert_int_equal(sluice_store_tag_observe(f->s, "rev", "v0.2.0", C2, NULL, NULL, T0, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_NEW);
	assert_int_equal(sluice_store_tag_observe(f->s, "other", "v0.1.0", C2, NULL, NULL, T0, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_NEW);
	assert_int_equal(sluice_store_tag_list(&list, f->s, "rev"), 0);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.items[0].tag, "v0.1.0");
	assert_string_equal(list.items[1].tag, "v0.2.0");
	sluice_stored_tag_list_clear(&list);

	/* bad input changes nothing */
	assert_int_equal(sluice_store_tag_observe(f->s, "rev", "v0.3.0", "", NULL, NULL, T0, &o),
			 SLUICE_EINVAL);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM tags"), 3);
}

static void test_tag_deleted_and_restored(void **state)
{
	fixture *f = *state;
	sluice_tag_observation o;
	sluice_stored_tag row;

	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C1, NULL, NULL, T0, &o), 0);
	assert_int_equal(sluice_store_tag_mark_deleted(f->s, "p", "v1.0.0", T0 + 10), 0);
	assert_int_equal(sluice_store_tag_mark_deleted(f->s, "p", "v1.0.0", T0 + 20), 0);
	assert_int_equal(sluice_store_tag_get(&row, f->s, "p", "v1.0.0"), 0);
	assert_int_equal(row.deleted_at, T0 + 10);
	sluice_stored_tag_clear(&row);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'tag.deleted'"), 1);

	assert_int_equal(sluice_store_tag_mark_deleted(f->s, "p", "v7.0.0", T0), SLUICE_ENOTFOUND);
	assert_string_equal(sluice_error_last(),
			    "tag v7.0.0 of p has never been seen; run 'sluice fetch p'");

	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C1, NULL, NULL, T0 + 30, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_SAME);
	assert_true(o.was_deleted);
	assert_int_equal(sluice_store_tag_get(&row, f->s, "p", "v1.0.0"), 0);
	assert_int_equal(row.deleted_at, 0);
	sluice_stored_tag_clear(&row);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'tag.restored'"), 1);
}

static void test_tag_accept_move(void **state)
{
	fixture *f = *state;
	sluice_tag_observation o;
	sluice_stored_tag row;
	char *details;

	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C1, NULL, "a@x", T0, &o), 0);
	/* a release and two approvals bound to the first commit (rows made
	 * directly: this test is about the tag, not the release API) */
	assert_int_equal(raw_exec(f->path,
				  "INSERT INTO releases (workspace, plugin, version, tag, commit_id,"
				  " tagger_email, seen_at, updated_at) VALUES"
				  " ('eng', 'p', '1.0.0', 'v1.0.0', '" C1 "', 'a@x', 1, 1);"
				  "INSERT INTO approvals (workspace, plugin, version, commit_id, stage,"
				  " approver, at) VALUES ('eng', 'p', '1.0.0', '" C1 "', 's1', 'ana', 1),"
				  " ('eng', 'p', '1.0.0', '" C1 "', 's1', 'ben', 1),"
				  " ('eng', 'p', '2.0.0', '" C2 "', 's1', 'ben', 1)"),
			 SQLITE_OK);

	assert_int_equal(sluice_store_tag_accept_move(f->s, "p", "v1.0.0", T0), SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "tag v1.0.0 of p has not moved"));
	assert_int_equal(sluice_store_tag_accept_move(f->s, "p", "v2.0.0", T0), SLUICE_ENOTFOUND);

	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C2, C3, "b@x", T0 + 5, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_MOVED);
	sluice_store_set_actor(f->s, "admin-ana");
	assert_int_equal(sluice_store_tag_accept_move(f->s, "p", "v1.0.0", T0 + 10), 0);

	assert_int_equal(sluice_store_tag_get(&row, f->s, "p", "v1.0.0"), 0);
	assert_string_equal(row.commit, C2);
	assert_string_equal(row.tag_object, C3);
	assert_string_equal(row.moved_to, "");
	assert_string_equal(row.tagger_email, "b@x");
	assert_int_equal(row.move_accepted_at, T0 + 10);
	sluice_stored_tag_clear(&row);

	/* the release follows, its approvals are void, others untouched */
	details = raw_text(f->path, "SELECT commit_id || ' ' || tagger_email FROM releases");
	assert_string_equal(details, C2 " b@x");
	free(details);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM approvals WHERE voided_at = "
					  "1796083210 AND version = '1.0.0'"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM approvals WHERE voided_at IS NULL"), 1);
	details = raw_text(f->path, "SELECT actor || ' ' || details FROM audit WHERE action = "
				    "'tag.move_accepted'");
	assert_string_equal(details, "admin-ana {\"approvals_voided\":2,\"commit\":\"" C2 "\","
				     "\"previous_commit\":\"" C1 "\",\"tag\":\"v1.0.0\"}");
	free(details);

	/* now trusted at the new commit */
	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C2, C3, NULL, T0 + 20, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_SAME);
	assert_string_equal(o.commit, C2);
}

static void test_sources(void **state)
{
	fixture *f = *state;
	sluice_source_row r;

	assert_int_equal(sluice_store_source_get(&r, f->s, "acme/rev"), SLUICE_ENOTFOUND);
	assert_int_equal(sluice_store_source_checked(f->s, "acme/rev", "file:///g/rev.git", NULL, T0,
						     "fp1", NULL), 0);
	assert_int_equal(sluice_store_source_get(&r, f->s, "acme/rev"), 0);
	assert_string_equal(r.url, "file:///g/rev.git");
	assert_null(r.plugin);
	assert_int_equal(r.last_ok_at, T0);
	assert_string_equal(r.refs_fingerprint, "fp1");
	assert_null(r.last_error);
	sluice_source_row_clear(&r);

	/* a failure keeps the last good state and is audited once */
	assert_int_equal(sluice_store_source_checked(f->s, "acme/rev", "file:///g/rev.git", "rev",
						     T0 + 60, NULL, "cannot connect"), 0);
	assert_int_equal(sluice_store_source_checked(f->s, "acme/rev", "file:///g/rev.git", NULL,
						     T0 + 120, "ignored", "cannot connect"), 0);
	assert_int_equal(sluice_store_source_get(&r, f->s, "acme/rev"), 0);
	assert_string_equal(r.plugin, "rev");
	assert_int_equal(r.last_checked_at, T0 + 120);
	assert_int_equal(r.last_ok_at, T0);
	assert_string_equal(r.last_error, "cannot connect");
	assert_string_equal(r.refs_fingerprint, "fp1");
	sluice_source_row_clear(&r);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'source.unreachable'"),
			 1);

	/* recovery; a NULL fingerprint keeps the old one */
	assert_int_equal(sluice_store_source_checked(f->s, "acme/rev", "file:///g/rev.git", NULL,
						     T0 + 180, NULL, NULL), 0);
	assert_int_equal(sluice_store_source_get(&r, f->s, "acme/rev"), 0);
	assert_int_equal(r.last_ok_at, T0 + 180);
	assert_null(r.last_error);
	assert_string_equal(r.refs_fingerprint, "fp1");
	sluice_source_row_clear(&r);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'source.recovered'"),
			 1);
	assert_int_equal(audit_rows(f->path), 2);
}

static void test_second_writer_waits(void **state)
{
	fixture *f = *state;
	sluice_store *s2 = NULL;

	/* A reader on another handle is not blocked by a writer (WAL), and the
	 * writer's changes become visible when it commits. */
	assert_int_equal(sluice_store_open(&s2, f->path, SLUICE_STORE_READONLY), 0);
	assert_int_equal(sluice_store_begin(f->s), 0);
	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C1, NULL, NULL, T0, NULL), 0);
	sluice_stored_tag row;
	assert_int_equal(sluice_store_tag_get(&row, s2, "p", "v1.0.0"), SLUICE_ENOTFOUND);
	assert_int_equal(sluice_store_commit(f->s), 0);
	assert_int_equal(sluice_store_tag_get(&row, s2, "p", "v1.0.0"), 0);
	sluice_stored_tag_clear(&row);
	sluice_store_free(s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_and_migrates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_database_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_rows_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_unit_rolls_back_inside_transaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tag_observe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_deleted_and_restored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_accept_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_writer_waits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
