/* The daemon, `sluice run` (docs/operations.md, "Running the daemon"):
 * under the "daemon" lease, one tick per interval and at once on SIGHUP -
 * reconcile, drain the telemetry spool, deliver the outbox - with JSON
 * lines on stderr, Prometheus metrics in a file and systemd's notify
 * protocol. The loop, the logs and the metrics are here; the command
 * (src/cli/cmd-run.c) parses options and calls sluice_daemon_run. */
#ifndef SLUICE_DAEMON_H
#define SLUICE_DAEMON_H

#include <stdint.h>

/* The lease that lets one daemon act per database, and its default
 * period (seconds of real time; renewed every third of it). */
#define SLUICE_DAEMON_LEASE "daemon"
#define SLUICE_DAEMON_LEASE_PERIOD 15

typedef enum { SLUICE_LOG_JSON = 0, SLUICE_LOG_TEXT } sluice_log_format;

typedef struct {
	const char *root, *db_path, *cache_dir;
	const char *workspace;      /* NULL: the only one in workspaces/ */
	int64_t now;                /* 0: the system clock; else the rollout clock
				     * at the start, moving on in real time
				     * (identity: asserted only) */
	int64_t interval_ms;        /* between ticks; 0: 60 s */
	int64_t lease_period_s;     /* 0: SLUICE_DAEMON_LEASE_PERIOD */
	const char *metrics_file;   /* NULL: no metrics written */
	const char *spool_dir;      /* NULL: sluice_daemon_default_spool_dir */
	sluice_log_format log_format;
	int verbose;                /* > 0: debug lines too */
} sluice_daemon_opts;

/* <root>/.sluice/spool (docs/operations.md). Caller frees. */
char *sluice_daemon_default_spool_dir(const char *root);

/* Parses a duration: a positive whole number with the unit ms, s, m or h
 * ("500ms", "10s", "5m", "1h"). Returns 0 and *ms, or SLUICE_EINVAL
 * saying what is wrong. */
int sluice_daemon_parse_duration(int64_t *ms, const char *s);

/* Runs the daemon until SIGTERM or SIGINT: installs its signal handlers
 * (SIGHUP, SIGTERM, SIGINT; they stay installed after it returns, so a
 * second signal does not cut the process's exit short), creates the spool directory (0700), and
 * acts while it holds the lease, standing by while another daemon does.
 * A stop finishes the transaction in hand, gives the lease back and
 * returns 0. Returns a negative code, with the error set, when it cannot
 * start (the database or the spool directory cannot be opened). */
int sluice_daemon_run(const sluice_daemon_opts *opts);

#endif
