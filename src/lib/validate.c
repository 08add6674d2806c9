/* Validation across files: docs/configuration.md. */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sluice/error.h"
#include "sluice/secret-scan.h"
#include "sluice/semver.h"
#include "sluice/util.h"
#include "sluice/validate.h"

/* ---- small checks -------------------------------------------------------- */

static bool id_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 64 || !islower((unsigned char)s[0]) || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return strstr(s, "--") == NULL;
}

static bool repo_name_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_./", *p))
			return false;
	return strstr(s, "..") == NULL;
}

const char *sluice_secret_name_problem(const char *name)
{
	const char *seg = name;
	if (!*name)
		return "is empty";
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "contains a control character";
	if (name[0] == '/')
		return "starts with '/'";
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		if (len == 0)
			return "has an empty path segment";
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return "has a '.' or '..' segment";
		if (!end)
			break;
		seg = end + 1;
	}
	return NULL;
}


/* The message for a plain value that looks like a secret, named by its
 * place; `line` > 1 says which line of a multi-line value. */
static void report_secret(sluice_diags *d, sluice_pos pos, const char *place, const char *why,
			  unsigned line, const char *fix)
{
	char on[48] = "";
	if (line > 1)
		snprintf(on, sizeof on, " on line %u of the value", line);
	sluice_diag_error(d, pos, "secret-value", "%s looks like a secret (%s%s); %s", place, why,
			  on, fix);
}

static const char fix_plain[] =
	"plain values are published as written: keep credentials out of plugin files and bind "
	"them under the deploy file's secrets";

/* Whether an error is already reported at pos (an unknown key that looks
 * like a secret is reported by the schema reader). */
static bool reported_at(const sluice_diags *d, sluice_pos pos)
{
	for (size_t i = 0; i < d->count; i++)
		if (d->items[i].severity == SLUICE_SEV_ERROR && d->items[i].line == pos.line &&
		    d->items[i].col == pos.col && pos.file && strcmp(d->items[i].file, pos.file) == 0)
			return true;
	return false;
}

/* Every string value and every key under n, named by its path from the
 * document's top (`path`, "" at the top). A key that looks like a secret
 * is named by where it stands, and its subtree as "<path>.*". */
static void scan_secrets(const sluice_node *n, const char *path, sluice_diags *d)
{
	const char *why;
	unsigned line = 0;

	switch (n->kind) {
	case SLUICE_NODE_STRING: {
		if ((why = sluice_secret_find(n->text, n->text_len, &line, NULL))) {
			char *place = sluice_xasprintf("'%s'", *path ? path : "the value");
			report_secret(d, n->pos, place, why, line, fix_plain);
			free(place);
		}
		break;
	}
	case SLUICE_NODE_MAP:
		for (size_t i = 0; i < n->count; i++) {
			const sluice_node_pair *p = &n->pairs[i];
			char *sub;
			if ((why = sluice_secret_find(p->key, strlen(p->key), &line, NULL))) {
				if (!reported_at(d, p->key_pos)) {
					char *place = *path ? sluice_xasprintf("a key in '%s'", path)
							    : sluice_xstrdup("a top-level key");
					report_secret(d, p->key_pos, place, why, line, fix_plain);
					free(place);
				}
				sub = sluice_xasprintf("%s%s*", path, *path ? "." : "");
			} else
				sub = sluice_xasprintf("%s%s%s", path, *path ? "." : "", p->key);
			scan_secrets(p->value, sub, d);
			free(sub);
		}
		break;
	case SLUICE_NODE_SEQ:
		for (size_t i = 0; i < n->count; i++) {
			char *sub = sluice_xasprintf("%s[%zu]", path, i);
			scan_secrets(n->items[i], sub, d);
			free(sub);
		}
		break;
	default:
		break; /* numbers and booleans are not credentials */
	}
}

/* Every plain value of a release (docs/configuration.md, "Secret-looking
 * values"): the manifest, the deploy file (its environment has its own
 * wording, below), the tool contracts and the guidance documents. */
static void check_release_secrets(const sluice_plugin *p, sluice_diags *d)
{
	const sluice_node *root = p->deploy_doc->root;
	scan_secrets(p->manifest_doc->root, "", d);
	for (size_t i = 0; i < root->count; i++) {
		const sluice_node_pair *pr = &root->pairs[i];
		if (strcmp(pr->key, "environment") == 0 && pr->value->kind == SLUICE_NODE_MAP)
			continue;
		const sluice_node one = {.kind = SLUICE_NODE_MAP,
					 .pos = root->pos,
					 .pairs = (sluice_node_pair *)pr,
					 .count = 1};
		scan_secrets(&one, "", d);
	}
	for (size_t i = 0; i < p->ntools; i++)
		if (p->tools[i].doc && p->tools[i].doc->root)
			scan_secrets(p->tools[i].doc->root, "", d);
	for (size_t i = 0; i < p->nguidance; i++) {
		unsigned line = 0, col = 0;
		const char *why = sluice_secret_find(p->guidance_texts[i], p->guidance_lens[i], &line,
						     &col);
		if (why) {
			sluice_pos pos = {p->guidance_files[i], line, col};
			sluice_diag_error(d, pos, "secret-value",
					  "guidance file '%s' holds what looks like a secret (%s); "
					  "guidance is shown to users and models as written: remove it",
					  p->guidance_paths[i], why);
		}
	}
}

/* An environment mapping (a deploy file's, or a workspace override): its
 * names and its values, each line of them. */
static void check_env_secrets(const sluice_kvs *env, const char *fix, sluice_diags *d)
{
	for (size_t i = 0; i < env->count; i++) {
		const sluice_kv *kv = &env->items[i];
		unsigned line = 0;
		const char *why;
		if (kv->key.s && (why = sluice_secret_find(kv->key.s, strlen(kv->key.s), &line, NULL))) {
			report_secret(d, kv->key.pos, "an environment variable name", why, line, fix);
			continue; /* its value is named by the key: not again */
		}
		if (kv->value.s &&
		    (why = sluice_secret_find(kv->value.s, strlen(kv->value.s), &line, NULL))) {
			char *place = sluice_xasprintf("environment value of '%s'", kv->key.s);
			report_secret(d, kv->value.pos, place, why, line, fix);
			free(place);
		}
	}
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

long sluice_count_users(const sluice_workspace *ws, const char *root,
			const char *const *groups, size_t ngroups)
{
	char **all = NULL;
	size_t n = 0, cap = 0;
	long count = 0;

	for (size_t i = 0; i < ngroups; i++) {
		const sluice_group *g = sluice_workspace_group(ws, groups[i]);
		char **m = NULL;
		if (!g)
			continue;
		if (sluice_group_members(&m, ws, g, root) < 0) {
			count = -1;
			goto done;
		}
		for (char **x = m; *x; x++) {
			size_t k;
			for (k = 0; k < n; k++)
				if (strcmp(all[k], *x) == 0)
					break;
			if (k < n)
				continue;
			if (n == cap)
				all = sluice_xrealloc(all, (cap = cap ? cap * 2 : 16) * sizeof(char *));
			all[n++] = sluice_xstrdup(*x);
		}
		sluice_strv_free(m);
	}
	count = (long)n;
done:
	for (size_t k = 0; k < n; k++)
		free(all[k]);
	free(all);
	return count;
}

/* Whether a relative path climbs above the directory it is relative to
 * ("../x", "a/../../x"); "a/../b" stays inside. */
static bool climbs_out(const char *path)
{
	long depth = 0;
	const char *seg = path;

	if (path[0] == '/')
		return false;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (len > 0 && !(len == 1 && seg[0] == '.'))
			depth++;
		if (!end)
			return false;
		seg = end + 1;
	}
}

/* ---- the workspace ------------------------------------------------------- */

/* Whether policy.allow_http_services lets `url` (http://...) through: an
 * entry is the URL itself (or a prefix of it ending at a path boundary) or
 * its host, with or without the port. */
static bool http_allowed(const sluice_workspace *ws, const char *url)
{
	/* not url + 7: -O2 sees the "" a missing value becomes and warns */
	const char *host = strstr(url, "://");
	if (!host)
		return false;
	host += 3;
	size_t hostport = strcspn(host, "/?#");
	size_t hostonly = strcspn(host, ":/?#");

	for (size_t i = 0; ws && i < ws->allow_http_services.count; i++) {
		const char *a = ws->allow_http_services.items[i].s;
		size_t n = strlen(a);
		if (strncasecmp(a, "http://", 7) == 0) {
			while (n > 7 && a[n - 1] == '/')
				n--;
			if (strncasecmp(url, a, n) == 0 && strchr("/?#", url[n]))
				return true;
		} else if ((n == hostport || n == hostonly) && strncasecmp(host, a, n) == 0)
			return true;
	}
	return false;
}

/* One value of the effective environment: the service URLs in it must be
 * https unless policy.allow_http_services lists them, and the one
 * runtime.base_url_env names must be an https (or allowed http) URL. */
static void check_env_value(const sluice_kv *kv, bool base, const sluice_workspace *ws,
			    bool check_http, sluice_diags *d)
{
	const char *v = kv->value.s ? kv->value.s : "";
	bool http = strncasecmp(v, "http://", 7) == 0;

	if (http && check_http && !http_allowed(ws, v))
		sluice_diag_error(d, kv->value.pos, "insecure-url",
				  "environment value of '%s' is an http:// service URL; use "
				  "https, or list it (or its host) in the workspace's "
				  "policy.allow_http_services",
				  kv->key.s);
	else if (base && !*v)
		sluice_diag_error(d, kv->value.pos, "unbound-env",
				  "runtime.base_url_env names '%s', which is set to an empty value; "
				  "set it to the plugin's https:// service address",
				  kv->key.s);
	else if (base && !http && strncasecmp(v, "https://", 8) != 0)
		sluice_diag_error(d, kv->value.pos, "invalid-url",
				  "environment value of '%s' (runtime.base_url_env) is not an "
				  "https:// URL; set it to the plugin's service address",
				  kv->key.s);
}

void sluice_validate_workspace(const sluice_workspace *ws, const char *root, sluice_diags *d)
{
	for (size_t i = 0; i < ws->ngroups; i++) {
		const sluice_group *g = &ws->groups[i];
		if (!id_ok(g->name.s))
			sluice_diag_error(d, g->name.pos, "invalid-name",
					  "group name '%s' must be lowercase letters, digits and "
					  "single dashes", g->name.s);
		/* a path that leaves --root as written was reported by the loader */
		if (g->members_file.s && !sluice_workspace_path_problem(g->members_file.s)) {
			char *p = NULL;
			if (sluice_workspace_path(&p, root, g->members_file.s) < 0)
				sluice_diag_error(d, g->members_file.pos, "unsafe-path",
						  "members file of group '%s': %s", g->name.s,
						  sluice_error_last());
			else if (!file_exists(p))
				sluice_diag_error(d, g->members_file.pos, "missing-file",
						  "members file '%s' of group '%s' does not exist "
						  "(relative paths resolve against --root)",
						  g->members_file.s, g->name.s);
			free(p);
		}
	}
	for (size_t i = 0; i < ws->nadmins; i++)
		for (size_t e = 0; e < ws->admins[i].emails.count; e++)
			if (!strchr(ws->admins[i].emails.items[e].s, '@'))
				sluice_diag_error(d, ws->admins[i].emails.items[e].pos,
						  "invalid-value",
						  "'%s' is not an e-mail address",
						  ws->admins[i].emails.items[e].s);
	for (size_t i = 0; i < ws->nplugins; i++) {
		const sluice_ws_plugin *p = &ws->plugins[i];
		if (p->repository.s && !repo_name_ok(p->repository.s))
			sluice_diag_error(d, p->repository.pos, "invalid-value",
					  "'plugins[%zu].repository' must be owner/name", i);
		if (p->versions.s) {
			sluice_range *r = NULL;
			char err[256];
			if (sluice_range_parse(&r, p->versions.s, err, sizeof err) < 0)
				sluice_diag_error(d, p->versions.pos, "invalid-range",
						  "'plugins[%zu].versions' is not a version range: %s",
						  i, err);
			sluice_range_free(r);
		}
		if (!p->url.s && !ws->url_template.s && p->repository.s)
			sluice_diag_error(d, p->pos, "missing-key",
					  "plugin '%s' has no url and the workspace has no "
					  "repositories.url_template", p->repository.s);
		for (size_t j = 0; j < i; j++)
			if (p->repository.s && ws->plugins[j].repository.s &&
			    strcmp(p->repository.s, ws->plugins[j].repository.s) == 0)
				sluice_diag_error(d, p->repository.pos, "duplicate",
						  "repository '%s' is watched twice (first at line %u)",
						  p->repository.s, ws->plugins[j].repository.pos.line);
		check_env_secrets(&p->environment,
				  "bind it under the deploy file's secrets instead", d);
		for (size_t k = 0; k < p->environment.count; k++)
			if (p->environment.items[k].key.s)
				check_env_value(&p->environment.items[k], false, ws, true, d);
	}
	if (ws->rollout_policy.s) {
		char *rel = sluice_xasprintf("rollouts/%s.yaml", ws->rollout_policy.s);
		char *p = sluice_path_under_root(root, rel);
		if (strchr(ws->rollout_policy.s, '/') || !file_exists(p))
			sluice_diag_error(d, ws->rollout_policy.pos, "missing-file",
					  "rollout policy '%s' does not exist; create %s",
					  ws->rollout_policy.s, rel);
		free(p);
		free(rel);
	}
	if (ws->ca_bundle.s) {
		char *p = sluice_path_under_root(root, ws->ca_bundle.s);
		if (!file_exists(p))
			sluice_diag_error(d, ws->ca_bundle.pos, "missing-file",
					  "CA bundle '%s' does not exist (relative paths resolve "
					  "against --root)", ws->ca_bundle.s);
		free(p);
	}
	if (ws->allowed_signers.s && !sluice_workspace_path_problem(ws->allowed_signers.s)) {
		char *p = NULL;
		if (sluice_workspace_path(&p, root, ws->allowed_signers.s) < 0)
			sluice_diag_error(d, ws->allowed_signers.pos, "unsafe-path",
					  "policy.allowed_signers: %s", sluice_error_last());
		else if (!file_exists(p))
			sluice_diag_error(d, ws->allowed_signers.pos, "missing-file",
					  "allowed signers file '%s' does not exist",
					  ws->allowed_signers.s);
		free(p);
	}
	/* the publisher removes what it wrote there: a relative path must not
	 * lead it out of the administrators' repository */
	for (size_t i = 0; i < ws->npublishers; i++) {
		const sluice_publish_conf *pc = &ws->publishers[i];
		if (pc->path.s && climbs_out(pc->path.s))
			sluice_diag_error(d, pc->path.pos, "invalid-value",
					  "'%s.path' '%s' leaves --root through '..'; give a path "
					  "inside the administrators' repository, or an absolute path",
					  pc->name, pc->path.s);
	}
	for (size_t i = 0; i < ws->nproviders; i++)
		for (size_t k = 0; k < ws->providers[i].allowed_prefixes.count; k++) {
			const sluice_str *pf = &ws->providers[i].allowed_prefixes.items[k];
			if (pf->s[0] == '/' || strstr(pf->s, ".."))
				sluice_diag_error(d, pf->pos, "invalid-value",
						  "allowed prefix must be relative and have no '..'");
		}
}

/* ---- JSON Schema --------------------------------------------------------- */

static const char *const k_schema[] = {
	"type",	     "properties", "required",	"items",	"enum",
	"default",   "minimum",	   "maximum",	"minItems",	"maxItems",
	"minLength", "maxLength",  "pattern",	"format",	"additionalProperties",
	"description", NULL,
};
static const char *const k_types[] = {"object", "array",   "string", "integer",
				      "number", "boolean", "null",   NULL};
static const char *const k_formats[] = {"date-time", "date",	 "time", "uri",	"uri-reference",
					"email",     "hostname", "ipv4", "ipv6", "uuid",
					"regex",     NULL};
static const char *const k_safety[] = {"read_only",		  "redact_secrets",
				       "allowed_repositories",	  "allow_arbitrary_commands",
				       "network_access",	  "requires_clean_workspace",
				       "deterministic",		  "policy_source",
				       NULL};

static bool type_allows(const sluice_node *type, const char *t)
{
	if (!type)
		return true;
	if (type->kind == SLUICE_NODE_STRING)
		return strcmp(type->text, t) == 0 ||
		       (strcmp(t, "integer") == 0 && strcmp(type->text, "number") == 0);
	for (size_t i = 0; type->kind == SLUICE_NODE_SEQ && i < type->count; i++)
		if (type->items[i]->kind == SLUICE_NODE_STRING && type_allows(type->items[i], t))
			return true;
	return false;
}

static const char *value_type(const sluice_node *v)
{
	switch (v->kind) {
	case SLUICE_NODE_MAP:
		return "object";
	case SLUICE_NODE_SEQ:
		return "array";
	case SLUICE_NODE_STRING:
		return "string";
	case SLUICE_NODE_INT:
		return "integer";
	case SLUICE_NODE_FLOAT:
		return "number";
	case SLUICE_NODE_BOOL:
		return "boolean";
	default:
		return "null";
	}
}

static bool nodes_equal(const sluice_node *a, const sluice_node *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case SLUICE_NODE_STRING:
		return a->text_len == b->text_len && memcmp(a->text, b->text, a->text_len) == 0;
	case SLUICE_NODE_INT:
		return a->v.i == b->v.i;
	case SLUICE_NODE_FLOAT:
		return a->v.f == b->v.f;
	case SLUICE_NODE_BOOL:
		return a->v.b == b->v.b;
	case SLUICE_NODE_NULL:
		return true;
	default:
		return false; /* structured enum members are not compared */
	}
}

static bool num_of(const sluice_node *n, double *out)
{
	if (!n)
		return false;
	if (n->kind == SLUICE_NODE_INT)
		*out = (double)n->v.i;
	else if (n->kind == SLUICE_NODE_FLOAT)
		*out = n->v.f;
	else
		return false;
	return true;
}

static void check_schema(const sluice_node *s, const char *path, sluice_diags *d, unsigned depth);

static void check_min_max(const sluice_node *s, const char *path, const char *lo,
			  const char *hi, bool counts, sluice_diags *d)
{
	const sluice_node *a = sluice_node_get(s, lo), *b = sluice_node_get(s, hi);
	double x, y;
	const sluice_node *each[2] = {a, b};
	for (int i = 0; i < 2; i++) {
		if (!each[i])
			continue;
		if (counts ? each[i]->kind != SLUICE_NODE_INT || each[i]->v.i < 0
			   : !num_of(each[i], &x))
			sluice_diag_error(d, each[i]->pos, "schema",
					  "'%s.%s' must be %s", path, i ? hi : lo,
					  counts ? "a non-negative integer" : "a number");
	}
	if (num_of(a, &x) && num_of(b, &y) && x > y)
		sluice_diag_error(d, b->pos, "schema", "'%s.%s' (%g) is less than %s (%g)", path, hi,
				  y, lo, x);
}

static void check_schema(const sluice_node *s, const char *path, sluice_diags *d, unsigned depth)
{
	const sluice_node *type, *props, *req, *items, *en, *def, *x;
	char sub[512];

	if (s->kind != SLUICE_NODE_MAP) {
		sluice_diag_error(d, s->pos, "schema", "'%s' must be a JSON Schema object, not %s",
				  path, sluice_node_kind_name(s->kind));
		return;
	}
	if (depth > 32) {
		sluice_diag_error(d, s->pos, "schema", "'%s' nests schemas too deeply", path);
		return;
	}
	for (size_t i = 0; i < s->count; i++) {
		const char *const *k;
		for (k = k_schema; *k; k++)
			if (strcmp(*k, s->pairs[i].key) == 0)
				break;
		if (*k)
			continue;
		const char *hint = sluice_did_you_mean(s->pairs[i].key, k_schema);
		if (hint)
			sluice_diag_error(d, s->pairs[i].key_pos, "schema",
					  "unsupported JSON Schema keyword '%s' in %s; did you mean "
					  "'%s'?", s->pairs[i].key, path, hint);
		else
			sluice_diag_error(d, s->pairs[i].key_pos, "schema",
					  "unsupported JSON Schema keyword '%s' in %s; tool schemas "
					  "use only the keywords listed in docs/configuration.md",
					  s->pairs[i].key, path);
	}
	type = sluice_node_get(s, "type");
	if (type) {
		const sluice_node *one[1] = {type};
		const sluice_node *const *list = one;
		size_t n = 1;
		if (type->kind == SLUICE_NODE_SEQ) {
			list = (const sluice_node *const *)type->items;
			n = type->count;
			if (n == 0)
				sluice_diag_error(d, type->pos, "schema", "'%s.type' is an empty list",
						  path);
		}
		for (size_t i = 0; i < n; i++) {
			const char *const *k;
			if (list[i]->kind != SLUICE_NODE_STRING) {
				sluice_diag_error(d, list[i]->pos, "schema",
						  "'%s.type' must be a type name or a list of them",
						  path);
				type = NULL;
				break;
			}
			for (k = k_types; *k; k++)
				if (strcmp(*k, list[i]->text) == 0)
					break;
			if (!*k) {
				const char *hint = sluice_did_you_mean(list[i]->text, k_types);
				if (hint)
					sluice_diag_error(d, list[i]->pos, "schema",
							  "'%s.type' names unknown type '%s'; did you "
							  "mean '%s'?", path, list[i]->text, hint);
				else
					sluice_diag_error(d, list[i]->pos, "schema",
							  "'%s.type' names unknown type '%s'; the "
							  "types are object, array, string, integer, "
							  "number, boolean and null", path,
							  list[i]->text);
				type = NULL;
				break;
			}
		}
	}
	props = sluice_node_get(s, "properties");
	if (props) {
		snprintf(sub, sizeof sub, "%s.properties", path);
		if (props->kind != SLUICE_NODE_MAP)
			sluice_diag_error(d, props->pos, "schema", "'%s' must be an object", sub);
		else
			for (size_t i = 0; i < props->count; i++) {
				char *pp = sluice_xasprintf("%s.%s", sub, props->pairs[i].key);
				check_schema(props->pairs[i].value, pp, d, depth + 1);
				free(pp);
			}
		if (type && !type_allows(type, "object"))
			sluice_diag_error(d, props->pos, "schema",
					  "'%s' has properties but its type is not object", path);
	}
	req = sluice_node_get(s, "required");
	if (req) {
		if (req->kind != SLUICE_NODE_SEQ)
			sluice_diag_error(d, req->pos, "schema",
					  "'%s.required' must be a list of property names", path);
		else
			for (size_t i = 0; i < req->count; i++) {
				const sluice_node *r = req->items[i];
				if (r->kind != SLUICE_NODE_STRING)
					sluice_diag_error(d, r->pos, "schema",
							  "'%s.required' must list property names",
							  path);
				else if (!props || props->kind != SLUICE_NODE_MAP ||
					 !sluice_node_get(props, r->text))
					sluice_diag_error(d, r->pos, "schema",
							  "'%s.required' names '%s', which is not in "
							  "its properties", path, r->text);
				for (size_t j = 0; j < i; j++)
					if (r->kind == SLUICE_NODE_STRING &&
					    nodes_equal(r, req->items[j]))
						sluice_diag_warning(d, r->pos, "schema",
								    "'%s.required' lists '%s' twice",
								    path, r->text);
			}
	}
	items = sluice_node_get(s, "items");
	if (items) {
		snprintf(sub, sizeof sub, "%s.items", path);
		check_schema(items, sub, d, depth + 1);
		if (type && !type_allows(type, "array"))
			sluice_diag_error(d, items->pos, "schema",
					  "'%s' has items but its type is not array", path);
	}
	if ((x = sluice_node_get(s, "additionalProperties")) && x->kind != SLUICE_NODE_BOOL) {
		snprintf(sub, sizeof sub, "%s.additionalProperties", path);
		check_schema(x, sub, d, depth + 1);
	}
	check_min_max(s, path, "minimum", "maximum", false, d);
	check_min_max(s, path, "minItems", "maxItems", true, d);
	check_min_max(s, path, "minLength", "maxLength", true, d);
	if ((x = sluice_node_get(s, "pattern"))) {
		regex_t re;
		if (x->kind != SLUICE_NODE_STRING)
			sluice_diag_error(d, x->pos, "schema", "'%s.pattern' must be a string", path);
		else if (regcomp(&re, x->text, REG_EXTENDED | REG_NOSUB) != 0)
			sluice_diag_error(d, x->pos, "schema",
					  "'%s.pattern' is not a valid regular expression", path);
		else
			regfree(&re);
	}
	if ((x = sluice_node_get(s, "format"))) {
		const char *const *k;
		if (x->kind != SLUICE_NODE_STRING)
			sluice_diag_error(d, x->pos, "schema", "'%s.format' must be a string", path);
		else {
			for (k = k_formats; *k; k++)
				if (strcmp(*k, x->text) == 0)
					break;
			if (!*k)
				sluice_diag_warning(d, x->pos, "schema",
						    "'%s.format' names unknown format '%s'; clients "
						    "will not check it", path, x->text);
		}
	}
	if ((x = sluice_node_get(s, "description")) && x->kind != SLUICE_NODE_STRING)
		sluice_diag_error(d, x->pos, "schema", "'%s.description' must be a string", path);
	en = sluice_node_get(s, "enum");
	if (en && (en->kind != SLUICE_NODE_SEQ || en->count == 0)) {
		sluice_diag_error(d, en->pos, "schema", "'%s.enum' must be a non-empty list", path);
		en = NULL;
	}
	for (size_t i = 0; en && i < en->count; i++)
		if (type && !type_allows(type, value_type(en->items[i])))
			sluice_diag_error(d, en->items[i]->pos, "schema",
					  "'%s.enum' has a value of type %s, which its type does not "
					  "allow", path, value_type(en->items[i]));
	def = sluice_node_get(s, "default");
	if (def) {
		double v = 0, lo = 0, hi = 0;
		if (type && !type_allows(type, value_type(def)))
			sluice_diag_error(d, def->pos, "schema",
					  "'%s.default' is of type %s, which its type does not allow",
					  path, value_type(def));
		if (en) {
			size_t i;
			for (i = 0; i < en->count; i++)
				if (nodes_equal(def, en->items[i]))
					break;
			if (i == en->count)
				sluice_diag_error(d, def->pos, "schema",
						  "'%s.default' is not one of its enum values", path);
		}
		bool has_lo = num_of(sluice_node_get(s, "minimum"), &lo);
		bool has_hi = num_of(sluice_node_get(s, "maximum"), &hi);
		/* with minimum > maximum (reported above) no default can fit */
		if (num_of(def, &v) && !(has_lo && has_hi && lo > hi)) {
			if (has_lo && v < lo)
				sluice_diag_error(d, def->pos, "schema",
						  "'%s.default' (%g) is below its minimum (%g)", path, v,
						  lo);
			if (has_hi && v > hi)
				sluice_diag_error(d, def->pos, "schema",
						  "'%s.default' (%g) is above its maximum (%g)", path, v,
						  hi);
		}
	}
}

static void check_tool(const sluice_plugin *p, const sluice_tool *t, size_t idx,
		       sluice_diags *d)
{
	const sluice_manifest_tool *mt = NULL;
	for (size_t i = 0; i < p->manifest.ntools; i++)
		if (p->manifest.tools[i].definition.s &&
		    strcmp(p->manifest.tools[i].definition.s, t->path) == 0)
			mt = &p->manifest.tools[i];
	(void)idx;
	if (mt && mt->id.s && t->id.s && strcmp(mt->id.s, t->id.s) != 0)
		sluice_diag_error(d, t->id.pos, "tool-mismatch",
				  "tool id '%s' does not match the manifest's id '%s' for %s "
				  "(plugin.yaml line %u)", t->id.s, mt->id.s, t->path, mt->id.pos.line);
	if (t->input_schema)
		check_schema(t->input_schema, "input_schema", d, 0);
	if (t->output_schema)
		check_schema(t->output_schema, "output_schema", d, 0);
	if (t->safety) {
		for (size_t i = 0; i < t->safety->count; i++) {
			const sluice_node_pair *sp = &t->safety->pairs[i];
			const char *const *k;
			for (k = k_safety; *k; k++)
				if (strcmp(*k, sp->key) == 0)
					break;
			/* a key that looks like a secret is reported, unnamed, by
			 * check_release_secrets */
			if (!*k && !sluice_secret_looking(sp->key)) {
				const char *hint = sluice_did_you_mean(sp->key, k_safety);
				sluice_diag_warning(d, sp->key_pos, "unknown-key",
						    "unknown safety key '%s'%s%s%s", sp->key,
						    hint ? "; did you mean '" : "", hint ? hint : "",
						    hint ? "'?" : "");
			}
			if (sp->value->kind == SLUICE_NODE_MAP)
				sluice_diag_error(d, sp->value->pos, "wrong-type",
						  "'safety.%s' must be a value, a boolean, a string or "
						  "a list of strings, not a mapping", sp->key);
		}
	}
}

/* ---- permissions --------------------------------------------------------- */

struct perm {
	const char *name;
	sluice_risk risk;
	size_t off;
};

#define PERM(n, r, f) {n, r, offsetof(sluice_permissions, f)}
static const struct perm perms[] = {
	PERM("repository.write", SLUICE_RISK_HIGH, repo_write),
	PERM("pull_requests.approve", SLUICE_RISK_HIGH, pr_approve),
	PERM("pull_requests.merge", SLUICE_RISK_HIGH, pr_merge),
	PERM("ci.run_safe_commands", SLUICE_RISK_MODERATE, ci_safe),
	PERM("ci.run_arbitrary_commands", SLUICE_RISK_HIGH, ci_arbitrary),
	PERM("secrets.read", SLUICE_RISK_HIGH, secrets_read),
	PERM("secrets.write", SLUICE_RISK_HIGH, secrets_write),
};

static void check_permissions(const sluice_plugin *p, const sluice_workspace *ws,
			      sluice_diags *d)
{
	const sluice_permissions *rq = &p->manifest.permissions;
	const sluice_permissions *mx = ws->has_max_permissions ? &ws->max_permissions : NULL;

	for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++) {
		const sluice_bool *want = (const sluice_bool *)((const char *)rq + perms[i].off);
		const sluice_bool *cap = mx ? (const sluice_bool *)((const char *)mx + perms[i].off)
					    : NULL;
		if (!want->set || !want->v)
			continue;
		if (cap && cap->set) {
			if (!cap->v)
				sluice_diag_error(d, want->pos, "permission",
						  "permissions.%s is above the workspace maximum "
						  "(policy.max_permissions.%s is false)",
						  perms[i].name, perms[i].name);
		} else if (perms[i].risk == SLUICE_RISK_HIGH) {
			sluice_diag_error(d, want->pos, "permission",
					  "permissions.%s is a high-risk permission the workspace "
					  "does not allow; an administrator must set "
					  "policy.max_permissions.%s: true",
					  perms[i].name, perms[i].name);
		}
	}
	if (rq->pr_comment.set && rq->pr_comment.v != SLUICE_COMMENT_NO && mx &&
	    mx->pr_comment.set && rq->pr_comment.v > mx->pr_comment.v)
		sluice_diag_error(d, rq->pr_comment.pos, "permission",
				  "permissions.pull_requests.comment is above the workspace maximum "
				  "(policy.max_permissions.pull_requests.comment is %s)",
				  mx->pr_comment.v == SLUICE_COMMENT_NO ? "false" : "draft_only");
	if (ws->max_risk.s) {
		sluice_risk cap = SLUICE_RISK_LOW;
		while (cap < SLUICE_RISK_HIGH && strcmp(sluice_risk_name(cap), ws->max_risk.s) != 0)
			cap++;
		if (p->risk > cap) {
			const sluice_node *pn = sluice_node_get(p->manifest_doc->root, "permissions");
			sluice_diag_error(d, pn ? pn->pos : p->manifest_doc->root->pos, "permission",
					  "the plugin's risk class is %s, above the workspace's "
					  "policy.max_risk (%s)", sluice_risk_name(p->risk),
					  ws->max_risk.s);
		}
	}
}

/* ---- rollout structure against the rollout policy ------------------------ */

static long stage_users(const sluice_deploy *dp, size_t upto, const sluice_workspace *ws,
			const char *root)
{
	const char *groups[256];
	size_t n = 0;
	for (size_t i = 0; i <= upto && i < dp->nstages; i++)
		for (size_t g = 0; g < dp->stages[i].groups.count && n < 256; g++)
			groups[n++] = dp->stages[i].groups.items[g].s;
	return sluice_count_users(ws, root, groups, n);
}

static void check_policy(const sluice_plugin *p, const sluice_workspace *ws,
			 const sluice_rollout_policy *rp, const char *root, sluice_diags *d)
{
	const sluice_deploy *dp = &p->deploy;
	const char *name = rp->name.s ? rp->name.s : ws->rollout_policy.s;
	const sluice_node *stages_node = NULL, *rollout = sluice_node_get(p->deploy_doc->root,
									  "rollout");
	sluice_pos where;

	if (!dp->nstages)
		return;
	stages_node = sluice_node_get(rollout, "stages");
	where = stages_node ? stages_node->pos : p->deploy_doc->root->pos;
	if (rp->min_stages.set && (int64_t)dp->nstages < rp->min_stages.v)
		sluice_diag_error(d, where, "policy",
				  "the rollout has %zu stage%s; rollout policy '%s' asks for at "
				  "least %lld (structure.min_stages)", dp->nstages,
				  dp->nstages == 1 ? "" : "s", name, (long long)rp->min_stages.v);
	if (rp->min_first_stage_days.set && dp->nstages > 1) {
		const sluice_stage *s0 = &dp->stages[0];
		int64_t days = s0->duration_days.set ? s0->duration_days.v : 0;
		if (days < rp->min_first_stage_days.v && !(s0->duration_days.set && days <= 0) &&
		    (s0->duration_days.set || !s0->duration_days.pos.line))
			sluice_diag_error(d, s0->duration_days.set ? s0->duration_days.pos : s0->pos,
					  "policy",
					  "stage '%s' soaks %lld day%s; rollout policy '%s' asks the "
					  "first stage for at least %lld (structure.min_first_stage_days)",
					  s0->name.s ? s0->name.s : "?", (long long)days,
					  days == 1 ? "" : "s", name,
					  (long long)rp->min_first_stage_days.v);
	}
	if (rp->min_soak_days.set)
		for (size_t i = 0; i + 1 < dp->nstages; i++) {
			const sluice_stage *s = &dp->stages[i];
			int64_t days = s->duration_days.set ? s->duration_days.v : 0;
			/* the first stage's own minimum was reported above */
			if (i == 0 && rp->min_first_stage_days.set &&
			    days < rp->min_first_stage_days.v)
				continue;
			if ((s->duration_days.set && days <= 0) ||
			    (!s->duration_days.set && s->duration_days.pos.line))
				continue; /* already an error of its own */
			if (days < rp->min_soak_days.v)
				sluice_diag_error(d, s->duration_days.set ? s->duration_days.pos : s->pos,
						  "policy",
						  "stage '%s' soaks %lld day%s; rollout policy '%s' asks "
						  "every stage before the last for at least %lld "
						  "(structure.min_soak_days)",
						  s->name.s ? s->name.s : "?", (long long)days,
						  days == 1 ? "" : "s", name, (long long)rp->min_soak_days.v);
		}
	if (rp->last_stage_requires_approval.v) {
		const sluice_stage *last = &dp->stages[dp->nstages - 1];
		bool gated = last->requires_approval.v ||
			     (dp->nstages == 1 && dp->require_admin_approval.v);
		/* a requires_approval that could not be read is reported already */
		if (!gated && !(!last->requires_approval.set && last->requires_approval.pos.line))
			sluice_diag_error(d, last->pos, "policy",
					  "the last stage '%s' must have requires_approval: true "
					  "(rollout policy '%s', structure.last_stage_requires_approval)",
					  last->name.s ? last->name.s : "?", name);
	}
	if (rp->max_first_stage_users.set) {
		long u = stage_users(dp, 0, ws, root);
		if (u > rp->max_first_stage_users.v && dp->nstages > 1)
			sluice_diag_error(d, dp->stages[0].pos, "policy",
					  "the first stage '%s' reaches %ld users; rollout policy '%s' "
					  "allows at most %lld (structure.max_first_stage_users)",
					  dp->stages[0].name.s ? dp->stages[0].name.s : "?", u, name,
					  (long long)rp->max_first_stage_users.v);
	}
	if (rp->max_user_growth > 0)
		for (size_t i = 1; i < dp->nstages; i++) {
			long before = stage_users(dp, i - 1, ws, root), after = stage_users(dp, i, ws, root);
			if (before > 0 && after > 0 && (double)after / (double)before > rp->max_user_growth)
				sluice_diag_error(d, dp->stages[i].pos, "policy",
						  "stage '%s' grows the audience from %ld to %ld users "
						  "(x%.1f); rollout policy '%s' allows at most x%g per "
						  "stage (structure.max_user_growth)",
						  dp->stages[i].name.s ? dp->stages[i].name.s : "?", before,
						  after, (double)after / (double)before, name,
						  rp->max_user_growth);
		}
}

/* ---- the plugin ---------------------------------------------------------- */

/* A group of the workspace that `name` is probably a misspelling of. */
static const char *group_hint(const sluice_workspace *ws, const char *name)
{
	const char *names[128];
	size_t n = 0;
	for (size_t k = 0; k < ws->ngroups && n < 127; k++)
		names[n++] = ws->groups[k].name.s;
	names[n] = NULL;
	return sluice_did_you_mean(name, names);
}

static bool in_strs(const sluice_strs *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].s, s) == 0)
			return true;
	return false;
}

/* The reason from a semver error, without the "invalid version 'X': "
 * that the caller's own message already says. */
static const char *semver_why(void)
{
	const char *e = sluice_error_last(), *q;
	if (sluice_str_has_prefix(e, "invalid version '") && (q = strstr(e, "': ")))
		return q + 3;
	return e;
}

static void check_versions(const sluice_plugin *p, const char *tag, sluice_diags *d)
{
	const sluice_manifest *m = &p->manifest;
	const sluice_deploy *dp = &p->deploy;
	sluice_semver v;
	bool mv_ok = false;

	sluice_semver_init(&v);
	if (m->version.s) {
		if (sluice_semver_parse(&v, m->version.s) < 0)
			sluice_diag_error(d, m->version.pos, "invalid-version",
					  "version '%s' is not a semantic version such as 1.2.3: %s",
					  m->version.s, semver_why());
		else
			mv_ok = true;
	}
	sluice_semver_clear(&v);
	if (dp->plugin_version.s) {
		if (sluice_semver_parse(&v, dp->plugin_version.s) < 0)
			sluice_diag_error(d, dp->plugin_version.pos, "invalid-version",
					  "plugin.version '%s' is not a semantic version such as "
					  "1.2.3: %s", dp->plugin_version.s, semver_why());
		else if (mv_ok && strcmp(dp->plugin_version.s, m->version.s) != 0)
			sluice_diag_error(d, dp->plugin_version.pos, "version-mismatch",
					  "plugin.version '%s' does not match plugin.yaml's version "
					  "'%s'; release both with the same version",
					  dp->plugin_version.s, m->version.s);
		sluice_semver_clear(&v);
	}
	if (m->id.s && dp->plugin_id.s && strcmp(m->id.s, dp->plugin_id.s) != 0 &&
	    (sluice_id_unprintable(m->id.s) || sluice_id_unprintable(dp->plugin_id.s)))
		sluice_diag_error(d, dp->plugin_id.pos, "id-mismatch",
				  "plugin.id does not match plugin.yaml's id");
	else if (m->id.s && dp->plugin_id.s && strcmp(m->id.s, dp->plugin_id.s) != 0)
		sluice_diag_error(d, dp->plugin_id.pos, "id-mismatch",
				  "plugin.id '%s' does not match plugin.yaml's id '%s'",
				  dp->plugin_id.s, m->id.s);
	if (tag && mv_ok) {
		const char *tv = tag[0] == 'v' ? tag + 1 : tag;
		if (strcmp(tv, m->version.s) != 0)
			sluice_diag_error(d, m->version.pos, "version-mismatch",
					  "version '%s' does not match the tag '%s'; tag the release "
					  "v%s or fix the version", m->version.s, tag, m->version.s);
	}
	if (dp->source_ref.s) {
		char want[300];
		if (tag)
			snprintf(want, sizeof want, "refs/tags/%s", tag);
		else if (mv_ok)
			/* an invalid version was reported above: no tag to compare */
			snprintf(want, sizeof want, "refs/tags/v%s", m->version.s);
		else
			want[0] = '\0';
		if (want[0] && strcmp(dp->source_ref.s, want) != 0)
			sluice_diag_error(d, dp->source_ref.pos, "ref-mismatch",
					  "plugin.source.ref is '%s' but the release is %s; set it "
					  "to '%s'", dp->source_ref.s, want + strlen("refs/tags/"), want);
	}
}

/* The workspace plugin watching the repository the deploy file names. */
static const sluice_ws_plugin *ws_plugin_of(const sluice_deploy *dp, const sluice_workspace *ws)
{
	for (size_t w = 0; ws && dp->source_repository.s && w < ws->nplugins; w++)
		if (ws->plugins[w].repository.s &&
		    strcmp(ws->plugins[w].repository.s, dp->source_repository.s) == 0)
			return &ws->plugins[w];
	return NULL;
}

static const sluice_kv *kv_find(const sluice_kvs *k, const char *key)
{
	for (size_t i = 0; k && i < k->count; i++)
		if (k->items[i].key.s && strcmp(k->items[i].key.s, key) == 0)
			return &k->items[i];
	return NULL;
}

/* The environment the plugin runs with: the workspace's
 * plugins[].environment wins over the deploy file's (docs/secrets.md). The
 * variable runtime.base_url_env names must end up set and not empty. */
static void check_environment(const sluice_plugin *p, const sluice_workspace *ws,
			      sluice_diags *d)
{
	const sluice_manifest *m = &p->manifest;
	const sluice_deploy *dp = &p->deploy;
	const sluice_ws_plugin *wp = ws_plugin_of(dp, ws);
	const sluice_kvs *over = wp ? &wp->environment : NULL;
	const char *base = m->runtime_base_url_env.s;

	for (size_t i = 0; i < dp->environment.count; i++) {
		const sluice_kv *kv = &dp->environment.items[i];
		if (kv->key.s && !kv_find(over, kv->key.s))
			check_env_value(kv, base && strcmp(kv->key.s, base) == 0, ws, true, d);
	}
	for (size_t i = 0; over && i < over->count; i++) {
		const sluice_kv *kv = &over->items[i];
		if (!kv->key.s)
			continue;
		/* http:// in an override is the workspace's error, reported there */
		check_env_value(kv, base && strcmp(kv->key.s, base) == 0, ws, false, d);
		/* a plain value in place of a secret reference would publish both */
		for (size_t j = 0; j < dp->nsecrets; j++)
			if (dp->secrets[j].var.s && strcmp(dp->secrets[j].var.s, kv->key.s) == 0)
				sluice_diag_error(d, kv->key.pos, "duplicate",
						  "the workspace's plugins[].environment sets '%s', "
						  "which the deploy file binds to a secret; drop it "
						  "from the workspace",
						  kv->key.s);
	}
	if (!base)
		return;
	const sluice_kv *kv = kv_find(over, base);
	if (!kv)
		kv = kv_find(&dp->environment, base);
	if (!kv)
		sluice_diag_error(d, m->runtime_base_url_env.pos, "unbound-env",
				  "runtime.base_url_env names '%s', which the deploy file's "
				  "environment does not set; add it there (or to the "
				  "workspace's plugins[].environment)",
				  base);
}

void sluice_validate_plugin(const sluice_plugin *p, const sluice_workspace *ws,
			    const sluice_rollout_policy *policy, const char *root,
			    const char *tag, sluice_diags *d)
{
	const sluice_manifest *m = &p->manifest;
	const sluice_deploy *dp = &p->deploy;

	if (!p->manifest_doc || !p->deploy_doc || !p->manifest_doc->root || !p->deploy_doc->root)
		return;
	if (m->id.s) {
		const char *why = sluice_id_problem(m->id.s);
		if (why && sluice_id_unprintable(m->id.s))
			sluice_diag_error(d, m->id.pos, "invalid-id",
					  "the plugin id %s; plugin ids are " SLUICE_ID_RULE, why);
		else if (why)
			sluice_diag_error(d, m->id.pos, "invalid-id",
					  "plugin id '%s' %s; plugin ids are " SLUICE_ID_RULE, m->id.s,
					  why);
	}
	check_versions(p, tag, d);

	/* tools: unique ids, endpoints, contracts */
	for (size_t i = 0; i < m->ntools; i++) {
		const sluice_manifest_tool *t = &m->tools[i];
		if (t->endpoint.s && t->endpoint.s[0] != '/')
			sluice_diag_error(d, t->endpoint.pos, "invalid-value",
					  "'tools[%zu].endpoint' must be a path starting with '/'", i);
		for (size_t j = 0; j < i; j++)
			if (t->id.s && m->tools[j].id.s && strcmp(t->id.s, m->tools[j].id.s) == 0)
				sluice_diag_error(d, t->id.pos, "duplicate",
						  "tool id '%s' is listed twice (first at line %u)",
						  t->id.s, m->tools[j].id.pos.line);
	}
	for (size_t i = 0; i < p->ntools; i++)
		check_tool(p, &p->tools[i], i, d);

	check_environment(p, ws, d);
	check_env_secrets(&dp->environment, "move it under secrets as a provider reference", d);
	check_release_secrets(p, d);
	for (size_t i = 0; i < dp->environment.count; i++) {
		const sluice_kv *kv = &dp->environment.items[i];
		for (size_t j = 0; j < dp->nsecrets; j++)
			if (dp->secrets[j].var.s && strcmp(dp->secrets[j].var.s, kv->key.s) == 0)
				sluice_diag_error(d, dp->secrets[j].var.pos, "duplicate",
						  "'%s' is both in environment and in secrets",
						  kv->key.s);
	}

	/* stages */
	for (size_t i = 0; i < dp->nstages; i++) {
		const sluice_stage *s = &dp->stages[i];
		if (s->duration_days.set && s->duration_days.v <= 0)
			sluice_diag_error(d, s->duration_days.pos, "invalid-duration",
					  "'rollout.stages[%zu].duration_days' must be a positive "
					  "number of days", i);
		for (size_t j = 0; j < i; j++)
			if (s->name.s && dp->stages[j].name.s &&
			    strcmp(s->name.s, dp->stages[j].name.s) == 0)
				sluice_diag_error(d, s->name.pos, "duplicate-stage",
						  "stage name '%s' is used twice (first at line %u)",
						  s->name.s, dp->stages[j].name.pos.line);
		for (size_t g = 0; g < s->groups.count; g++) {
			const sluice_str *gn = &s->groups.items[g];
			for (size_t j = 0; j <= i; j++)
				for (size_t h = 0; h < dp->stages[j].groups.count; h++) {
					if (j == i && h >= g)
						break;
					if (strcmp(dp->stages[j].groups.items[h].s, gn->s) == 0)
						sluice_diag_error(
							d, gn->pos, "duplicate-group",
							"group '%s' is already in stage '%s' (line %u); "
							"stages are cumulative, so name each group once",
							gn->s, dp->stages[j].name.s ? dp->stages[j].name.s : "?",
							dp->stages[j].groups.items[h].pos.line);
				}
			bool known = !ws || sluice_workspace_group(ws, gn->s);
			if (!known) {
				const char *hint = group_hint(ws, gn->s);
				sluice_diag_error(d, gn->pos, "unknown-group",
						  "group '%s' does not exist in workspace '%s'%s%s%s",
						  gn->s, ws->name.s ? ws->name.s : "?",
						  hint ? "; did you mean '" : "", hint ? hint : "",
						  hint ? "'?" : "");
			}
			/* an unknown group is one problem, reported above */
			if (known && m->availability_groups.pos.line &&
			    !in_strs(&m->availability_groups, gn->s))
				sluice_diag_warning(d, gn->pos, "availability",
						    "stage '%s' names group '%s', which is not in "
						    "plugin.yaml's availability.groups",
						    s->name.s ? s->name.s : "?", gn->s);
		}
		/* pos without set: duration_days is there but of the wrong type or
		 * misspelt, and already reported; a policy that asks for a soak
		 * reports the missing one itself */
		if (i + 1 < dp->nstages && !s->duration_days.set && !s->duration_days.pos.line &&
		    !(policy && ws && policy->min_soak_days.set && policy->min_soak_days.v > 0) &&
		    !(policy && ws && i == 0 && policy->min_first_stage_days.set &&
		      policy->min_first_stage_days.v > 0))
			sluice_diag_warning(d, s->pos, "no-soak",
					    "stage '%s' has no duration_days, so the next stage may "
					    "start as soon as it is allowed", s->name.s ? s->name.s : "?");
	}
	/* whether every stage's groups could be read: otherwise "in no stage"
	 * would only repeat the problem already reported for that stage */
	bool stages_complete = dp->nstages > 0;
	{
		const sluice_node *sn = sluice_node_get(sluice_node_get(p->deploy_doc->root,
									"rollout"),
							"stages");
		if (!sn || sn->kind != SLUICE_NODE_SEQ || sn->count != dp->nstages)
			stages_complete = false;
		for (size_t i = 0; i < dp->nstages; i++)
			if (!dp->stages[i].groups.count)
				stages_complete = false;
	}
	for (size_t i = 0; i < m->availability_groups.count; i++) {
		const sluice_str *ag = &m->availability_groups.items[i];
		bool staged = false;
		for (size_t s = 0; s < dp->nstages; s++)
			staged |= in_strs(&dp->stages[s].groups, ag->s);
		if (ws && !sluice_workspace_group(ws, ag->s)) {
			const char *hint = group_hint(ws, ag->s);
			sluice_diag_error(d, ag->pos, "unknown-group",
					  "availability group '%s' does not exist in workspace '%s'%s%s%s",
					  ag->s, ws->name.s ? ws->name.s : "?",
					  hint ? "; did you mean '" : "", hint ? hint : "",
					  hint ? "'?" : "");
		} else if (!staged && stages_complete)
			sluice_diag_warning(d, ag->pos, "availability",
					    "availability group '%s' is in no rollout stage, so it "
					    "will not receive the plugin", ag->s);
	}
	if (ws && m->availability_workspace.s && ws->name.s &&
	    strcmp(m->availability_workspace.s, ws->name.s) != 0)
		sluice_diag_error(d, m->availability_workspace.pos, "wrong-workspace",
				  "availability.workspace is '%s', not this workspace ('%s'); the "
				  "plugin is not made for it", m->availability_workspace.s, ws->name.s);

	/* secrets */
	for (size_t i = 0; i < dp->nsecrets; i++) {
		const sluice_secret_ref *r = &dp->secrets[i];
		const sluice_secret_provider *sp = NULL;
		const char *why;
		if (!r->provider.s || !r->name.s)
			continue;
		for (size_t k = 0; ws && k < ws->nproviders; k++)
			if (strcmp(ws->providers[k].name.s, r->provider.s) == 0)
				sp = &ws->providers[k];
		if (ws && !sp) {
			const char *names[64];
			size_t n = 0;
			for (size_t k = 0; k < ws->nproviders && n < 63; k++)
				names[n++] = ws->providers[k].name.s;
			names[n] = NULL;
			const char *hint = sluice_did_you_mean(r->provider.s, names);
			sluice_diag_error(d, r->provider.pos, "unknown-provider",
					  "secret provider '%s' is not configured in the workspace's "
					  "secret_providers%s%s%s", r->provider.s,
					  hint ? "; did you mean '" : "", hint ? hint : "",
					  hint ? "'?" : "");
		}
		if ((why = sluice_secret_name_problem(r->name.s))) {
			sluice_diag_error(d, r->name.pos, "invalid-secret-name",
					  "secret name for '%s' %s; write the secret's path inside "
					  "the provider, such as codex/my-plugin/token", r->var.s, why);
			continue;
		}
		if (sp && sp->allowed_prefixes.count) {
			bool ok = false;
			sluice_buf allowed = SLUICE_BUF_INIT;
			for (size_t k = 0; k < sp->allowed_prefixes.count; k++) {
				ok |= sluice_str_has_prefix(r->name.s, sp->allowed_prefixes.items[k].s);
				sluice_buf_printf(&allowed, "%s'%s'", k ? ", " : "",
						  sp->allowed_prefixes.items[k].s);
			}
			if (!ok)
				sluice_diag_error(d, r->name.pos, "secret-prefix",
						  "secret name '%s' is outside the allowed prefixes of "
						  "provider '%s' (%s); use a name under one of them",
						  r->name.s, sp->name.s, allowed.ptr ? allowed.ptr : "");
			sluice_buf_clear(&allowed);
		}
	}

	if (ws)
		check_permissions(p, ws, d);
	if (ws && policy)
		check_policy(p, ws, policy, root, d);
}
