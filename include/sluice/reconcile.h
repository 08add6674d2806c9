/* Reconcile: one pass over a workspace, built on an opened engine -
 * fetch, record tags, validate new releases, plan, apply, publish, in that
 * order (docs/operations.md). */
#ifndef SLUICE_RECONCILE_H
#define SLUICE_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/engine.h"
#include "sluice/rollout.h"
#include "sluice/secrets.h"
#include "sluice/watched.h"

/* What one pass did for one watched repository. */
typedef struct {
	const sluice_watched *watched;
	char *plugin;        /* id */
	char *fetch_error;   /* the remote could not be reached (audited) */
	char **notes;        /* NULL-terminated: "recorded release 0.1.0", ... */
	sluice_plan *applied; /* the actions applied (NULL when none) */
	char *error;         /* the plugin's pass failed and was rolled back */
	sluice_secrets_stats secrets; /* what the secret checks did */
} sluice_reconcile_item;

typedef struct {
	sluice_reconcile_item *items;
	size_t nitems;
	bool published;      /* the effective state changed and was written */
	char *publish_error;
	char *lease_holder;  /* set when another reconcile held the lease */
} sluice_reconcile_report;

typedef struct {
	bool no_fetch;         /* read the mirrors as they are (tests, bench) */
	bool no_publish;
	int64_t lease_wait_ms; /* how long to wait for another pass; 0: 30 s */
} sluice_reconcile_opts;

/* One pass (docs/operations.md): under the "reconcile" lease, fetches
 * every watched repository (an unreachable one is audited and its stored
 * state used), records its tags (a moved tag freezes its release), records
 * and validates each new release in the tracked range (a release with
 * errors is recorded as refused, with its reasons), then plans and applies
 * each plugin in its own transaction, and publishes. Problems of one
 * plugin are in its item, never stop the others. `e` must not be
 * read-only. Returns 0 when the pass ran (report filled; clear with
 * sluice_reconcile_report_clear), 0 with report->lease_holder set when
 * another pass held the lease throughout, or a negative code when the pass
 * could not run. */
int sluice_reconcile_run(sluice_reconcile_report *report, sluice_engine *e,
			 const sluice_reconcile_opts *opts);
void sluice_reconcile_report_clear(sluice_reconcile_report *r);

#endif
