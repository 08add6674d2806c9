/* Backup and restore of the whole database (store-backup.c): a backup is
 * a private, self-contained, verified copy; a restore refuses a backup it
 * cannot trust and a held lease, changing nothing, migrates an older one,
 * and audits itself in the restored log. */
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
#include <unistd.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

#include "store-fixture.h"

#define T0 1796083200 /* 2026-12-01T00:00:00Z */

static int setup(void **state)
{
	fixture *f = fixture_open("sluice-backup", "sluice.db");
	for (int i = 0; i < 5; i++)
		assert_int_equal(sluice_audit_appendf(f->s, T0 + i, "test.row", "rev", "0.1.0",
						      "{s:i}", "n", i),
				 0);
	*state = f;
	return 0;
}

static char *in_dir(const fixture *f, const char *name)
{
	return sluice_xasprintf("%s/%s", f->dir, name);
}

static void backup_ok(const fixture *f, const char *path, sluice_store_backup_info *info)
{
	if (sluice_store_backup(info, f->s, path) != 0)
		fail_msg("backup: %s", sluice_error_last());
}

static void test_backup_is_a_verified_private_copy(void **state)
{
	fixture *f = *state;
	char *b = in_dir(f, "b.db"), *tmp = in_dir(f, "b.db.tmp"), *wal = in_dir(f, "b.db-wal");
	char hash[SLUICE_AUDIT_HASH_SZ];
	sluice_store_backup_info info;
	struct stat st;
	int64_t id = 0;

	backup_ok(f, b, &info);
	assert_int_equal(sluice_audit_head(f->s, &id, hash), 0);
	assert_int_equal(info.head_id, id);
	assert_string_equal(info.head_hash, hash);
	assert_int_equal(info.audit_rows, 5);
	assert_int_equal(info.schema_version, SLUICE_STORE_SCHEMA_VERSION);
	assert_int_equal(stat(b, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_not_equal(access(tmp, F_OK), 0);
	assert_int_not_equal(access(wal, F_OK), 0);
	assert_int_equal(raw_int(b, "SELECT count(*) FROM audit"), 5);
	/* a second backup replaces the first */
	assert_int_equal(sluice_audit_appendf(f->s, T0 + 9, "test.row", NULL, NULL, NULL), 0);
	backup_ok(f, b, &info);
	assert_int_equal(raw_int(b, "SELECT count(*) FROM audit"), 6);
	free(b);
	free(tmp);
	free(wal);
}

static void test_backup_refuses_the_database_itself(void **state)
{
	fixture *f = *state;
	sluice_store_backup_info info;

	assert_int_equal(sluice_store_backup(&info, f->s, f->path), SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "is the database itself"));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 5);
}

static void test_restore_round_trip(void **state)
{
	fixture *f = *state;
	char *b = in_dir(f, "b.db");
	sluice_store_backup_info info, back;
	sluice_audit_report r;

	backup_ok(f, b, &info);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sluice_audit_appendf(f->s, T0 + 10 + i, "test.later", NULL, NULL,
						      NULL),
				 0);
	if (sluice_store_backup_restore(&back, f->s, b, false, T0 + 20) != 0)
		fail_msg("restore: %s", sluice_error_last());
	assert_int_equal(back.head_id, info.head_id);
	assert_string_equal(back.head_hash, info.head_hash);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'test.later'"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), 6);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE id = 6"
					  " AND action = 'database.restored'"),
			 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM leases"), 0);
	assert_int_equal(sluice_audit_verify(f->s, &r), 0);
	assert_true(r.ok);
	free(b);
}

/* restore: refused with SLUICE_EINVAL and the message, nothing changed */
static void expect_refused(fixture *f, const char *path, const char *message)
{
	sluice_store_backup_info info;
	int64_t rows = raw_int(f->path, "SELECT count(*) FROM audit");
	char *copy = sluice_xasprintf("%s.restore", f->path);

	assert_int_equal(sluice_store_backup_restore(&info, f->s, path, false, T0 + 20),
			 SLUICE_EINVAL);
	if (!strstr(sluice_error_last(), message))
		fail_msg("'%s' lacks '%s'", sluice_error_last(), message);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit"), rows);
	assert_int_not_equal(access(copy, F_OK), 0);
	free(copy);
}

static void test_restore_refuses_what_it_cannot_trust(void **state)
{
	fixture *f = *state;
	char *b = in_dir(f, "b.db"), *t = in_dir(f, "t.db"), *other = in_dir(f, "other.db");
	char *cmd;
	sluice_store_backup_info info;

	backup_ok(f, b, &info);
	cmd = sluice_xasprintf("cp '%s' '%s'", b, t);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(raw_exec(t, "DROP TRIGGER audit_no_update;"
				     " UPDATE audit SET actor = 'mallory' WHERE id = 3;"
				     " CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
				     " BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"),
			 SQLITE_OK);
	expect_refused(f, t, "does not verify at row 3");
	assert_int_equal(system(cmd), 0);
	assert_int_equal(raw_exec(t, "DROP TRIGGER audit_no_delete"), SQLITE_OK);
	expect_refused(f, t, "trigger audit_no_delete");
	assert_int_equal(system(cmd), 0);
	assert_int_equal(raw_exec(t, "PRAGMA user_version = 999"), SQLITE_OK);
	expect_refused(f, t, "schema version 999, newer than this sluice");
	assert_int_equal(raw_exec(other, "CREATE TABLE t (x)"), SQLITE_OK);
	expect_refused(f, other, "is not a sluice database (application id 0");
	expect_refused(f, f->path, "is the database itself");
	free(cmd);
	free(b);
	free(t);
	free(other);
}

static void test_restore_migrates_an_older_backup(void **state)
{
	fixture *f = *state;
	char *b = in_dir(f, "b.db");
	sluice_store_backup_info info;

	backup_ok(f, b, &info);
	/* make the backup look like schema version 1, as test-store.c does */
	assert_int_equal(raw_exec(b, "DROP VIEW v_telemetry_daily; DROP VIEW v_feedback_daily;"
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
	if (sluice_store_backup_restore(&info, f->s, b, false, T0 + 20) != 0)
		fail_msg("restore: %s", sluice_error_last());
	assert_int_equal(info.schema_version, 1);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SLUICE_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('releases')"
					  " WHERE name = 'refused_reason'"),
			 1);
	/* the backup file itself is left as it was */
	assert_int_equal(raw_int(b, "PRAGMA user_version"), 1);
	free(b);
}

static void test_restore_waits_for_no_lease(void **state)
{
	fixture *f = *state;
	char *b = in_dir(f, "b.db");
	sluice_store_backup_info info;

	backup_ok(f, b, &info);
	/* a daemon on another host holds the lease for 10 more minutes */
	assert_int_equal(raw_exec(f->path,
				  "INSERT INTO leases (name, holder, pid, host, acquired_at, expires_at)"
				  " VALUES ('daemon', '1@elsewhere', 1, 'elsewhere',"
				  " strftime('%s','now'), strftime('%s','now') + 600)"),
			 SQLITE_OK);
	assert_int_equal(sluice_audit_appendf(f->s, T0 + 10, "test.later", NULL, NULL, NULL), 0);
	assert_int_equal(sluice_store_backup_restore(&info, f->s, b, false, T0 + 20), SLUICE_EBUSY);
	assert_non_null(strstr(sluice_error_last(), "the daemon lease is held by 1@elsewhere"));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'test.later'"), 1);
	if (sluice_store_backup_restore(&info, f->s, b, true, T0 + 20) != 0)
		fail_msg("restore --force: %s", sluice_error_last());
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action = 'test.later'"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM leases"), 0);
	assert_int_equal(raw_int(f->path, "SELECT json_extract(details, '$.forced') FROM audit"
					  " WHERE action = 'database.restored'"),
			 1);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_is_a_verified_private_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_refuses_the_database_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_refuses_what_it_cannot_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_migrates_an_older_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_waits_for_no_lease, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
