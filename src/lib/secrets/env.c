/* The env provider (development): a secret is present when its variable
 * (sluice_secret_env_name) is set and not empty. Only the first byte is
 * looked at; the value is never copied, compared or logged. */
#include <stdlib.h>

#include "secrets-internal.h"

int sluice__secret_env_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			     const sluice_secret_query *q)
{
	(void)p;
	char *var = sluice_secret_env_name(q->name);
	const char *v = getenv(var);
	out->exists = v && v[0] != '\0';
	free(var);
	return 0;
}
