/* Notifications: delivering the outbox (store.h, sluice_store_outbox_*)
 * to the workspace's webhook endpoints and to the http publisher's URL,
 * at least once. Each event is POSTed as JSON with its id in
 * X-Sluice-Event-Id and, when the endpoint names a key variable
 * (secret_env), signed in X-Sluice-Signature: t=<unix>,v1=<hex
 * HMAC-SHA256(key, "<t>.<body>")>. A 2xx answer delivers it; anything else
 * retries with exponential backoff and jitter, and after
 * SLUICE_NOTIFY_MAX_ATTEMPTS attempts the row is dead until an operator
 * retries it. The format, the kinds and a receiver's check are in
 * docs/notifications.md. */
#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/engine.h"

/* Attempts before a row is dead; the backoff's first delay and its cap,
 * in seconds (30 s doubling up to 6 h: about 20 hours in all). */
#define SLUICE_NOTIFY_MAX_ATTEMPTS 12
#define SLUICE_NOTIFY_BACKOFF_BASE 30
#define SLUICE_NOTIFY_BACKOFF_CAP 21600
/* Connect plus answer, per request, in milliseconds; $SLUICE_NOTIFY_TIMEOUT_MS
 * overrides it, $SLUICE_NOTIFY_BACKOFF_BASE the base (both for tests). */
#define SLUICE_NOTIFY_TIMEOUT_MS 10000

/* "t=" digits ",v1=" 64 hex digits and the NUL */
#define SLUICE_NOTIFY_SIG_SZ 96

/* The X-Sluice-Signature value for `body` sent at `t`: "t=<t>,v1=<hex of
 * HMAC-SHA256(key, "<t>.<body>")>". Returns 0, or a negative code when
 * libcrypto fails. */
int sluice_notify_signature(char out[SLUICE_NOTIFY_SIG_SZ], const char *key, size_t keylen,
			    int64_t t, const char *body, size_t len);

/* The delay in seconds before the next attempt after `attempts` (>= 1)
 * failed ones: d = min(cap, base * 2^(attempts-1)), of which half is kept
 * and half scaled by r (0 <= r < 1, the jitter): d/2 + r*d/2. Pure. */
int64_t sluice_notify_backoff(int64_t attempts, int64_t base, int64_t cap, double r);

/* The Slack-compatible message for an event body (its JSON text):
 * {"text": "..."} naming the workspace, the event and the audit head.
 * Returns 0 and *out (free()), or SLUICE_EINVAL for a body that is not an
 * event. */
int sluice_notify_render_slack(char **out, const char *body);

typedef struct {
	int attempted;  /* rows tried */
	int delivered;  /* acknowledged with a 2xx */
	int failed;     /* not delivered: retried later, dead, or held */
	int dead;       /* rows that became dead in this call */
	char *error;    /* the first failure, "URL: why"; NULL when none */
} sluice_notify_stats;

/* Delivers up to `max` (0: all) pending outbox rows of the engine's
 * workspace that are due at `now` (seconds since the epoch, real time:
 * the backoff and the signature's t are counted from it), oldest first.
 * Each row's outcome is its own small transaction, after its request; no
 * transaction may be open. A row whose endpoint's key variable is not set
 * stays pending with that error and counts as failed, without an attempt;
 * a row whose endpoint is no longer in the workspace is dead. Returns 0
 * when the outbox could be read and written (a receiver that is down is a
 * failure in *out, not an error), else a negative code. Clear *out with
 * sluice_notify_stats_clear. */
int sluice_notify_deliver(sluice_notify_stats *out, sluice_engine *e, int64_t now, int max);

/* The same for the rows after outbox id after_id only: what one command
 * wrote (sluice_store_outbox_last_id before it). */
int sluice_notify_deliver_after(sluice_notify_stats *out, sluice_engine *e, int64_t now,
				int max, int64_t after_id);
void sluice_notify_stats_clear(sluice_notify_stats *st);

#endif
