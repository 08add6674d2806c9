/* Secret checks: the last answer of each secret a release binds, with the
 * time it was checked (docs/secrets.md). Metadata only; no value is ever
 * handed to the store. */
#include <stdlib.h>
#include <string.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/util.h"
#include "store-internal.h"

void sluice_secret_row_clear(sluice_secret_row *r)
{
	if (!r)
		return;
	free(r->plugin);
	free(r->version);
	free(r->var);
	free(r->provider);
	free(r->name);
	free(r->problem);
	free(r->secret_version);
	memset(r, 0, sizeof *r);
}

void sluice_secret_rows_free(sluice_secret_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		sluice_secret_row_clear(&rows[i]);
	free(rows);
}

int sluice_store_secret_rows(sluice_secret_row **out, size_t *n, sluice_store *s,
			     const char *workspace, const char *plugin, const char *version)
{
	static const char sql[] =
		"SELECT plugin, version, var, provider, name, present, problem, secret_version,"
		" updated_at, checked_at FROM secret_checks WHERE workspace = ?1"
		" AND (?2 IS NULL OR plugin = ?2) AND (?3 IS NULL OR version = ?3)"
		" ORDER BY plugin, version, var";
	sqlite3_stmt *st = NULL;
	sluice_secret_row *rows = NULL;
	size_t count = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, plugin);
	store_bind_text(st, 3, version);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			rows = sluice_xrealloc(rows, cap * sizeof *rows);
		}
		sluice_secret_row *r = &rows[count++];
		r->plugin = store_col_dup(st, 0);
		r->version = store_col_dup(st, 1);
		r->var = store_col_dup(st, 2);
		r->provider = store_col_dup(st, 3);
		r->name = store_col_dup(st, 4);
		r->present = sqlite3_column_int(st, 5) != 0;
		r->problem = store_col_dup(st, 6);
		r->secret_version = store_col_dup(st, 7);
		r->updated_at = store_col_time(st, 8);
		r->checked_at = store_col_time(st, 9);
	}
	if (rc != SQLITE_DONE) {
		rc = store_error(s, rc, "cannot read secret checks");
		sluice_secret_rows_free(rows, count);
	} else {
		rc = 0;
		*out = rows;
		*n = count;
	}
	store_done(st);
	return rc;
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int secret_put_locked(sluice_store *s, const char *workspace, const sluice_secret_row *r)
{
	static const char sql_prev[] =
		"SELECT present, problem FROM secret_checks WHERE workspace = ?1 AND plugin = ?2"
		" AND version = ?3 AND var = ?4";
	static const char sql_put[] =
		"INSERT INTO secret_checks (workspace, plugin, version, var, provider, name,"
		" present, problem, secret_version, updated_at, checked_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" ON CONFLICT (workspace, plugin, version, var) DO UPDATE SET"
		" provider = excluded.provider, name = excluded.name, present = excluded.present,"
		" problem = excluded.problem, secret_version = excluded.secret_version,"
		" updated_at = excluded.updated_at, checked_at = excluded.checked_at";
	sqlite3_stmt *st = NULL;
	bool had = false, was_present = false;
	char *was_problem = NULL;
	int rc;

	if ((rc = store_stmt(s, &st, sql_prev)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, r->plugin);
	store_bind_text(st, 3, r->version);
	store_bind_text(st, 4, r->var);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		had = true;
		was_present = sqlite3_column_int(st, 0) != 0;
		was_problem = store_col_dup(st, 1);
	}
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0
						     : store_error(s, rc, "cannot read secret checks");
	store_done(st);
	if (rc < 0)
		goto done;
	if ((rc = store_stmt(s, &st, sql_put)) < 0)
		goto done;
	store_bind_text(st, 1, workspace);
	store_bind_text(st, 2, r->plugin);
	store_bind_text(st, 3, r->version);
	store_bind_text(st, 4, r->var);
	store_bind_text(st, 5, r->provider);
	store_bind_text(st, 6, r->name);
	store_bind_int(st, 7, r->present ? 1 : 0);
	store_bind_text(st, 8, r->present ? NULL : r->problem);
	store_bind_text(st, 9, r->secret_version);
	store_bind_time(st, 10, r->updated_at);
	store_bind_int(st, 11, r->checked_at);
	rc = store_step_done(s, st, "cannot record a secret check");
	store_done(st);
	if (rc < 0)
		goto done;
	if (!had || was_present != r->present ||
	    (!r->present && !same_text(was_problem, r->problem)))
		rc = sluice_audit_appendf(
			s, r->checked_at, r->present ? "secret.present" : "secret.missing", r->plugin,
			r->version, "{s:s, s:s, s:s, s:s?, s:s?}", "var", r->var, "provider",
			r->provider, "name", r->name, "version", r->secret_version, "reason",
			r->present ? NULL : r->problem);
done:
	free(was_problem);
	return rc;
}

int sluice_store_secret_put(sluice_store *s, const char *workspace, const sluice_secret_row *r)
{
	int rc = store_tx_begin(s);
	if (rc < 0)
		return rc;
	return store_tx_end(s, secret_put_locked(s, workspace, r));
}
