/* Secret providers: whether a secret a deploy file binds exists, its
 * version and its age. A provider answers with metadata only; Sluice never
 * reads, stores, logs or publishes a secret's value (docs/secrets.md).
 * Each provider type is one file in src/lib/secrets/ behind this interface. */
#ifndef SLUICE_SECRETS_H
#define SLUICE_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/config.h"

/* What is asked: the secret's name and who asks for it (the exec
 * helper's request carries both). */
typedef struct {
	const char *name;      /* codex/backend-pr-reviewer/service-token */
	const char *workspace;
	const char *plugin;
	const char *root;      /* --root: relative provider paths resolve here */
} sluice_secret_query;

/* A provider's answer. */
typedef struct {
	bool exists;
	char *version;      /* malloc'd; NULL when the provider has none */
	int64_t updated_at; /* seconds since the epoch; 0 unknown */
} sluice_secret_meta;

void sluice_secret_meta_clear(sluice_secret_meta *m);

/* Asks provider `p` about q->name. Returns 0 with *out filled (exists true
 * or false; clear it with sluice_secret_meta_clear), or a negative
 * SLUICE_E* code when the provider could not answer, with a message that
 * names the provider and never contains a secret's value. */
int sluice_secret_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			const sluice_secret_query *q);

/* The variable the env provider looks at for `name`:
 * "codex/x/token" -> "SLUICE_SECRET_CODEX_X_TOKEN". Caller frees. */
char *sluice_secret_env_name(const char *name);

/* The warning for a secret that is older than its provider's
 * max_age_days at `now` ("older than 90 days (max_age_days of
 * enterprise-secrets); rotate it"), or NULL when it is not, is missing,
 * has no known age or `p` (may be NULL) sets no limit. Caller frees. */
char *sluice_secret_age_warning(const sluice_secret_provider *p, bool present, int64_t updated_at,
				int64_t now);

/* ---- binding (src/lib/secrets/binding.c) ---------------------------- */

struct sluice_engine;
struct sluice_watched;

/* What one refresh did, added to by each call: bindings asked of their
 * provider, answered from the cache (checked within check_every), and
 * not present afterwards (missing, or the provider could not answer). */
typedef struct {
	int checked, cached, missing;
} sluice_secrets_stats;

/* Checks the secrets bound by every release of `plugin` (repository
 * `repo_key`) that may start a stage next: pending, or in progress or
 * paused with a stage to go. A present secret is asked again after its
 * provider's check_every, a missing one (or a provider error) at every
 * call, and every one when `force`. Results go to the store
 * (sluice_store_secret_put, audited on change). `stats` (may be NULL) is
 * added to. Returns 0, or a negative code only when the store fails: a
 * provider's failure is a result. */
int sluice_secrets_refresh(struct sluice_engine *e, const char *repo_key, const char *plugin,
			   bool force, sluice_secrets_stats *stats);

/* Whether a release in `state` with `stage_index` of `nstages` stages
 * started may start a stage later, so its secrets are needed. */
bool sluice_secrets_needed(int state, int stage_index, size_t nstages);

#endif
