/* The export's queries (store-export.c) as export.c reads them; not
 * a public header. A section is one query whose rows stream to a callback
 * one at a time: the value pointers are valid only during the call, so
 * memory does not grow with the rows. */
#ifndef SLUICE_STORE_EXPORT_H
#define SLUICE_STORE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/store.h"

/* The sections, in the order the JSON and CSV forms write them; those
 * after SLUICE__EXPORT_NSECTIONS are the HTML charts' extents. */
typedef enum {
	SLUICE__EXPORT_PLUGINS,
	SLUICE__EXPORT_ROLLOUTS,
	SLUICE__EXPORT_STAGES,
	SLUICE__EXPORT_APPROVALS,
	SLUICE__EXPORT_TELEMETRY,
	SLUICE__EXPORT_FEEDBACK,
	SLUICE__EXPORT_GATES,
	SLUICE__EXPORT_AUDIT,
	SLUICE__EXPORT_NSECTIONS,
	/* one row: first_day, last_day, max_error_rate, max_refusal_rate,
	 * max_escalation_rate, max_ratings */
	SLUICE__EXPORT_TELEMETRY_RANGE = SLUICE__EXPORT_NSECTIONS,
	/* one row: first_at, last_at (the earliest stage start or approval,
	 * the latest stage end) */
	SLUICE__EXPORT_TIMELINE_RANGE,
} sluice__export_section;

/* The name of a section ("rollouts", "approvals", ...). */
const char *sluice__export_section_name(sluice__export_section sec);

typedef enum {
	SLUICE__EXPORT_NULL,
	SLUICE__EXPORT_INT,
	SLUICE__EXPORT_REAL,
	SLUICE__EXPORT_TEXT,
} sluice__export_type;

typedef struct {
	sluice__export_type type;
	int64_t i;
	double r;
	const char *t; /* UTF-8, NUL-terminated */
} sluice__export_value;

#define SLUICE__EXPORT_MAX_COLS 16

typedef struct {
	size_t ncols;
	const char *names[SLUICE__EXPORT_MAX_COLS];
	sluice__export_value v[SLUICE__EXPORT_MAX_COLS];
} sluice__export_row;

typedef struct {
	const char *plugin; /* NULL: every plugin */
	int64_t since;      /* 0: from the start */
	int64_t until;      /* 0: up to now; exclusive */
	int64_t now;        /* where open bars end */
} sluice__export_filter;

/* Runs the query of `sec` and calls cb for each row, in the section's
 * order (plugin, then version or time). A non-zero return from cb stops
 * the walk and is returned. Times are seconds since the epoch (NULL:
 * never). Returns 0 or a negative SLUICE_E* code. */
int sluice__store_export_rows(sluice_store *s, sluice__export_section sec,
			      const sluice__export_filter *f,
			      int (*cb)(const sluice__export_row *row, void *ctx), void *ctx);

/* Index of column `name` in row, or -1. */
int sluice__export_col(const sluice__export_row *row, const char *name);

#endif
