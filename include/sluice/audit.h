/* The audit log: append-only, hash-chained rows in the store.
 *
 * Each row stores prev_hash (the previous row's hash; 64 zeros for row 1)
 * and hash = SHA-256(prev_hash || canonical content), both lowercase hex.
 * The canonical content is a stable serialisation of the row's id, at,
 * actor, action, plugin, version, details and admin_commit, documented in
 * docs/database.md. SQLite triggers refuse UPDATE and DELETE; the one way
 * rows leave is sluice_audit_prune. Rows hold metadata only, never secret
 * values: callers must not put secrets into `details`. */
#ifndef SLUICE_AUDIT_H
#define SLUICE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sluice/store.h"

#define SLUICE_AUDIT_HASH_SZ 65 /* 64 hex digits and the NUL */

/* The action name of the row a prune writes. */
#define SLUICE_AUDIT_CHECKPOINT "audit.checkpoint"

/* policy.audit_retention_days: rows younger than this are never pruned. */
#define SLUICE_AUDIT_RETENTION_DEFAULT_DAYS 400
#define SLUICE_AUDIT_RETENTION_MIN_DAYS 90

typedef struct {
	int64_t at;          /* rollout clock (--now) */
	const char *actor;   /* NULL: the store's actor (sluice_store_set_actor) */
	const char *action;  /* dotted name, e.g. "tag.moved", "stage.started" */
	const char *plugin;  /* may be NULL */
	const char *version; /* may be NULL */
	json_t *details;     /* borrowed, may be NULL (stored as {}) */
} sluice_audit_entry;

/* Appends one row; the admin-repo commit comes from the store. Joins the
 * caller's transaction, or runs in its own. Stores *out_id when not NULL.
 * Returns 0 or a negative SLUICE_E* code. */
int sluice_audit_append(sluice_store *s, const sluice_audit_entry *e, int64_t *out_id);

/* Convenience: append with details built by json_pack(fmt, ...); fmt NULL
 * for no details. */
int sluice_audit_appendf(sluice_store *s, int64_t at, const char *action,
			 const char *plugin, const char *version, const char *fmt, ...);

typedef struct {
	int64_t id;
	int64_t at;
	const char *actor;
	const char *action;
	const char *plugin;       /* NULL when none */
	const char *version;      /* NULL when none */
	const char *details;      /* canonical JSON text */
	const char *admin_commit; /* NULL when none */
	const char *prev_hash;
	const char *hash;
} sluice_audit_row;

typedef struct {
	const char *plugin; /* only rows of this plugin; NULL for all */
	int64_t since;      /* only rows with at >= since; 0 for all */
	int64_t after_id;   /* only rows with id > after_id */
	size_t limit;       /* at most this many; 0 for no limit */
	bool newest_first;
} sluice_audit_filter;

/* Calls cb for each matching row in id order (or reverse), streaming: the
 * row's strings are valid only during the call. A non-zero return from cb
 * stops the walk and is returned. filter may be NULL. */
int sluice_audit_foreach(sluice_store *s, const sluice_audit_filter *filter,
			 int (*cb)(const sluice_audit_row *row, void *ctx), void *ctx);

/* The newest row of the log: *id (0 for an empty log) and its hash (64
 * zeros for an empty log) into `hash`. Published beside the state and kept
 * elsewhere, it lets sluice_audit_verify_head prove later that the log
 * still holds that row unchanged. Returns 0 or a negative SLUICE_E* code. */
int sluice_audit_head(sluice_store *s, int64_t *id, char hash[SLUICE_AUDIT_HASH_SZ]);

/* The time of the newest event recorded (0 when the log is empty): an
 * action's clock may not be earlier (docs/concepts.md, "Time"). */
int sluice_audit_newest_at(sluice_store *s, int64_t *at);

/* Parses "ID:HASH" (ID a positive row id, HASH 64 lowercase hex digits) as
 * `sluice audit head` prints it. Returns 0, or SLUICE_EINVAL with the
 * problem set. */
int sluice_audit_head_parse(int64_t *id, char hash[SLUICE_AUDIT_HASH_SZ], const char *text);

typedef struct {
	bool ok;
	int64_t rows;        /* rows checked */
	int64_t first_id;    /* 0 when the log is empty */
	int64_t last_id;
	char head_hash[SLUICE_AUDIT_HASH_SZ]; /* hash of the last row */
	int64_t bad_id;      /* first broken row, when !ok; 0 when the problem
				is a state row without its audit row */
	char problem[256];   /* why, when !ok */
} sluice_audit_report;

/* Walks the whole chain: ids without gaps, each prev_hash equal to the
 * previous row's hash, each hash equal to the recomputed one, and a first
 * row that is either row 1 (with the zero prev_hash) or the row the newest
 * checkpoint says the chain continues from. Then checks that no row was cut
 * from the end (sqlite_sequence, the highest id ever handed out, is the
 * last row's id), and that every approval, rejection, attestation, stage
 * start, withdrawal and freeze in the state tables has its audit row (those
 * older than the newest prune's cutoff excepted: their rows may be gone).
 * Returns 0 with report->ok false and the first problem named when the log
 * does not verify; a negative SLUICE_E* code only when the check itself
 * could not run. */
int sluice_audit_verify(sluice_store *s, sluice_audit_report *report);

/* sluice_audit_verify, and also that row head_id is in the log with hash
 * head_hash (a head kept elsewhere: the log was not cut back past it or
 * rewritten). A head older than the oldest kept row cannot be proven and
 * does not verify. */
int sluice_audit_verify_head(sluice_store *s, int64_t head_id, const char *head_hash,
			     sluice_audit_report *report);

typedef struct {
	int64_t deleted;       /* rows removed (0: nothing was old enough) */
	int64_t checkpoint_id; /* the checkpoint row written, 0 when none */
	int64_t first_kept_id;
} sluice_audit_prune_result;

/* Deletes the oldest rows: the longest run from the start of the log whose
 * `at` is before now - older_than_days days. `now` is the system clock,
 * never the rollout clock. In one transaction it first appends a checkpoint
 * row (under the store's actor) recording the first kept row and the hash
 * it continues from, then deletes; the chain still verifies afterwards.
 * Does nothing (no checkpoint) when no row is old enough. Rows younger
 * than retention_days are never deleted: older_than_days below it is
 * SLUICE_EREFUSED, a retention_days below SLUICE_AUDIT_RETENTION_MIN_DAYS
 * SLUICE_EINVAL; nothing is changed then. */
int sluice_audit_prune(sluice_store *s, int64_t now, int older_than_days, int retention_days,
		       sluice_audit_prune_result *result);

/* The canonical content of a row, as hashed (exposed for tests and
 * docs/database.md): *out is malloc'd (caller frees), *out_len its length.
 * Returns 0 or SLUICE_ENOMEM. */
int sluice_audit_canonical(char **out, size_t *out_len, const sluice_audit_row *row);

/* hex SHA-256 of prev_hash || canonical(row) into out. */
int sluice_audit_hash(char out[SLUICE_AUDIT_HASH_SZ], const char *prev_hash,
		      const sluice_audit_row *row);

#endif
