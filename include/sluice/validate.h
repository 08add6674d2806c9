/* Validation (docs/configuration.md): the checks that cross files - the
 * plugin against the workspace and its rollout policy, the workspace
 * against the files it names. Schema checks happen while loading. */
#ifndef SLUICE_VALIDATE_H
#define SLUICE_VALIDATE_H

#include "sluice/secret-scan.h"
#include "sluice/config.h"
#include "sluice/diag.h"

/* Checks a loaded workspace definition: groups, admins, watched plugins
 * (ranges), providers, the rollout policy it names, files it names
 * (resolved against `root`). */
void sluice_validate_workspace(const sluice_workspace *ws, const char *root,
			       sluice_diags *d);

/* Checks a plugin release against the workspace and rollout policy (either
 * may be NULL: those checks are skipped). `tag` is the release's tag
 * ("v0.1.0") when it comes from git, NULL for a directory. */
void sluice_validate_plugin(const sluice_plugin *p, const sluice_workspace *ws,
			    const sluice_rollout_policy *policy, const char *root,
			    const char *tag, sluice_diags *d);


/* Problems with a secret name ("codex/x/token"): NULL when fine. */
const char *sluice_secret_name_problem(const char *name);

/* The number of distinct users in `groups` (members files read under root);
 * -1 when a members file cannot be read. */
long sluice_count_users(const sluice_workspace *ws, const char *root,
			const char *const *groups, size_t ngroups);

#endif
