/* Secret providers: whether a secret a deploy file binds exists, its
 * version and its age. A provider answers with metadata only; Sluice never
 * reads, stores, logs or publishes a secret's value (docs/secrets.md).
 * Each provider type is one file in src/lib/secrets/ behind this interface. */
#ifndef SLUICE_SECRETS_H
#define SLUICE_SECRETS_H

#include <stdbool.h>
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

#endif
