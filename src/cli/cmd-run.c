/* sluice run: the daemon - a tick every --interval and at once on SIGHUP
 * (reconcile, the telemetry spool, the outbox), one acting per database
 * under the daemon lease, JSON logs on stderr, Prometheus metrics in a
 * file (docs/operations.md). The loop is the library's (daemon.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sluice/config.h"
#include "sluice/daemon.h"
#include "sluice/error.h"

static const cli_opt opts[] = {
	CLI_OPT_WORKSPACE,
	{"interval", 0, "DURATION", "time between ticks: 500ms, 10s, 5m, 1h (default 60s)", false},
	{"metrics-file", 0, "PATH", "write Prometheus text-format metrics to PATH after each tick",
	 false},
	{"log-format", 0, "FORMAT", "json (default: one object a line) or text", false},
	{"spool", 0, "DIR", "the telemetry spool (default <root>/.sluice/spool)", false},
	{"lease-period", 0, "DURATION", "the daemon lease's period, at least 3s (default 15s)",
	 false},
	{NULL, 0, NULL, NULL, false},
};

/* The options as the daemon takes them; a usage error is printed. */
static cli_retval parse(sluice_daemon_opts *o, const struct cli *c)
{
	const char *interval = cli_get(c, "interval"), *lease = cli_get(c, "lease-period");
	const char *fmt = cli_get(c, "log-format");
	int64_t ms;

	memset(o, 0, sizeof *o);
	if (interval) {
		if (sluice_daemon_parse_duration(&o->interval_ms, interval) < 0) {
			cli_error("--interval: %s", sluice_error_last());
			return CLI_USAGE;
		}
	}
	if (lease) {
		if (sluice_daemon_parse_duration(&ms, lease) < 0) {
			cli_error("--lease-period: %s", sluice_error_last());
			return CLI_USAGE;
		}
		if (ms < 3000) {
			cli_error("--lease-period must be at least 3s (it is renewed every third of it)");
			return CLI_USAGE;
		}
		o->lease_period_s = (ms + 999) / 1000;
	}
	if (!fmt || strcmp(fmt, "json") == 0)
		o->log_format = SLUICE_LOG_JSON;
	else if (strcmp(fmt, "text") == 0)
		o->log_format = SLUICE_LOG_TEXT;
	else {
		cli_error("--log-format must be json or text, not '%s'", fmt);
		return CLI_USAGE;
	}
	o->root = c->root;
	o->db_path = c->db;
	o->cache_dir = c->cache;
	o->workspace = cli_get(c, "workspace");
	o->metrics_file = cli_get(c, "metrics-file");
	o->spool_dir = cli_get(c, "spool");
	o->verbose = c->verbose;
	return CLI_OK;
}

/* --now is for a replay under identity: asserted, as for every action
 * (docs/concepts.md, "Time"); the daemon checks it again each tick, since
 * the configuration may change while it runs. */
static cli_retval check_now(sluice_daemon_opts *o, struct cli *c)
{
	sluice_workspace *ws = NULL;
	cli_retval rc;

	if (!c->now_arg)
		return CLI_OK;
	if ((rc = cli_workspace_load(&ws, c)) != CLI_OK)
		return rc;
	sluice_workspace_free(ws);
	o->now = c->now;
	return CLI_OK;
}

static cli_retval check(struct cli *c)
{
	sluice_daemon_opts o;
	return parse(&o, c);
}

static cli_retval run(struct cli *c)
{
	sluice_daemon_opts o;
	cli_retval rc;
	int lrc;

	if ((rc = parse(&o, c)) != CLI_OK || (rc = check_now(&o, c)) != CLI_OK)
		return rc;
	if ((lrc = sluice_daemon_run(&o)) < 0)
		return cli_fail(lrc);
	return CLI_OK;
}

const cli_cmd cmd_run = {
	.name = "run",
	.run = run,
	.usage = "run [--interval DURATION] [--metrics-file PATH] [--log-format json|text] "
		 "[--spool DIR] [--lease-period DURATION] [-w NAME]",
	.summary = "the daemon: reconcile on a timer and on SIGHUP, ingest the spool, write metrics",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
	.check = check,
};
