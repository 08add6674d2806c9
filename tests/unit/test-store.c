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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/rollout.h"
#include "sluice/store.h"
#include "sluice/util.h"

#include "store-fixture.h"

#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"
#define C3 "3333333333333333333333333333333333333333"
#define T0 1796083200 /* 2026-12-01T00:00:00Z */

static int setup(void **state)
{
	/* a directory that does not exist yet: the store creates it */
	*state = fixture_open("sluice-store", "state/sub/sluice.db");
	return 0;
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
	char newer[64];
	snprintf(newer, sizeof newer, "PRAGMA user_version = %d", SLUICE_STORE_SCHEMA_VERSION + 1);
	assert_int_equal(raw_exec(f->path, newer), SQLITE_OK);
	assert_int_equal(sluice_store_open(&s2, f->path, 0), SLUICE_ESTORE);
	assert_null(s2);
	snprintf(want, sizeof want,
		 "database %s has schema version %d, newer than this sluice (%d); upgrade sluice",
		 f->path, SLUICE_STORE_SCHEMA_VERSION + 1, SLUICE_STORE_SCHEMA_VERSION);
	assert_string_equal(sluice_error_last(), want);
	assert_int_equal(sluice_store_open(&s2, f->path, SLUICE_STORE_READONLY), SLUICE_ESTORE);
	assert_string_equal(sluice_error_last(), want);
	/* nothing was changed by the refused opens */
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SLUICE_STORE_SCHEMA_VERSION + 1);
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
	assert_int_equal(sluice_store_tag_accept_move(f->s, "p", "v1.0.0", NULL, T0), SLUICE_EINVAL);
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

	assert_int_equal(sluice_store_tag_accept_move(f->s, "p", "v1.0.0", NULL, T0), SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "tag v1.0.0 of p has not moved"));
	assert_int_equal(sluice_store_tag_accept_move(f->s, "p", "v2.0.0", NULL, T0), SLUICE_ENOTFOUND);

	assert_int_equal(sluice_store_tag_observe(f->s, "p", "v1.0.0", C2, C3, "b@x", T0 + 5, &o), 0);
	assert_int_equal(o.status, SLUICE_TAG_MOVED);
	sluice_store_set_actor(f->s, "admin-ana");
	assert_int_equal(sluice_store_tag_accept_move(f->s, "p", "v1.0.0", NULL, T0 + 10), 0);

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
	assert_string_equal(details, "admin-ana {\"approvals_voided\":2,\"attestations_voided\":0,"
				     "\"commit\":\"" C2 "\",\"previous_commit\":\"" C1 "\","
				     "\"tag\":\"v1.0.0\"}");
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
	/* no id owned yet: the repository stands in */
	assert_string_equal(r.plugin, "acme/rev");
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
	/* naming an id in a check never gives it to the repository */
	assert_string_equal(r.plugin, "acme/rev");
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

/* The first repository whose release validated owns its plugin id; what
 * it recorded under its own name moves to the id; nobody else may take
 * it, nor an id that is not [a-z0-9][a-z0-9._-]{0,62}. */
static void test_source_claim(void **state)
{
	fixture *f = *state;
	sluice_source_row r;
	sluice_release_record rec = {"eng", "acme/rev", "0.1.0", "v0.1.0", C1, NULL, NULL, T0};

	assert_int_equal(sluice_store_source_checked(f->s, "acme/rev", "u", NULL, T0, "fp", NULL), 0);
	assert_int_equal(sluice_store_tag_observe(f->s, "acme/rev", "v0.1.0", C1, NULL, NULL, T0,
						  NULL), 0);
	assert_int_equal(sluice_store_release_record(f->s, &rec, NULL, NULL), 0);
	assert_int_equal(sluice_store_source_claim(f->s, "acme/rev", "rev", T0 + 1), 0);
	assert_int_equal(sluice_store_source_get(&r, f->s, "acme/rev"), 0);
	assert_string_equal(r.plugin, "rev");
	sluice_source_row_clear(&r);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM tags WHERE plugin = 'rev'"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM releases WHERE plugin = 'rev'"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'source.claimed'"
					  " AND plugin = 'rev'"), 1);
	/* again: nothing to do */
	assert_int_equal(sluice_store_source_claim(f->s, "acme/rev", "rev", T0 + 2), 0);

	int before = audit_rows(f->path);
	assert_int_equal(sluice_store_source_claim(f->s, "evil/rev", "rev", T0 + 3), SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "plugin id 'rev' belongs to repository acme/rev, the first whose release "
			    "validated; another repository cannot take it");
	assert_int_equal(sluice_store_source_claim(f->s, "acme/rev", "other", T0 + 3),
			 SLUICE_EREFUSED);
	assert_int_equal(sluice_store_source_claim(f->s, "acme/new", "Bad\x1b[31m", T0 + 3),
			 SLUICE_EREFUSED);
	assert_int_equal(sluice_store_source_claim(f->s, "acme/new", "", T0 + 3), SLUICE_EREFUSED);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sources WHERE plugin = 'rev'"), 1);
	assert_int_equal(audit_rows(f->path), before);
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

static void test_locked_by_another_program(void **state)
{
	fixture *f = *state;
	sqlite3 *other = NULL;
	struct timespec t0, t1;
	int64_t ms;

	/* another program holds the write lock; the store gives up after the
	 * busy wait in real time, with SLUICE_ESTORE (not EBUSY, which means
	 * a lease is held) naming the file */
	sluice_store_free(f->s);
	f->s = NULL;
	assert_int_equal(setenv("SLUICE_BUSY_TIMEOUT_MS", "300", 1), 0);
	assert_int_equal(sluice_store_open(&f->s, f->path, 0), 0);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(sluice_store_begin(f->s), SLUICE_ESTORE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 250 && ms < 3000);
	assert_non_null(strstr(sluice_error_last(), "is locked by another program (waited 0.3 s)"));
	assert_non_null(strstr(sluice_error_last(), f->path));
	assert_false(sluice_store_in_transaction(f->s));
	/* the lock gone, the same store works */
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sluice_store_begin(f->s), 0);
	assert_int_equal(sluice_store_commit(f->s), 0);
	sqlite3_close(other);
	assert_int_equal(unsetenv("SLUICE_BUSY_TIMEOUT_MS"), 0);
}

static void test_created_private_whatever_the_umask(void **state)
{
	fixture *f = *state;
	sluice_store *s2 = NULL;
	char *path = sluice_xasprintf("%s/state/deeper/s.db", f->dir);
	char *dir = sluice_xasprintf("%s/state/deeper", f->dir);
	struct stat st;
	mode_t old = umask(0);

	assert_int_equal(sluice_store_open(&s2, path, 0), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	sluice_store_free(s2);
	free(path);
	free(dir);
}

static void test_migrates_an_older_database(void **state)
{
	fixture *f = *state;

	/* make the file look like schema version 1 */
	sluice_store_free(f->s);
	f->s = NULL;
	assert_int_equal(raw_exec(f->path, "DROP VIEW v_telemetry_daily; DROP VIEW v_feedback_daily;"
					   " DROP VIEW v_gate_evaluations;"
					   " ALTER TABLE releases DROP COLUMN refused_reason;"
					   " DROP TABLE plugin_state; DROP TABLE secret_checks; DROP TABLE publish_state;"
					   " ALTER TABLE releases DROP COLUMN gate_wait_notice_at;"
					   " DROP TABLE telemetry_keys; DROP TABLE telemetry_events;"
					   " DROP TABLE telemetry_daily; DROP TABLE telemetry_latency;"
					   " ALTER TABLE attestations DROP COLUMN commit_id;"
					   " DROP TABLE telemetry_prune; DROP TABLE outbox;"
					   " PRAGMA user_version = 1"),
			 SQLITE_OK);
	/* an attestation from before they were bound to a commit */
	assert_int_equal(raw_exec(f->path, "INSERT INTO releases (workspace, plugin, version, tag,"
					   " commit_id, seen_at, updated_at) VALUES ('eng', 'rev', '0.1.0',"
					   " 'v0.1.0', '" C1 "', 1, 1);"
					   " INSERT INTO attestations (workspace, plugin, version, item,"
					   " actor, at) VALUES ('eng', 'rev', '0.1.0', 'contract-tests', 'ci', 1)"),
			 SQLITE_OK);
	assert_int_equal(sluice_store_open(&f->s, f->path, SLUICE_STORE_READONLY), SLUICE_ESTORE);
	assert_non_null(strstr(sluice_error_last(), "has schema version 1 and needs an upgrade"));
	if (sluice_store_open(&f->s, f->path, 0) != 0)
		fail_msg("%s", sluice_error_last());
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SLUICE_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('releases')"
					  " WHERE name = 'refused_reason'"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM attestations"
					  " WHERE commit_id = '" C1 "'"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('plugin_state')"
					  " WHERE name = 'sunset_withdrawn_for'"), 1);
}

static const char snapshot[] =
	"{\"stages\": [{\"name\": \"dogfood\", \"groups\": [\"devex\"], \"duration_days\": 7},"
	" {\"name\": \"general\", \"groups\": [\"eng\", \"ops\"], \"requires_approval\": true}],"
	" \"controls\": {\"allow_user_disable\": true}, \"risk\": 1,"
	" \"lifecycle\": {\"review_every_days\": 90}}";

static void record(sluice_store *s, const char *version, const char *commit, int64_t at)
{
	char tag[32];
	sluice_release_record r = {"eng", "rev", version, tag, commit, "dev@acme.example",
				   snapshot, at};
	bool created = false;
	int64_t id = 0;
	snprintf(tag, sizeof tag, "v%s", version);
	assert_int_equal(sluice_store_tag_observe(s, "rev", tag, commit, NULL, NULL, at, NULL), 0);
	assert_int_equal(sluice_store_release_record(s, &r, &id, &created), 0);
	assert_true(created);
	assert_true(id > 0);
}

static void test_load_plugin_state(void **state)
{
	fixture *f = *state;
	sluice_store_plugin_state *ps = NULL;
	sluice_approval_record ap = {"eng", "rev", "0.10.0", C2, "general", "lgtm", NULL};
	sluice_release_record again = {"eng", "rev", "0.9.0", "v0.9.0", C3, NULL, NULL, T0};
	bool created = true;

	record(f->s, "0.9.0", C1, T0);
	record(f->s, "0.10.0", C2, T0 + 10);
	record(f->s, "0.2.0", C3, T0 + 20);
	assert_int_equal(sluice_store_release_record(f->s, &again, NULL, &created), 0);
	assert_false(created);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'release.recorded'"),
			 3);
	sluice_store_set_actor(f->s, "admin-ana");
	assert_int_equal(sluice_store_approval_add(f->s, &ap, T0 + 30), 0);
	assert_int_equal(sluice_store_approval_add(f->s, &ap, T0 + 31), SLUICE_EINVAL);
	assert_string_equal(sluice_error_last(),
			    "admin-ana has already approved rev@0.10.0 for stage 'general'; nothing to do");
	assert_int_equal(sluice_store_release_set_refused(f->s, "eng", "rev", "0.2.0",
							  "permission secrets.read exceeds policy", T0), 0);
	assert_int_equal(sluice_store_tag_observe(f->s, "rev", "v0.9.0", C3, NULL, NULL, T0, NULL), 0);
	assert_int_equal(raw_exec(f->path, "INSERT INTO attestations (workspace, plugin, version, item,"
					   " actor, at, commit_id) VALUES"
					   " ('eng', 'rev', '0.10.0', 'security-review', 'ben', 1, '" C2 "'),"
					   " ('eng', 'rev', '0.10.0', 'contract-tests', 'ci', 1, '" C2 "'),"
					   /* made for another commit: does not count */
					   " ('eng', 'rev', '0.10.0', 'docs-review', 'ci', 1, '" C1 "')"),
			 SQLITE_OK);

	assert_int_equal(sluice_store_load_plugin_state(&ps, f->s, "eng", "rev"), 0);
	assert_string_equal(ps->plugin.id, "rev");
	assert_int_equal(ps->plugin.nreleases, 3);
	const sluice_rollout_release *r9 = &ps->plugin.releases[0], *r10 = &ps->plugin.releases[1],
				     *r2 = &ps->plugin.releases[2];
	assert_string_equal(r9->version, "0.9.0");
	/* SemVer order, not text order: 0.2.0 < 0.9.0 < 0.10.0 */
	assert_int_equal(r2->rank, 1);
	assert_int_equal(r9->rank, 2);
	assert_int_equal(r10->rank, 3);
	assert_int_equal(r10->state, SLUICE_RELEASE_PENDING);
	assert_int_equal(r10->stage_index, -1);
	assert_string_equal(r10->commit, C2);
	assert_string_equal(r10->tagger_email, "dev@acme.example");
	assert_int_equal(r10->nstages, 2);
	assert_string_equal(r10->stages[1].name, "general");
	assert_int_equal(r10->stages[1].ngroups, 2);
	assert_string_equal(r10->stages[1].groups[1], "ops");
	assert_int_equal(r10->stages[0].duration_days, 7);
	assert_true(r10->stages[1].requires_approval);
	assert_false(r10->require_admin_approval);
	assert_true(r10->allow_user_disable);
	assert_int_equal(r10->risk, 1);
	assert_int_equal(r10->nchecklist_done, 2);
	assert_string_equal(r10->checklist_done[0], "contract-tests");
	assert_false(r10->tag_moved);
	assert_true(r9->tag_moved);
	assert_string_equal(r9->moved_to_commit, C3);
	assert_true(r2->refused);
	assert_string_equal(r2->refused_reason, "permission secrets.read exceeds policy");
	/* the lifecycle stays with its release: which one counts is the
	 * planner's rule */
	assert_int_equal(r10->review_every_days, 90);
	assert_int_equal(ps->plugin.review_every_days, 0);
	assert_false(ps->plugin.withdrawn);
	assert_int_equal(ps->napprovals, 1);
	assert_string_equal(ps->approvals[0].approver, "admin-ana");
	assert_string_equal(ps->approvals[0].commit, C2);
	assert_string_equal(ps->approvals[0].stage, "general");
	assert_false(ps->approvals[0].voided);
	sluice_store_plugin_state_free(ps);

	/* nothing recorded: an empty plugin */
	assert_int_equal(sluice_store_load_plugin_state(&ps, f->s, "eng", "none"), 0);
	assert_int_equal(ps->plugin.nreleases, 0);
	assert_int_equal(ps->napprovals, 0);
	sluice_store_plugin_state_free(ps);
}

static void test_apply_actions_all_or_nothing(void **state)
{
	fixture *f = *state;
	sluice_rollout_action acts[2] = {
		{.kind = SLUICE_ACTION_START_STAGE, .plugin = "rev", .version = "0.1.0",
		 .commit = C1, .stage_index = 0, .stage = "dogfood", .reason = "first stage",
		 .at = T0 + 5},
		{.kind = SLUICE_ACTION_SKIP_RELEASE, .plugin = "rev", .version = "0.0.9",
		 .reason = "0.1.0 is newer", .at = T0 + 5},
	};
	sluice_plan plan = {acts, 2, NULL, 0};
	int64_t before;

	record(f->s, "0.1.0", C1, T0);
	before = audit_rows(f->path);
	/* 0.0.9 was never recorded: the whole plan fails, the stage start too */
	assert_int_equal(sluice_store_apply_actions(f->s, "eng", &plan, NULL, false, T0),
			 SLUICE_ENOTFOUND);
	assert_string_equal(sluice_error_last(), "release rev@0.0.9 is not recorded in eng");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM stage_starts"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM releases WHERE stage_index IS NULL"
					  " AND state = 'pending'"), 1);
	assert_int_equal(audit_rows(f->path), before);

	plan.nactions = 1;
	assert_int_equal(sluice_store_apply_actions(f->s, "eng", &plan, NULL, false, T0), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM stage_starts WHERE stage_index = 0"
					  " AND stage_name = 'dogfood' AND started_by = 'controller'"
					  " AND started_at = 1796083205"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM releases WHERE stage_index = 0"
					  " AND state = 'in_progress' AND stage_started_at = 1796083205"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'stage.started'"
					  " AND json_extract(details, '$.stage') = 'dogfood'"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM v_rollouts WHERE stage = 'dogfood'"
					  " AND stage_started_at = '2026-12-01T00:00:05Z'"), 1);

	/* the same plan again (another reconcile got there first): refused */
	assert_int_equal(sluice_store_apply_actions(f->s, "eng", &plan, NULL, false, T0), SLUICE_EBUSY);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM stage_starts"), 1);
	/* a plan for another plugin is not applied with a plugin filter */
	assert_int_equal(sluice_store_apply_actions(f->s, "eng", &plan, "other", false, T0), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM stage_starts"), 1);
}

static void test_plan_apply_round_trip(void **state)
{
	fixture *f = *state;
	static const char *const ana_emails[] = {"ana@acme.example"};
	sluice_rollout_admin admins[] = {{"admin-ana", 1 /* approver */, ana_emails, 1}};
	sluice_approval_record ap = {"eng", "rev", "0.1.0", C1, "general", NULL, NULL};
	sluice_store_plugin_state *ps = NULL;
	sluice_rollout_input in;
	sluice_plan *plan = NULL;
	int64_t day = 86400;

	record(f->s, "0.1.0", C1, T0);
	/* day 0: the first stage starts; day 3: soaking; day 8: needs approval;
	 * then approved: the last stage starts and the release completes */
	const int64_t days[] = {0, 3, 8, 8};
	const size_t want_actions[] = {1, 0, 0, 2};
	for (size_t step = 0; step < 4; step++) {
		if (step == 3) {
			sluice_store_set_actor(f->s, "admin-ana");
			assert_int_equal(sluice_store_approval_add(f->s, &ap, T0 + 8 * day), 0);
			sluice_store_set_actor(f->s, "controller");
		}
		assert_int_equal(sluice_store_begin(f->s), 0);
		assert_int_equal(sluice_store_load_plugin_state(&ps, f->s, "eng", "rev"), 0);
		memset(&in, 0, sizeof in);
		in.plugins = &ps->plugin;
		in.nplugins = 1;
		in.approvals = ps->approvals;
		in.napprovals = ps->napprovals;
		in.rules.min_approvals[0] = in.rules.min_approvals[1] = in.rules.min_approvals[2] = 1;
		in.rules.admins = admins;
		in.rules.nadmins = 1;
		in.now = T0 + days[step] * day;
		assert_int_equal(sluice_rollout_plan(&plan, &in), 0);
		assert_int_equal(plan->nactions, want_actions[step]);
		assert_int_equal(sluice_store_apply_actions(f->s, "eng", plan, "rev", false, in.now), 0);
		assert_int_equal(sluice_store_commit(f->s), 0);
		sluice_rollout_plan_free(plan);
		sluice_store_plugin_state_free(ps);
	}
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM stage_starts"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM releases WHERE state = 'complete'"
					  " AND stage_index = 1"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action IN"
					  " ('stage.started', 'release.completed')"), 3);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM v_approvals WHERE approver = 'admin-ana'"
					  " AND live = 1 AND kind = 'approval'"), 1);
}

static void test_workspace_freeze(void **state)
{
	fixture *f = *state;
	bool frozen = true;
	char *reason = NULL;

	assert_int_equal(sluice_store_workspace_frozen(&frozen, &reason, f->s, "eng"), 0);
	assert_false(frozen);
	sluice_store_set_actor(f->s, "admin-ana");
	assert_int_equal(sluice_store_workspace_freeze(f->s, "eng", true, "incident 42", T0), 0);
	assert_int_equal(sluice_store_workspace_frozen(&frozen, &reason, f->s, "eng"), 0);
	assert_true(frozen);
	assert_string_equal(reason, "incident 42");
	free(reason);
	assert_int_equal(sluice_store_workspace_freeze(f->s, "eng", false, NULL, T0 + 1), 0);
	assert_int_equal(sluice_store_workspace_frozen(&frozen, &reason, f->s, "eng"), 0);
	assert_false(frozen);
	assert_null(reason);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE actor = 'admin-ana' AND"
					  " action IN ('workspace.frozen', 'workspace.unfrozen')"), 2);
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
		cmocka_unit_test_setup_teardown(test_source_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_writer_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_by_another_program, setup, teardown),
		cmocka_unit_test_setup_teardown(test_created_private_whatever_the_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrates_an_older_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_plugin_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_actions_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_apply_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workspace_freeze, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
