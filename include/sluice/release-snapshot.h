/* The deploy snapshot of a release: what the planner needs from the
 * release's deploy file and manifest (stages, controls, risk, lifecycle),
 * kept as compact JSON in releases.deploy_snapshot when the release is
 * recorded, so the planner's input is rebuilt from the database without
 * reading git again (docs/database.md). The encoder and the decoder of the
 * format live together in release-snapshot.c. */
#ifndef SLUICE_RELEASE_SNAPSHOT_H
#define SLUICE_RELEASE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/config.h"
#include "sluice/rollout.h"

/* The snapshot of plugin `pl` (as loaded at its tag): compact JSON with
 * sorted keys. Caller frees. */
char *sluice_release_snapshot_encode(const sluice_plugin *pl);

/* A decoded snapshot. Lifecycle times are seconds since the epoch; 0 in a
 * number means "not set". */
typedef struct {
	sluice_rollout_stage *stages;
	size_t nstages;
	bool require_admin_approval;
	bool allow_user_disable;
	bool collect_feedback;
	const char *audit_dashboard; /* NULL when not set */
	int risk;                    /* sluice_risk */
	bool has_lifecycle;
	int64_t review_every_days;
	int64_t deprecated_at;
	int64_t sunset_at;
	void *priv;
} sluice_release_snapshot;

/* Hands a block the decoder allocated to its new owner, which frees it
 * with free(); returns it. */
typedef void *(*sluice_release_snapshot_keep)(void *ctx, void *ptr);

/* Decodes `text` (may be NULL) into *out. Text that is not a snapshot
 * leaves *out empty - no stages, nothing set - so the planner has nothing
 * to start, which is the safe reading. With `keep` every allocation (the
 * stages, their names and groups, audit_dashboard) is handed to keep(ctx,
 * ...) and outlives *out; without it they belong to *out. Clear *out with
 * sluice_release_snapshot_clear either way. */
void sluice_release_snapshot_decode(sluice_release_snapshot *out, const char *text,
				    sluice_release_snapshot_keep keep, void *ctx);
void sluice_release_snapshot_clear(sluice_release_snapshot *s);

#endif
