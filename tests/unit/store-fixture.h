/* Shared by the store's unit tests (test-store.c, test-audit.c,
 * test-store-ops.c): a fresh database in its own temporary directory, and
 * SQL run straight on the file, as another program or an attacker with
 * write access would. Include after <cmocka.h> and <sqlite3.h>. */
#ifndef SLUICE_TEST_STORE_FIXTURE_H
#define SLUICE_TEST_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/store.h"
#include "sluice/util.h"

typedef struct {
	char dir[64];
	char *path;
	sluice_store *s;
} fixture;

/* Opens a new store at <tmpdir>/<rel>; the directory's name starts with
 * `prefix` so a leftover one says which test made it. */
static inline fixture *fixture_open(const char *prefix, const char *rel)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/%s.XXXXXX", prefix);
	assert_non_null(mkdtemp(f->dir));
	f->path = sluice_xasprintf("%s/%s", f->dir, rel);
	assert_int_equal(sluice_store_open(&f->s, f->path, 0), 0);
	return f;
}

static inline int teardown(void **state)
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

/* SQLite's message of the last raw_exec, "" when it succeeded. */
static char errbuf[256];

/* Runs SQL on the file directly; returns SQLite's result code. */
static inline int raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc = sqlite3_open(path, &db);
	errbuf[0] = '\0';
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	}
	if (err)
		snprintf(errbuf, sizeof errbuf, "%s", err);
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

/* The integer of the first row's first column; -1 when there is no row. */
static inline int64_t raw_int(const char *path, const char *sql)
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

#endif
