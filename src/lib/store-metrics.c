/* The counts the daemon's metrics read (docs/operations.md, "Metrics"):
 * aggregates over the state tables, read-only. */
#include <stdlib.h>
#include <string.h>

#include "sluice/error.h"
#include "sluice/util.h"
#include "store-internal.h"

void sluice_state_counts_free(sluice_state_count *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		free(c[i].state);
	free(c);
}

int sluice_store_release_state_counts(sluice_state_count **out, size_t *n, sluice_store *s,
				      const char *workspace)
{
	static const char sql[] =
		"SELECT state, count(*) FROM releases WHERE workspace = ?1 GROUP BY state ORDER BY state";
	sqlite3_stmt *st = NULL;
	sluice_state_count *v = NULL;
	size_t count = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_stmt(s, &st, sql)) < 0)
		return rc;
	store_bind_text(st, 1, workspace);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = sluice_xrealloc(v, (count + 1) * sizeof *v);
		v[count].state = store_col_dup(st, 0);
		v[count].count = sqlite3_column_int64(st, 1);
		count++;
	}
	rc = rc == SQLITE_DONE ? 0 : store_error(s, rc, "cannot count releases by state");
	store_done(st);
	if (rc < 0) {
		sluice_state_counts_free(v, count);
		return rc;
	}
	*out = v;
	*n = count;
	return 0;
}
