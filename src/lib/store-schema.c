/* The schema, as numbered migrations. Migration N takes a database from
 * version N-1 to N (PRAGMA user_version) in one transaction. Never edit a
 * migration that has shipped: add the next one. docs/database.md describes
 * the resulting schema and the views. */
#include <stdio.h>

#include "sluice/error.h"
#include "store-internal.h"

/* Times are INTEGER seconds since the epoch (NULL: never); the v_* views
 * show them as RFC 3339 text for dashboards. Object ids are lowercase hex. */
static const char migration_1[] =
	"CREATE TABLE sources (\n"
	"  repository       TEXT PRIMARY KEY,\n"
	"  plugin           TEXT,\n"
	"  url              TEXT NOT NULL,\n"
	"  last_checked_at  INTEGER,\n"
	"  last_ok_at       INTEGER,\n"
	"  last_error       TEXT,\n"
	"  refs_fingerprint TEXT\n"
	");\n"
	"CREATE INDEX sources_plugin ON sources(plugin);\n"

	"CREATE TABLE tags (\n"
	"  plugin           TEXT NOT NULL,\n"
	"  tag              TEXT NOT NULL,\n"
	"  commit_id        TEXT NOT NULL,\n"
	"  tag_object       TEXT,\n"
	"  tagger_email     TEXT,\n"
	"  first_seen_at    INTEGER NOT NULL,\n"
	"  deleted_at       INTEGER,\n"
	"  moved_to_commit  TEXT,\n"
	"  moved_tag_object TEXT,\n"
	"  moved_tagger_email TEXT,\n"
	"  moved_at         INTEGER,\n"
	"  move_accepted_at INTEGER,\n"
	"  PRIMARY KEY (plugin, tag)\n"
	");\n"

	"CREATE TABLE releases (\n"
	"  id               INTEGER PRIMARY KEY,\n"
	"  workspace        TEXT NOT NULL,\n"
	"  plugin           TEXT NOT NULL,\n"
	"  version          TEXT NOT NULL,\n"
	"  tag              TEXT NOT NULL,\n"
	"  commit_id        TEXT NOT NULL,\n"
	"  tagger_email     TEXT,\n"
	"  seen_at          INTEGER NOT NULL,\n"
	"  state            TEXT NOT NULL DEFAULT 'pending',\n"
	"  state_reason     TEXT,\n"
	"  stage_index      INTEGER,\n"
	"  stage_started_at INTEGER,\n"
	"  paused_at        INTEGER,\n"
	"  paused_seconds   INTEGER NOT NULL DEFAULT 0 CHECK (paused_seconds >= 0),\n"
	"  rolled_back      INTEGER NOT NULL DEFAULT 0 CHECK (rolled_back IN (0, 1)),\n"
	"  withdrawn        INTEGER NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1)),\n"
	"  deploy_snapshot  TEXT CHECK (deploy_snapshot IS NULL OR json_valid(deploy_snapshot)),\n"
	"  updated_at       INTEGER NOT NULL,\n"
	"  UNIQUE (workspace, plugin, version)\n"
	");\n"
	"CREATE INDEX releases_plugin ON releases(workspace, plugin, seen_at);\n"

	"CREATE TABLE stage_starts (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  release_id   INTEGER NOT NULL REFERENCES releases(id),\n"
	"  stage_index  INTEGER NOT NULL CHECK (stage_index >= 0),\n"
	"  stage_name   TEXT NOT NULL,\n"
	"  started_at   INTEGER NOT NULL,\n"
	"  started_by   TEXT NOT NULL CHECK (started_by IN ('controller', 'promote')),\n"
	"  actor        TEXT NOT NULL,\n"
	"  reason       TEXT,\n"
	"  UNIQUE (release_id, stage_index)\n"
	");\n"

	"CREATE TABLE approvals (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  workspace    TEXT NOT NULL,\n"
	"  plugin       TEXT NOT NULL,\n"
	"  version      TEXT NOT NULL,\n"
	"  commit_id    TEXT NOT NULL,\n"
	"  stage        TEXT NOT NULL,\n"
	"  approver     TEXT NOT NULL,\n"
	"  comment      TEXT,\n"
	"  signature    TEXT,\n"
	"  at           INTEGER NOT NULL,\n"
	"  voided_at    INTEGER,\n"
	"  void_reason  TEXT\n"
	");\n"
	"CREATE UNIQUE INDEX approvals_live ON approvals"
	"(workspace, plugin, version, commit_id, stage, approver) WHERE voided_at IS NULL;\n"
	"CREATE INDEX approvals_release ON approvals(workspace, plugin, version);\n"

	"CREATE TABLE rejections (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  workspace    TEXT NOT NULL,\n"
	"  plugin       TEXT NOT NULL,\n"
	"  version      TEXT NOT NULL,\n"
	"  commit_id    TEXT NOT NULL,\n"
	"  actor        TEXT NOT NULL,\n"
	"  comment      TEXT,\n"
	"  signature    TEXT,\n"
	"  at           INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX rejections_release ON rejections(workspace, plugin, version);\n"

	"CREATE TABLE attestations (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  workspace    TEXT NOT NULL,\n"
	"  plugin       TEXT NOT NULL,\n"
	"  version      TEXT NOT NULL,\n"
	"  item         TEXT NOT NULL,\n"
	"  actor        TEXT NOT NULL,\n"
	"  evidence     TEXT,\n"
	"  at           INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX attestations_release ON attestations(workspace, plugin, version);\n"

	"CREATE TABLE user_optouts (\n"
	"  workspace    TEXT NOT NULL,\n"
	"  plugin       TEXT NOT NULL,\n"
	"  user_id      TEXT NOT NULL,\n"
	"  actor        TEXT NOT NULL,\n"
	"  at           INTEGER NOT NULL,\n"
	"  PRIMARY KEY (workspace, plugin, user_id)\n"
	");\n"

	"CREATE TABLE workspace_state (\n"
	"  workspace    TEXT PRIMARY KEY,\n"
	"  frozen       INTEGER NOT NULL DEFAULT 0 CHECK (frozen IN (0, 1)),\n"
	"  frozen_by    TEXT,\n"
	"  reason       TEXT,\n"
	"  at           INTEGER NOT NULL\n"
	");\n"

	"CREATE TABLE withdrawals (\n"
	"  id           INTEGER PRIMARY KEY,\n"
	"  workspace    TEXT NOT NULL,\n"
	"  plugin       TEXT NOT NULL,\n"
	"  version      TEXT,\n" /* NULL: every version */
	"  actor        TEXT NOT NULL,\n"
	"  reason       TEXT,\n"
	"  at           INTEGER NOT NULL,\n"
	"  restored_at  INTEGER,\n"
	"  restored_by  TEXT\n"
	");\n"
	"CREATE INDEX withdrawals_plugin ON withdrawals(workspace, plugin);\n"

	/* Leases use real time, never --now: a crashed holder's lease simply
	 * expires. */
	"CREATE TABLE leases (\n"
	"  name         TEXT PRIMARY KEY,\n"
	"  holder       TEXT NOT NULL,\n"
	"  pid          INTEGER NOT NULL,\n"
	"  host         TEXT NOT NULL,\n"
	"  acquired_at  INTEGER NOT NULL,\n"
	"  expires_at   INTEGER NOT NULL\n"
	");\n"

	/* The audit log. AUTOINCREMENT so an id is never reused, even after
	 * the newest rows were removed by someone bypassing the triggers. */
	"CREATE TABLE audit (\n"
	"  id           INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  at           INTEGER NOT NULL,\n"
	"  actor        TEXT NOT NULL,\n"
	"  action       TEXT NOT NULL,\n"
	"  plugin       TEXT,\n"
	"  version      TEXT,\n"
	"  details      TEXT NOT NULL,\n"
	"  admin_commit TEXT,\n"
	"  prev_hash    TEXT NOT NULL,\n"
	"  hash         TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX audit_plugin ON audit(plugin, id);\n"
	"CREATE INDEX audit_at ON audit(at);\n"
	/* Set only inside sluice_audit_prune's transaction: the one DELETE
	 * allowed removes rows before keep_from. */
	"CREATE TABLE audit_prune (\n"
	"  keep_from    INTEGER NOT NULL\n"
	");\n"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
	"BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;\n"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
	"WHEN NOT EXISTS (SELECT 1 FROM audit_prune WHERE OLD.id < keep_from)\n"
	"BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;\n"

	/* Stable views for dashboards (Grafana, Metabase, Datasette). Columns
	 * may be added, never renamed or removed. */
	"CREATE VIEW v_rollouts AS\n"
	"SELECT r.id AS release_id, r.workspace, r.plugin, r.version, r.tag,\n"
	"  r.commit_id, r.tagger_email, r.state, r.state_reason, r.stage_index,\n"
	"  (SELECT ss.stage_name FROM stage_starts ss\n"
	"    WHERE ss.release_id = r.id AND ss.stage_index = r.stage_index) AS stage,\n"
	"  strftime('%Y-%m-%dT%H:%M:%SZ', r.seen_at, 'unixepoch') AS seen_at,\n"
	"  strftime('%Y-%m-%dT%H:%M:%SZ', r.stage_started_at, 'unixepoch') AS stage_started_at,\n"
	"  strftime('%Y-%m-%dT%H:%M:%SZ', r.paused_at, 'unixepoch') AS paused_at,\n"
	"  r.paused_seconds, r.rolled_back, r.withdrawn,\n"
	"  strftime('%Y-%m-%dT%H:%M:%SZ', r.updated_at, 'unixepoch') AS updated_at\n"
	"FROM releases r;\n"
	"CREATE VIEW v_stage_starts AS\n"
	"SELECT r.workspace, r.plugin, r.version, r.commit_id, ss.stage_index,\n"
	"  ss.stage_name AS stage,\n"
	"  strftime('%Y-%m-%dT%H:%M:%SZ', ss.started_at, 'unixepoch') AS started_at,\n"
	"  ss.started_by, ss.actor, ss.reason\n"
	"FROM stage_starts ss JOIN releases r ON r.id = ss.release_id;\n"
	"CREATE VIEW v_approvals AS\n"
	"SELECT a.id, a.workspace, a.plugin, a.version, a.commit_id, a.stage,\n"
	"  a.approver, a.comment,\n"
	"  strftime('%Y-%m-%dT%H:%M:%SZ', a.at, 'unixepoch') AS at,\n"
	"  strftime('%Y-%m-%dT%H:%M:%SZ', a.voided_at, 'unixepoch') AS voided_at,\n"
	"  a.void_reason, (a.voided_at IS NULL) AS live, 'approval' AS kind\n"
	"FROM approvals a\n"
	"UNION ALL\n"
	"SELECT j.id, j.workspace, j.plugin, j.version, j.commit_id, NULL,\n"
	"  j.actor, j.comment,\n"
	"  strftime('%Y-%m-%dT%H:%M:%SZ', j.at, 'unixepoch'), NULL, NULL, 1, 'rejection'\n"
	"FROM rejections j;\n"
	"CREATE VIEW v_audit AS\n"
	"SELECT id, strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch') AS at, actor,\n"
	"  action, plugin, version, details, admin_commit, prev_hash, hash\n"
	"FROM audit;\n";

/* Release refusals (validation or policy) kept so a no-op pass need not
 * re-validate; per-plugin notice times so each notice goes out once. */
static const char migration_2[] =
	"ALTER TABLE releases ADD COLUMN refused_reason TEXT;\n"
	"CREATE TABLE plugin_state (\n"
	"  workspace        TEXT NOT NULL,\n"
	"  plugin           TEXT NOT NULL,\n"
	"  last_reviewed_at INTEGER,\n"
	"  review_notice_at INTEGER,\n"
	"  sunset_notice_at INTEGER,\n"
	"  PRIMARY KEY (workspace, plugin)\n"
	");\n";

/* Secret bindings and the last check of each (docs/secrets.md): metadata
 * only (whether it exists, the provider's version, when it changed), never
 * a value. */
static const char migration_3[] =
	"CREATE TABLE secret_checks (\n"
	"  workspace      TEXT NOT NULL,\n"
	"  plugin         TEXT NOT NULL,\n"
	"  version        TEXT NOT NULL,\n" /* the release */
	"  var            TEXT NOT NULL,\n" /* the environment variable bound */
	"  provider       TEXT NOT NULL,\n"
	"  name           TEXT NOT NULL,\n"
	"  present        INTEGER NOT NULL,\n" /* 0: missing or the provider failed */
	"  problem        TEXT,\n"             /* why not present */
	"  secret_version TEXT,\n"
	"  updated_at     INTEGER,\n"
	"  checked_at     INTEGER NOT NULL,\n"
	"  PRIMARY KEY (workspace, plugin, version, var)\n"
	");\n";

/* Telemetry (docs/telemetry.md): raw events, kept for the plugin's
 * audit.retention_days; daily rollups per plugin, version, group, tool and
 * day that gates and export read, kept for good; a latency histogram per
 * rollup row for p95; the per-workspace key that hashes user ids; and per
 * release the time the "waiting for data" flag went out. Rows are keyed
 * WITHOUT ROWID so each insert touches one b-tree. Feedback rolls up
 * under tool ''. Days are the UTC midnight, in seconds. */
static const char migration_4[] =
	"CREATE TABLE telemetry_keys (\n"
	"  workspace        TEXT PRIMARY KEY,\n"
	"  key              BLOB NOT NULL CHECK (length(key) = 32),\n"
	"  created_at       INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE telemetry_events (\n"
	"  workspace        TEXT NOT NULL,\n"
	"  id               TEXT NOT NULL,\n"
	"  type             TEXT NOT NULL CHECK (type IN ('tool_call', 'feedback')),\n"
	"  time             INTEGER NOT NULL,\n"
	"  plugin           TEXT NOT NULL,\n"
	"  version          TEXT NOT NULL,\n"
	"  group_name       TEXT NOT NULL,\n"
	"  user_hash        TEXT,\n"
	"  tool             TEXT,\n"
	"  outcome          TEXT CHECK (outcome IS NULL OR outcome IN\n"
	"                     ('ok', 'error', 'refusal', 'escalation')),\n"
	"  error_category   TEXT,\n"
	"  latency_ms       INTEGER CHECK (latency_ms IS NULL OR latency_ms >= 0),\n"
	"  rating           TEXT CHECK (rating IS NULL OR rating IN\n"
	"                     ('up', 'down', '1', '2', '3', '4', '5')),\n"
	"  comment          TEXT,\n"
	"  PRIMARY KEY (workspace, id)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE telemetry_daily (\n"
	"  workspace        TEXT NOT NULL,\n"
	"  plugin           TEXT NOT NULL,\n"
	"  version          TEXT NOT NULL,\n"
	"  group_name       TEXT NOT NULL,\n"
	"  tool             TEXT NOT NULL,\n"
	"  day              INTEGER NOT NULL,\n"
	"  calls            INTEGER NOT NULL DEFAULT 0,\n"
	"  errors           INTEGER NOT NULL DEFAULT 0,\n"
	"  refusals         INTEGER NOT NULL DEFAULT 0,\n"
	"  escalations      INTEGER NOT NULL DEFAULT 0,\n"
	"  latency_count    INTEGER NOT NULL DEFAULT 0,\n"
	"  latency_sum_ms   INTEGER NOT NULL DEFAULT 0,\n"
	"  feedback_total   INTEGER NOT NULL DEFAULT 0,\n"
	"  feedback_positive INTEGER NOT NULL DEFAULT 0,\n"
	"  PRIMARY KEY (workspace, plugin, version, group_name, tool, day)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE telemetry_latency (\n"
	"  workspace        TEXT NOT NULL,\n"
	"  plugin           TEXT NOT NULL,\n"
	"  version          TEXT NOT NULL,\n"
	"  group_name       TEXT NOT NULL,\n"
	"  tool             TEXT NOT NULL,\n"
	"  day              INTEGER NOT NULL,\n"
	"  bucket           INTEGER NOT NULL,\n"
	"  le_ms            INTEGER NOT NULL,\n"
	"  n                INTEGER NOT NULL,\n"
	"  PRIMARY KEY (workspace, plugin, version, group_name, tool, day, bucket)\n"
	") WITHOUT ROWID;\n"
	"ALTER TABLE releases ADD COLUMN gate_wait_notice_at INTEGER;\n";

/* The outcome of each workspace's last publish, so a failed publish shows in
 * `status` until one succeeds. */
static const char migration_5[] =
	"CREATE TABLE publish_state (\n"
	"  workspace  TEXT PRIMARY KEY,\n"
	"  ok         INTEGER NOT NULL CHECK (ok IN (0, 1)),\n"
	"  at         INTEGER NOT NULL,\n"
	"  error      TEXT,\n"
	"  last_ok_at INTEGER\n"
	");\n";

/* The sunset date whose withdrawal was applied, so a sunset withdraws a
 * plugin once per date and a `restore` after it stands
 * (docs/concepts.md, Lifecycle). */
static const char migration_6[] =
	"ALTER TABLE plugin_state ADD COLUMN sunset_withdrawn_for INTEGER;\n";

/* Attestations are bound to the commit they were made for, like
 * approvals: accepting a moved tag leaves them with the old commit, where
 * they no longer count. Rows from before are bound to their release's
 * commit as recorded now. */
static const char migration_7[] =
	"ALTER TABLE attestations ADD COLUMN commit_id TEXT;\n"
	"UPDATE attestations SET commit_id = (SELECT r.commit_id FROM releases r"
	" WHERE r.workspace = attestations.workspace AND r.plugin = attestations.plugin"
	" AND r.version = attestations.version);\n";

/* Views for dashboards over telemetry and gates (docs/database.md), beside
 * migration 1's v_rollouts, v_stage_starts, v_approvals and v_audit: the
 * daily rollups of tool calls and of feedback with their rates, and the
 * gate evaluations the controller audited. Same promise: columns may be
 * added, never renamed or removed. */
static const char migration_8[] =
	"CREATE VIEW v_telemetry_daily AS\n"
	"SELECT workspace, plugin, version, group_name, tool,\n"
	"  strftime('%Y-%m-%d', day, 'unixepoch') AS day,\n"
	"  calls, errors, refusals, escalations,\n"
	"  CASE WHEN calls > 0 THEN errors * 1.0 / calls END AS error_rate,\n"
	"  CASE WHEN calls > 0 THEN refusals * 1.0 / calls END AS refusal_rate,\n"
	"  CASE WHEN calls > 0 THEN escalations * 1.0 / calls END AS escalation_rate,\n"
	"  latency_count,\n"
	"  CASE WHEN latency_count > 0 THEN latency_sum_ms * 1.0 / latency_count END\n"
	"    AS avg_latency_ms\n"
	"FROM telemetry_daily WHERE tool <> '';\n"
	"CREATE VIEW v_feedback_daily AS\n"
	"SELECT workspace, plugin, version, group_name,\n"
	"  strftime('%Y-%m-%d', day, 'unixepoch') AS day,\n"
	"  feedback_total AS ratings, feedback_positive AS positive,\n"
	"  feedback_total - feedback_positive AS negative,\n"
	"  CASE WHEN feedback_total > 0 THEN feedback_positive * 1.0 / feedback_total END\n"
	"    AS positive_ratio\n"
	"FROM telemetry_daily WHERE tool = '' AND feedback_total > 0;\n"
	"CREATE VIEW v_gate_evaluations AS\n"
	"SELECT id, strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch') AS at,\n"
	"  json_extract(details, '$.workspace') AS workspace, plugin, version,\n"
	"  json_extract(details, '$.stage') AS stage,\n"
	"  CASE action WHEN 'rollout.paused' THEN 'breach'\n"
	"    WHEN 'rollout.rolled_back' THEN 'breach'\n"
	"    WHEN 'notice.gate_wait' THEN 'waiting' ELSE 'pass' END AS outcome,\n"
	"  CASE action WHEN 'rollout.paused' THEN 'pause'\n"
	"    WHEN 'rollout.rolled_back' THEN 'rollback'\n"
	"    WHEN 'notice.gate_wait' THEN 'flag' ELSE 'start stage' END AS effect,\n"
	"  json_extract(details, '$.reason') AS reason, action, actor\n"
	"FROM audit\n"
	"WHERE actor = 'controller' AND (action IN ('rollout.paused', 'rollout.rolled_back',\n"
	"  'notice.gate_wait') OR (action = 'stage.started'\n"
	"  AND json_extract(details, '$.reason') LIKE '%health gates pass%'));\n";


/* When reconcile last pruned raw telemetry past retention: it prunes once
 * a day (docs/telemetry.md). */
static const char migration_9[] =
	"CREATE TABLE telemetry_prune (\n"
	"  workspace        TEXT PRIMARY KEY,\n"
	"  pruned_at        INTEGER NOT NULL\n"
	");\n";

/* The outbox: one row per event and endpoint, written in the transaction
 * of the change that caused it and delivered later, at least once
 * (docs/notifications.md). endpoint is the URL of the webhook (or of the
 * http publisher) as the workspace names it. */
static const char migration_10[] =
	"CREATE TABLE outbox (\n"
	"  id               INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  event_id         TEXT NOT NULL UNIQUE,\n"
	"  workspace        TEXT NOT NULL,\n"
	"  endpoint         TEXT NOT NULL,\n"
	"  kind             TEXT NOT NULL,\n"
	"  body             TEXT NOT NULL,\n"
	"  audit_id         INTEGER,\n"
	"  created_at       INTEGER NOT NULL,\n"
	"  attempts         INTEGER NOT NULL DEFAULT 0,\n"
	"  next_attempt_at  INTEGER NOT NULL DEFAULT 0,\n"
	"  last_error       TEXT,\n"
	"  state            TEXT NOT NULL DEFAULT 'pending'\n"
	"                   CHECK (state IN ('pending', 'delivered', 'dead')),\n"
	"  delivered_at     INTEGER\n"
	");\n"
	"CREATE INDEX outbox_due ON outbox(state, next_attempt_at);\n";

/* One outcome per publisher, not per workspace: `publish` may list several
 * (docs/publishing.md). A publisher is its type and its target (path, or
 * url for http). The row of a database from before is kept with an empty
 * type and target: it stands for every publisher until each records its
 * own, and the next publish removes it. */
static const char migration_11[] =
	"CREATE TABLE publish_state_11 (\n"
	"  workspace  TEXT NOT NULL,\n"
	"  type       TEXT NOT NULL,\n"
	"  target     TEXT NOT NULL,\n"
	"  ok         INTEGER NOT NULL CHECK (ok IN (0, 1)),\n"
	"  at         INTEGER NOT NULL,\n"
	"  error      TEXT,\n"
	"  last_ok_at INTEGER,\n"
	"  UNIQUE (workspace, type, target)\n"
	");\n"
	"INSERT INTO publish_state_11 (workspace, type, target, ok, at, error, last_ok_at)\n"
	"  SELECT workspace, '', '', ok, at, error, last_ok_at FROM publish_state;\n"
	"DROP TABLE publish_state;\n"
	"ALTER TABLE publish_state_11 RENAME TO publish_state;\n";

static const char *const migrations[] = {
	NULL, /* version 0: the empty database */
	migration_1,
	migration_2,
	migration_3,
	migration_4,
	migration_5,
	migration_6,
	migration_7,
	migration_8,
	migration_9,
	migration_10,
	migration_11,
};

int store_migrate(sluice_store *s)
{
	sqlite3_stmt *st = NULL;
	char pragma[64];
	int rc = 0, version;

	_Static_assert(sizeof migrations / sizeof migrations[0] == SLUICE_STORE_SCHEMA_VERSION + 1,
		       "one migration per schema version");
	while (s->schema_version < SLUICE_STORE_SCHEMA_VERSION) {
		/* Another process may migrate at the same moment: take the write
		 * lock, then read the version again. */
		if ((rc = store_exec(s, "BEGIN IMMEDIATE", "cannot start the schema upgrade")) < 0)
			return rc;
		rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
		if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			version = sqlite3_column_int(st, 0);
			rc = 0;
		} else {
			rc = store_error(s, rc, "cannot read the schema version");
			version = -1;
		}
		sqlite3_finalize(st);
		st = NULL;
		if (rc < 0)
			goto fail;
		if (version > SLUICE_STORE_SCHEMA_VERSION) {
			rc = sluice_error_set(SLUICE_ESTORE,
					      "database %s has schema version %d, newer than this sluice (%d); upgrade sluice",
					      s->path, version, SLUICE_STORE_SCHEMA_VERSION);
			goto fail;
		}
		if (version < SLUICE_STORE_SCHEMA_VERSION) {
			if ((rc = store_exec(s, migrations[version + 1],
					     "cannot upgrade the database schema")) < 0)
				goto fail;
			snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
			if ((rc = store_exec(s, pragma, "cannot record the schema version")) < 0)
				goto fail;
			if (version == 0 &&
			    (rc = store_exec(s, "PRAGMA application_id = 1397506885",
					     "cannot mark the database")) < 0)
				goto fail;
			version++;
		}
		if ((rc = store_exec(s, "COMMIT", "cannot commit the schema upgrade")) < 0)
			goto fail;
		s->schema_version = version;
	}
	return 0;
fail:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
