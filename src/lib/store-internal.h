/* Internals shared by the store's source files (store*.c, audit.c); not a
 * public header. */
#ifndef SLUICE_STORE_INTERNAL_H
#define SLUICE_STORE_INTERNAL_H

#include <sqlite3.h>

#include "sluice/store.h"

#define STORE_STMT_CACHE 96

struct sluice_store {
	sqlite3 *db;
	char *path;
	int flags;
	int schema_version;
	char *actor;
	char *admin_commit;
	char *process; /* "PID@HOST" of the daemon writing, or NULL */
	bool explicit_tx; /* opened by sluice_store_begin */
	int64_t busy_ms;    /* how long to wait for another's lock, real time */
	int64_t busy_since; /* when the current wait began (monotonic ms) */
	unsigned savepoints;
	/* Prepared statements, keyed by the address of their (static) SQL. */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STORE_STMT_CACHE];
	size_t ncache;
	/* where audit rows become outbox events (sluice_store_outbox_routes_set) */
	char *outbox_workspace;
	struct store_route {
		char *url;
		char **events; /* NULL-terminated kinds; "all" for every one */
	} *routes;
	size_t nroutes;
};

/* Translates a SQLite failure into SLUICE_ESTORE, keeping SQLite's message;
 * a lock the busy wait could not outlast says the database is locked by
 * another program and what to do. */
int store_error(sluice_store *s, int rc, const char *what);

/* A cached prepared statement for `sql` (a string literal or other storage
 * that outlives the store). Give it back with store_done. */
int store_stmt(sluice_store *s, sqlite3_stmt **out, const char *sql);
/* Resets the statement and clears its bindings; NULL-safe. */
void store_done(sqlite3_stmt *st);

/* Runs a statement with no result rows to completion. */
int store_step_done(sluice_store *s, sqlite3_stmt *st, const char *what);

/* Binding helpers: NULL strings and zero times bind SQL NULL. */
int store_bind_text(sqlite3_stmt *st, int idx, const char *v);
int store_bind_time(sqlite3_stmt *st, int idx, int64_t t);
int store_bind_int(sqlite3_stmt *st, int idx, int64_t v);

/* Column helpers: NULL columns give NULL, 0 and "" respectively. */
char *store_col_dup(sqlite3_stmt *st, int col);
int64_t store_col_time(sqlite3_stmt *st, int col);
void store_col_oid(char out[SLUICE_STORE_OID_SZ], sqlite3_stmt *st, int col);

/* One-query reads, ?1 bound to a and ?2 to b (b NULL: no ?2); `what` names
 * the read in an error. store_strv_query: the first column of every row,
 * a NULL-terminated malloc'd array (sluice_strv_free), *n its length.
 * store_int_query: the first column of the first row, 0 when there is
 * none. */
int store_strv_query(char ***out, size_t *n, sluice_store *s, const char *sql, const char *a,
		     const char *b, const char *what);
int store_int_query(int64_t *out, sluice_store *s, const char *sql, const char *a,
		    const char *b, const char *what);

/* A unit of work that joins the caller's transaction (as a savepoint) or
 * opens its own (BEGIN IMMEDIATE). store_tx_end commits or, when rc < 0,
 * rolls the unit back; it returns rc, or the commit's error. */
int store_tx_begin(sluice_store *s);
int store_tx_end(sluice_store *s, int rc);

/* Refuses the release (workspace, plugin, version) just recorded from
 * `tag` when an earlier release of the plugin has the same version but for
 * build metadata ("0.1.0+build.2" beside "0.1.0"): build metadata has no
 * precedence, so it is a duplicate, not a newer release (store-tags.c;
 * docs/versions.md). Audited as release.refused. */
int store_release_refuse_duplicate(sluice_store *s, const char *workspace, const char *plugin,
				   const char *version, const char *tag, int64_t now);

/* Writes the outbox rows the audit row just appended causes: one per
 * endpoint routed to that receives its kind (store-outbox.c). Joins the
 * append's transaction. */
int store_outbox_route(sluice_store *s, int64_t audit_id, int64_t at, const char *actor,
		       const char *action, const char *plugin, const char *version,
		       const char *details, const char *hash);
/* Frees the routes (sluice_store_free). */
void store_outbox_routes_clear(sluice_store *s);

/* Runs constant SQL (DDL, pragmas) with sqlite3_exec. */
int store_exec(sluice_store *s, const char *sql, const char *what);

/* The schema migrations (store-schema.c). */
int store_migrate(sluice_store *s);

#endif
