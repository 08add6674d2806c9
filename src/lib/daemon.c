/* The daemon's loop (docs/operations.md, "Running the daemon"). One
 * process acts per database: the one holding the "daemon" lease, renewed
 * every third of its period; the others stand by and poll. A tick reopens
 * the engine (the admin repository may have changed), reconciles, drains
 * the telemetry spool and delivers the outbox. Signal handlers only set
 * flags and write a byte to a pipe; the loop sleeps in poll() on that
 * pipe, so SIGHUP starts a tick at once and SIGTERM ends the sleep. Long
 * work asks proceed() between repositories and between spool files,
 * which also renews the lease and pings systemd's watchdog. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon-internal.h"
#include "sluice/engine.h"
#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/ingest.h"
#include "sluice/notify.h"
#include "sluice/reconcile.h"
#include "sluice/store.h"
#include "sluice/util.h"

static volatile sig_atomic_t stop_flag, hup_flag;
static int wake_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	int saved = errno;
	char c = 0;

	if (sig == SIGHUP)
		hup_flag = 1;
	else
		stop_flag = 1;
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], &c, 1) < 0) {
		/* the pipe is full: the loop wakes anyway */
	}
	errno = saved;
}

typedef struct {
	const sluice_daemon_opts *o;
	sluice__log log;
	sluice_store *lease_store; /* the lease's own connection: it works
				    * while the configuration is broken */
	char *spool;
	char me[300];              /* "PID@HOST", as the lease names holders */
	int64_t period_ms;         /* the lease's */
	bool holding;
	int64_t renewed_ms;        /* monotonic time of the last renewal */
	int64_t watchdog_ms, pinged_ms;
	bool ready_sent, notify_failed;
	char standby_holder[300];  /* who we last said holds the lease */
	int64_t started_at;        /* real time: where a --now clock starts */
	FILE *rejects;             /* the reject file, opened at the first rejected line */
	bool rejects_failed;
	sluice__metrics m;
} daemon_state;

#define LOG(d, level, ...) sluice__log_event(&(d)->log, level, &SLUICE__LOG_NONE, __VA_ARGS__)

/* The rollout clock: the system's, or --now moved on by the real time
 * since the start (identity: asserted only; docs/operations.md). */
static int64_t daemon_now(const daemon_state *d)
{
	int64_t real = (int64_t)time(NULL);
	return d->o->now ? d->o->now + (real - d->started_at) : real;
}

char *sluice_daemon_default_spool_dir(const char *root)
{
	char *dot = sluice_path_join(root ? root : ".", ".sluice");
	char *spool = sluice_path_join(dot, "spool");
	free(dot);
	return spool;
}

int sluice_daemon_parse_duration(int64_t *ms, const char *s)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *p = s;
	int64_t n = 0;

	*ms = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > INT64_MAX / 3600000 / 10)
			return sluice_error_set(SLUICE_EINVAL, "duration '%s' is too long", s);
		n = n * 10 + (*p - '0');
	}
	if (p == s || n == 0)
		return sluice_error_set(SLUICE_EINVAL,
					"invalid duration '%s'; give a positive whole number and a "
					"unit: 500ms, 10s, 5m or 1h", s);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(p, units[i].unit) == 0) {
			*ms = n * units[i].ms;
			return 0;
		}
	return sluice_error_set(SLUICE_EINVAL,
				"duration '%s' has no known unit; use ms, s, m or h (e.g. 10s)", s);
}

/* ---- systemd -------------------------------------------------------------- */

static void notify(daemon_state *d, const char *state)
{
	if (sluice__sd_notify(state) < 0 && !d->notify_failed) {
		d->notify_failed = true; /* said once, not every tick */
		sluice__log_fields f = SLUICE__LOG_NONE;
		f.error = sluice_error_last();
		sluice__log_event(&d->log, "warn", &f, "cannot notify systemd");
		sluice_error_clear();
	}
}

static void notify_ready(daemon_state *d, const char *status)
{
	char *msg = sluice_xasprintf("%sSTATUS=%s", d->ready_sent ? "" : "READY=1\n", status);
	notify(d, msg);
	d->ready_sent = true;
	free(msg);
}

static void watchdog(daemon_state *d)
{
	int64_t now = sluice_mono_ms();
	if (d->watchdog_ms && now - d->pinged_ms >= d->watchdog_ms) {
		notify(d, "WATCHDOG=1");
		d->pinged_ms = now;
	}
}

/* ---- the lease ------------------------------------------------------------ */

/* Audits a lease event of this daemon on its lease connection, dated no
 * earlier than the newest row (a --now clock may be behind it), keeping
 * the log in order. */
static int audit_lease_event(daemon_state *d, const char *action, json_t *details)
{
	int64_t newest = 0, at = daemon_now(d);
	int rc = sluice_audit_newest_at(d->lease_store, &newest);

	if (rc == 0) {
		sluice_audit_entry e = {at > newest ? at : newest, NULL, action, NULL, NULL, details};
		rc = sluice_audit_append(d->lease_store, &e, NULL);
	}
	return rc;
}

/* Takes the daemon lease and, in the same transaction, audits that this
 * process acts from now on (daemon.acting, with the holder it took over
 * from): the audit log itself says which daemon made which decision. */
static int take_audited(daemon_state *d, sluice_lease_info *who)
{
	sluice_store *s = d->lease_store;
	json_t *details = NULL;
	int rc;

	if ((rc = sluice_store_begin(s)) < 0)
		return rc;
	if ((rc = sluice_store_lease_acquire(s, SLUICE_DAEMON_LEASE, d->period_ms / 1000, who)) < 0)
		goto done;
	details = json_pack("{s:I}", "lease_period_s", (json_int_t)(d->period_ms / 1000));
	if (who->holder[0])
		json_object_set_new(details, "took_over_from", json_string(who->holder));
	rc = audit_lease_event(d, "daemon.acting", details);
done:
	json_decref(details);
	if (rc == 0 && (rc = sluice_store_commit(s)) == 0)
		return 0;
	sluice_store_rollback(s);
	return rc;
}

/* Gives the lease back on a clean stop and audits it (daemon.stopped),
 * in one transaction. */
static int give_back_audited(daemon_state *d)
{
	sluice_store *s = d->lease_store;
	int rc;

	if ((rc = sluice_store_begin(s)) < 0)
		return rc;
	if ((rc = audit_lease_event(d, "daemon.stopped", NULL)) == 0)
		rc = sluice_store_lease_release(s, SLUICE_DAEMON_LEASE);
	if (rc == 0 && (rc = sluice_store_commit(s)) == 0)
		return 0;
	sluice_store_rollback(s);
	return rc;
}

/* 0: we hold it now; 1: another daemon does (d->standby_holder said);
 * negative: the store failed (logged). */
static int lease_take(daemon_state *d)
{
	sluice_lease_info who;
	int rc = take_audited(d, &who);

	if (rc == 0) {
		d->holding = true;
		d->renewed_ms = sluice_mono_ms();
		d->standby_holder[0] = '\0';
		sluice__log_fields f = SLUICE__LOG_NONE;
		f.holder = d->me;
		sluice__log_event(&d->log, "info", &f, "took the daemon lease; acting");
		return 0;
	}
	if (rc == SLUICE_EBUSY) {
		sluice_error_clear();
		if (strcmp(d->standby_holder, who.holder) != 0) {
			snprintf(d->standby_holder, sizeof d->standby_holder, "%s", who.holder);
			sluice__log_fields f = SLUICE__LOG_NONE;
			f.holder = who.holder;
			sluice__log_event(&d->log, "info", &f,
					  "standing by: another daemon (%s) holds the daemon lease",
					  who.holder);
			char *status = sluice_xasprintf("standing by: the daemon lease is held by %s",
							who.holder);
			notify_ready(d, status);
			free(status);
			d->m.lease_held = false;
			if (d->o->metrics_file && sluice__metrics_write(d->o->metrics_file, &d->m, NULL) < 0) {
				sluice__log_fields g = SLUICE__LOG_NONE;
				g.error = sluice_error_last();
				sluice__log_event(&d->log, "warn", &g, "cannot write the metrics file");
				sluice_error_clear();
			}
		}
		return 1;
	}
	sluice__log_fields f = SLUICE__LOG_NONE;
	f.error = sluice_error_last();
	sluice__log_event(&d->log, "error", &f, "cannot read the daemon lease; trying again");
	sluice_error_clear();
	return rc;
}

/* Renews the lease when a third of its period has passed. false when it
 * is no longer ours: another daemon took it (we stalled past its period),
 * or the store failed for that long. */
static bool renew_if_due(daemon_state *d)
{
	sluice_lease_info who;
	int64_t now = sluice_mono_ms();
	int rc;

	if (!d->holding)
		return false;
	if (now - d->renewed_ms < d->period_ms / 3)
		return true;
	rc = sluice_store_lease_acquire(d->lease_store, SLUICE_DAEMON_LEASE, d->period_ms / 1000,
					&who);
	if (rc == 0) {
		d->renewed_ms = now;
		return true;
	}
	sluice__log_fields f = SLUICE__LOG_NONE;
	f.error = sluice_error_last();
	if (rc == SLUICE_EBUSY) {
		f.holder = who.holder;
		sluice__log_event(&d->log, "error", &f,
				  "lost the daemon lease to %s; standing by", who.holder);
		d->holding = false;
	} else if (now - d->renewed_ms >= d->period_ms) {
		sluice__log_event(&d->log, "error", &f,
				  "cannot renew the daemon lease within its period; standing by");
		d->holding = false;
	} else {
		sluice__log_event(&d->log, "warn", &f, "cannot renew the daemon lease; trying again");
	}
	sluice_error_clear();
	d->m.lease_held = d->holding;
	return d->holding;
}

/* Asked between repositories and spool files: go on unless a stop was
 * asked for or the lease is gone. */
static bool proceed(void *arg)
{
	daemon_state *d = arg;
	watchdog(d);
	if (stop_flag)
		return false;
	return renew_if_due(d);
}

/* ---- a tick ---------------------------------------------------------------- */

static void log_report(daemon_state *d, const sluice_reconcile_report *r)
{
	for (size_t i = 0; i < r->nitems; i++) {
		const sluice_reconcile_item *it = &r->items[i];
		sluice__log_fields f = SLUICE__LOG_NONE;
		f.plugin = it->plugin ? it->plugin : it->watched->key;
		for (char **n = it->notes; n && *n; n++)
			sluice__log_event(&d->log, "info", &f, "%s", *n);
		for (size_t k = 0; it->applied && k < it->applied->nactions; k++) {
			const sluice_rollout_action *a = &it->applied->actions[k];
			char *line = sluice_engine_action_text(a);
			sluice__log_fields g = f;
			g.version = a->version;
			g.stage = a->stage;
			sluice__log_event(&d->log, "info", &g, "%s", line);
			free(line);
		}
		if (it->error) {
			sluice__log_fields g = f;
			g.error = it->error;
			sluice__log_event(&d->log, "error", &g,
					  "this plugin's pass was rolled back; it is tried again next tick");
			d->m.plugin_errors++;
		}
	}
}

static void reconcile(daemon_state *d, sluice_engine *e)
{
	sluice_reconcile_report r;
	sluice_reconcile_opts ro = {0};
	sluice__log_fields f = SLUICE__LOG_NONE;
	int64_t t0 = sluice_mono_ms();
	int rc;

	/* a pass from cron is waited for up to a lease period; the dead
	 * primary's pass, seen from another host, expires within it */
	ro.lease_wait_ms = d->period_ms;
	ro.lease_ttl_s = d->period_ms / 1000;
	/* tick_deliver sends the outbox once a tick, after the spool, and
	 * logs what failed */
	ro.no_deliver = true;
	ro.proceed = proceed;
	ro.proceed_arg = d;
	d->m.plugin_errors = 0;
	rc = sluice_reconcile_run(&r, e, &ro);
	f.duration_ms = sluice_mono_ms() - t0;
	d->m.reconcile_seconds = (double)f.duration_ms / 1000.0;
	if (rc < 0) {
		f.error = sluice_error_last();
		sluice__log_event(&d->log, "error", &f, "the reconcile pass could not run");
		sluice_error_clear();
		d->m.result = "failed";
		d->m.runs_failed++;
		return;
	}
	log_report(d, &r);
	if (r.stopped) {
		sluice__log_event(&d->log, "info", &f,
				  "the reconcile pass stopped early; the rest waits for the next pass");
		d->m.result = "skipped";
		d->m.runs_skipped++;
	} else if (r.lease_holder) {
		f.holder = r.lease_holder;
		sluice__log_event(&d->log, "warn", &f,
				  "another reconcile (%s) is running; this tick left the pass to it",
				  r.lease_holder);
		d->m.result = "skipped";
		d->m.runs_skipped++;
	} else if (r.publish_error) {
		f.error = r.publish_error;
		sluice__log_event(&d->log, "error", &f, "reconcile pass done, but cannot publish");
		d->m.result = "failed";
		d->m.runs_failed++;
	} else {
		sluice__log_event(&d->log, "info", &f, "reconcile pass done%s",
				  r.published ? "; published the effective state" : "");
		d->m.result = "ok";
		d->m.runs_ok++;
		d->m.reconcile_ok_at = (int64_t)time(NULL);
	}
	sluice_reconcile_report_clear(&r);
}

static void on_reject(void *arg, const char *source, int64_t line, const char *reason,
		      const char *text, size_t len)
{
	daemon_state *d = arg;
	sluice__log_fields f = SLUICE__LOG_NONE;

	/* the line itself may carry what users typed: it goes to the reject
	 * file (0600, as the CLI's), never to the log */
	f.error = reason;
	sluice__log_event(&d->log, "warn", &f, "rejected telemetry line %s:%" PRId64, source, line);
	if (!d->rejects && !d->rejects_failed) {
		char *path = sluice_ingest_rejects_default(d->o->db_path);
		if (!(d->rejects = sluice_ingest_rejects_open(path))) {
			sluice__log_fields g = SLUICE__LOG_NONE;
			g.error = sluice_error_last();
			sluice__log_event(&d->log, "warn", &g, "cannot keep rejected lines in %s", path);
			sluice_error_clear();
			d->rejects_failed = true; /* said once */
		}
		free(path);
	}
	if (d->rejects)
		sluice_ingest_reject_write(d->rejects, source, line, reason, text, len);
}

static void ingest(daemon_state *d, sluice_engine *e)
{
	sluice_ingest_ctx ctx;
	sluice_ingest_stats st = {0};
	sluice__log_fields f = SLUICE__LOG_NONE;
	size_t nfiles = 0;
	int64_t t0 = sluice_mono_ms();
	int rc;

	if ((rc = sluice_ingest_ctx_load(&ctx, e, daemon_now(d))) == 0) {
		ctx.on_reject = on_reject;
		ctx.proceed = proceed;
		ctx.arg = d;
		rc = sluice_ingest_spool(&st, &nfiles, sluice_engine_store(e), &ctx, d->spool);
	}
	f.duration_ms = sluice_mono_ms() - t0;
	d->m.events_ingested += st.added;
	d->m.spool_files += (int64_t)nfiles;
	d->m.lines_rejected += st.rejected;
	if (nfiles)
		sluice__log_event(&d->log, "info", &f,
				  "ingested %" PRId64 " telemetry events from %zu spool file%s (%" PRId64
				  " already stored, %" PRId64 " rejected)",
				  st.added, nfiles, nfiles == 1 ? "" : "s", st.duplicates, st.rejected);
	if (rc < 0) {
		f.error = sluice_error_last();
		sluice__log_event(&d->log, "error", &f,
				  "the telemetry spool ingest failed; it is tried again next tick");
		sluice_error_clear();
	}
	sluice_ingest_ctx_clear(&ctx);
}

/* The outbox: every row that is due - the pass's own events and those of
 * operator actions since the last tick - then the backlog for the
 * metrics. A receiver that is down is logged, never fatal. */
static int tick_deliver(daemon_state *d, sluice_engine *e)
{
	sluice_notify_stats st = {0};
	sluice__log_fields f = SLUICE__LOG_NONE;
	int64_t now = (int64_t)time(NULL), t0 = sluice_mono_ms(), count = 0, oldest = 0;
	int rc;

	rc = sluice_notify_deliver(&st, e, now, 0);
	f.duration_ms = sluice_mono_ms() - t0;
	if (rc < 0) {
		f.error = sluice_error_last();
		sluice__log_event(&d->log, "error", &f,
				  "cannot deliver the outbox; it is tried again next tick");
		sluice_error_clear();
	} else if (st.failed) {
		f.error = st.error;
		sluice__log_event(&d->log, "warn", &f,
				  "delivered %d of %d notifications (%d failed, %d now dead); the "
				  "rest are retried with backoff",
				  st.delivered, st.attempted, st.failed, st.dead);
	} else if (st.delivered) {
		sluice__log_event(&d->log, "info", &f, "delivered %d notification%s", st.delivered,
				  st.delivered == 1 ? "" : "s");
	}
	sluice_notify_stats_clear(&st);
	if (sluice_store_outbox_backlog(&count, &oldest, sluice_engine_store(e),
					sluice_engine_workspace_name(e)) == 0) {
		d->m.outbox_pending = count;
		d->m.outbox_oldest_age = count && oldest && now > oldest ? now - oldest : 0;
	} else {
		sluice_error_clear();
	}
	return rc;
}

/* A tick acts on the rollout clock only where a command could: --now
 * under identity: asserted alone, and never earlier than an event already
 * recorded (docs/concepts.md, "Time"). Logged; the tick is skipped. */
static int clock_refused(daemon_state *d, sluice_engine *e)
{
	const sluice_workspace *ws = sluice_engine_workspace(e);
	sluice__log_fields f = SLUICE__LOG_NONE;
	char now[SLUICE_TIME_BUFSZ], at[SLUICE_TIME_BUFSZ];
	int64_t newest = 0;

	if (d->o->now && sluice_identity_mode_of(ws) != SLUICE_IDENTITY_ASSERTED) {
		sluice__log_event(&d->log, "error", &f,
				  "--now is only for identity: asserted, and the workspace's is %s; "
				  "this tick is skipped: restart the daemon without --now",
				  sluice_identity_mode_name(sluice_identity_mode_of(ws)));
		d->m.result = "config_error";
		d->m.runs_config_error++;
		return -1;
	}
	if (sluice_audit_newest_at(sluice_engine_store(e), &newest) < 0) {
		f.error = sluice_error_last();
		sluice__log_event(&d->log, "error", &f, "cannot read the audit log; this tick is skipped");
		sluice_error_clear();
		d->m.result = "failed";
		d->m.runs_failed++;
		return -1;
	}
	if (newest > sluice_engine_now(e)) {
		sluice_time_format(now, sluice_engine_now(e));
		sluice_time_format(at, newest);
		sluice__log_event(&d->log, "error", &f,
				  "the clock (%s) is behind an event already recorded at %s; sluice "
				  "records events in time order: this tick is skipped: fix the clock",
				  now, at);
		d->m.result = "failed";
		d->m.runs_failed++;
		return -1;
	}
	return 0;
}

/* The configuration is read again each tick; a broken one skips the tick
 * (logged with its errors) and the stored and published state stay as the
 * last good configuration left them. */
static void tick(daemon_state *d)
{
	const sluice_daemon_opts *o = d->o;
	sluice_engine *e = NULL;
	sluice_diags diags;
	int rc;

	d->m.ticks++;
	d->m.ran = true;
	sluice_diags_init(&diags);
	rc = sluice_engine_open(&e, o->root, o->db_path, o->cache_dir, o->workspace,
				daemon_now(d), 0, &diags);
	if (rc < 0) {
		sluice__log_fields f = SLUICE__LOG_NONE;
		for (size_t i = 0; i < diags.count; i++)
			if (diags.items[i].severity == SLUICE_SEV_ERROR)
				sluice__log_event(&d->log, "error", &f, "%s:%u:%u: %s",
						  diags.items[i].file ? diags.items[i].file : "?",
						  diags.items[i].line, diags.items[i].col,
						  diags.items[i].message);
		f.error = sluice_error_last();
		if (rc == SLUICE_EINVAL || rc == SLUICE_ENOTFOUND || rc == SLUICE_EAMBIGUOUS) {
			sluice__log_event(&d->log, "error", &f,
					  "cannot load the configuration; this tick is skipped and the "
					  "state stays as it is; fix it and send SIGHUP or wait for the "
					  "next tick");
			d->m.result = "config_error";
			d->m.runs_config_error++;
		} else {
			sluice__log_event(&d->log, "error", &f,
					  "cannot open the workspace; this tick is skipped and tried "
					  "again at the next");
			d->m.result = "failed";
			d->m.runs_failed++;
		}
		sluice_error_clear();
	} else if (clock_refused(d, e) == 0) {
		sluice_store_set_process(sluice_engine_store(e), d->me);
		reconcile(d, e);
		if (!stop_flag && d->holding)
			ingest(d, e);
		if (!stop_flag && d->holding)
			tick_deliver(d, e);
	}
	d->m.lease_held = d->holding;
	if (o->metrics_file && sluice__metrics_write(o->metrics_file, &d->m, e) < 0) {
		sluice__log_fields f = SLUICE__LOG_NONE;
		f.error = sluice_error_last();
		sluice__log_event(&d->log, "warn", &f, "cannot write the metrics file %s",
				  o->metrics_file);
		sluice_error_clear();
	}
	sluice_engine_free(e);
	sluice_diags_clear(&diags);
}

/* ---- the loop -------------------------------------------------------------- */

/* Sleeps up to ms, or until a signal arrives. */
static void sleep_ms(int64_t ms)
{
	struct pollfd p = {wake_pipe[0], POLLIN, 0};
	char buf[64];

	if (ms < 0)
		ms = 0;
	if (stop_flag || hup_flag)
		return;
	if (poll(&p, 1, ms > 60000 ? 60000 : (int)ms) > 0)
		while (read(wake_pipe[0], buf, sizeof buf) > 0) {
		}
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static int setup(daemon_state *d, const sluice_daemon_opts *o)
{
	struct sigaction sa;
	struct stat sb;
	char host[256];
	int rc;

	d->o = o;
	d->log.format = o->log_format;
	d->log.verbose = o->verbose;
	d->period_ms = (o->lease_period_s > 0 ? o->lease_period_s : SLUICE_DAEMON_LEASE_PERIOD) * 1000;
	d->started_at = (int64_t)time(NULL);
	d->watchdog_ms = sluice__sd_watchdog_ms();
	if (gethostname(host, sizeof host) < 0 || !host[0])
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(d->me, sizeof d->me, "%ld@%s", (long)getpid(), host);
	d->spool = o->spool_dir ? sluice_xstrdup(o->spool_dir) : sluice_daemon_default_spool_dir(o->root);
	if (stat(d->spool, &sb) < 0) {
		/* created private whatever the umask; one made by the
		 * administrator keeps its modes (producers may need them) */
		if ((rc = sluice_mkdir_p(d->spool, 0700)) < 0)
			return rc;
		if (chmod(d->spool, 0700) < 0)
			return sluice_error_set(SLUICE_EIO, "cannot set the mode of %s: %s", d->spool,
						strerror(errno));
	} else if (!S_ISDIR(sb.st_mode)) {
		return sluice_error_set(SLUICE_EINVAL, "the spool %s is not a directory; give "
					"--spool DIR", d->spool);
	}
	if ((rc = sluice_store_open(&d->lease_store, o->db_path, 0)) < 0)
		return rc;
	sluice_store_set_process(d->lease_store, d->me);
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return sluice_error_set(SLUICE_EIO, "cannot make a pipe: %s", strerror(errno));
	stop_flag = 0;
	hup_flag = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART; /* SQLite and libgit2 see no EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

/* The handlers stay: a second SIGTERM while the process exits (systemd's,
 * or an impatient operator's) must not turn a clean stop into a kill.
 * They write to the pipe only while it is open. */
static void teardown(daemon_state *d)
{
	for (int i = 0; i < 2; i++)
		if (wake_pipe[i] >= 0) {
			int fd = wake_pipe[i];
			wake_pipe[i] = -1;
			close(fd);
		}
	sluice_store_free(d->lease_store);
	if (d->rejects)
		fclose(d->rejects);
	free(d->spool);
}

int sluice_daemon_run(const sluice_daemon_opts *o)
{
	daemon_state d;
	int64_t interval = o->interval_ms > 0 ? o->interval_ms : 60000, next_tick = 0;
	int64_t poll_standby;
	int rc;

	memset(&d, 0, sizeof d);
	if ((rc = setup(&d, o)) < 0)
		goto done;
	/* a standby polls ten times a period: it takes over well within one
	 * period of the holder's last renewal */
	poll_standby = d.period_ms / 10 < 100 ? 100 : d.period_ms / 10 > 1000 ? 1000 : d.period_ms / 10;
	{
		sluice__log_fields f = SLUICE__LOG_NONE;
		f.holder = d.me;
		sluice__log_event(&d.log, "info", &f,
				  "sluice run started: a tick every %" PRId64 " ms, spool %s, lease period %"
				  PRId64 " s", interval, d.spool, d.period_ms / 1000);
	}
	while (!stop_flag) {
		int64_t now = sluice_mono_ms(), wake;

		watchdog(&d);
		if (!d.holding) {
			hup_flag = 0; /* a standby has nothing to reconcile */
			if (lease_take(&d) != 0) {
				sleep_ms(poll_standby);
				continue;
			}
			next_tick = now; /* took over: a tick at once */
		}
		if (hup_flag) {
			hup_flag = 0;
			LOG(&d, "info", "SIGHUP: reconciling now");
			next_tick = now;
		}
		if (now >= next_tick) {
			tick(&d);
			next_tick = sluice_mono_ms() + interval;
			if (d.holding) {
				char *status = sluice_xasprintf("acting: last reconcile %s",
								d.m.result ? d.m.result : "?");
				notify_ready(&d, status);
				free(status);
			}
			continue;
		}
		if (!renew_if_due(&d))
			continue;
		wake = min64(next_tick, d.renewed_ms + d.period_ms / 3);
		if (d.watchdog_ms)
			wake = min64(wake, d.pinged_ms + d.watchdog_ms);
		sleep_ms(wake - sluice_mono_ms());
	}
	notify(&d, "STOPPING=1");
	LOG(&d, "info", "stopping: SIGTERM or SIGINT");
	if (d.holding && give_back_audited(&d) < 0) {
		sluice__log_fields f = SLUICE__LOG_NONE;
		f.error = sluice_error_last();
		sluice__log_event(&d.log, "warn", &f,
				  "cannot give the daemon lease back; it expires by itself");
		sluice_error_clear();
	}
	LOG(&d, "info", "stopped");
	rc = 0;
done:
	teardown(&d);
	return rc;
}
