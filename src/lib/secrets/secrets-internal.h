/* The provider types behind sluice_secret_check; not a public header. */
#ifndef SLUICE_SECRETS_INTERNAL_H
#define SLUICE_SECRETS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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

/* Reads a KV v2 metadata answer (`body`, `len` bytes) for `name` from
 * provider `provider` (mount `mount`, for the message) at time `now`:
 * exists unless current_version is 0 or that version is destroyed or was
 * deleted by now. Returns 0 with *out filled (clear it), or SLUICE_EINVAL
 * when the answer is not KV v2 metadata. Pure: no I/O, no clock. */
int sluice__secret_vault_parse(sluice_secret_meta *out, const char *provider, const char *mount,
			       const char *name, const char *body, size_t len, int64_t now);

/* A provider path (file dir, token_file, ca_bundle) resolved against root
 * unless absolute. Caller frees. */
char *sluice__secret_path(const char *root, const char *path);

#endif
