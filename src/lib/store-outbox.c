/* The outbox: notifications written in the transaction of the change that
 * caused them, delivered later by notify.c, at least once. Which audit
 * actions are which event kinds, and what an event's body holds, is here
 * in one table so that no caller of the audit log can forget to notify
 * (docs/notifications.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/tree.h"
#include "sluice/util.h"
#include "store-internal.h"

/* ---- audit actions and event kinds ------------------------------------ */

typedef struct {
	const char *action; /* the audit row's action */
	const char *kind;   /* the event kind a route names */
	const char *phrase; /* the event's message, after "PLUGIN@VERSION: " */
} kind_row;

static const kind_row k_kinds[] = {
	{"release.recorded", "release_detected", "new release detected"},
	{"release.refused", "release_refused", "release refused"},
	{"stage.started", "stage_started", "stage started"},
	{"release.completed", "rollout_complete", "rollout complete"},
	{"approval.needed", "approval_needed", "approval needed"},
	{"approval.given", "approved", "approval given"},
	{"release.rejected", "rejected", "release rejected"},
	{"rollout.paused", "paused", "rollout paused"},
	{"rollout.resumed", "resumed", "rollout resumed"},
	{"rollout.rolled_back", "rolled_back", "rolled back"},
	{"release.withdrawn", "withdrawn", "release withdrawn"},
	{"plugin.withdrawn", "withdrawn", "plugin withdrawn"},
	{"workspace.frozen", "frozen", "workspace frozen"},
	{"workspace.unfrozen", "unfrozen", "workspace unfrozen"},
	{"tag.moved", "tag_moved", "tag moved"},
	{"notice.sunset", "sunset_notice", "sunset coming"},
	{"notice.review", "review_overdue", "review overdue"},
	{"notice.gate_wait", "data_missing", "waiting too long for telemetry"},
	{"secret.missing", "secret_missing", "secret missing"},
	{"publish.failed", "publish_failed", "publish failed"},
	{NULL, NULL, NULL},
};

static const kind_row *kind_of(const char *action)
{
	for (const kind_row *k = k_kinds; action && k->action; k++)
		if (strcmp(k->action, action) == 0)
			return k;
	return NULL;
}

static bool has_key(const json_t *d, const char *key)
{
	return d && json_object_get(d, key) != NULL;
}

static const char *kind_for(const kind_row *k, const json_t *d, const char **also)
{
	const char *by = json_string_value(json_object_get(d, "by"));

	*also = NULL;
	/* a breach is what happened; the pause or rollback is how it was met */
	if (has_key(d, "metric") && (strcmp(k->kind, "paused") == 0 ||
				     strcmp(k->kind, "rolled_back") == 0)) {
		*also = k->kind;
		return "gate_breached";
	}
	if (strcmp(k->kind, "stage_started") == 0 && by && strcmp(by, "promote") == 0) {
		*also = k->kind;
		return "promoted";
	}
	return k->kind;
}

const char *sluice_outbox_kind(const char *action, const char *details, const char **also)
{
	const kind_row *k = kind_of(action);
	const char *dummy, *kind;
	json_t *d;

	if (!also)
		also = &dummy;
	*also = NULL;
	if (!k)
		return NULL;
	d = details ? json_loads(details, 0, NULL) : NULL;
	kind = kind_for(k, d, also);
	json_decref(d);
	return kind;
}

/* ---- routes ---------------------------------------------------------- */

void store_outbox_routes_clear(sluice_store *s)
{
	for (size_t i = 0; i < s->nroutes; i++) {
		free(s->routes[i].url);
		sluice_strv_free(s->routes[i].events);
	}
	free(s->routes);
	free(s->outbox_workspace);
	s->routes = NULL;
	s->nroutes = 0;
	s->outbox_workspace = NULL;
}

void sluice_store_outbox_routes_set(sluice_store *s, const char *workspace,
				    const sluice_outbox_route *routes, size_t n)
{
	store_outbox_routes_clear(s);
	if (!n || !workspace)
		return;
	s->outbox_workspace = sluice_xstrdup(workspace);
	s->routes = sluice_xcalloc(n, sizeof *s->routes);
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (routes[i].events && routes[i].events[k])
			k++;
		s->routes[i].url = sluice_xstrdup(routes[i].url);
		s->routes[i].events = sluice_xcalloc(k + 1, sizeof(char *));
		for (size_t j = 0; j < k; j++)
			s->routes[i].events[j] = sluice_xstrdup(routes[i].events[j]);
	}
	s->nroutes = n;
}

static bool receives(const struct store_route *r, const char *kind, const char *also)
{
	for (char **e = r->events; *e; e++)
		if (strcmp(*e, "all") == 0 || strcmp(*e, kind) == 0 ||
		    (also && strcmp(*e, also) == 0))
			return true;
	return false;
}

/* ---- writing --------------------------------------------------------- */

/* 128 random bits as 32 hex digits: unique without coordination. */
static int new_event_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];

	if (RAND_bytes(b, sizeof b) != 1)
		return sluice_error_set(SLUICE_ERROR, "cannot draw a random event id with libcrypto");
	for (size_t i = 0; i < sizeof b; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

static int insert(char **event_id, sluice_store *s, const char *workspace, const char *endpoint,
		  const char *kind, json_t *body, int64_t audit_id)
{
	static const char sql[] =
		"INSERT INTO outbox (event_id, workspace, endpoint, kind, body, audit_id,"
		" created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	sqlite3_stmt *st = NULL;
	char id[33], *text = NULL;
	int rc;

	if ((rc = new_event_id(id)) < 0)
		return rc;
	json_object_set_new(body, "id", json_string(id));
	if (!(text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS)))
		return sluice_error_set(SLUICE_ENOMEM, "cannot serialise an outbox event");
	if ((rc = store_stmt(s, &st, sql)) < 0)
		goto done;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, workspace);
	store_bind_text(st, 3, endpoint);
	store_bind_text(st, 4, kind);
	store_bind_text(st, 5, text);
	if (audit_id)
		store_bind_int(st, 6, audit_id);
	/* real time, not the rollout clock: the backlog's age is real */
	store_bind_int(st, 7, (int64_t)time(NULL));
	rc = store_step_done(s, st, "cannot write to the outbox");
	if (rc == 0 && event_id)
		*event_id = sluice_xstrdup(id);
done:
	store_done(st);
	free(text);
	return rc;
}

int sluice_store_outbox_enqueue(char **event_id, sluice_store *s, const char *workspace,
				const char *endpoint, const char *kind, json_t *body)
{
	int rc;

	if (event_id)
		*event_id = NULL;
	if (!workspace || !endpoint || !kind || !json_is_object(body))
		return sluice_error_set(SLUICE_EINVAL,
					"internal: an outbox event needs workspace, endpoint, kind and body");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	return store_tx_end(s, insert(event_id, s, workspace, endpoint, kind, body, 0));
}

/* The event's text for people: "PLUGIN@VERSION: PHRASE at stage 'S': REASON". */
static char *message(const kind_row *k, const char *kind, const char *plugin,
		     const char *version, const json_t *d)
{
	const char *stage = json_string_value(json_object_get(d, "stage"));
	const char *reason = json_string_value(json_object_get(d, "reason"));
	const char *tag = json_string_value(json_object_get(d, "tag"));
	const char *var = json_string_value(json_object_get(d, "var"));
	const char *error = json_string_value(json_object_get(d, "error"));
	const char *phrase = strcmp(kind, "gate_breached") == 0 ? "health gate breached"
			     : strcmp(kind, "promoted") == 0	  ? "promoted"
								  : k->phrase;
	sluice_buf b = SLUICE_BUF_INIT;

	if (plugin)
		sluice_buf_printf(&b, "%s%s%s: ", plugin, version ? "@" : "", version ? version : "");
	sluice_buf_puts(&b, phrase);
	if (stage)
		sluice_buf_printf(&b, " at stage '%s'", stage);
	if (tag)
		sluice_buf_printf(&b, " (tag %s)", tag);
	if (var)
		sluice_buf_printf(&b, " (%s)", var);
	if (reason && *reason)
		sluice_buf_printf(&b, ": %s", reason);
	else if (error && *error)
		sluice_buf_printf(&b, ": %s", error);
	return sluice_buf_detach(&b);
}

int store_outbox_route(sluice_store *s, int64_t audit_id, int64_t at, const char *actor,
		       const char *action, const char *plugin, const char *version,
		       const char *details, const char *hash)
{
	const kind_row *k;
	const char *kind, *also;
	char when[SLUICE_TIME_BUFSZ], *msg = NULL;
	json_t *d = NULL;
	int rc = 0;

	if (!s->nroutes || !(k = kind_of(action)))
		return 0;
	d = details ? json_loads(details, 0, NULL) : NULL;
	if (!d)
		d = json_object();
	kind = kind_for(k, d, &also);
	msg = message(k, kind, plugin, version, d);
	sluice_time_format(when, at);
	for (size_t i = 0; rc == 0 && i < s->nroutes; i++) {
		json_t *body;
		if (!receives(&s->routes[i], kind, also))
			continue;
		/* audit details are metadata only (docs/database.md): a body
		 * built from them carries no secret value */
		body = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:O?, s:s, s:O,"
				 " s:{s:I, s:s}}",
				 "kind", kind, "action", action, "workspace", s->outbox_workspace,
				 "at", when, "actor", actor, "plugin", plugin, "version", version,
				 "stage", json_object_get(d, "stage"), "message", msg, "details", d,
				 "audit_head", "id", (json_int_t)audit_id, "hash", hash);
		if (!body) {
			rc = sluice_error_set(SLUICE_ENOMEM, "cannot build an outbox event");
			break;
		}
		rc = insert(NULL, s, s->outbox_workspace, s->routes[i].url, kind, body, audit_id);
		json_decref(body);
	}
	free(msg);
	json_decref(d);
	return rc;
}

/* ---- reading --------------------------------------------------------- */

#define ROW_COLUMNS                                                                       \
	"id, event_id, workspace, endpoint, kind, body, state, last_error, audit_id,"     \
	" created_at, attempts, next_attempt_at, delivered_at"

static void read_row(sluice_outbox_row *r, sqlite3_stmt *st)
{
	r->id = sqlite3_column_int64(st, 0);
	r->event_id = store_col_dup(st, 1);
	r->workspace = store_col_dup(st, 2);
	r->endpoint = store_col_dup(st, 3);
	r->kind = store_col_dup(st, 4);
	r->body = store_col_dup(st, 5);
	r->state = store_col_dup(st, 6);
	r->last_error = store_col_dup(st, 7);
	r->audit_id = store_col_time(st, 8);
	r->created_at = store_col_time(st, 9);
	r->attempts = sqlite3_column_int64(st, 10);
	r->next_attempt_at = sqlite3_column_int64(st, 11);
	r->delivered_at = store_col_time(st, 12);
}

int sluice_store_outbox_last_id(sluice_store *s, int64_t *id)
{
	return store_int_query(id, s, "SELECT coalesce(max(id), 0) FROM outbox", NULL, NULL,
			       "cannot read the outbox");
}

int sluice_store_outbox_list(sluice_outbox_row **out, size_t *n, sluice_store *s,
			     const char *workspace, const char *state, int64_t due_at,
			     int64_t after_id, size_t limit)
{
	static const char sql[] =
		"SELECT " ROW_COLUMNS " FROM outbox WHERE workspace = ?1 AND id > ?5"
		" AND (?2 IS NULL OR state = ?2)"
		" AND (?3 = 0 OR (state = 'pending' AND next_attempt_at <= ?3))"
		" ORDER BY id LIMIT ?4";
	sluice_outbox_row *rows = NULL;
	sqlite3_stmt *st = NULL;
	size_t cap = 0, k = 0;
	int rc, step;

	*out = NULL;
	*n = 0;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, state);
	store_bind_int(st, 3, due_at);
	store_bind_int(st, 4, limit ? (int64_t)limit : -1);
	store_bind_int(st, 5, after_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap)
			rows = sluice_xrealloc(rows, (cap = cap ? 2 * cap : 16) * sizeof *rows);
		read_row(&rows[k++], st);
	}
	if (step != SQLITE_DONE) {
		rc = store_error(s, step, "cannot read the outbox");
		sluice_outbox_rows_free(rows, k);
	} else {
		*out = rows;
		*n = k;
	}
	store_done(st);
	return rc;
}

void sluice_outbox_rows_free(sluice_outbox_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++) {
		free(rows[i].event_id);
		free(rows[i].workspace);
		free(rows[i].endpoint);
		free(rows[i].kind);
		free(rows[i].body);
		free(rows[i].state);
		free(rows[i].last_error);
	}
	free(rows);
}

int sluice_store_outbox_newest_body(char **body, sluice_store *s, const char *workspace,
				    const char *endpoint, const char *kind)
{
	static const char sql[] = "SELECT body FROM outbox WHERE workspace = ?1 AND endpoint = ?2"
				  " AND kind = ?3 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	int rc, step;

	*body = NULL;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, endpoint);
	store_bind_text(st, 3, kind);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		*body = store_col_dup(st, 0);
	else if (step != SQLITE_DONE)
		rc = store_error(s, step, "cannot read the outbox");
	store_done(st);
	return rc;
}

int sluice_store_outbox_backlog(int64_t *count, int64_t *oldest_created_at, sluice_store *s,
				const char *workspace)
{
	static const char sql[] =
		"SELECT count(*), coalesce(min(created_at), 0) FROM outbox"
		" WHERE workspace = ?1 AND state = 'pending'";
	sqlite3_stmt *st = NULL;
	int rc, step;

	*count = 0;
	*oldest_created_at = 0;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		*count = sqlite3_column_int64(st, 0);
		*oldest_created_at = sqlite3_column_int64(st, 1);
	} else
		rc = store_error(s, step, "cannot read the outbox");
	store_done(st);
	return rc;
}

/* ---- delivery outcomes ------------------------------------------------ */

/* Runs `sql` with ?1 = id and the given values in its own unit of work. */
static int update(sluice_store *s, const char *sql, int64_t id, int64_t a, int64_t b,
		  const char *text, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	if ((rc = store_stmt(s, &st, sql)) == 0) {
		store_bind_int(st, 1, id);
		store_bind_int(st, 2, a);
		store_bind_int(st, 3, b);
		store_bind_text(st, 4, text);
		rc = store_step_done(s, st, what);
		store_done(st);
	}
	return store_tx_end(s, rc);
}

int sluice_store_outbox_delivered(sluice_store *s, int64_t id, int64_t now)
{
	static const char sql[] =
		"UPDATE outbox SET state = 'delivered', delivered_at = ?2, attempts = attempts + 1,"
		" last_error = ?4 WHERE id = ?1";
	return update(s, sql, id, now, 0, NULL, "cannot record a delivery");
}

int sluice_store_outbox_failed(sluice_store *s, int64_t id, int64_t attempts, int64_t next_at,
			       bool dead, const char *error)
{
	static const char sql_retry[] =
		"UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4"
		" WHERE id = ?1 AND state = 'pending'";
	static const char sql_dead[] =
		"UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4,"
		" state = 'dead' WHERE id = ?1 AND state = 'pending'";
	return update(s, dead ? sql_dead : sql_retry, id, attempts, next_at, error,
		      "cannot record a failed delivery");
}

int sluice_store_outbox_held(sluice_store *s, int64_t id, const char *error)
{
	static const char sql[] =
		"UPDATE outbox SET last_error = ?4 WHERE id = ?1 AND state = 'pending'";
	return update(s, sql, id, 0, 0, error, "cannot record a held delivery");
}

/* ---- operator actions -------------------------------------------------- */

static int row_state(char **state, sluice_store *s, const char *workspace, int64_t id)
{
	static const char sql[] = "SELECT state FROM outbox WHERE workspace = ?1 AND id = ?2";
	sqlite3_stmt *st = NULL;
	int rc, step;

	*state = NULL;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_int(st, 2, id);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		*state = store_col_dup(st, 0);
	else if (step == SQLITE_DONE)
		rc = sluice_error_set(SLUICE_ENOTFOUND,
				      "there is no outbox row %" PRId64 "; see 'sluice outbox list'",
				      id);
	else
		rc = store_error(s, step, "cannot read the outbox");
	store_done(st);
	return rc;
}

static int retry_locked(int64_t *n, sluice_store *s, const char *workspace, int64_t id,
			int64_t now)
{
	static const char sql_one[] =
		"UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0"
		" WHERE workspace = ?1 AND id = ?2";
	static const char sql_dead[] =
		"UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0"
		" WHERE workspace = ?1 AND state = 'dead'";
	sqlite3_stmt *st = NULL;
	char *state = NULL;
	int rc;

	if (id) {
		if ((rc = row_state(&state, s, workspace, id)) < 0)
			return rc;
		if (strcmp(state, "delivered") == 0) {
			rc = sluice_error_set(SLUICE_EREFUSED,
					      "outbox row %" PRId64 " was delivered already; "
					      "nothing to retry",
					      id);
			goto done;
		}
	}
	if ((rc = store_stmt(s, &st, id ? sql_one : sql_dead)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	store_bind_int(st, 2, id);
	rc = store_step_done(s, st, "cannot retry outbox rows");
	store_done(st);
	if (rc < 0)
		goto done;
	*n = sqlite3_changes64(s->db);
	if (*n)
		rc = sluice_audit_appendf(s, now, "outbox.retried", NULL, NULL, "{s:s, s:I, s:I}",
					  "workspace", workspace, "id", (json_int_t)id, "rows",
					  (json_int_t)*n);
done:
	free(state);
	return rc;
}

int sluice_store_outbox_retry(int64_t *n, sluice_store *s, const char *workspace, int64_t id,
			      int64_t now)
{
	int rc;

	*n = 0;
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	return store_tx_end(s, retry_locked(n, s, workspace, id, now));
}

static int drop_locked(sluice_store *s, const char *workspace, int64_t id, int64_t now)
{
	static const char sql[] = "DELETE FROM outbox WHERE workspace = ?1 AND id = ?2";
	sqlite3_stmt *st = NULL;
	char *state = NULL;
	int rc;

	if ((rc = row_state(&state, s, workspace, id)) < 0)
		return rc;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	store_bind_int(st, 2, id);
	rc = store_step_done(s, st, "cannot drop an outbox row");
	store_done(st);
	if (rc == 0)
		rc = sluice_audit_appendf(s, now, "outbox.dropped", NULL, NULL, "{s:s, s:I, s:s}",
					  "workspace", workspace, "id", (json_int_t)id, "state",
					  state);
done:
	free(state);
	return rc;
}

int sluice_store_outbox_drop(sluice_store *s, const char *workspace, int64_t id, int64_t now)
{
	int rc;

	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	return store_tx_end(s, drop_locked(s, workspace, id, now));
}
