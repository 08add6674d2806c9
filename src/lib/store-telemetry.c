/* Telemetry in the store (docs/telemetry.md): raw events inserted once per
 * id, daily rollups and latency histograms kept up to date in the same
 * transaction, the per-workspace key that hashes user ids, the summaries
 * gates read and retention of raw events.
 *
 * Ingest is the hot path (hundreds of thousands of events a second): one
 * prepared INSERT OR IGNORE per event, and the rollups summed in memory
 * for the events actually inserted, written once per transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "sluice/error.h"
#include "sluice/telemetry.h"
#include "sluice/util.h"
#include "store-internal.h"

int sluice_store_telemetry_key(unsigned char key[SLUICE_TELEMETRY_KEY_SZ], sluice_store *s,
			       const char *workspace, int64_t now)
{
	static const char sql_get[] = "SELECT key FROM telemetry_keys WHERE workspace = ?1";
	static const char sql_put[] =
		"INSERT INTO telemetry_keys (workspace, key, created_at) VALUES (?1, ?2, ?3)";
	sqlite3_stmt *st = NULL;
	int rc, step;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	if ((rc = store_stmt(s, &st, sql_get)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_bytes(st, 0) == SLUICE_TELEMETRY_KEY_SZ) {
		memcpy(key, sqlite3_column_blob(st, 0), SLUICE_TELEMETRY_KEY_SZ);
		goto done;
	}
	if (step != SQLITE_DONE) {
		rc = store_error(s, step, "cannot read the telemetry key");
		goto done;
	}
	store_done(st);
	st = NULL;
	if (RAND_bytes(key, SLUICE_TELEMETRY_KEY_SZ) != 1) {
		rc = sluice_error_set(SLUICE_ERROR, "cannot make a telemetry key: no randomness");
		goto done;
	}
	if ((rc = store_stmt(s, &st, sql_put)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	sqlite3_bind_blob(st, 2, key, SLUICE_TELEMETRY_KEY_SZ, SQLITE_TRANSIENT);
	store_bind_int(st, 3, now);
	rc = store_step_done(s, st, "cannot store the telemetry key");
done:
	store_done(st);
	return store_tx_end(s, rc);
}

/* ---- ingest ---------------------------------------------------------------- */

typedef struct {
	char *plugin, *version, *group, *tool; /* one allocation, plugin first */
	int64_t day;
	uint64_t hash;
	int64_t calls, errors, refusals, escalations;
	int64_t latency_count, latency_sum;
	int64_t feedback_total, feedback_positive;
	uint32_t *hist; /* SLUICE_LATENCY_BUCKETS, or NULL */
} rollup;

struct sluice_store_ingest {
	sluice_store *s;
	char *workspace;
	rollup *slots; /* open addressing; plugin NULL: empty */
	size_t cap, used;
	bool open;
	sqlite3_stmt *insert; /* the event INSERT, prepared once per batch */
	size_t wlen;
};

static uint64_t fnv(uint64_t h, const char *p)
{
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (h ^ 0x1f) * 1099511628211ULL;
}

static uint64_t rollup_hash(const char *plugin, const char *version, const char *group,
			    const char *tool, int64_t day)
{
	uint64_t h = 14695981039346656037ULL;
	h = fnv(fnv(fnv(fnv(h, plugin), version), group), tool);
	return (h ^ (uint64_t)day) * 1099511628211ULL;
}

static bool rollup_is(const rollup *r, uint64_t h, const char *plugin, const char *version,
		      const char *group, const char *tool, int64_t day)
{
	return r->hash == h && r->day == day && !strcmp(r->plugin, plugin) &&
	       !strcmp(r->version, version) && !strcmp(r->group, group) && !strcmp(r->tool, tool);
}

static void rollup_grow(sluice_store_ingest *g)
{
	size_t cap = g->cap ? g->cap * 2 : 64;
	rollup *slots = sluice_xcalloc(cap, sizeof *slots);

	for (size_t i = 0; i < g->cap; i++) {
		if (!g->slots[i].plugin)
			continue;
		size_t k = g->slots[i].hash & (cap - 1);
		while (slots[k].plugin)
			k = (k + 1) & (cap - 1);
		slots[k] = g->slots[i];
	}
	free(g->slots);
	g->slots = slots;
	g->cap = cap;
}

static rollup *rollup_get(sluice_store_ingest *g, const char *plugin, const char *version,
			  const char *group, const char *tool, int64_t day)
{
	uint64_t h = rollup_hash(plugin, version, group, tool, day);
	size_t k, lp, lv, lg, lt;
	rollup *r;

	if ((g->used + 1) * 2 > g->cap)
		rollup_grow(g);
	for (k = h & (g->cap - 1); g->slots[k].plugin; k = (k + 1) & (g->cap - 1))
		if (rollup_is(&g->slots[k], h, plugin, version, group, tool, day))
			return &g->slots[k];
	r = &g->slots[k];
	lp = strlen(plugin) + 1, lv = strlen(version) + 1, lg = strlen(group) + 1;
	lt = strlen(tool) + 1;
	r->plugin = sluice_xmalloc(lp + lv + lg + lt);
	memcpy(r->plugin, plugin, lp);
	r->version = memcpy(r->plugin + lp, version, lv);
	r->group = memcpy(r->version + lv, group, lg);
	r->tool = memcpy(r->group + lg, tool, lt);
	r->day = day;
	r->hash = h;
	g->used++;
	return r;
}

static void rollups_clear(sluice_store_ingest *g)
{
	for (size_t i = 0; i < g->cap; i++) {
		free(g->slots[i].plugin);
		free(g->slots[i].hist);
	}
	free(g->slots);
	g->slots = NULL;
	g->cap = g->used = 0;
}

int sluice_store_ingest_begin(sluice_store_ingest **out, sluice_store *s, const char *workspace)
{
	sluice_store_ingest *g;
	int rc;

	*out = NULL;
	/* A big batch writes each page once at commit instead of spilling
	 * the cache to the WAL as it goes. The CHECKs of telemetry_events
	 * (type, outcome, rating IN (...)) cost two ephemeral b-trees per
	 * insert, a third of the time; the event parser has checked the same
	 * values (telemetry.c), so the insert, prepared here, is compiled
	 * without them. */
	if ((rc = store_exec(s, "PRAGMA cache_size = -65536; PRAGMA ignore_check_constraints = ON",
			     "cannot set up the ingest")) < 0)
		return rc;
	if ((rc = store_tx_begin(s)) < 0) {
		store_exec(s, "PRAGMA ignore_check_constraints = OFF", "cannot reset the ingest");
		return rc;
	}
	g = sluice_xcalloc(1, sizeof *g);
	g->s = s;
	g->workspace = sluice_xstrdup(workspace);
	g->wlen = strlen(workspace);
	g->open = true;
	*out = g;
	return 0;
}

int sluice_store_ingest_add(sluice_store_ingest *g, const sluice_event *ev, const char *user_hash,
			    bool *added)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO telemetry_events (workspace, id, type, time, plugin, version,"
		" group_name, user_hash, tool, outcome, error_category, latency_ms, rating, comment)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
	sqlite3_stmt *st = g->insert;
	bool call = ev->type == SLUICE_EVENT_TOOL_CALL;
	rollup *r;
	int rc, step;

	*added = false;
	/* every parameter is bound each time (NULL when absent), so the
	 * statement is only reset between events, never cleared */
	if (!st) {
		if ((rc = store_stmt(g->s, &st, sql)) < 0)
			return rc;
		g->insert = st;
	}
	sqlite3_bind_text(st, 1, g->workspace, (int)g->wlen, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sluice_event_type_name(ev->type), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ev->time);
	sqlite3_bind_text(st, 5, ev->plugin, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ev->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, ev->group, -1, SQLITE_STATIC);
	if (user_hash)
		sqlite3_bind_text(st, 8, user_hash, SLUICE_USER_HASH_SZ - 1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	if (call) {
		sqlite3_bind_text(st, 9, ev->tool, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, sluice_event_outcome_name(ev->outcome), -1, SQLITE_STATIC);
		if (ev->error_category)
			sqlite3_bind_text(st, 11, ev->error_category, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 11);
		if (ev->latency_ms >= 0)
			sqlite3_bind_int64(st, 12, ev->latency_ms);
		else
			sqlite3_bind_null(st, 12);
		sqlite3_bind_null(st, 13);
		sqlite3_bind_null(st, 14);
	} else {
		for (int k = 9; k <= 12; k++)
			sqlite3_bind_null(st, k);
		sqlite3_bind_text(st, 13, ev->rating, -1, SQLITE_STATIC);
		if (ev->comment)
			sqlite3_bind_text(st, 14, ev->comment, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 14);
	}
	step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		return store_error(g->s, step, "cannot store a telemetry event");
	if (sqlite3_changes(g->s->db) == 0)
		return 0; /* the same id is stored already */
	*added = true;

	r = rollup_get(g, ev->plugin, ev->version, ev->group, call ? ev->tool : "",
		       ev->time - ((ev->time % 86400) + 86400) % 86400);
	if (!call) {
		r->feedback_total++;
		r->feedback_positive += sluice_rating_positive(ev->rating);
		return 0;
	}
	r->calls++;
	r->errors += ev->outcome == SLUICE_OUTCOME_ERROR;
	r->refusals += ev->outcome == SLUICE_OUTCOME_REFUSAL;
	r->escalations += ev->outcome == SLUICE_OUTCOME_ESCALATION;
	if (ev->latency_ms >= 0) {
		if (!r->hist)
			r->hist = sluice_xcalloc(SLUICE_LATENCY_BUCKETS, sizeof *r->hist);
		r->hist[sluice_latency_bucket(ev->latency_ms)]++;
		r->latency_count++;
		r->latency_sum += ev->latency_ms;
	}
	return 0;
}

static int rollups_flush(sluice_store_ingest *g)
{
	static const char sql_daily[] =
		"INSERT INTO telemetry_daily (workspace, plugin, version, group_name, tool, day,"
		" calls, errors, refusals, escalations, latency_count, latency_sum_ms,"
		" feedback_total, feedback_positive)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
		" ON CONFLICT (workspace, plugin, version, group_name, tool, day) DO UPDATE SET"
		" calls = calls + excluded.calls, errors = errors + excluded.errors,"
		" refusals = refusals + excluded.refusals,"
		" escalations = escalations + excluded.escalations,"
		" latency_count = latency_count + excluded.latency_count,"
		" latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms,"
		" feedback_total = feedback_total + excluded.feedback_total,"
		" feedback_positive = feedback_positive + excluded.feedback_positive";
	static const char sql_hist[] =
		"INSERT INTO telemetry_latency (workspace, plugin, version, group_name, tool, day,"
		" bucket, le_ms, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		" ON CONFLICT (workspace, plugin, version, group_name, tool, day, bucket)"
		" DO UPDATE SET n = n + excluded.n";
	sqlite3_stmt *st = NULL;
	int rc = 0;

	for (size_t i = 0; i < g->cap && rc == 0; i++) {
		const rollup *r = &g->slots[i];
		if (!r->plugin)
			continue;
		if ((rc = store_stmt(g->s, &st, sql_daily)) < 0)
			break;
		store_bind_text(st, 1, g->workspace);
		store_bind_text(st, 2, r->plugin);
		store_bind_text(st, 3, r->version);
		store_bind_text(st, 4, r->group);
		store_bind_text(st, 5, r->tool);
		store_bind_int(st, 6, r->day);
		store_bind_int(st, 7, r->calls);
		store_bind_int(st, 8, r->errors);
		store_bind_int(st, 9, r->refusals);
		store_bind_int(st, 10, r->escalations);
		store_bind_int(st, 11, r->latency_count);
		store_bind_int(st, 12, r->latency_sum);
		store_bind_int(st, 13, r->feedback_total);
		store_bind_int(st, 14, r->feedback_positive);
		rc = store_step_done(g->s, st, "cannot update the telemetry rollups");
		store_done(st);
		st = NULL;
		for (int b = 0; r->hist && b < SLUICE_LATENCY_BUCKETS && rc == 0; b++) {
			if (!r->hist[b])
				continue;
			if ((rc = store_stmt(g->s, &st, sql_hist)) < 0)
				break;
			store_bind_text(st, 1, g->workspace);
			store_bind_text(st, 2, r->plugin);
			store_bind_text(st, 3, r->version);
			store_bind_text(st, 4, r->group);
			store_bind_text(st, 5, r->tool);
			store_bind_int(st, 6, r->day);
			store_bind_int(st, 7, b);
			store_bind_int(st, 8, sluice_latency_bucket_le(b));
			store_bind_int(st, 9, r->hist[b]);
			rc = store_step_done(g->s, st, "cannot update the latency histogram");
			store_done(st);
			st = NULL;
		}
	}
	return rc;
}

int sluice_store_ingest_end(sluice_store_ingest *g, int rc)
{
	if (!g)
		return rc;
	if (g->insert)
		store_done(g->insert); /* back to the cache with no bindings left */
	if (g->open) {
		if (rc >= 0)
			rc = rollups_flush(g);
		rc = store_tx_end(g->s, rc);
	}
	store_exec(g->s, "PRAGMA ignore_check_constraints = OFF", "cannot reset the ingest");
	rollups_clear(g);
	free(g->workspace);
	free(g);
	return rc;
}

/* ---- what ingest checks against ------------------------------------------- */

int sluice_store_release_versions(char ***plugins, char ***versions, size_t *n, sluice_store *s,
				  const char *workspace)
{
	static const char sql[] =
		"SELECT plugin, version FROM releases WHERE workspace = ?1 ORDER BY plugin, version";
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc = 0, step;

	*plugins = *versions = NULL;
	*n = 0;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n + 1 >= cap) {
			cap = cap ? cap * 2 : 16;
			*plugins = sluice_xrealloc(*plugins, cap * sizeof **plugins);
			*versions = sluice_xrealloc(*versions, cap * sizeof **versions);
		}
		(*plugins)[*n] = store_col_dup(st, 0);
		(*versions)[(*n)++] = store_col_dup(st, 1);
	}
	if (step != SQLITE_DONE)
		rc = store_error(s, step, "cannot read releases");
	store_done(st);
	return rc;
}

/* ---- summaries and retention ---------------------------------------------- */

int sluice_store_telemetry_summary(sluice_telemetry_summary *out, sluice_store *s,
				   const char *workspace, const char *plugin, const char *version,
				   int64_t since, int64_t until)
{
	static const char sql_sum[] =
		"SELECT total(calls), total(errors), total(refusals), total(escalations),"
		" total(latency_count), total(feedback_total), total(feedback_positive)"
		" FROM telemetry_daily WHERE workspace = ?1 AND plugin = ?2 AND version = ?3"
		" AND day >= ?4 AND day <= ?5";
	static const char sql_hist[] =
		"SELECT le_ms, sum(n) FROM telemetry_latency WHERE workspace = ?1 AND plugin = ?2"
		" AND version = ?3 AND day >= ?4 AND day <= ?5 GROUP BY bucket ORDER BY bucket";
	sqlite3_stmt *st = NULL;
	int64_t d0 = since - ((since % 86400) + 86400) % 86400, seen = 0, need;
	int rc, step;

	memset(out, 0, sizeof *out);
	if ((rc = store_stmt(s, &st, sql_sum)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	store_bind_int(st, 4, d0);
	store_bind_int(st, 5, until);
	if ((step = sqlite3_step(st)) != SQLITE_ROW) {
		rc = store_error(s, step, "cannot read the telemetry rollups");
		goto done;
	}
	out->calls = sqlite3_column_int64(st, 0);
	out->errors = sqlite3_column_int64(st, 1);
	out->refusals = sqlite3_column_int64(st, 2);
	out->escalations = sqlite3_column_int64(st, 3);
	out->latency_samples = sqlite3_column_int64(st, 4);
	out->feedback_total = sqlite3_column_int64(st, 5);
	out->feedback_positive = sqlite3_column_int64(st, 6);
	store_done(st);
	st = NULL;
	if (out->latency_samples == 0)
		goto done;
	/* the smallest bucket bound below which 95% of the calls fall */
	need = (out->latency_samples * 95 + 99) / 100;
	if ((rc = store_stmt(s, &st, sql_hist)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	store_bind_int(st, 4, d0);
	store_bind_int(st, 5, until);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		seen += sqlite3_column_int64(st, 1);
		if (seen >= need) {
			out->p95_latency_ms = sqlite3_column_int64(st, 0);
			break;
		}
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_error(s, step, "cannot read the latency histogram");
done:
	store_done(st);
	return rc;
}

int sluice_store_telemetry_prune(int64_t *deleted, sluice_store *s, const char *workspace,
				 const char *plugin, int64_t before)
{
	static const char sql[] =
		"DELETE FROM telemetry_events WHERE workspace = ?1 AND plugin = ?2 AND time < ?3";
	sqlite3_stmt *st = NULL;
	int rc;

	*deleted = 0;
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_int(st, 3, before);
	if ((rc = store_step_done(s, st, "cannot delete old telemetry events")) == 0)
		*deleted = sqlite3_changes(s->db);
done:
	store_done(st);
	return store_tx_end(s, rc);
}

int sluice_store_telemetry_count(int64_t *events, sluice_store *s, const char *workspace)
{
	return store_int_query(events, s, "SELECT count(*) FROM telemetry_events WHERE workspace = ?1",
			       workspace, NULL, "cannot count telemetry events");
}

int sluice_store_telemetry_retention(int64_t *days, sluice_store *s, const char *workspace,
				     const char *plugin)
{
	return store_int_query(
		days, s,
		"SELECT json_extract(deploy_snapshot, '$.audit_retention_days') FROM releases"
		" WHERE workspace = ?1 AND plugin = ?2 AND deploy_snapshot IS NOT NULL"
		" AND json_extract(deploy_snapshot, '$.audit_retention_days') IS NOT NULL"
		" ORDER BY seen_at DESC, id DESC LIMIT 1",
		workspace, plugin, "cannot read the plugin's retention");
}

int sluice_store_telemetry_pruned_at(int64_t *at, sluice_store *s, const char *workspace)
{
	return store_int_query(at, s, "SELECT pruned_at FROM telemetry_prune WHERE workspace = ?1",
			       workspace, NULL, "cannot read when telemetry was last pruned");
}

int sluice_store_telemetry_set_pruned_at(sluice_store *s, const char *workspace, int64_t at)
{
	static const char sql[] =
		"INSERT INTO telemetry_prune (workspace, pruned_at) VALUES (?1, ?2)"
		" ON CONFLICT (workspace) DO UPDATE SET pruned_at = excluded.pruned_at";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_int(st, 2, at);
	rc = store_step_done(s, st, "cannot record the telemetry prune");
	store_done(st);
	return rc;
}
