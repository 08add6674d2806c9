/* The provider interface: dispatch by type, and what every provider shares
 * (docs/secrets.md). */
#include <stdlib.h>
#include <string.h>

#include "secrets-internal.h"
#include "sluice/error.h"
#include "sluice/util.h"

static const struct {
	const char *type;
	sluice__secret_check_fn check;
} k_types[] = {
	{"env", sluice__secret_env_check},
	{"file", sluice__secret_file_check},
	{"exec", sluice__secret_exec_check},
	{"vault-kv2", sluice__secret_vault_check},
};

void sluice_secret_meta_clear(sluice_secret_meta *m)
{
	if (!m)
		return;
	free(m->version);
	memset(m, 0, sizeof *m);
}

char *sluice_secret_env_name(const char *name)
{
	static const char prefix[] = "SLUICE_SECRET_";
	size_t n = strlen(name);
	char *v = sluice_xmalloc(sizeof prefix + n);

	memcpy(v, prefix, sizeof prefix - 1);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		v[sizeof prefix - 1 + i] = c;
	}
	v[sizeof prefix - 1 + n] = '\0';
	return v;
}

char *sluice_secret_age_warning(const sluice_secret_provider *p, bool present, int64_t updated_at,
				int64_t now)
{
	if (!p || p->max_age_days <= 0 || !present || !updated_at || now < updated_at ||
	    now - updated_at <= p->max_age_days * 86400)
		return NULL;
	return sluice_xasprintf("older than %lld days (max_age_days of %s); rotate it",
				(long long)p->max_age_days, p->name.s);
}

char *sluice__secret_path(const char *root, const char *path)
{
	if (path[0] == '/' || !root)
		return sluice_xstrdup(path);
	return sluice_xasprintf("%s/%s", root, path);
}

int sluice_secret_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			const sluice_secret_query *q)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; p->type.s && i < sizeof k_types / sizeof k_types[0]; i++)
		if (strcmp(k_types[i].type, p->type.s) == 0) {
			int rc = k_types[i].check(out, p, q);
			if (rc < 0)
				sluice_secret_meta_clear(out);
			return rc;
		}
	return sluice_error_set(SLUICE_EINVAL, "secret provider '%s' has an unknown type '%s'",
				p->name.s, p->type.s ? p->type.s : "");
}
