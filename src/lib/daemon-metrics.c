/* The daemon's metrics (docs/operations.md, "Metrics"): the Prometheus
 * text exposition format, written whole and atomically after each tick,
 * for node_exporter's textfile collector or any scraper of a file. Every
 * metric has HELP and TYPE lines; label values are escaped as the format
 * says. The store is read through store.h, the plan through rollout.h. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "daemon-internal.h"
#include "sluice/error.h"
#include "sluice/publish.h"
#include "sluice/rollout.h"
#include "sluice/store.h"
#include "sluice/util.h"

static void head(sluice_buf *b, const char *name, const char *type, const char *help)
{
	sluice_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(sluice_buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			sluice_buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			sluice_buf_puts(b, "\\n");
		else
			sluice_buf_put(b, v, 1);
	}
}

static void one(sluice_buf *b, const char *name, const char *type, const char *help, int64_t v)
{
	head(b, name, type, help);
	sluice_buf_printf(b, "%s %" PRId64 "\n", name, v);
}

static void labelled(sluice_buf *b, const char *name, const char *key, const char *value,
		     int64_t v)
{
	sluice_buf_printf(b, "%s{%s=\"", name, key);
	label(b, value);
	sluice_buf_printf(b, "\"} %" PRId64 "\n", v);
}

static void tick_metrics(sluice_buf *b, const sluice__metrics *m)
{
	static const char *const results[] = {"ok", "failed", "config_error", "skipped"};
	const int64_t runs[] = {m->runs_ok, m->runs_failed, m->runs_config_error, m->runs_skipped};

	one(b, "sluice_daemon_lease_held", "gauge",
	    "1 while this daemon holds the daemon lease and acts, 0 while it stands by",
	    m->lease_held);
	one(b, "sluice_daemon_ticks_total", "counter", "ticks run since the daemon started",
	    m->ticks);
	head(b, "sluice_reconcile_duration_seconds", "gauge",
	     "how long the last reconcile pass took");
	sluice_buf_printf(b, "sluice_reconcile_duration_seconds %.3f\n", m->reconcile_seconds);
	head(b, "sluice_reconcile_success", "gauge",
	     "1 when the last reconcile pass ran and published, 0 when it failed or was skipped");
	sluice_buf_printf(b, "sluice_reconcile_success %d\n",
			  m->ran && m->result && strcmp(m->result, "ok") == 0);
	head(b, "sluice_reconcile_runs_total", "counter",
	     "reconcile passes since the daemon started, by result");
	for (size_t i = 0; i < 4; i++)
		labelled(b, "sluice_reconcile_runs_total", "result", results[i], runs[i]);
	one(b, "sluice_reconcile_last_success_timestamp_seconds", "gauge",
	    "unix time of the last reconcile pass that succeeded; 0 for none yet",
	    m->reconcile_ok_at);
	one(b, "sluice_reconcile_plugin_errors", "gauge",
	    "plugins whose pass was rolled back in the last reconcile", m->plugin_errors);
	one(b, "sluice_telemetry_events_ingested_total", "counter",
	    "telemetry events stored from the spool since the daemon started", m->events_ingested);
	one(b, "sluice_telemetry_spool_files_total", "counter",
	    "spool files ingested since the daemon started", m->spool_files);
	one(b, "sluice_telemetry_lines_rejected_total", "counter",
	    "spool lines rejected since the daemon started", m->lines_rejected);
	one(b, "sluice_outbox_pending", "gauge", "notifications waiting in the outbox",
	    m->outbox_pending);
	one(b, "sluice_outbox_oldest_age_seconds", "gauge",
	    "age of the oldest notification waiting in the outbox; 0 when none",
	    m->outbox_oldest_age);
}

/* Releases by state, every known state listed (0 when none). */
static int release_metrics(sluice_buf *b, sluice_engine *e)
{
	sluice_state_count *c = NULL;
	size_t n = 0;
	int rc;

	if ((rc = sluice_store_release_state_counts(&c, &n, sluice_engine_store(e),
						    sluice_engine_workspace_name(e))) < 0)
		return rc;
	head(b, "sluice_releases", "gauge", "releases recorded, by state");
	for (int s = SLUICE_RELEASE_PENDING; s <= SLUICE_RELEASE_SKIPPED; s++) {
		const char *name = sluice_release_state_name((sluice_release_state)s);
		int64_t v = 0;
		for (size_t i = 0; i < n; i++)
			if (c[i].state && strcmp(c[i].state, name) == 0)
				v = c[i].count;
		labelled(b, "sluice_releases", "state", name, v);
	}
	sluice_state_counts_free(c, n);
	return 0;
}

/* Gate results and blocked stages: what the planner says now. */
static int plan_metrics(sluice_buf *b, sluice_engine *e)
{
	sluice_engine_input *in = NULL;
	sluice_plan *p = NULL;
	int64_t gates[3] = {0, 0, 0}, blocks[SLUICE_BLOCK_TAG_MOVED + 1] = {0};
	int rc;

	if ((rc = sluice_engine_input_load(&in, e, NULL)) < 0 ||
	    (rc = sluice_rollout_plan(&p, &in->in)) < 0)
		goto done;
	for (size_t i = 0; i < p->ngates; i++)
		if ((int)p->gates[i].result >= 0 && p->gates[i].result <= SLUICE_GATE_WAITING)
			gates[p->gates[i].result]++;
	for (size_t i = 0; i < p->nblocked; i++)
		if ((int)p->blocked[i].kind >= 0 && p->blocked[i].kind <= SLUICE_BLOCK_TAG_MOVED)
			blocks[p->blocked[i].kind]++;
	head(b, "sluice_gate_results", "gauge",
	     "health gate metrics of releases in their current stage, by result");
	for (int g = SLUICE_GATE_PASS; g <= SLUICE_GATE_WAITING; g++)
		labelled(b, "sluice_gate_results", "result",
			 sluice_gate_result_name((sluice_gate_result)g), gates[g]);
	head(b, "sluice_blocked_stages", "gauge",
	     "reasons stages cannot start now, by kind");
	for (int k = SLUICE_BLOCK_APPROVAL; k <= SLUICE_BLOCK_TAG_MOVED; k++)
		labelled(b, "sluice_blocked_stages", "kind",
			 sluice_rollout_block_name((sluice_rollout_block_kind)k), blocks[k]);
done:
	sluice_rollout_plan_free(p);
	sluice_engine_input_free(in);
	return rc;
}

static int source_metrics(sluice_buf *b, sluice_engine *e)
{
	size_t n = 0;
	const sluice_watched *w = sluice_engine_watched(e, &n);

	head(b, "sluice_source_last_fetch_success_timestamp_seconds", "gauge",
	     "unix time a repository was last fetched or listed successfully; 0 for never");
	for (size_t i = 0; i < n; i++) {
		sluice_source_row row;
		int64_t at = 0;
		if (sluice_store_source_get(&row, sluice_engine_store(e), w[i].key) == 0)
			at = row.last_ok_at;
		else
			sluice_error_clear(); /* never checked: 0 */
		sluice_source_row_clear(&row);
		labelled(b, "sluice_source_last_fetch_success_timestamp_seconds", "repository",
			 w[i].key, at);
	}
	return 0;
}

static int publish_metrics(sluice_buf *b, sluice_engine *e)
{
	sluice_publish_state st;
	int rc;

	/* every publisher's outcome as one, as status's "publish" */
	if ((rc = sluice_publish_state_load(&st, NULL, sluice_engine_store(e),
					    sluice_engine_workspace_name(e),
					    sluice_engine_workspace(e))) < 0)
		return rc;
	one(b, "sluice_publish_success", "gauge",
	    "1 when the last publish succeeded (or nothing was published yet), 0 when it failed",
	    !st.known || st.ok);
	one(b, "sluice_publish_last_success_timestamp_seconds", "gauge",
	    "when the effective state was last published successfully (rollout clock, unix "
	    "time); 0 for never", st.last_ok_at);
	sluice_publish_state_clear(&st);
	return 0;
}

int sluice__metrics_write(const char *path, const sluice__metrics *m, sluice_engine *e)
{
	sluice_buf b = SLUICE_BUF_INIT;
	int rc = 0;

	tick_metrics(&b, m);
	if (e && ((rc = release_metrics(&b, e)) < 0 || (rc = plan_metrics(&b, e)) < 0 ||
		  (rc = source_metrics(&b, e)) < 0 || (rc = publish_metrics(&b, e)) < 0))
		goto done;
	/* readable by a scraper running as another user: nothing in it is secret */
	rc = sluice_file_write_atomic_mode(path, b.ptr, b.len, 0644);
done:
	sluice_buf_clear(&b);
	return rc;
}
