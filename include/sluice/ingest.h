/* Telemetry ingest: JSON lines from a stream into the store, each line
 * checked against the event contract (telemetry.h) and against what the
 * workspace knows (its name, plugins, recorded versions, groups). One
 * stream is one unit of work: a failure stores none of it, and a line
 * without its newline at the end is never half-ingested (docs/telemetry.md). */
#ifndef SLUICE_INGEST_H
#define SLUICE_INGEST_H

#include <stdint.h>
#include <stdio.h>

#include "sluice/store.h"
#include "sluice/telemetry.h"

/* Called for every rejected line with its 1-based number, the reason and
 * the line as read (without its newline). */
typedef void (*sluice_ingest_reject_fn)(void *arg, const char *source, int64_t line,
					const char *reason, const char *text, size_t len);

typedef struct {
	const char *workspace;
	/* the recorded releases, as pairs: plugins[i]@versions[i] */
	const char *const *plugins, *const *versions;
	size_t nreleases;
	const char *const *groups; /* the workspace's groups */
	size_t ngroups;
	unsigned char key[SLUICE_TELEMETRY_KEY_SZ]; /* sluice_store_telemetry_key */
	sluice_ingest_reject_fn on_reject;
	/* sluice_ingest_spool asks before each file whether to go on (the
	 * daemon stopping); NULL: always */
	bool (*proceed)(void *arg);
	void *arg;
	void *priv; /* what sluice_ingest_ctx_load allocated */
} sluice_ingest_ctx;

typedef struct {
	int64_t lines;          /* lines read (blank ones included) */
	int64_t added;          /* events stored */
	int64_t duplicates;     /* ids stored already: nothing changed */
	int64_t rejected;       /* lines refused (each through on_reject) */
	int64_t unknown_fields; /* fields the contract does not name, ignored */
} sluice_ingest_stats;

struct sluice_engine;

/* Fills ctx for the workspace of e: its name, the releases the store has
 * recorded, its groups and the key that hashes users (made on first use,
 * at `now`). on_reject, proceed and arg are left NULL for the caller.
 * Returns 0 (clear with sluice_ingest_ctx_clear; NULL-safe) or a negative
 * code. */
int sluice_ingest_ctx_load(sluice_ingest_ctx *ctx, struct sluice_engine *e, int64_t now);
void sluice_ingest_ctx_clear(sluice_ingest_ctx *ctx);

/* Checks a parsed event against ctx (workspace, plugin, version, group).
 * Returns 0, or SLUICE_EINVAL with the reason. */
int sluice_ingest_check(const sluice_ingest_ctx *ctx, const sluice_event *ev);

/* Ingests every line of `in` (named `source` in messages) in one unit of
 * work of s. Bad lines are counted and reported through ctx->on_reject;
 * they do not fail the stream. Returns 0 (stats adds up the stream), or a
 * negative code when reading or the store failed: then nothing of the
 * stream is stored. */
int sluice_ingest_stream(sluice_ingest_stats *stats, sluice_store *s, const sluice_ingest_ctx *ctx,
			 FILE *in, const char *source);

/* Ingests the spool directory `dir` (docs/telemetry.md): every regular
 * file whose name starts with no '.' and ends in no ".tmp" (producers
 * write NAME.tmp and rename it when complete), in name order, each as one
 * sluice_ingest_stream. A file is moved to dir/done/ after its
 * transaction committed, or to dir/rejected/ when it had rejected lines;
 * a crash between the two ingests it again, which changes nothing (ids
 * are stored once). Stops early when ctx->proceed says so. *total adds up
 * the files ingested, *nfiles counts them. Returns 0, or a negative code
 * when the directory, a file or the store failed (the files before it
 * stay ingested and moved). */
int sluice_ingest_spool(sluice_ingest_stats *total, size_t *nfiles, sluice_store *s,
			const sluice_ingest_ctx *ctx, const char *dir);

/* Stores one event built by a command (`sluice feedback`), checked like
 * an ingested line; user (may be NULL) is hashed with ctx->key. *added is
 * false for an id stored already. */
int sluice_ingest_event(bool *added, sluice_store *s, const sluice_ingest_ctx *ctx,
			const sluice_event *ev);

/* ---- the reject file (docs/telemetry.md) ---------------------------------- */

/* A rejected line keeps at most this much of its text in the reject file. */
#define SLUICE_REJECT_TEXT_MAX (64 * 1024)

/* The reject file beside the database at db_path:
 * <dir>/telemetry-rejects.jsonl. Caller frees. */
char *sluice_ingest_rejects_default(const char *db_path);

/* Opens `path` for appending, mode 0600. Returns the stream, or NULL with
 * the error set. */
FILE *sluice_ingest_rejects_open(const char *path);

/* Appends one rejected line to the reject file: {"source", "line",
 * "reason", "text" (null when it is not UTF-8), "truncated"}, the text cut
 * to SLUICE_REJECT_TEXT_MAX. */
void sluice_ingest_reject_write(FILE *to, const char *source, int64_t line, const char *reason,
				const char *text, size_t len);

/* ---- retention (docs/telemetry.md) ---------------------------------------- */

struct sluice_engine;

typedef struct {
	char *plugin;
	int64_t retention_days; /* 0: its manifest sets none, nothing deleted */
	int64_t deleted;
} sluice_prune_item;

/* Deletes the raw events of every watched plugin of e older than its
 * audit.retention_days at `now` (rollups stay) and records the prune
 * time. Returns 0 and *items (n of them; free with
 * sluice_prune_items_free), or a negative code. */
int sluice_telemetry_prune(sluice_prune_item **items, size_t *n, struct sluice_engine *e,
			   int64_t now);
void sluice_prune_items_free(sluice_prune_item *items, size_t n);

/* What reconcile calls each pass: prunes when the last prune is a day or
 * more before e->now. *msg (malloc'd, or NULL when nothing was deleted and
 * nothing failed) says what happened: "pruned 12 raw telemetry events
 * past retention" or why the prune failed. Never fails the pass. */
void sluice_telemetry_prune_daily(char **msg, struct sluice_engine *e);

#endif
