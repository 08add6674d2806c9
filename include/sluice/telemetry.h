/* Telemetry events: the JSON-lines contract producers write to
 * (docs/telemetry.md, docs/telemetry-event.schema.json), parsed and
 * checked one line at a time, and the keyed hash that stands for a user.
 * A leaf module: no store, no configuration. */
#ifndef SLUICE_TELEMETRY_H
#define SLUICE_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest line ingest reads as an event; a longer one is rejected. */
#define SLUICE_EVENT_MAX_LINE (1024 * 1024)
/* The longest id, name or comment kept. */
#define SLUICE_EVENT_MAX_ID 200
#define SLUICE_EVENT_MAX_COMMENT 4000

/* Size of the per-workspace key that hashes user ids. */
#define SLUICE_TELEMETRY_KEY_SZ 32
/* A user hash: lowercase hex HMAC-SHA256, NUL-terminated. */
#define SLUICE_USER_HASH_SZ 65

typedef enum {
	SLUICE_EVENT_TOOL_CALL = 0,
	SLUICE_EVENT_FEEDBACK,
} sluice_event_type;

typedef enum {
	SLUICE_OUTCOME_OK = 0,
	SLUICE_OUTCOME_ERROR,
	SLUICE_OUTCOME_REFUSAL,
	SLUICE_OUTCOME_ESCALATION,
} sluice_event_outcome;

/* One event. Strings are borrowed from the parsed line and valid until
 * sluice_event_clear; NULL when the field was absent. */
typedef struct {
	const char *id;
	sluice_event_type type;
	int64_t time;
	const char *workspace, *plugin, *version, *group, *user;
	/* tool_call */
	const char *tool;
	sluice_event_outcome outcome;
	const char *error_category;
	int64_t latency_ms; /* -1: not given */
	/* feedback: "up", "down" or "1".."5" */
	const char *rating;
	const char *comment;
	size_t unknown_fields; /* fields the contract does not name (ignored) */
	void *priv;
} sluice_event;

/* "ok", "error", "refusal", "escalation". */
const char *sluice_event_outcome_name(sluice_event_outcome o);
/* "tool_call", "feedback". */
const char *sluice_event_type_name(sluice_event_type t);

/* Parses one line (without its newline) into *out. Returns 0, or
 * SLUICE_EINVAL with the reason ("'latency_ms' must be a non-negative
 * integer") and *out cleared. Clear a parsed event with sluice_event_clear. */
int sluice_event_parse(sluice_event *out, const char *line, size_t len);
void sluice_event_clear(sluice_event *ev);
/* The same, the line copied into *scratch (grown as needed, *cap its
 * size; the caller frees it) instead of a new allocation per event: the
 * event's strings are valid until the next call with the same scratch.
 * Clear the event with sluice_event_clear all the same. */
int sluice_event_parse_scratch(sluice_event *out, const char *line, size_t len, char **scratch,
			       size_t *cap);

/* Whether a rating counts as positive: 4, 5 and "up". */
bool sluice_rating_positive(const char *rating);
/* Normalises a rating given by a person ("up", "down", "1".."5");
 * returns the canonical static string, or NULL when it is not one. */
const char *sluice_rating_canonical(const char *rating);

/* The keyed hash of `user`: HMAC-SHA256 with the workspace's key, in hex.
 * Returns 0, or SLUICE_ERROR when libcrypto fails. */
int sluice_telemetry_user_hash(char out[SLUICE_USER_HASH_SZ],
			       const unsigned char key[SLUICE_TELEMETRY_KEY_SZ], const char *user);

/* Latency histogram buckets: bucket b holds latencies up to
 * sluice_latency_bucket_le(b) milliseconds (about 5% apart), so a p95
 * read from buckets is within 5% above the true value. */
#define SLUICE_LATENCY_BUCKETS 256
int sluice_latency_bucket(int64_t latency_ms);
int64_t sluice_latency_bucket_le(int bucket);

#endif
