/* The audit log: append, hash chain, verify and prune (see audit.h and
 * docs/database.md for the canonical form that is hashed). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/util.h"
#include "store-internal.h"

static const char zero_hash[SLUICE_AUDIT_HASH_SZ] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/* ---- canonical content and hash ------------------------------------- */

static int put_field(sluice_buf *b, const char *name, const char *v)
{
	if (!v)
		return sluice_buf_printf(b, "%s=-\n", name);
	if (sluice_buf_printf(b, "%s=%zu:", name, strlen(v)) < 0 ||
	    sluice_buf_puts(b, v) < 0 || sluice_buf_puts(b, "\n") < 0)
		return SLUICE_ENOMEM;
	return 0;
}

int sluice_audit_canonical(char **out, size_t *out_len, const sluice_audit_row *row)
{
	sluice_buf b = SLUICE_BUF_INIT;
	char id[32], at[32];
	int rc;

	snprintf(id, sizeof id, "%" PRId64, row->id);
	snprintf(at, sizeof at, "%" PRId64, row->at);
	if ((rc = sluice_buf_puts(&b, "sluice-audit-v1\n")) < 0 ||
	    (rc = put_field(&b, "id", id)) < 0 || (rc = put_field(&b, "at", at)) < 0 ||
	    (rc = put_field(&b, "actor", row->actor)) < 0 ||
	    (rc = put_field(&b, "action", row->action)) < 0 ||
	    (rc = put_field(&b, "plugin", row->plugin)) < 0 ||
	    (rc = put_field(&b, "version", row->version)) < 0 ||
	    (rc = put_field(&b, "details", row->details)) < 0 ||
	    (rc = put_field(&b, "admin_commit", row->admin_commit)) < 0) {
		sluice_buf_clear(&b);
		return sluice_error_set(SLUICE_ENOMEM, "out of memory");
	}
	*out_len = b.len;
	*out = sluice_buf_detach(&b);
	return 0;
}

int sluice_audit_hash(char out[SLUICE_AUDIT_HASH_SZ], const char *prev_hash,
		      const sluice_audit_row *row)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	char *content = NULL;
	size_t len = 0;
	int rc;

	if ((rc = sluice_audit_canonical(&content, &len, row)) < 0)
		return rc;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prev_hash, strlen(prev_hash)) != 1 ||
	    EVP_DigestUpdate(ctx, content, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		rc = sluice_error_set(SLUICE_ERROR, "cannot compute SHA-256 with libcrypto");
		goto done;
	}
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	rc = 0;
done:
	EVP_MD_CTX_free(ctx);
	free(content);
	return rc;
}

/* ---- append ---------------------------------------------------------- */

static const char sql_last[] = "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1";
static const char sql_seq[] = "SELECT seq FROM sqlite_sequence WHERE name = 'audit'";

/* The highest id ever handed out (sqlite_sequence), 0 when none. */
static int audit_seq(sluice_store *s, int64_t *out, bool *present)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = 0;
	*present = false;
	if ((rc = store_stmt(s, &st, sql_seq)) < 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		*present = true;
		rc = 0;
	} else
		rc = rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read the audit log");
	store_done(st);
	return rc;
}
static const char sql_insert[] =
	"INSERT INTO audit (id, at, actor, action, plugin, version, details,"
	" admin_commit, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

static int append_locked(sluice_store *s, const sluice_audit_entry *e, int64_t *out_id)
{
	sqlite3_stmt *st = NULL;
	sluice_audit_row row;
	char prev[SLUICE_AUDIT_HASH_SZ], hash[SLUICE_AUDIT_HASH_SZ];
	char *details = NULL;
	int64_t last_id = 0, seq = 0;
	bool has_seq;
	int rc;

	if (e->details && !json_is_object(e->details))
		return sluice_error_set(SLUICE_EINVAL, "internal: audit details must be a JSON object");
	if (s->process) {
		/* the writing daemon, beside what the caller said */
		json_t *d = e->details ? json_copy(e->details) : json_object();
		if (d && !json_object_get(d, "daemon"))
			json_object_set_new(d, "daemon", json_string(s->process));
		details = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(d);
	} else
		details = e->details ? json_dumps(e->details, JSON_COMPACT | JSON_SORT_KEYS)
				     : sluice_xstrdup("{}");
	if (!details)
		return sluice_error_set(SLUICE_ENOMEM, "cannot serialise audit details");

	memcpy(prev, zero_hash, sizeof prev);
	if ((rc = store_stmt(s, &st, sql_last)) < 0)
		goto done;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		last_id = sqlite3_column_int64(st, 0);
		const unsigned char *h = sqlite3_column_text(st, 1);
		if (!h || strlen((const char *)h) != 64) {
			rc = sluice_error_set(SLUICE_ESTORE,
					      "audit row %" PRId64 " has no valid hash; run 'sluice audit verify'",
					      last_id);
			goto done;
		}
		memcpy(prev, h, 65);
	} else if (rc != SQLITE_DONE) {
		rc = store_error(s, rc, "cannot read the audit log");
		goto done;
	}
	store_done(st);
	st = NULL;
	/* After rows were cut from the end, the next id stays past the highest
	 * ever handed out: the cut shows as a gap for good instead of being
	 * papered over by new rows. */
	if ((rc = audit_seq(s, &seq, &has_seq)) < 0)
		goto done;

	row.id = (seq > last_id ? seq : last_id) + 1;
	row.at = e->at;
	row.actor = e->actor ? e->actor : s->actor;
	row.action = e->action;
	row.plugin = e->plugin;
	row.version = e->version;
	row.details = details;
	row.admin_commit = s->admin_commit;
	row.prev_hash = prev;
	row.hash = hash;
	if ((rc = sluice_audit_hash(hash, prev, &row)) < 0)
		goto done;

	if ((rc = store_stmt(s, &st, sql_insert)) < 0)
		goto done;
	store_bind_int(st, 1, row.id);
	store_bind_int(st, 2, row.at);
	store_bind_text(st, 3, row.actor);
	store_bind_text(st, 4, row.action);
	store_bind_text(st, 5, row.plugin);
	store_bind_text(st, 6, row.version);
	store_bind_text(st, 7, row.details);
	store_bind_text(st, 8, row.admin_commit);
	store_bind_text(st, 9, prev);
	store_bind_text(st, 10, hash);
	if ((rc = store_step_done(s, st, "cannot append to the audit log")) < 0)
		goto done;
	/* its notifications in the same transaction: no caller can forget
	 * them, and a change rolled back sends nothing */
	if ((rc = store_outbox_route(s, row.id, row.at, row.actor, row.action, row.plugin,
				     row.version, details, hash)) < 0)
		goto done;
	if (out_id)
		*out_id = row.id;
done:
	store_done(st);
	free(details);
	return rc;
}

int sluice_audit_append(sluice_store *s, const sluice_audit_entry *e, int64_t *out_id)
{
	int rc;

	if (!e || !e->action || !*e->action)
		return sluice_error_set(SLUICE_EINVAL, "internal: an audit row needs an action");
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = append_locked(s, e, out_id);
	return store_tx_end(s, rc);
}

int sluice_audit_appendf(sluice_store *s, int64_t at, const char *action,
			 const char *plugin, const char *version, const char *fmt, ...)
{
	sluice_audit_entry e = {at, NULL, action, plugin, version, NULL};
	json_error_t jerr;
	va_list ap;
	int rc;

	if (fmt) {
		va_start(ap, fmt);
		e.details = json_vpack_ex(&jerr, 0, fmt, ap);
		va_end(ap);
		if (!e.details)
			return sluice_error_set(SLUICE_ERROR, "internal: audit details for %s: %s",
						action, jerr.text);
	}
	rc = sluice_audit_append(s, &e, NULL);
	json_decref(e.details);
	return rc;
}

/* ---- reading --------------------------------------------------------- */

#define ROW_COLUMNS "id, at, actor, action, plugin, version, details, admin_commit, prev_hash, hash"

static void read_row(sluice_audit_row *r, sqlite3_stmt *st)
{
	r->id = sqlite3_column_int64(st, 0);
	r->at = sqlite3_column_int64(st, 1);
	r->actor = (const char *)sqlite3_column_text(st, 2);
	r->action = (const char *)sqlite3_column_text(st, 3);
	r->plugin = (const char *)sqlite3_column_text(st, 4);
	r->version = (const char *)sqlite3_column_text(st, 5);
	r->details = (const char *)sqlite3_column_text(st, 6);
	r->admin_commit = (const char *)sqlite3_column_text(st, 7);
	r->prev_hash = (const char *)sqlite3_column_text(st, 8);
	r->hash = (const char *)sqlite3_column_text(st, 9);
	if (!r->actor)
		r->actor = "";
	if (!r->action)
		r->action = "";
	if (!r->details)
		r->details = "";
	if (!r->prev_hash)
		r->prev_hash = "";
	if (!r->hash)
		r->hash = "";
}

int sluice_audit_foreach(sluice_store *s, const sluice_audit_filter *filter,
			 int (*cb)(const sluice_audit_row *row, void *ctx), void *ctx)
{
	static const char sql_asc[] =
		"SELECT " ROW_COLUMNS " FROM audit WHERE (?1 IS NULL OR plugin = ?1)"
		" AND at >= ?2 AND id > ?3 ORDER BY id LIMIT ?4";
	static const char sql_desc[] =
		"SELECT " ROW_COLUMNS " FROM audit WHERE (?1 IS NULL OR plugin = ?1)"
		" AND at >= ?2 AND id > ?3 ORDER BY id DESC LIMIT ?4";
	sluice_audit_filter none = {0};
	sqlite3_stmt *st = NULL;
	sluice_audit_row row;
	int rc;

	if (!filter)
		filter = &none;
	/* Not cached: the callback may call back into the store. */
	rc = sqlite3_prepare_v2(s->db, filter->newest_first ? sql_desc : sql_asc, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_error(s, rc, "cannot read the audit log");
	store_bind_text(st, 1, filter->plugin);
	store_bind_int(st, 2, filter->since);
	store_bind_int(st, 3, filter->after_id);
	store_bind_int(st, 4, filter->limit ? (int64_t)filter->limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(&row, st);
		if ((rc = cb(&row, ctx)) != 0)
			goto done;
	}
	rc = rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read the audit log");
done:
	sqlite3_finalize(st);
	return rc;
}

/* ---- head ------------------------------------------------------------ */

static int is_hex64(const char *h)
{
	if (!h || strlen(h) != 64)
		return 0;
	for (const char *p = h; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

int sluice_audit_head(sluice_store *s, int64_t *id, char hash[SLUICE_AUDIT_HASH_SZ])
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id = 0;
	memcpy(hash, zero_hash, SLUICE_AUDIT_HASH_SZ);
	if ((rc = store_stmt(s, &st, sql_last)) < 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 1);
		*id = sqlite3_column_int64(st, 0);
		if (!is_hex64(h))
			rc = sluice_error_set(SLUICE_ESTORE,
					      "audit row %" PRId64 " has no valid hash; run 'sluice audit verify'",
					      *id);
		else {
			memcpy(hash, h, SLUICE_AUDIT_HASH_SZ);
			rc = 0;
		}
	} else
		rc = rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot read the audit log");
	store_done(st);
	return rc;
}

int sluice_audit_newest_at(sluice_store *s, int64_t *at)
{
	return store_int_query(at, s, "SELECT coalesce(max(at), 0) FROM audit", NULL, NULL,
			       "cannot read the audit log");
}

int sluice_audit_head_parse(int64_t *id, char hash[SLUICE_AUDIT_HASH_SZ], const char *text)
{
	const char *colon = text ? strchr(text, ':') : NULL;
	char *end = NULL;
	long long v;

	*id = 0;
	hash[0] = '\0';
	if (!colon || colon == text || !is_hex64(colon + 1) || text[0] < '0' || text[0] > '9')
		goto bad;
	v = strtoll(text, &end, 10);
	if (end != colon || v <= 0)
		goto bad;
	*id = (int64_t)v;
	memcpy(hash, colon + 1, SLUICE_AUDIT_HASH_SZ);
	return 0;
bad:
	return sluice_error_set(SLUICE_EINVAL,
				"'%s' is not an audit head; give ID:HASH as 'sluice audit head' "
				"prints it (a row id, a colon, 64 lowercase hex digits)",
				text ? text : "");
}

/* ---- verify ---------------------------------------------------------- */

static void bad(sluice_audit_report *r, int64_t id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(sluice_audit_report *r, int64_t id, const char *fmt, ...)
{
	va_list ap;

	r->ok = false;
	r->bad_id = id;
	va_start(ap, fmt);
	vsnprintf(r->problem, sizeof r->problem, fmt, ap);
	va_end(ap);
}

typedef struct {
	int64_t id;           /* 0: no checkpoint */
	int64_t first_kept_id;
	char continues_from[SLUICE_AUDIT_HASH_SZ];
} checkpoint;

static int newest_checkpoint(sluice_store *s, checkpoint *cp)
{
	static const char sql[] =
		"SELECT id, details FROM audit WHERE action = ?1 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st = NULL;
	json_t *d = NULL;
	int rc;

	memset(cp, 0, sizeof *cp);
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, SLUICE_AUDIT_CHECKPOINT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 1);
		const char *from = NULL;
		json_int_t first = 0;
		cp->id = sqlite3_column_int64(st, 0);
		d = text ? json_loads(text, 0, NULL) : NULL;
		/* A malformed checkpoint simply continues from nowhere: verify
		 * then reports the first row. */
		if (d && json_unpack(d, "{s:I, s:s}", "first_kept_id", &first,
				     "continues_from", &from) == 0 &&
		    strlen(from) == 64) {
			cp->first_kept_id = (int64_t)first;
			memcpy(cp->continues_from, from, 65);
		}
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = store_error(s, rc, "cannot read the audit log");
	json_decref(d);
	store_done(st);
	return rc;
}

static int chain_locked(sluice_store *s, sluice_audit_report *r)
{
	static const char sql[] = "SELECT " ROW_COLUMNS " FROM audit ORDER BY id";
	sqlite3_stmt *st = NULL;
	char prev_hash[SLUICE_AUDIT_HASH_SZ], hash[SLUICE_AUDIT_HASH_SZ];
	checkpoint cp;
	sluice_audit_row row;
	int64_t prev_id = 0;
	int rc;

	if ((rc = newest_checkpoint(s, &cp)) < 0)
		return rc;
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_error(s, rc, "cannot read the audit log");
	prev_hash[0] = '\0';
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(&row, st);
		if (r->rows == 0) {
			r->first_id = row.id;
			if (row.id == 1) {
				if (strcmp(row.prev_hash, zero_hash) != 0) {
					bad(r, row.id, "row 1 does not start the chain (its prev_hash is not zero)");
					break;
				}
			} else if (cp.id == 0) {
				bad(r, row.id,
				    "rows 1 to %" PRId64 " are missing and no checkpoint records a prune",
				    row.id - 1);
				break;
			} else if (cp.first_kept_id != row.id) {
				bad(r, row.id,
				    "the log starts at row %" PRId64 " but checkpoint row %" PRId64
				    " says it continues from row %" PRId64,
				    row.id, cp.id, cp.first_kept_id);
				break;
			} else if (strcmp(row.prev_hash, cp.continues_from) != 0) {
				bad(r, row.id,
				    "row %" PRId64 "'s prev_hash differs from the hash checkpoint row %" PRId64
				    " continues from (broken link)",
				    row.id, cp.id);
				break;
			}
		} else if (row.id != prev_id + 1) {
			if (row.id - 1 == prev_id + 1)
				bad(r, row.id, "row %" PRId64 " is missing (gap before row %" PRId64 ")",
				    prev_id + 1, row.id);
			else
				bad(r, row.id,
				    "rows %" PRId64 " to %" PRId64 " are missing (gap before row %" PRId64 ")",
				    prev_id + 1, row.id - 1, row.id);
			break;
		} else if (strcmp(row.prev_hash, prev_hash) != 0) {
			bad(r, row.id,
			    "row %" PRId64 "'s prev_hash is not the hash of row %" PRId64 " (broken link)",
			    row.id, prev_id);
			break;
		}
		if (sluice_audit_hash(hash, row.prev_hash, &row) < 0) {
			rc = SLUICE_ERROR;
			goto done;
		}
		if (strcmp(hash, row.hash) != 0) {
			bad(r, row.id,
			    "row %" PRId64 "'s content does not match its hash (the row was changed)",
			    row.id);
			break;
		}
		memcpy(prev_hash, row.hash, sizeof prev_hash);
		prev_id = row.id;
		r->rows++;
		r->last_id = row.id;
		memcpy(r->head_hash, hash, sizeof r->head_hash);
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = 0;
	else
		rc = store_error(s, rc, "cannot read the audit log");
done:
	sqlite3_finalize(st);
	return rc;
}

/* Nothing was cut from the end: the highest id SQLite ever handed out
 * (AUTOINCREMENT keeps it in sqlite_sequence, even across deletes) is the
 * last row's. */
static int tail_locked(sluice_store *s, sluice_audit_report *r)
{
	int64_t seq;
	bool present;
	int rc;

	if ((rc = audit_seq(s, &seq, &present)) < 0)
		return rc;
	if (r->rows > 0 && !present)
		bad(r, r->last_id,
		    "the log's id counter (sqlite_sequence) was removed; rows may have been cut "
		    "from its end");
	else if (seq > r->last_id && seq == r->last_id + 1)
		bad(r, seq, "row %" PRId64 " is missing from the end of the log (ids up to %" PRId64
			    " were handed out)", seq, seq);
	else if (seq > r->last_id)
		bad(r, r->last_id + 1,
		    "rows %" PRId64 " to %" PRId64 " are missing from the end of the log (ids up to %" PRId64
		    " were handed out)",
		    r->last_id + 1, seq, seq);
	else if (seq < r->last_id)
		bad(r, r->last_id,
		    "the log's id counter (sqlite_sequence) says %" PRId64 " but row %" PRId64
		    " exists: the counter was edited",
		    seq, r->last_id);
	return 0;
}

/* The given head (kept outside the database) is still in the log as it
 * was: the chain walk already proved every row matches its hash. */
static int anchor_locked(sluice_store *s, sluice_audit_report *r, int64_t id, const char *hash)
{
	static const char sql[] = "SELECT hash FROM audit WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_int(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 0);
		if (!h || strcmp(h, hash) != 0)
			bad(r, id,
			    "row %" PRId64 " is not the given head: its hash is %.12s..., the head "
			    "says %.12s... (the log was rewritten)",
			    id, h ? h : "", hash);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		if (r->rows == 0 || id > r->last_id)
			bad(r, id,
			    "the given head, row %" PRId64 ", is not in the log (it ends at row %" PRId64
			    "): rows were cut from its end",
			    id, r->last_id);
		else
			bad(r, id,
			    "the given head, row %" PRId64 ", was pruned (the log starts at row %" PRId64
			    "); give a head newer than the last prune",
			    id, r->first_id);
		rc = 0;
	} else
		rc = store_error(s, rc, "cannot read the audit log");
	store_done(st);
	return rc;
}

/* Each state row an action writes, and the audit row the same action
 * writes in the same transaction: a state row with fewer matching audit
 * rows than rows like it was written around sluice. Rows older than the
 * newest prune's cutoff (?1) are skipped: their audit rows may be gone.
 * Each query returns the first such row's id and a description. */
static const char sql_cutoff[] =
	"SELECT coalesce(max(json_extract(details, '$.older_than')), 0) FROM audit"
	" WHERE action = '" SLUICE_AUDIT_CHECKPOINT "'";
static const char *const cross_checks[] = {
	"SELECT a.id, printf('approval %d (%s, %s@%s, stage %s)', a.id, a.approver, a.plugin,"
	"  a.version, a.stage), 'approval.given' FROM approvals a WHERE a.at >= ?1 AND"
	" (SELECT count(*) FROM audit u WHERE u.action = 'approval.given' AND u.at = a.at"
	"   AND u.plugin = a.plugin AND u.version = a.version AND u.actor = a.approver"
	"   AND json_extract(u.details, '$.stage') = a.stage"
	"   AND json_extract(u.details, '$.commit') = a.commit_id"
	"   AND json_extract(u.details, '$.workspace') = a.workspace) <"
	" (SELECT count(*) FROM approvals b WHERE b.at = a.at AND b.plugin = a.plugin"
	"   AND b.version = a.version AND b.approver = a.approver AND b.stage = a.stage"
	"   AND b.commit_id = a.commit_id AND b.workspace = a.workspace)"
	" ORDER BY a.id LIMIT 1",

	"SELECT j.id, printf('rejection %d (%s, %s@%s)', j.id, j.actor, j.plugin, j.version),"
	"  'release.rejected' FROM rejections j WHERE j.at >= ?1 AND"
	" (SELECT count(*) FROM audit u WHERE u.action = 'release.rejected' AND u.at = j.at"
	"   AND u.plugin = j.plugin AND u.version = j.version AND u.actor = j.actor"
	"   AND json_extract(u.details, '$.commit') = j.commit_id) <"
	" (SELECT count(*) FROM rejections b WHERE b.at = j.at AND b.plugin = j.plugin"
	"   AND b.version = j.version AND b.actor = j.actor AND b.commit_id = j.commit_id)"
	" ORDER BY j.id LIMIT 1",

	"SELECT t.id, printf('attestation %d (%s, %s@%s, %s)', t.id, t.actor, t.plugin,"
	"  t.version, t.item), 'checklist.attested' FROM attestations t WHERE t.at >= ?1 AND"
	" (SELECT count(*) FROM audit u WHERE u.action = 'checklist.attested' AND u.at = t.at"
	"   AND u.plugin = t.plugin AND u.version = t.version AND u.actor = t.actor"
	"   AND json_extract(u.details, '$.item') = t.item) <"
	" (SELECT count(*) FROM attestations b WHERE b.at = t.at AND b.plugin = t.plugin"
	"   AND b.version = t.version AND b.actor = t.actor AND b.item = t.item)"
	" ORDER BY t.id LIMIT 1",

	"SELECT ss.id, printf('stage start %d (%s@%s, stage %d %s)', ss.id, r.plugin, r.version,"
	"  ss.stage_index, ss.stage_name), 'stage.started'"
	" FROM stage_starts ss JOIN releases r ON r.id = ss.release_id"
	" WHERE ss.started_at >= ?1 AND NOT EXISTS (SELECT 1 FROM audit u"
	"   WHERE u.action = 'stage.started' AND u.at = ss.started_at AND u.plugin = r.plugin"
	"   AND u.version = r.version AND u.actor = ss.actor"
	"   AND json_extract(u.details, '$.stage_index') = ss.stage_index)"
	" ORDER BY ss.id LIMIT 1",

	"SELECT w.id, printf('withdrawal %d (%s, %s%s%s)', w.id, w.actor, w.plugin,"
	"  CASE WHEN w.version IS NULL THEN '' ELSE '@' END, coalesce(w.version, '')),"
	"  'plugin.withdrawn' FROM withdrawals w WHERE w.at >= ?1 AND"
	" (SELECT count(*) FROM audit u WHERE u.action IN ('plugin.withdrawn', 'release.withdrawn')"
	"   AND u.at = w.at AND u.plugin = w.plugin AND u.actor = w.actor"
	"   AND (w.version IS NULL OR u.version = w.version)) <"
	" (SELECT count(*) FROM withdrawals b WHERE b.at = w.at AND b.plugin = w.plugin"
	"   AND b.actor = w.actor AND b.version IS w.version)"
	" ORDER BY w.id LIMIT 1",

	"SELECT 0, printf('the %s of workspace %s (by %s)',"
	"  CASE WHEN f.frozen THEN 'freeze' ELSE 'unfreeze' END, f.workspace,"
	"  coalesce(f.frozen_by, '?')),"
	"  CASE WHEN f.frozen THEN 'workspace.frozen' ELSE 'workspace.unfrozen' END"
	" FROM workspace_state f WHERE f.at >= ?1 AND NOT EXISTS (SELECT 1 FROM audit u"
	"   WHERE u.action = CASE WHEN f.frozen THEN 'workspace.frozen'"
	"     ELSE 'workspace.unfrozen' END AND u.at = f.at AND u.actor IS f.frozen_by"
	"   AND json_extract(u.details, '$.workspace') = f.workspace)"
	" ORDER BY f.workspace LIMIT 1",
};

static int cross_locked(sluice_store *s, sluice_audit_report *r)
{
	sqlite3_stmt *st = NULL;
	int64_t cutoff = 0;
	bool null;
	int rc;

	if ((rc = store_stmt(s, &st, sql_cutoff)) < 0)
		return rc;
	rc = sqlite3_step(st);
	null = rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_NULL;
	if (rc == SQLITE_ROW)
		cutoff = null ? 0 : sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW ? 0 : store_error(s, rc, "cannot read the audit log");
	store_done(st);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < sizeof cross_checks / sizeof cross_checks[0]; i++) {
		if ((rc = store_stmt(s, &st, cross_checks[i])) < 0)
			return rc;
		store_bind_int(st, 1, cutoff);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			bad(r, 0, "%s has no %s audit row: it was written around sluice",
			    (const char *)sqlite3_column_text(st, 1),
			    (const char *)sqlite3_column_text(st, 2));
			rc = 0;
		} else
			rc = rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot cross-check the audit log");
		store_done(st);
		if (rc < 0 || !r->ok)
			return rc;
	}
	return 0;
}

static int verify_locked(sluice_store *s, sluice_audit_report *r, int64_t head_id,
			 const char *head_hash)
{
	int rc;

	if ((rc = chain_locked(s, r)) < 0 || !r->ok)
		return rc;
	if ((rc = tail_locked(s, r)) < 0 || !r->ok)
		return rc;
	if (head_id > 0 && ((rc = anchor_locked(s, r, head_id, head_hash)) < 0 || !r->ok))
		return rc;
	return cross_locked(s, r);
}

static int verify(sluice_store *s, sluice_audit_report *report, int64_t head_id,
		  const char *head_hash)
{
	bool own = sqlite3_get_autocommit(s->db) != 0;
	int rc;

	memset(report, 0, sizeof *report);
	report->ok = true;
	/* One read transaction: a consistent snapshot while writers go on. */
	if (own && (rc = store_exec(s, "BEGIN", "cannot read the audit log")) < 0)
		return rc;
	rc = verify_locked(s, report, head_id, head_hash);
	if (own)
		sqlite3_exec(s->db, rc < 0 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	return rc;
}

int sluice_audit_verify(sluice_store *s, sluice_audit_report *report)
{
	return verify(s, report, 0, NULL);
}

int sluice_audit_verify_head(sluice_store *s, int64_t head_id, const char *head_hash,
			     sluice_audit_report *report)
{
	if (head_id <= 0 || !is_hex64(head_hash))
		return sluice_error_set(SLUICE_EINVAL,
					"internal: an audit head needs a row id and a 64-digit hash");
	return verify(s, report, head_id, head_hash);
}

/* ---- prune ----------------------------------------------------------- */

static int query_int(sluice_store *s, const char *sql, int64_t arg, int64_t *out, bool *null)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_int(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*null = sqlite3_column_type(st, 0) == SQLITE_NULL;
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		*null = true;
		*out = 0;
		rc = 0;
	} else
		rc = store_error(s, rc, "cannot read the audit log");
	store_done(st);
	return rc;
}

static int prune_locked(sluice_store *s, int64_t now, int days, sluice_audit_prune_result *res)
{
	static const char sql_keep[] = "SELECT min(id) FROM audit WHERE at >= ?1";
	static const char sql_first[] = "SELECT min(id) FROM audit";
	static const char sql_last_id[] = "SELECT max(id) FROM audit";
	static const char sql_hash[] = "SELECT hash FROM audit WHERE id = ?1";
	static const char sql_guard[] = "INSERT INTO audit_prune (keep_from) VALUES (?1)";
	static const char sql_delete[] = "DELETE FROM audit WHERE id < ?1";
	static const char sql_unguard[] = "DELETE FROM audit_prune";
	int64_t cutoff = now - (int64_t)days * 86400, keep, first, last, cp_id = 0;
	sqlite3_stmt *st = NULL;
	char *from = NULL;
	bool null;
	int rc;

	if ((rc = query_int(s, sql_first, 0, &first, &null)) < 0)
		return rc;
	if (null)
		return 0; /* an empty log */
	if ((rc = query_int(s, sql_last_id, 0, &last, &null)) < 0)
		return rc;
	/* Only a run from the start leaves: `at` follows --now and need not
	 * grow with id, and removing rows from the middle would break the
	 * chain. */
	if ((rc = query_int(s, sql_keep, cutoff, &keep, &null)) < 0)
		return rc;
	if (null)
		keep = last + 1; /* everything is old: keep only the checkpoint */
	if (keep <= first)
		return 0;

	if ((rc = store_stmt(s, &st, sql_hash)) < 0)
		return rc;
	store_bind_int(st, 1, keep - 1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		from = store_col_dup(st, 0);
		rc = 0;
	} else
		rc = rc == SQLITE_DONE
			     ? sluice_error_set(SLUICE_ESTORE,
						"audit row %" PRId64 " is missing; run 'sluice audit verify'",
						keep - 1)
			     : store_error(s, rc, "cannot read the audit log");
	store_done(st);
	st = NULL;
	if (rc < 0)
		goto done;

	{
		sluice_audit_entry e = {now, NULL, SLUICE_AUDIT_CHECKPOINT, NULL, NULL, NULL};
		e.details = json_pack("{s:I, s:s, s:I, s:I, s:i}", "first_kept_id", (json_int_t)keep,
				      "continues_from", from, "deleted_rows",
				      (json_int_t)(keep - first), "older_than", (json_int_t)cutoff,
				      "older_than_days", days);
		if (!e.details) {
			rc = sluice_error_set(SLUICE_ENOMEM, "out of memory");
			goto done;
		}
		rc = sluice_audit_append(s, &e, &cp_id);
		json_decref(e.details);
		if (rc < 0)
			goto done;
	}

	if ((rc = store_stmt(s, &st, sql_guard)) < 0)
		goto done;
	store_bind_int(st, 1, keep);
	rc = store_step_done(s, st, "cannot prune the audit log");
	store_done(st);
	if (rc < 0)
		goto done;
	if ((rc = store_stmt(s, &st, sql_delete)) < 0)
		goto done;
	store_bind_int(st, 1, keep);
	rc = store_step_done(s, st, "cannot prune the audit log");
	store_done(st);
	if (rc < 0)
		goto done;
	res->deleted = sqlite3_changes64(s->db);
	if ((rc = store_stmt(s, &st, sql_unguard)) < 0)
		goto done;
	rc = store_step_done(s, st, "cannot prune the audit log");
	store_done(st);
	if (rc < 0)
		goto done;
	res->checkpoint_id = cp_id;
	res->first_kept_id = keep;
done:
	free(from);
	return rc;
}

int sluice_audit_prune(sluice_store *s, int64_t now, int older_than_days, int retention_days,
		       sluice_audit_prune_result *result)
{
	sluice_audit_prune_result none;
	int rc;

	if (!result)
		result = &none;
	memset(result, 0, sizeof *result);
	if (retention_days < SLUICE_AUDIT_RETENTION_MIN_DAYS)
		return sluice_error_set(SLUICE_EINVAL,
					"the audit retention must be at least %d days (got %d); set "
					"policy.audit_retention_days to %d or more",
					SLUICE_AUDIT_RETENTION_MIN_DAYS, retention_days,
					SLUICE_AUDIT_RETENTION_MIN_DAYS);
	if (older_than_days < retention_days)
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot prune audit rows younger than the retention of %d days "
					"(policy.audit_retention_days); give --older-than-days %d or more",
					retention_days, retention_days);
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	rc = prune_locked(s, now, older_than_days, result);
	if (rc < 0)
		memset(result, 0, sizeof *result);
	return store_tx_end(s, rc);
}
