/* The queries behind `sluice export` (docs/export.md): one prepared
 * statement per section, stepped row by row into the caller's callback,
 * so an export holds one row at a time whatever the number of events.
 * Telemetry comes from the daily rollups, never the raw events. Every
 * query binds ?1 the plugin (NULL: all), ?2 since and ?3 until (NULL:
 * open; until exclusive) and ?4 now. */
#include <string.h>

#include "store-export.h"
#include "sluice/error.h"
#include "store-internal.h"

/* Releases still moving, whose last stage has no end yet. */
#define OPEN_STATES "('pending', 'in_progress', 'paused', 'frozen', 'complete')"

static const char sql_plugins[] =
	"SELECT r.plugin AS plugin,"
	" (SELECT json_extract(r2.deploy_snapshot, '$.controls.audit_dashboard') FROM releases r2"
	"   WHERE r2.plugin = r.plugin AND r2.deploy_snapshot IS NOT NULL"
	"   ORDER BY r2.seen_at DESC, r2.id DESC LIMIT 1) AS audit_dashboard,"
	" group_concat(DISTINCT r.workspace) AS workspaces, count(*) AS releases"
	" FROM releases r WHERE (?1 IS NULL OR r.plugin = ?1)"
	" GROUP BY r.plugin ORDER BY r.plugin";

static const char sql_rollouts[] =
	"SELECT r.plugin AS plugin, r.version AS version, r.workspace AS workspace, r.tag AS tag,"
	" r.commit_id AS commit_id, r.state AS state, r.state_reason AS state_reason,"
	" (SELECT ss.stage_name FROM stage_starts ss WHERE ss.release_id = r.id"
	"   AND ss.stage_index = r.stage_index) AS stage,"
	" r.seen_at AS seen_at, r.stage_started_at AS stage_started_at, r.updated_at AS updated_at"
	" FROM releases r WHERE (?1 IS NULL OR r.plugin = ?1)"
	" AND (?3 IS NULL OR r.seen_at < ?3)"
	" AND (?2 IS NULL OR r.updated_at >= ?2 OR r.state IN " OPEN_STATES ")"
	" ORDER BY r.plugin, r.seen_at, r.id";

/* A stage ends when the next one starts, or when its release left the
 * rollout (rolled back, superseded, withdrawn...); NULL while it runs. */
static const char sql_stages[] =
	"SELECT plugin, version, stage_index, stage, started_at, ended_at, started_by, actor,"
	" reason FROM ("
	" SELECT r.plugin AS plugin, r.version AS version, r.seen_at AS seen_at, r.id AS rid,"
	"  ss.stage_index AS stage_index, ss.stage_name AS stage, ss.started_at AS started_at,"
	"  coalesce(lead(ss.started_at) OVER (PARTITION BY ss.release_id ORDER BY ss.stage_index),"
	"   CASE WHEN r.state IN " OPEN_STATES " THEN NULL ELSE r.updated_at END) AS ended_at,"
	"  ss.started_by AS started_by, ss.actor AS actor, ss.reason AS reason"
	" FROM stage_starts ss JOIN releases r ON r.id = ss.release_id"
	" WHERE (?1 IS NULL OR r.plugin = ?1))"
	" WHERE (?3 IS NULL OR started_at < ?3) AND (?2 IS NULL OR ended_at IS NULL OR ended_at >= ?2)"
	" ORDER BY plugin, seen_at, rid, stage_index";

static const char sql_approvals[] =
	"SELECT plugin, version, kind, stage, approver, at, commit_id, comment, live, voided_at,"
	" void_reason FROM ("
	" SELECT a.plugin AS plugin, a.version AS version, 'approval' AS kind, a.stage AS stage,"
	"  a.approver AS approver, a.at AS at, a.commit_id AS commit_id, a.comment AS comment,"
	"  (a.voided_at IS NULL) AS live, a.voided_at AS voided_at, a.void_reason AS void_reason,"
	"  a.id AS rid FROM approvals a"
	" UNION ALL"
	" SELECT j.plugin, j.version, 'rejection', NULL, j.actor, j.at, j.commit_id, j.comment, 1,"
	"  NULL, NULL, j.id FROM rejections j)"
	" WHERE (?1 IS NULL OR plugin = ?1) AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3)"
	" ORDER BY plugin, at, kind, rid";

/* Rollup days that overlap [since, until). */
#define DAY_FILTER \
	" AND (?1 IS NULL OR d.plugin = ?1) AND (?2 IS NULL OR d.day + 86400 > ?2)" \
	" AND (?3 IS NULL OR d.day < ?3)"
/* Versions in release order, not text order ("0.10.0" after "0.9.0"). */
#define VERSION_ORDER \
	"(SELECT min(r.seen_at) FROM releases r WHERE r.plugin = d.plugin AND r.version = d.version)"

static const char sql_telemetry[] =
	"SELECT d.plugin AS plugin, d.version AS version, d.day AS day, sum(d.calls) AS calls,"
	" sum(d.errors) AS errors, sum(d.refusals) AS refusals, sum(d.escalations) AS escalations,"
	" sum(d.errors) * 1.0 / sum(d.calls) AS error_rate,"
	" sum(d.refusals) * 1.0 / sum(d.calls) AS refusal_rate,"
	" sum(d.escalations) * 1.0 / sum(d.calls) AS escalation_rate,"
	" sum(d.latency_count) AS latency_count,"
	" CASE WHEN sum(d.latency_count) > 0 THEN sum(d.latency_sum_ms) * 1.0 / sum(d.latency_count)"
	" END AS avg_latency_ms"
	" FROM telemetry_daily d WHERE d.tool <> '' AND d.calls > 0" DAY_FILTER
	" GROUP BY d.plugin, d.version, d.day"
	" ORDER BY d.plugin, " VERSION_ORDER ", d.version, d.day";

static const char sql_feedback[] =
	"SELECT d.plugin AS plugin, d.version AS version, d.day AS day,"
	" sum(d.feedback_total) AS ratings, sum(d.feedback_positive) AS positive,"
	" sum(d.feedback_total) - sum(d.feedback_positive) AS negative,"
	" sum(d.feedback_positive) * 1.0 / sum(d.feedback_total) AS positive_ratio"
	" FROM telemetry_daily d WHERE d.tool = '' AND d.feedback_total > 0" DAY_FILTER
	" GROUP BY d.plugin, d.version, d.day"
	" ORDER BY d.plugin, " VERSION_ORDER ", d.version, d.day";

/* What the controller audited of its gates: a breach (pause or rollback),
 * a flag after max_wait_days, and a stage started because they passed;
 * the same rows as the view v_gate_evaluations. */
static const char sql_gates[] =
	"SELECT a.plugin AS plugin, a.version AS version, a.id AS audit_id, a.at AS at,"
	" json_extract(a.details, '$.stage') AS stage,"
	" CASE a.action WHEN 'rollout.paused' THEN 'breach' WHEN 'rollout.rolled_back' THEN 'breach'"
	"  WHEN 'notice.gate_wait' THEN 'waiting' ELSE 'pass' END AS outcome,"
	" CASE a.action WHEN 'rollout.paused' THEN 'pause' WHEN 'rollout.rolled_back' THEN 'rollback'"
	"  WHEN 'notice.gate_wait' THEN 'flag' ELSE 'start stage' END AS effect,"
	" json_extract(a.details, '$.reason') AS reason"
	" FROM audit a WHERE a.actor = 'controller'"
	" AND (a.action IN ('rollout.paused', 'rollout.rolled_back', 'notice.gate_wait')"
	"  OR (a.action = 'stage.started'"
	"   AND json_extract(a.details, '$.reason') LIKE '%health gates pass%'))"
	" AND (?1 IS NULL OR a.plugin = ?1) AND (?2 IS NULL OR a.at >= ?2)"
	" AND (?3 IS NULL OR a.at < ?3)"
	" ORDER BY a.plugin, a.id";

static const char sql_audit[] =
	"SELECT id, at, actor, action, plugin, version, details, admin_commit, hash FROM audit"
	" WHERE (?1 IS NULL OR plugin = ?1) AND (?2 IS NULL OR at >= ?2)"
	" AND (?3 IS NULL OR at < ?3) ORDER BY id";

static const char sql_telemetry_range[] =
	"SELECT min(day) AS first_day, max(day) AS last_day, max(er) AS max_error_rate,"
	" max(rr) AS max_refusal_rate, max(sr) AS max_escalation_rate, max(n) AS max_ratings"
	" FROM (SELECT d.day AS day,"
	"  sum(d.errors) * 1.0 / nullif(sum(d.calls), 0) AS er,"
	"  sum(d.refusals) * 1.0 / nullif(sum(d.calls), 0) AS rr,"
	"  sum(d.escalations) * 1.0 / nullif(sum(d.calls), 0) AS sr,"
	"  sum(d.feedback_total) AS n"
	"  FROM telemetry_daily d WHERE 1" DAY_FILTER
	"  GROUP BY d.version, d.day)";

static const char sql_timeline_range[] =
	"SELECT min(t) AS first_at, max(t) AS last_at FROM ("
	" SELECT ss.started_at AS t FROM stage_starts ss JOIN releases r ON r.id = ss.release_id"
	"  WHERE (?1 IS NULL OR r.plugin = ?1)"
	" UNION ALL SELECT r.updated_at FROM releases r"
	"  WHERE (?1 IS NULL OR r.plugin = ?1) AND r.stage_index IS NOT NULL"
	" UNION ALL SELECT a.at FROM approvals a WHERE (?1 IS NULL OR a.plugin = ?1))"
	" WHERE (?2 IS NULL OR t >= ?2) AND (?3 IS NULL OR t < ?3)";

static const struct {
	const char *name;
	const char *sql;
} sections[] = {
	[SLUICE__EXPORT_PLUGINS] = {"plugins", sql_plugins},
	[SLUICE__EXPORT_ROLLOUTS] = {"rollouts", sql_rollouts},
	[SLUICE__EXPORT_STAGES] = {"stages", sql_stages},
	[SLUICE__EXPORT_APPROVALS] = {"approvals", sql_approvals},
	[SLUICE__EXPORT_TELEMETRY] = {"telemetry_daily", sql_telemetry},
	[SLUICE__EXPORT_FEEDBACK] = {"feedback_daily", sql_feedback},
	[SLUICE__EXPORT_GATES] = {"gate_evaluations", sql_gates},
	[SLUICE__EXPORT_AUDIT] = {"audit_trail", sql_audit},
	[SLUICE__EXPORT_TELEMETRY_RANGE] = {"telemetry_range", sql_telemetry_range},
	[SLUICE__EXPORT_TIMELINE_RANGE] = {"timeline_range", sql_timeline_range},
};

const char *sluice__export_section_name(sluice__export_section sec)
{
	return (size_t)sec < sizeof sections / sizeof sections[0] ? sections[sec].name : "?";
}

int sluice__export_col(const sluice__export_row *row, const char *name)
{
	for (size_t i = 0; i < row->ncols; i++)
		if (strcmp(row->names[i], name) == 0)
			return (int)i;
	return -1;
}

int sluice__store_export_rows(sluice_store *s, sluice__export_section sec,
			      const sluice__export_filter *f,
			      int (*cb)(const sluice__export_row *row, void *ctx), void *ctx)
{
	sluice__export_row row;
	sqlite3_stmt *st = NULL;
	int rc, step;

	if ((size_t)sec >= sizeof sections / sizeof sections[0])
		return sluice_error_set(SLUICE_EINVAL, "no export section %d", (int)sec);
	if ((rc = store_stmt(s, &st, sections[sec].sql)) < 0)
		return rc;
	store_bind_text(st, 1, f->plugin);
	store_bind_time(st, 2, f->since);
	store_bind_time(st, 3, f->until);
	store_bind_int(st, 4, f->now);
	row.ncols = (size_t)sqlite3_column_count(st);
	if (row.ncols > SLUICE__EXPORT_MAX_COLS) {
		rc = sluice_error_set(SLUICE_ERROR, "export section %s has too many columns",
				      sections[sec].name);
		goto done;
	}
	for (size_t i = 0; i < row.ncols; i++)
		row.names[i] = sqlite3_column_name(st, (int)i);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t i = 0; i < row.ncols; i++) {
			sluice__export_value *v = &row.v[i];
			memset(v, 0, sizeof *v);
			switch (sqlite3_column_type(st, (int)i)) {
			case SQLITE_INTEGER:
				v->type = SLUICE__EXPORT_INT;
				v->i = sqlite3_column_int64(st, (int)i);
				break;
			case SQLITE_FLOAT:
				v->type = SLUICE__EXPORT_REAL;
				v->r = sqlite3_column_double(st, (int)i);
				break;
			case SQLITE_NULL:
				v->type = SLUICE__EXPORT_NULL;
				break;
			default:
				v->type = SLUICE__EXPORT_TEXT;
				v->t = (const char *)sqlite3_column_text(st, (int)i);
				if (!v->t)
					v->type = SLUICE__EXPORT_NULL;
				break;
			}
		}
		if ((rc = cb(&row, ctx)) != 0)
			goto done;
	}
	if (step != SQLITE_DONE)
		rc = store_error(s, step, "cannot read the export");
done:
	store_done(st);
	return rc;
}
