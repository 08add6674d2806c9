/* Between the daemon's loop (daemon.c), its log (daemon-log.c), its
 * metrics (daemon-metrics.c) and systemd's notify protocol
 * (daemon-notify.c). Internal to the library. */
#ifndef SLUICE_DAEMON_INTERNAL_H
#define SLUICE_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/daemon.h"
#include "sluice/engine.h"

/* ---- the log: one event a line on stderr -------------------------------- */

typedef struct {
	sluice_log_format format;
	int verbose;
	FILE *to;
} sluice__log;

/* What an event is about, where known: NULL / -1 for unknown. */
typedef struct {
	const char *plugin, *version, *stage;
	int64_t duration_ms;
	const char *holder;   /* the lease's holder */
	const char *error;    /* what failed */
} sluice__log_fields;

#define SLUICE__LOG_NONE ((sluice__log_fields){NULL, NULL, NULL, -1, NULL, NULL})

/* Writes one event: JSON {"time", "level", "msg", then the fields that
 * are set} or, for people, "TIME LEVEL msg key=value...". level is
 * "debug" (only with verbose), "info", "warn" or "error". The message's
 * control characters are escaped. */
void sluice__log_event(const sluice__log *l, const char *level, const sluice__log_fields *f,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- metrics -------------------------------------------------------------- */

typedef struct {
	bool lease_held;
	int64_t ticks;                 /* ticks run, since the start */
	bool ran;                      /* a tick ran since the start */
	const char *result;            /* the last tick's reconcile: "ok",
					* "failed", "config_error", "skipped" */
	double reconcile_seconds;      /* its duration */
	int64_t reconcile_ok_at;       /* unix time of the last "ok"; 0 never */
	int64_t runs_ok, runs_failed, runs_config_error, runs_skipped;
	int64_t plugin_errors;         /* plugins whose pass was rolled back, last tick */
	int64_t events_ingested, spool_files, lines_rejected; /* since the start */
	int64_t outbox_pending, outbox_oldest_age; /* the backlog after the last delivery */
} sluice__metrics;

/* Writes the Prometheus text format (HELP and TYPE for every metric)
 * atomically to path: m, and, when e is not NULL, what the store and the
 * planner say now (releases by state, gate results, blocked stages by
 * kind, the last successful fetch of each source, the publish outcome).
 * Returns 0 or a negative code. */
int sluice__metrics_write(const char *path, const sluice__metrics *m, sluice_engine *e);

/* ---- systemd's notify protocol (sd_notify(3), written by hand) ------------ */

/* Sends `state` ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1") to
 * $NOTIFY_SOCKET when it is set (a path, or '@' for an abstract socket).
 * Returns 0 (also when unset) or a negative code. */
int sluice__sd_notify(const char *state);

/* Half of $WATCHDOG_USEC in milliseconds when the watchdog is on for this
 * process ($WATCHDOG_PID unset or ours), else 0. */
int64_t sluice__sd_watchdog_ms(void);

#endif
