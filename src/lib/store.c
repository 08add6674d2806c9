/* The store: opening the database, transactions, statement cache and the
 * small helpers the other store*.c files share. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/error.h"
#include "sluice/util.h"
#include "store-internal.h"

/* PRAGMA application_id: "SLCE", so a database of another program is never
 * mistaken for ours (and migrated into). */
#define STORE_APPLICATION_ID 0x534c4345

/* How long a statement waits, in real time, for a lock another connection
 * holds: 30 s (docs/operations.md), less when SLUICE_BUSY_TIMEOUT_MS says
 * so (tests). */
#define STORE_BUSY_MAX_MS 30000

static int64_t busy_timeout_ms(void)
{
	const char *v = getenv("SLUICE_BUSY_TIMEOUT_MS");
	char *end = NULL;
	long long ms;

	if (!v || !*v)
		return STORE_BUSY_MAX_MS;
	errno = 0;
	ms = strtoll(v, &end, 10);
	if (errno || *end || ms < 0 || ms > STORE_BUSY_MAX_MS)
		return STORE_BUSY_MAX_MS;
	return (int64_t)ms;
}

/* SQLite's own busy handler counts the time it means to sleep, not the
 * time that passed, and where it cannot sleep in milliseconds it sleeps a
 * second per try; this one measures the clock, so a held lock costs at
 * most busy_ms whatever the platform. */
static int busy_wait(void *arg, int count)
{
	sluice_store *s = arg;
	int64_t now = sluice_mono_ms(), left, step;
	struct timespec ts;

	if (count == 0)
		s->busy_since = now;
	left = s->busy_ms - (now - s->busy_since);
	if (left <= 0)
		return 0;
	step = count < 7 ? (int64_t)1 << count : 100; /* 1, 2, 4 ... 64, then 100 ms */
	if (step > left)
		step = left;
	ts.tv_sec = (time_t)(step / 1000);
	ts.tv_nsec = (long)(step % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	return 1;
}

int store_error(sluice_store *s, int rc, const char *what)
{
	const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	int prim = rc & 0xff;

	/* Not SLUICE_EBUSY: that means another sluice holds a lease and the
	 * caller may skip its turn; a lock that outlasts the wait is a pass
	 * that could not run. */
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return sluice_error_set(SLUICE_ESTORE,
					"%s: database %s is locked by another program (waited %.1f s); "
					"find it with 'fuser %s' and end it (an open sqlite3 shell, "
					"a backup, a stuck sluice), then run this again",
					what, s && s->path ? s->path : "?",
					(double)(s ? s->busy_ms : 0) / 1000.0,
					s && s->path ? s->path : "?");
	return sluice_error_set(SLUICE_ESTORE, "%s: %s (database %s)", what, msg,
				s && s->path ? s->path : "?");
}

int store_exec(sluice_store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : store_error(s, rc, what);
}

int store_stmt(sluice_store *s, sqlite3_stmt **out, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	for (size_t i = 0; i < s->ncache; i++) {
		if (s->cache[i].sql == sql) {
			*out = s->cache[i].stmt;
			return 0;
		}
	}
	if (s->ncache == STORE_STMT_CACHE)
		return sluice_error_set(SLUICE_ELIMIT,
					"internal: more than %d distinct statements; raise STORE_STMT_CACHE",
					STORE_STMT_CACHE);
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK)
		return store_error(s, rc, "cannot prepare a statement");
	s->cache[s->ncache].sql = sql;
	s->cache[s->ncache].stmt = st;
	s->ncache++;
	*out = st;
	return 0;
}

void store_done(sqlite3_stmt *st)
{
	if (!st)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int store_step_done(sluice_store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_error(s, rc, what);
	return 0;
}

int store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
	if (!v)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
}

int store_bind_time(sqlite3_stmt *st, int idx, int64_t t)
{
	if (t == 0)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_int64(st, idx, t);
}

int store_bind_int(sqlite3_stmt *st, int idx, int64_t v)
{
	return sqlite3_bind_int64(st, idx, v);
}

char *store_col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	return v ? sluice_xstrdup((const char *)v) : NULL;
}

int store_strv_query(char ***out, size_t *n, sluice_store *s, const char *sql, const char *a,
		     const char *b, const char *what)
{
	sqlite3_stmt *st = NULL;
	char **v = sluice_xcalloc(1, sizeof *v);
	size_t count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_stmt(s, &st, sql)) < 0) {
		free(v);
		return rc;
	}
	store_bind_text(st, 1, a);
	store_bind_text(st, 2, b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = sluice_xrealloc(v, (count + 2) * sizeof *v);
		v[count++] = store_col_dup(st, 0);
		v[count] = NULL;
	}
	rc = rc == SQLITE_DONE ? 0 : store_error(s, rc, what);
	store_done(st);
	if (rc < 0) {
		for (size_t i = 0; i < count; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	*out = v;
	*n = count;
	return 0;
}

int store_int_query(int64_t *out, sluice_store *s, const char *sql, const char *a,
		    const char *b, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc, step;

	*out = 0;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, a);
	if (b)
		store_bind_text(st, 2, b);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (step != SQLITE_DONE)
		rc = store_error(s, step, what);
	store_done(st);
	return rc;
}

int64_t store_col_time(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, col);
}

void store_col_oid(char out[SLUICE_STORE_OID_SZ], sqlite3_stmt *st, int col)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	out[0] = '\0';
	if (v) {
		strncpy(out, (const char *)v, SLUICE_STORE_OID_SZ - 1);
		out[SLUICE_STORE_OID_SZ - 1] = '\0';
	}
}

/* ---- transactions ---------------------------------------------------- */

int sluice_store_begin(sluice_store *s)
{
	int rc;

	if (!sqlite3_get_autocommit(s->db))
		return sluice_error_set(SLUICE_ERROR,
					"internal: a transaction is already open on %s", s->path);
	rc = store_exec(s, "BEGIN IMMEDIATE", "cannot start a transaction");
	if (rc == 0)
		s->explicit_tx = true;
	return rc;
}

int sluice_store_commit(sluice_store *s)
{
	int rc;

	if (sqlite3_get_autocommit(s->db)) {
		s->explicit_tx = false;
		return sluice_error_set(SLUICE_ERROR, "internal: no transaction to commit on %s",
					s->path);
	}
	rc = store_exec(s, "COMMIT", "cannot commit");
	if (rc < 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->explicit_tx = false;
	return rc;
}

int sluice_store_rollback(sluice_store *s)
{
	int rc = 0;

	if (!sqlite3_get_autocommit(s->db))
		rc = store_exec(s, "ROLLBACK", "cannot roll back");
	s->explicit_tx = false;
	return rc;
}

bool sluice_store_in_transaction(const sluice_store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

int store_tx_begin(sluice_store *s)
{
	int rc;

	if (s->flags & SLUICE_STORE_READONLY)
		return sluice_error_set(SLUICE_ESTORE,
					"internal: database %s was opened read-only", s->path);
	if (sqlite3_get_autocommit(s->db)) {
		rc = store_exec(s, "BEGIN IMMEDIATE", "cannot start a transaction");
		if (rc < 0)
			return rc;
		s->savepoints = 0;
		return 0;
	}
	rc = store_exec(s, "SAVEPOINT sluice_unit", "cannot start a savepoint");
	if (rc == 0)
		s->savepoints++;
	return rc;
}

int store_tx_end(sluice_store *s, int rc)
{
	if (s->savepoints > 0) {
		s->savepoints--;
		if (rc < 0) {
			sqlite3_exec(s->db, "ROLLBACK TO sluice_unit", NULL, NULL, NULL);
			sqlite3_exec(s->db, "RELEASE sluice_unit", NULL, NULL, NULL);
			return rc;
		}
		return store_exec(s, "RELEASE sluice_unit", "cannot release a savepoint");
	}
	if (rc < 0) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	rc = store_exec(s, "COMMIT", "cannot commit");
	if (rc < 0 && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- open and close -------------------------------------------------- */

static int pragma_int(sluice_store *s, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = 0;
	} else
		rc = store_error(s, rc, "cannot read the database header");
	sqlite3_finalize(st);
	return rc;
}

static int make_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc = 0;

	if (!slash || slash == path)
		return 0;
	dir = sluice_xstrndup(path, (size_t)(slash - path));
	/* the state directory is the owner's alone, whatever the umask */
	if (sluice_mkdir_p(dir, 0700) < 0)
		rc = sluice_error_set(SLUICE_EIO, "cannot create directory %s for the database: %s",
				      dir, strerror(errno));
	free(dir);
	return rc;
}

/* Creates an empty database file 0600 (open's mode is cut by the umask,
 * never widened): SQLite would create it 0644 less the umask, and gives
 * the -wal and -shm files the database file's mode. An existing file keeps
 * the mode its owner chose. */
static int create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0)
		return sluice_error_set(SLUICE_EIO, "cannot create the database %s: %s", path,
					strerror(errno));
	close(fd);
	return 0;
}

/* Refuses databases that belong to another program or a newer sluice. */
static int check_identity(sluice_store *s)
{
	int app = 0, version = 0, tables = 0, rc;

	/* one read transaction: another sluice may be creating this database
	 * right now, and its first migration (tables and application id)
	 * must be seen whole or not at all */
	if ((rc = store_exec(s, "BEGIN", "cannot read the database header")) < 0)
		return rc;
	if ((rc = pragma_int(s, "PRAGMA application_id", &app)) < 0 ||
	    (rc = pragma_int(s, "PRAGMA user_version", &version)) < 0 ||
	    (rc = pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables)) < 0) {
		store_exec(s, "ROLLBACK", "cannot end the read");
		return rc;
	}
	if ((rc = store_exec(s, "COMMIT", "cannot end the read")) < 0)
		return rc;
	if (app != 0 && app != STORE_APPLICATION_ID)
		return sluice_error_set(SLUICE_ESTORE,
					"%s is not a sluice database (application id %#x); give another --db",
					s->path, (unsigned)app);
	if (app == 0 && tables > 0)
		return sluice_error_set(SLUICE_ESTORE,
					"%s is a SQLite database of another program; give another --db",
					s->path);
	if (version > SLUICE_STORE_SCHEMA_VERSION)
		return sluice_error_set(SLUICE_ESTORE,
					"database %s has schema version %d, newer than this sluice (%d); upgrade sluice",
					s->path, version, SLUICE_STORE_SCHEMA_VERSION);
	s->schema_version = version;
	return 0;
}

int sluice_store_open(sluice_store **out, const char *path, int flags)
{
	sluice_store *s = NULL;
	bool ro = (flags & SLUICE_STORE_READONLY) != 0;
	char *jm = NULL;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return sluice_error_set(SLUICE_EINVAL, "no database path given; use --db PATH");
	if (ro && access(path, F_OK) != 0)
		return sluice_error_set(SLUICE_ENOTFOUND,
					"no database at %s yet; run 'sluice reconcile' to create it", path);
	if (!ro && ((rc = make_parent_dir(path)) < 0 || (rc = create_private(path)) < 0))
		return rc;

	s = sluice_xcalloc(1, sizeof *s);
	s->path = sluice_xstrdup(path);
	s->flags = flags;
	s->actor = sluice_xstrdup("controller");
	rc = sqlite3_open_v2(path, &s->db,
			     ro ? SQLITE_OPEN_READONLY
				: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			     NULL);
	if (rc != SQLITE_OK) {
		rc = store_error(s, rc, "cannot open the database");
		goto done;
	}
	sqlite3_extended_result_codes(s->db, 1);
	s->busy_ms = busy_timeout_ms();
	sqlite3_busy_handler(s->db, busy_wait, s);
	if ((rc = store_exec(s, "PRAGMA foreign_keys = ON", "cannot enable foreign keys")) < 0)
		goto done;
	if ((rc = check_identity(s)) < 0)
		goto done;
	if (!ro) {
		sqlite3_stmt *st = NULL;
		/* WAL lets readers (status, dashboards) run beside a reconcile.
		 * synchronous=FULL: an approval or a stage start that was reported
		 * as done must survive a power cut too, not only a kill -9; a pass
		 * that changes nothing commits nothing, so this costs no-ops
		 * nothing. */
		/* switching to WAL does not wait on the busy handler: when
		 * another sluice is creating the same database at this moment,
		 * retry for as long as the busy timeout would have waited, in
		 * real time */
		int64_t wal_since = sluice_mono_ms();
		for (;;) {
			rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
			if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
				jm = store_col_dup(st, 0);
				rc = SQLITE_OK;
			}
			sqlite3_finalize(st);
			st = NULL;
			if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
			    sluice_mono_ms() - wal_since >= s->busy_ms)
				break;
			sqlite3_sleep(10);
		}
		if (rc != SQLITE_OK) {
			rc = store_error(s, rc, "cannot switch the database to WAL");
			goto done;
		}
		if (!jm || strcmp(jm, "wal") != 0) {
			rc = sluice_error_set(SLUICE_ESTORE,
					      "database %s cannot use WAL (journal mode %s); put it on a local file system",
					      path, jm ? jm : "unknown");
			goto done;
		}
		if ((rc = store_exec(s, "PRAGMA synchronous = FULL", "cannot set synchronous")) < 0)
			goto done;
		if ((rc = store_migrate(s)) < 0)
			goto done;
	} else if (s->schema_version < SLUICE_STORE_SCHEMA_VERSION) {
		rc = sluice_error_set(SLUICE_ESTORE,
				      "database %s has schema version %d and needs an upgrade; run 'sluice reconcile' once",
				      path, s->schema_version);
		goto done;
	}
	*out = s;
	s = NULL;
	rc = 0;
done:
	free(jm);
	sluice_store_free(s);
	return rc;
}

void sluice_store_free(sluice_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].stmt);
	if (s->db) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close_v2(s->db);
	}
	store_outbox_routes_clear(s);
	free(s->path);
	free(s->actor);
	free(s->admin_commit);
	free(s->process);
	free(s);
}

int sluice_store_schema_version(const sluice_store *s) { return s->schema_version; }

const char *sluice_store_path(const sluice_store *s) { return s->path; }

void sluice_store_set_actor(sluice_store *s, const char *actor)
{
	free(s->actor);
	s->actor = sluice_xstrdup(actor ? actor : "controller");
}

void sluice_store_set_admin_commit(sluice_store *s, const char *commit)
{
	free(s->admin_commit);
	s->admin_commit = commit ? sluice_xstrdup(commit) : NULL;
}

const char *sluice_store_actor(const sluice_store *s) { return s->actor; }

void sluice_store_set_process(sluice_store *s, const char *process)
{
	free(s->process);
	s->process = process ? sluice_xstrdup(process) : NULL;
}

int sluice_store_integrity_check(sluice_store *s)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL);
	const unsigned char *v;

	if (rc != SQLITE_OK)
		return store_error(s, rc, "cannot check the database");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = store_error(s, rc, "cannot check the database");
		goto done;
	}
	v = sqlite3_column_text(st, 0);
	if (v && strcmp((const char *)v, "ok") == 0)
		rc = 0;
	else
		rc = sluice_error_set(SLUICE_ESTORE, "database %s is damaged: %s", s->path,
				      v ? (const char *)v : "unknown problem");
done:
	sqlite3_finalize(st);
	return rc;
}
