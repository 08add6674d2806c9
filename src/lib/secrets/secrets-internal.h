/* The provider types behind sluice_secret_check; not a public header. */
#ifndef SLUICE_SECRETS_INTERNAL_H
#define SLUICE_SECRETS_INTERNAL_H

#include "sluice/secrets.h"

typedef int (*sluice__secret_check_fn)(sluice_secret_meta *out, const sluice_secret_provider *p,
				       const sluice_secret_query *q);

int sluice__secret_env_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			     const sluice_secret_query *q);
int sluice__secret_file_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			      const sluice_secret_query *q);
int sluice__secret_exec_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			      const sluice_secret_query *q);
int sluice__secret_vault_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			       const sluice_secret_query *q);

/* A provider path (file dir, token_file, ca_bundle) resolved against root
 * unless absolute. Caller frees. */
char *sluice__secret_path(const char *root, const char *path);

#endif
