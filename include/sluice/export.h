/* The audit-review export (docs/export.md): the rollouts, their stages,
 * approvals, daily telemetry and feedback, gate evaluations and the audit
 * trail of a store, with whether the audit chain verifies and its head,
 * written as one self-contained HTML dashboard (inline CSS and SVG, no
 * script, no external reference), as JSON or as CSV. Rows stream from the
 * database to the output one at a time: memory does not grow with the
 * number of events or audit rows. */
#ifndef SLUICE_EXPORT_H
#define SLUICE_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/audit.h"
#include "sluice/store.h"

typedef enum {
	SLUICE_EXPORT_HTML,
	SLUICE_EXPORT_JSON,
	SLUICE_EXPORT_CSV,
} sluice_export_format;

/* Parses "html", "json" or "csv". Returns 0, or SLUICE_EINVAL with the
 * problem set. */
int sluice_export_format_parse(sluice_export_format *out, const char *name);

/* The title of a dashboard whose plugins name no controls.audit_dashboard. */
#define SLUICE_EXPORT_DEFAULT_TITLE "Sluice audit review"

typedef struct {
	sluice_export_format format;
	const char *plugin; /* only this plugin; NULL for all */
	int64_t since;      /* only what happened at or after; 0 for all */
	int64_t until;      /* only what happened before; 0 for up to now */
	int64_t now;        /* the rollout clock: where running stages end */
} sluice_export_options;

typedef struct {
	int64_t rows;        /* data rows written, over all sections */
	int64_t plugins;     /* plugins exported */
	bool audit_verified; /* the audit chain verified */
	int64_t head_id;     /* the audit head (0: empty log) */
	char head_hash[SLUICE_AUDIT_HASH_SZ];
} sluice_export_result;

/* Writes the export of `s` (opened read-only is enough) to `to`. A plugin
 * that was never recorded is SLUICE_ENOTFOUND. A failed write is SLUICE_EIO.
 * *result (may be NULL) says what was written. Returns 0 or a negative
 * SLUICE_E* code with the error set. */
int sluice_export_write(sluice_export_result *result, FILE *to, sluice_store *s,
			const sluice_export_options *o);

#endif
