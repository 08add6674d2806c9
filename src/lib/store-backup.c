/* Backup and restore of the whole database with SQLite's online backup API
 * (docs/operations.md). A backup is one self-contained file that is checked
 * (integrity, audit chain) before it is called written; a restore checks
 * the backup the same way on a private copy before it replaces anything,
 * and replaces the live file in one write transaction. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/util.h"
#include "store-internal.h"

/* Pages copied per backup step: small enough that a step never holds the
 * destination's lock long, large enough that a 100 MB file is a few
 * hundred steps. */
#define BACKUP_STEP_PAGES 1024

/* "SLCE", as store.c sets it */
#define BACKUP_APPLICATION_ID 0x534c4345

/* The lease every leaseholder renews within (store-lease.c callers use
 * 10 minutes): restore holds the leases it takes for as long. */
#define BACKUP_LEASE_TTL 600

static void unlink_db_files(const char *path)
{
	static const char *const sfx[] = {"", "-journal", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		char *p = sluice_xasprintf("%s%s", path, sfx[i]);
		unlink(p);
		free(p);
	}
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int fsync_path(const char *path, bool dir)
{
	int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = sluice_error_set(SLUICE_EIO, "cannot sync %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return sluice_xstrdup(".");
	if (slash == path)
		return sluice_xstrdup("/");
	return sluice_xstrndup(path, (size_t)(slash - path));
}

/* A new empty file, 0600 whatever the umask (SQLite gives its journal
 * files the mode of the database file). A stale one from a backup that
 * died half-way is replaced. */
static int create_private(const char *path)
{
	int fd;

	unlink_db_files(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return sluice_error_set(SLUICE_EIO, "cannot create %s: %s", path, strerror(errno));
	if (fchmod(fd, 0600) < 0) {
		int e = errno;
		close(fd);
		return sluice_error_set(SLUICE_EIO, "cannot make %s private: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

/* Copies the file at `from` into the new private file `to` byte for byte
 * (a backup may be a WAL-mode file whose -wal is not there: what it holds
 * is what was checkpointed, and that is what is restored). */
static int copy_file(const char *to, const char *from)
{
	char buf[65536];
	int in = -1, out = -1, rc = 0;
	ssize_t n;

	if ((rc = create_private(to)) < 0)
		return rc;
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = sluice_error_set(errno == ENOENT ? SLUICE_ENOTFOUND : SLUICE_EIO,
				      "cannot read the backup %s: %s", from, strerror(errno));
		goto done;
	}
	if ((out = open(to, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot write %s: %s", to, strerror(errno));
		goto done;
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = sluice_error_set(SLUICE_EIO, "cannot read the backup %s: %s", from,
					      strerror(errno));
			goto done;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = sluice_error_set(SLUICE_EIO, "cannot write %s: %s", to,
						      strerror(errno));
				goto done;
			}
			off += w;
		}
	}
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Copies every page of src into dst in chunks, waiting (in real time, as
 * long as a statement would) while another connection holds dst. */
static int copy_pages(sluice_store *s, sqlite3 *dst, sqlite3 *src, const char *what)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int64_t waited = 0;
	int rc;

	if (!b)
		return sluice_error_set(SLUICE_ESTORE, "%s: %s", what, sqlite3_errmsg(dst));
	for (;;) {
		rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
		if (rc == SQLITE_DONE)
			break;
		if (rc == SQLITE_OK)
			continue;
		if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && waited < s->busy_ms) {
			sqlite3_sleep(10);
			waited += 10;
			continue;
		}
		break;
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			return store_error(s, rc, what);
		return sluice_error_set(SLUICE_ESTORE, "%s: %s", what, sqlite3_errstr(rc));
	}
	return 0;
}

/* The audit head and length of the open copy c, which must verify. */
static int verify_copy(sluice_store_backup_info *info, sluice_store *c, const char *shown)
{
	sluice_audit_report r;
	int rc;

	if ((rc = sluice_store_integrity_check(c)) < 0)
		return sluice_error_set(SLUICE_EINVAL, "%s is damaged: %s", shown,
					sluice_error_last());
	if ((rc = sluice_audit_verify(c, &r)) < 0)
		return rc;
	if (!r.ok) {
		if (r.bad_id)
			return sluice_error_set(SLUICE_EINVAL,
						"the audit log in %s does not verify at row %" PRId64
						": %s",
						shown, r.bad_id, r.problem);
		return sluice_error_set(SLUICE_EINVAL, "the audit log in %s does not verify: %s",
					shown, r.problem);
	}
	info->audit_rows = r.rows;
	info->head_id = r.last_id;
	snprintf(info->head_hash, sizeof info->head_hash, "%s",
		 r.rows ? r.head_hash
			: "0000000000000000000000000000000000000000000000000000000000000000");
	return 0;
}

int sluice_store_backup(sluice_store_backup_info *info, sluice_store *s, const char *path)
{
	sluice_store *copy = NULL;
	sqlite3 *dst = NULL;
	char *tmp = NULL, *dir = NULL;
	bool reading = false, written = false;
	int rc;

	memset(info, 0, sizeof *info);
	if (!path || !*path)
		return sluice_error_set(SLUICE_EINVAL, "no backup file given; name one");
	if (same_file(path, s->path))
		return sluice_error_set(SLUICE_EINVAL,
					"%s is the database itself; give another path for the backup",
					path);
	if (!sqlite3_get_autocommit(s->db))
		return sluice_error_set(SLUICE_ERROR, "internal: backup inside a transaction");
	tmp = sluice_xasprintf("%s.tmp", path);
	if ((rc = create_private(tmp)) < 0)
		goto done;
	written = true;
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = sluice_error_set(SLUICE_ESTORE, "cannot open %s: %s", tmp,
				      dst ? sqlite3_errmsg(dst) : "out of memory");
		goto done;
	}
	/* one read snapshot for every chunk: in WAL mode writers go on, and
	 * the copy never restarts because one of them committed */
	if ((rc = store_exec(s, "BEGIN", "cannot start the backup")) < 0)
		goto done;
	reading = true;
	if ((rc = store_exec(s, "SELECT count(*) FROM sqlite_schema", "cannot start the backup")) < 0)
		goto done;
	if ((rc = copy_pages(s, dst, s->db, "cannot copy the database")) < 0)
		goto done;
	store_exec(s, "COMMIT", "cannot end the backup");
	reading = false;
	/* the copy is one file: no -wal beside it to lose on the way */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sluice_error_set(SLUICE_ESTORE, "cannot finish %s: %s", tmp, sqlite3_errmsg(dst));
		goto done;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		rc = sluice_error_set(SLUICE_ESTORE, "cannot close %s: %s", tmp, sqlite3_errmsg(dst));
		goto done;
	}
	dst = NULL;
	if ((rc = fsync_path(tmp, false)) < 0)
		goto done;
	if ((rc = sluice_store_open(&copy, tmp, SLUICE_STORE_READONLY)) < 0)
		goto done;
	info->schema_version = sluice_store_schema_version(copy);
	if ((rc = verify_copy(info, copy, tmp)) < 0) {
		/* the database verified when it was read: a copy that does not
		 * is this machine's problem, not the input's */
		rc = sluice_error_set(SLUICE_ESTORE, "the backup did not verify: %s",
				      sluice_error_last());
		goto done;
	}
	sluice_store_free(copy);
	copy = NULL;
	if (rename(tmp, path) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot rename %s to %s: %s", tmp, path,
				      strerror(errno));
		goto done;
	}
	written = false;
	dir = dir_of(path);
	rc = fsync_path(dir, true);
done:
	if (reading)
		store_exec(s, "ROLLBACK", "cannot end the backup");
	sluice_store_free(copy);
	if (dst)
		sqlite3_close(dst);
	if (written)
		unlink_db_files(tmp);
	free(dir);
	free(tmp);
	return rc;
}

/* Reads the application id and schema version of the file at `path`
 * without changing it or running sluice's migrations. */
static int backup_identity(int *app, int *version, const char *path, const char *shown)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	static const char *const sql[] = {"PRAGMA application_id", "PRAGMA user_version"};
	int *out[] = {app, version};
	int rc = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = sluice_error_set(SLUICE_EINVAL, "%s is not a sluice database: %s", shown,
				      db ? sqlite3_errmsg(db) : "out of memory");
		goto done;
	}
	for (size_t i = 0; i < 2; i++) {
		int step = sqlite3_prepare_v2(db, sql[i], -1, &st, NULL);
		if (step == SQLITE_OK)
			step = sqlite3_step(st);
		if (step != SQLITE_ROW) {
			rc = sluice_error_set(SLUICE_EINVAL, "%s is not a sluice database: %s",
					      shown, sqlite3_errmsg(db));
			goto done;
		}
		*out[i] = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
done:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* The schema as SQLite keeps it (tables, indexes, triggers, views), less
 * what SQLite and a replication tool beside sluice (Litestream's
 * _litestream_* tables) add: equal for two databases of one build. */
static char *schema_text(sluice_store *s)
{
	static const char sql[] =
		"SELECT group_concat(type || ' ' || name || ': ' || coalesce(sql, ''), char(10))"
		" FROM (SELECT type, name, sql FROM sqlite_schema"
		" WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
		" AND name NOT LIKE '\\_litestream\\_%' ESCAPE '\\' ORDER BY type, name)";
	sqlite3_stmt *st = NULL;
	char *text = NULL;

	if (store_stmt(s, &st, sql) < 0)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		text = store_col_dup(st, 0);
	store_done(st);
	return text;
}

/* The first line that differs between two schema texts, for the message. */
static char *schema_difference(const char *want, const char *got)
{
	const char *w = want, *g = got;

	while (*w && *g) {
		const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
		size_t wl = we ? (size_t)(we - w) : strlen(w), gl = ge ? (size_t)(ge - g) : strlen(g);
		if (wl != gl || memcmp(w, g, wl) != 0)
			return sluice_xasprintf("this sluice has \"%.*s\"", (int)(wl > 120 ? 120 : wl),
						w);
		w += wl + (we ? 1 : 0);
		g += gl + (ge ? 1 : 0);
	}
	if (*w)
		return sluice_xasprintf("it lacks \"%.*s\"", (int)strcspn(w, "\n"), w);
	return sluice_xasprintf("it has more: \"%.*s\"", (int)strcspn(g, "\n"), g);
}

/* Checks the backup at `path` on the private copy `tmp`: left open in
 * *out (migrated) when it passes. */
static int check_backup(sluice_store **out, sluice_store_backup_info *info, sluice_store *s,
			const char *path, const char *tmp)
{
	sluice_store *c = NULL;
	char *want = NULL, *got = NULL, *diff = NULL;
	int app = 0, version = 0, rc;

	*out = NULL;
	if ((rc = copy_file(tmp, path)) < 0)
		return rc;
	if ((rc = backup_identity(&app, &version, tmp, path)) < 0)
		goto done;
	if (app != BACKUP_APPLICATION_ID || version == 0) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "%s is not a sluice database (application id %#x, schema version %d); give a file 'sluice backup' wrote",
				      path, (unsigned)app, version);
		goto done;
	}
	if (version > SLUICE_STORE_SCHEMA_VERSION) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "%s has schema version %d, newer than this sluice (%d); restore it with a sluice at least as new",
				      path, version, SLUICE_STORE_SCHEMA_VERSION);
		goto done;
	}
	info->schema_version = version;
	/* migrates an older backup, as the first open after an upgrade
	 * would; the live file is not touched yet */
	if ((rc = sluice_store_open(&c, tmp, 0)) < 0) {
		rc = sluice_error_set(SLUICE_EINVAL, "%s cannot be opened as a sluice database: %s",
				      path, sluice_error_last());
		goto done;
	}
	if ((rc = verify_copy(info, c, path)) < 0)
		goto done;
	want = schema_text(s);
	got = schema_text(c);
	if (!want || !got) {
		rc = sluice_error_set(SLUICE_ESTORE, "cannot read the schema of %s or %s", s->path,
				      path);
		goto done;
	}
	if (strcmp(want, got) != 0) {
		diff = schema_difference(want, got);
		rc = sluice_error_set(SLUICE_EINVAL,
				      "%s has a schema this sluice does not make (%s): it was changed outside sluice",
				      path, diff);
		goto done;
	}
	*out = c;
	c = NULL;
done:
	sluice_store_free(c);
	free(want);
	free(got);
	free(diff);
	return rc;
}

/* Takes every lease the database knows of, so that no daemon or pass acts
 * while the file is replaced; a live holder is SLUICE_EBUSY. */
static int take_leases(sluice_store *s)
{
	char **names = NULL;
	size_t n = 0;
	int rc;

	if ((rc = store_strv_query(&names, &n, s,
				   "SELECT name FROM leases UNION SELECT 'reconcile' ORDER BY 1",
				   NULL, NULL, "cannot read the leases")) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		sluice_lease_info who;
		if ((rc = sluice_store_lease_acquire(s, names[i], BACKUP_LEASE_TTL, &who)) ==
		    SLUICE_EBUSY)
			rc = sluice_error_set(SLUICE_EBUSY,
					      "the %s lease is held by %s (real time until %" PRId64
					      "): stop that daemon or pass first (systemctl stop sluice), "
					      "or give --force when it is gone for good",
					      names[i], who.holder, who.expires_at);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int sluice_store_backup_restore(sluice_store_backup_info *info, sluice_store *s,
				const char *path, bool force, int64_t now)
{
	sluice_store *c = NULL;
	char *tmp = NULL, head[100];
	bool made = false;
	int rc;

	memset(info, 0, sizeof *info);
	if (!path || !*path)
		return sluice_error_set(SLUICE_EINVAL, "no backup file given; name one");
	if (s->flags & SLUICE_STORE_READONLY)
		return sluice_error_set(SLUICE_ESTORE,
					"internal: database %s was opened read-only", s->path);
	if (!sqlite3_get_autocommit(s->db))
		return sluice_error_set(SLUICE_ERROR, "internal: restore inside a transaction");
	if (same_file(path, s->path))
		return sluice_error_set(SLUICE_EINVAL,
					"%s is the database itself; give a backup 'sluice backup' wrote",
					path);
	tmp = sluice_xasprintf("%s.restore", s->path);
	made = true;
	if ((rc = check_backup(&c, info, s, path, tmp)) < 0)
		goto done;
	if (!force && (rc = take_leases(s)) < 0)
		goto done;
	if ((rc = copy_pages(s, s->db, c->db, "cannot replace the database")) < 0)
		goto done;
	snprintf(head, sizeof head, "%" PRId64 ":%s", info->head_id, info->head_hash);
	/* the backup's leases name processes of its time, not of this one */
	if ((rc = store_tx_begin(s)) < 0)
		goto done;
	rc = store_exec(s, "DELETE FROM leases", "cannot drop the backup's leases");
	if (rc == 0)
		rc = sluice_audit_appendf(s, now, "database.restored", NULL, NULL,
					  "{s:s, s:s, s:i, s:b}", "from", path, "backup_head", head,
					  "backup_schema_version", info->schema_version, "forced",
					  force);
	rc = store_tx_end(s, rc);
done:
	sluice_store_free(c);
	if (made)
		unlink_db_files(tmp);
	free(tmp);
	return rc;
}
