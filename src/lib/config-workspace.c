/* Loaders for the administrators' files: workspaces/NAME.yaml and
 * rollouts/NAME.yaml. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/util.h"

static const char *const k_workspace[] = {"workspace", "groups", "admins", "repositories",
					  "plugins", "secret_providers", "policy", "publish",
					  "notifications", NULL};
static const char *const k_group[] = {"members", "members_file", NULL};
static const char *const k_admin[] = {"id", "roles", "emails", "ssh_keys", NULL};
static const char *const k_roles[] = {"approver", "operator", "auditor", "ci", NULL};
static const char *const k_repositories[] = {"url_template", "ca_bundle", "max_fetch_bytes",
					     "max_concurrent", NULL};
static const char *const k_wplugin[] = {"repository", "url", "versions", "environment",
				       "credentials_env", "credentials_file", NULL};
static const char *const k_provider_types[] = {"env", "file", "exec", "vault-kv2", NULL};
/* keys every provider type knows, then each type's own */
#define K_PROVIDER_COMMON "type", "allowed_prefixes", "max_age_days", "check_every"
static const char *const k_provider_env[] = {K_PROVIDER_COMMON, NULL};
static const char *const k_provider_file[] = {K_PROVIDER_COMMON, "dir", NULL};
static const char *const k_provider_exec[] = {K_PROVIDER_COMMON, "command", "timeout", NULL};
static const char *const k_provider_vault[] = {K_PROVIDER_COMMON, "address",	"mount",
					       "namespace",	  "token_env",	"token_file",
					       "ca_bundle",	  "timeout",	NULL};
static const char *const k_policy[] = {"rollout_policy",
				       "min_approvals",
				       "prevent_self_approval",
				       "approval_ttl_days",
				       "require_signed_tags",
				       "allowed_signers",
				       "identity",
				       "max_permissions",
				       "max_risk",
				       "freeze",
				       "max_file_bytes",
				       "audit_retention_days",
				       "allow_http_services",
				       NULL};
static const char *const k_identities[] = {"os-user", "asserted", "ssh-signed", NULL};
/* What this build implements of the values the format knows. A value
 * that is known but not built is an error at validation, not a command
 * that fails later or a setting that silently does nothing; add a value
 * here when its identity mode lands. Every publish type is built: a new
 * one is a src/lib/publish-*.c in publish.c's table and a name in
 * k_publish_types. */
static const char *const k_identities_built[] = {"os-user", "asserted", NULL};
static const char *const k_risks[] = {"low", "moderate", "high", NULL};
static const char *const k_freeze[] = {"from", "to", "reason", NULL};
static const char *const k_publish[] = {"type", "path", "url", "secret_env", "mode", NULL};
static const char *const k_publish_types[] = {"directory", "http", "codex", NULL};
static const char *const k_notification[] = {"url", "secret_env", "events", "format", NULL};
static const char *const k_notification_formats[] = {"json", "slack", NULL};
const char *const sluice_notification_events[] = {
	"all",		  "release_detected", "release_refused", "stage_started",
	"rollout_complete", "approval_needed",	"approved",	 "rejected",
	"paused",	  "resumed",	      "promoted",	 "rolled_back",
	"withdrawn",	  "frozen",	      "unfrozen",	 "gate_breached",
	"tag_moved",	  "sunset_notice",    "review_overdue",	 "data_missing",
	"secret_missing", "publish_failed",   NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

const char *sluice_workspace_path_problem(const char *rel)
{
	if (!*rel)
		return "is empty";
	if (rel[0] == '/')
		return "is an absolute path";
	for (const char *p = rel; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "holds a control character";
	for (const char *seg = rel;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return "has a '..' segment";
		if (!end)
			break;
		seg = end + 1;
	}
	return NULL;
}

/* Whether `path` is `dir` or below it; both are real paths. */
static bool path_inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

int sluice_workspace_path(char **out, const char *root, const char *rel)
{
	const char *why = sluice_workspace_path_problem(rel);
	char *path = NULL, *real = NULL, *real_root = NULL;
	int rc = 0;

	*out = NULL;
	if (why) {
		if (sluice_id_unprintable(rel))
			return sluice_error_set(SLUICE_EINVAL, "a path in the workspace %s", why);
		return sluice_error_set(SLUICE_EINVAL,
					"'%s' %s; name a file inside --root, relative to it", rel, why);
	}
	path = sluice_path_under_root(root, rel);
	/* a symlink inside --root may still lead out of it: compare the real
	 * paths of what would be read */
	real = realpath(path, NULL);
	if (real) {
		real_root = realpath(root ? root : ".", NULL);
		if (!real_root || !path_inside(real, real_root)) {
			rc = sluice_error_set(SLUICE_EINVAL,
					      "'%s' leads outside --root through a symbolic link; "
					      "keep the file itself inside --root", rel);
			goto done;
		}
	}
	*out = path;
	path = NULL;
done:
	free(path);
	free(real);
	free(real_root);
	return rc;
}

/* A path the workspace names must stay inside --root (members files,
 * allowed signers): reported at the value, never echoing control bytes. */
static void check_root_path(sluice_schema *s, const sluice_str *v, const char *what)
{
	const char *why;
	if (v->s && (why = sluice_workspace_path_problem(v->s)))
		sluice_diag_error(s->d, v->pos, "unsafe-path",
				  "'%s' %s; name a file inside --root, relative to it", what, why);
}

static void load_groups(sluice_schema *s, sluice_workspace *ws, const sluice_node *n)
{
	ws->groups = sluice_xcalloc(n->count ? n->count : 1, sizeof *ws->groups);
	for (size_t i = 0; i < n->count; i++) {
		const sluice_node_pair *p = &n->pairs[i];
		char path[160];
		sluice_group *g = &ws->groups[ws->ngroups++];
		snprintf(path, sizeof path, "groups.%s", p->key);
		g->name.s = p->key;
		g->name.pos = p->key_pos;
		if (p->value->kind == SLUICE_NODE_NULL)
			continue; /* a group with no members listed yet */
		if (p->value->kind != SLUICE_NODE_MAP) {
			sluice_diag_error(s->d, p->value->pos, "wrong-type",
					  "'%s' must be a mapping with members or members_file, not %s",
					  path, sluice_node_kind_name(p->value->kind));
			continue;
		}
		sluice_schema_keys(s, p->value, path, k_group);
		sluice_schema_strs(s, &g->members, p->value, path, "members", false, false);
		sluice_schema_str(s, &g->members_file, p->value, path, "members_file", false);
		{
			char *what = sluice_xasprintf("%s.members_file", path);
			check_root_path(s, &g->members_file, what);
			free(what);
		}
		if (g->members.pos.line && g->members_file.s)
			sluice_diag_error(s->d, g->members_file.pos, "conflict",
					  "'%s' has both members and members_file; use one", path);
	}
}

static void load_admins(sluice_schema *s, sluice_workspace *ws, const sluice_node *n)
{
	ws->admins = sluice_xcalloc(n->count ? n->count : 1, sizeof *ws->admins);
	for (size_t i = 0; i < n->count; i++) {
		const sluice_node *a = n->items[i];
		char path[64];
		sluice_strs roles;
		snprintf(path, sizeof path, "admins[%zu]", i);
		if (a->kind != SLUICE_NODE_MAP) {
			sluice_diag_error(s->d, a->pos, "wrong-type", "'%s' must be a mapping, not %s",
					  path, sluice_node_kind_name(a->kind));
			continue;
		}
		sluice_admin *ad = &ws->admins[ws->nadmins++];
		ad->pos = a->pos;
		sluice_schema_keys(s, a, path, k_admin);
		sluice_schema_str(s, &ad->id, a, path, "id", true);
		if (ad->id.s) {
			const char *why = sluice_id_problem(ad->id.s);
			if (why && sluice_id_unprintable(ad->id.s))
				sluice_diag_error(s->d, ad->id.pos, "invalid-id",
						  "'%s.id' %s; admin ids are " SLUICE_ID_RULE, path,
						  why);
			else if (why)
				sluice_diag_error(s->d, ad->id.pos, "invalid-id",
						  "admin id '%s' %s; admin ids are " SLUICE_ID_RULE,
						  ad->id.s, why);
			else if (strcmp(ad->id.s, SLUICE_ACTOR_CONTROLLER) == 0)
				sluice_diag_error(s->d, ad->id.pos, "invalid-id",
						  "admin id '%s' is reserved: Sluice records its own "
						  "actions under it; choose another id", ad->id.s);
		}
		sluice_schema_strs(s, &roles, a, path, "roles", true, true);
		for (size_t r = 0; r < roles.count; r++) {
			size_t k;
			for (k = 0; k_roles[k]; k++)
				if (strcmp(k_roles[k], roles.items[r].s) == 0)
					break;
			if (k_roles[k])
				ad->roles |= 1u << k;
			else {
				const char *hint = sluice_did_you_mean(roles.items[r].s, k_roles);
				sluice_diag_error(s->d, roles.items[r].pos, "invalid-value",
						  "unknown role '%s' in %s.roles; roles are approver, "
						  "operator, auditor and ci%s%s%s",
						  roles.items[r].s, path, hint ? " (did you mean '" : "",
						  hint ? hint : "", hint ? "'?)" : "");
			}
		}
		free(roles.items);
		sluice_schema_strs(s, &ad->emails, a, path, "emails", false, false);
		sluice_schema_strs(s, &ad->ssh_keys, a, path, "ssh_keys", false, false);
		for (size_t j = 0; j + 1 < ws->nadmins; j++)
			if (ad->id.s && ws->admins[j].id.s && strcmp(ad->id.s, ws->admins[j].id.s) == 0 &&
			    !sluice_id_unprintable(ad->id.s))
				sluice_diag_error(s->d, ad->id.pos, "duplicate",
						  "admin '%s' is listed twice (first at line %u)",
						  ad->id.s, ws->admins[j].id.pos.line);
	}
}

static void load_plugins(sluice_schema *s, sluice_workspace *ws, const sluice_node *n)
{
	ws->plugins = sluice_xcalloc(n->count ? n->count : 1, sizeof *ws->plugins);
	for (size_t i = 0; i < n->count; i++) {
		const sluice_node *x = n->items[i];
		char path[64];
		snprintf(path, sizeof path, "plugins[%zu]", i);
		if (x->kind != SLUICE_NODE_MAP) {
			sluice_diag_error(s->d, x->pos, "wrong-type", "'%s' must be a mapping, not %s",
					  path, sluice_node_kind_name(x->kind));
			continue;
		}
		sluice_ws_plugin *p = &ws->plugins[ws->nplugins++];
		p->pos = x->pos;
		sluice_schema_keys(s, x, path, k_wplugin);
		sluice_schema_str(s, &p->repository, x, path, "repository", true);
		sluice_schema_str(s, &p->url, x, path, "url", false);
		sluice_schema_str(s, &p->versions, x, path, "versions", true);
		sluice_schema_kvs(s, &p->environment, x, path, "environment");
		sluice_schema_str(s, &p->credentials_env, x, path, "credentials_env", false);
		sluice_schema_str(s, &p->credentials_file, x, path, "credentials_file", false);
	}
}

/* A duration: a number of seconds, or a string "<N>s", "<N>m", "<N>h" or
 * "<N>d". Stores it in *out (seconds) and returns true; false when absent
 * (reported when wrong). */
static bool load_duration(sluice_schema *s, int64_t *out, const sluice_node *map,
			  const char *path, const char *key)
{
	const sluice_node *x = sluice_schema_get(
		s, map, path, key, SLUICE_KIND(SLUICE_NODE_INT) | SLUICE_KIND(SLUICE_NODE_STRING),
		"a duration (seconds, or a string such as \"30s\", \"10m\", \"1h\")", false);
	int64_t v = -1;

	if (!x)
		return false;
	if (x->kind == SLUICE_NODE_INT) {
		v = x->v.i;
	} else {
		char *end = NULL;
		const char *t = x->text ? x->text : "";
		long long n = (t[0] >= '0' && t[0] <= '9') ? strtoll(t, &end, 10) : -1;
		int64_t unit = 0;
		if (end && end[0] && !end[1])
			unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600
			     : end[0] == 'd' ? 86400 : 0;
		if (n >= 0 && n <= 366LL * 86400 && unit)
			v = n * unit;
	}
	if (v <= 0 || v > 366LL * 86400) {
		sluice_diag_error(s->d, x->pos, "invalid-value",
				  "'%s.%s' must be a positive duration such as 30s, 10m or 1h "
				  "(at most a year)",
				  path, key);
		return false;
	}
	*out = v;
	return true;
}

static void load_providers(sluice_schema *s, sluice_workspace *ws, const sluice_node *n)
{
	ws->providers = sluice_xcalloc(n->count ? n->count : 1, sizeof *ws->providers);
	for (size_t i = 0; i < n->count; i++) {
		const sluice_node_pair *p = &n->pairs[i];
		const sluice_node *x = p->value;
		char path[160];
		snprintf(path, sizeof path, "secret_providers.%s", p->key);
		if (x->kind != SLUICE_NODE_MAP) {
			sluice_diag_error(s->d, x->pos, "wrong-type",
					  "'%s' must be a mapping with a type, not %s", path,
					  sluice_node_kind_name(x->kind));
			continue;
		}
		sluice_secret_provider *sp = &ws->providers[ws->nproviders++];
		sp->name.s = p->key;
		sp->name.pos = p->key_pos;
		sp->node = x;
		sp->check_every = 600;
		sluice_schema_enum(s, &sp->type, x, path, "type", true, k_provider_types);
		const char *type = sp->type.s ? sp->type.s : "";
		const char *const *keys = k_provider_env;
		if (strcmp(type, "file") == 0)
			keys = k_provider_file;
		else if (strcmp(type, "exec") == 0)
			keys = k_provider_exec;
		else if (strcmp(type, "vault-kv2") == 0)
			keys = k_provider_vault;
		sluice_schema_keys(s, x, path, keys);
		sluice_schema_strs(s, &sp->allowed_prefixes, x, path, "allowed_prefixes", false,
				   true);
		sluice_int age;
		sluice_schema_int(s, &age, x, path, "max_age_days", false);
		if (age.set && (age.v < 1 || age.v > 36500))
			sluice_diag_error(s->d, age.pos, "invalid-value",
					  "'%s.max_age_days' must be between 1 and 36500", path);
		else if (age.set)
			sp->max_age_days = age.v;
		load_duration(s, &sp->check_every, x, path, "check_every");
		int64_t timeout = 0;
		if (keys == k_provider_exec || keys == k_provider_vault) {
			sp->timeout_ms = keys == k_provider_exec ? 5000 : 10000;
			if (load_duration(s, &timeout, x, path, "timeout"))
				sp->timeout_ms = timeout * 1000;
		}
		if (strcmp(type, "vault-kv2") == 0) {
			sluice_schema_str(s, &sp->address, x, path, "address", true);
			if (sp->address.s && !sluice_str_has_prefix(sp->address.s, "https://"))
				sluice_diag_error(s->d, sp->address.pos, "insecure",
						  "'%s.address' must be an https:// URL (TLS is always "
						  "verified; name a ca_bundle for a private CA)",
						  path);
			sluice_schema_str(s, &sp->mount, x, path, "mount", true);
			sluice_schema_str(s, &sp->namespace_, x, path, "namespace", false);
			sluice_schema_str(s, &sp->token_env, x, path, "token_env", false);
			sluice_schema_str(s, &sp->token_file, x, path, "token_file", false);
			sluice_schema_str(s, &sp->ca_bundle, x, path, "ca_bundle", false);
			if (!!sp->token_env.s == !!sp->token_file.s)
				sluice_diag_error(s->d, x->pos, sp->token_env.s ? "invalid-value"
										: "missing-key",
						  "'%s' needs exactly one of token_env and token_file",
						  path);
			if (sp->mount.s && (!*sp->mount.s || strstr(sp->mount.s, "..") ||
					    strchr(sp->mount.s, '?') || strchr(sp->mount.s, '#')))
				sluice_diag_error(s->d, sp->mount.pos, "invalid-value",
						  "'%s.mount' must be a mount path such as secret", path);
		} else if (strcmp(type, "file") == 0) {
			sluice_schema_str(s, &sp->dir, x, path, "dir", true);
		} else if (strcmp(type, "exec") == 0) {
			sluice_schema_strs(s, &sp->command, x, path, "command", true, true);
		}
	}
}

static void load_policy(sluice_schema *s, sluice_workspace *ws, const sluice_node *n)
{
	const char *path = "policy";
	const sluice_node *x;

	sluice_schema_keys(s, n, path, k_policy);
	sluice_schema_str(s, &ws->rollout_policy, n, path, "rollout_policy", false);
	x = sluice_schema_get(s, n, path, "min_approvals",
			      SLUICE_KIND(SLUICE_NODE_INT) | SLUICE_KIND(SLUICE_NODE_MAP),
			      "a number or a mapping by risk class (low, moderate, high)", false);
	if (x) {
		ws->min_approvals_pos = x->pos;
		if (x->kind == SLUICE_NODE_INT) {
			if (x->v.i < 0 || x->v.i > 20)
				sluice_diag_error(s->d, x->pos, "invalid-value",
						  "'policy.min_approvals' must be between 0 and 20");
			else
				ws->min_approvals[0] = ws->min_approvals[1] =
					ws->min_approvals[2] = (int)x->v.i;
		} else {
			sluice_schema_keys(s, x, "policy.min_approvals", k_risks);
			for (int r = 0; r < 3; r++) {
				sluice_int v;
				sluice_schema_int(s, &v, x, "policy.min_approvals", k_risks[r], false);
				if (v.set && (v.v < 0 || v.v > 20))
					sluice_diag_error(s->d, v.pos, "invalid-value",
							  "'policy.min_approvals.%s' must be between 0 "
							  "and 20", k_risks[r]);
				else if (v.set)
					ws->min_approvals[r] = (int)v.v;
			}
		}
	}
	sluice_schema_bool(s, &ws->prevent_self_approval, n, path, "prevent_self_approval", false);
	sluice_schema_int(s, &ws->approval_ttl_days, n, path, "approval_ttl_days", false);
	if (ws->approval_ttl_days.set && ws->approval_ttl_days.v <= 0)
		sluice_diag_error(s->d, ws->approval_ttl_days.pos, "invalid-value",
				  "'policy.approval_ttl_days' must be a positive number of days");
	sluice_schema_bool(s, &ws->require_signed_tags, n, path, "require_signed_tags", false);
	sluice_schema_str(s, &ws->allowed_signers, n, path, "allowed_signers", false);
	check_root_path(s, &ws->allowed_signers, "policy.allowed_signers");
	if (ws->require_signed_tags.v && !ws->allowed_signers.s)
		sluice_diag_error(s->d, ws->require_signed_tags.pos, "missing-key",
				  "'policy.require_signed_tags' needs 'policy.allowed_signers', "
				  "the file of keys allowed to sign tags");
	sluice_schema_enum(s, &ws->identity, n, path, "identity", false, k_identities);
	if (ws->identity.s && !in_list(k_identities_built, ws->identity.s))
		sluice_diag_error(s->d, ws->identity.pos, "not-built",
				  "policy.identity '%s' is not supported by this build yet; use "
				  "'os-user' or 'asserted'", ws->identity.s);
	sluice_schema_enum(s, &ws->max_risk, n, path, "max_risk", false, k_risks);
	if ((x = sluice_schema_get(s, n, path, "max_permissions", SLUICE_KIND(SLUICE_NODE_MAP),
				   "a mapping", false))) {
		ws->has_max_permissions = true;
		/* the manifest's permission reader: the same keys */
		sluice_config_load_permissions(s, &ws->max_permissions, x, "policy.max_permissions");
	}
	if ((x = sluice_schema_get(s, n, path, "freeze", SLUICE_KIND(SLUICE_NODE_SEQ),
				   "a list of windows {from, to, reason}", false))) {
		ws->freeze = sluice_xcalloc(x->count ? x->count : 1, sizeof *ws->freeze);
		for (size_t i = 0; i < x->count; i++) {
			const sluice_node *w = x->items[i];
			char wp[64];
			sluice_str from, to;
			snprintf(wp, sizeof wp, "policy.freeze[%zu]", i);
			if (w->kind != SLUICE_NODE_MAP) {
				sluice_diag_error(s->d, w->pos, "wrong-type",
						  "'%s' must be a mapping {from, to, reason}, not %s",
						  wp, sluice_node_kind_name(w->kind));
				continue;
			}
			sluice_freeze_window *fw = &ws->freeze[ws->nfreeze];
			fw->pos = w->pos;
			sluice_schema_keys(s, w, wp, k_freeze);
			sluice_schema_str(s, &from, w, wp, "from", true);
			sluice_schema_str(s, &to, w, wp, "to", true);
			sluice_schema_str(s, &fw->reason, w, wp, "reason", false);
			bool ok = from.s && to.s;
			if (from.s && sluice_time_parse(&fw->from, from.s) < 0) {
				sluice_diag_error(s->d, from.pos, "invalid-time",
						  "'%s.from' is not an RFC 3339 time such as "
						  "2026-12-20T00:00:00Z", wp);
				ok = false;
			}
			if (to.s && sluice_time_parse(&fw->to, to.s) < 0) {
				sluice_diag_error(s->d, to.pos, "invalid-time",
						  "'%s.to' is not an RFC 3339 time such as "
						  "2027-01-04T00:00:00Z", wp);
				ok = false;
			}
			if (ok && fw->to <= fw->from) {
				sluice_diag_error(s->d, to.pos, "invalid-value",
						  "'%s.to' must be after '%s.from'", wp, wp);
				ok = false;
			}
			if (ok)
				ws->nfreeze++;
		}
	}
	{
		sluice_int mfb;
		sluice_schema_int(s, &mfb, n, path, "max_file_bytes", false);
		if (mfb.set && (mfb.v < 1024 || mfb.v > 256 * 1024 * 1024))
			sluice_diag_error(s->d, mfb.pos, "invalid-value",
					  "'policy.max_file_bytes' must be between 1024 and 268435456");
		else if (mfb.set)
			ws->max_file_bytes = (size_t)mfb.v;
	}
	/* docs/configuration.md: the audit log's floor, which `audit prune`
	 * never cuts into (at least 90 days, at most a century) */
	sluice_schema_int(s, &ws->audit_retention_days, n, path, "audit_retention_days", false);
	if (ws->audit_retention_days.set &&
	    (ws->audit_retention_days.v < 90 || ws->audit_retention_days.v > 36500)) {
		sluice_diag_error(s->d, ws->audit_retention_days.pos, "invalid-value",
				  "'policy.audit_retention_days' must be between 90 and 36500 days "
				  "(got %lld); audit rows are kept at least 90 days",
				  (long long)ws->audit_retention_days.v);
		ws->audit_retention_days.set = false;
	}
	sluice_schema_strs(s, &ws->allow_http_services, n, path, "allow_http_services", false,
			   false);
	for (size_t i = 0; i < ws->allow_http_services.count; i++) {
		const sluice_str *a = &ws->allow_http_services.items[i];
		if (strncmp(a->s, "https://", 8) == 0 || !a->s[0] || strchr(a->s, ' '))
			sluice_diag_error(s->d, a->pos, "invalid-value",
					  "'policy.allow_http_services[%zu]' must be an http:// URL "
					  "or a host name (https needs no exception)",
					  i);
	}
}

static void load_notifications(sluice_schema *s, sluice_workspace *ws, const sluice_node *n)
{
	ws->notifications = sluice_xcalloc(n->count ? n->count : 1, sizeof *ws->notifications);
	for (size_t i = 0; i < n->count; i++) {
		const sluice_node *x = n->items[i];
		char path[64];
		snprintf(path, sizeof path, "notifications[%zu]", i);
		if (x->kind != SLUICE_NODE_MAP) {
			sluice_diag_error(s->d, x->pos, "wrong-type", "'%s' must be a mapping, not %s",
					  path, sluice_node_kind_name(x->kind));
			continue;
		}
		sluice_notification *nt = &ws->notifications[ws->nnotifications++];
		nt->pos = x->pos;
		sluice_schema_keys(s, x, path, k_notification);
		sluice_schema_str(s, &nt->url, x, path, "url", true);
		if (nt->url.s && !sluice_str_has_prefix(nt->url.s, "https://") &&
		    !sluice_str_has_prefix(nt->url.s, "http://"))
			sluice_diag_error(s->d, nt->url.pos, "invalid-value",
					  "'%s.url' must be an http:// or https:// URL", path);
		sluice_schema_str(s, &nt->secret_env, x, path, "secret_env", false);
		sluice_schema_enum(s, &nt->format, x, path, "format", false, k_notification_formats);
		sluice_schema_strs(s, &nt->events, x, path, "events", true, true);
		for (size_t e = 0; e < nt->events.count; e++) {
			size_t k;
			for (k = 0; sluice_notification_events[k]; k++)
				if (strcmp(sluice_notification_events[k], nt->events.items[e].s) == 0)
					break;
			if (!sluice_notification_events[k]) {
				const char *hint = sluice_did_you_mean(nt->events.items[e].s,
								       sluice_notification_events);
				sluice_diag_error(s->d, nt->events.items[e].pos, "invalid-value",
						  "unknown event '%s' in %s.events%s%s%s",
						  nt->events.items[e].s, path,
						  hint ? "; did you mean '" : "", hint ? hint : "",
						  hint ? "'?" : "");
			}
		}
	}
}

/* A publisher's mode: the mode of published files, an octal string
 * ("0640") of permission bits only, that lets the owner read and write them
 * (the publisher reads its own files back and replaces them). */
static void load_publish_mode(sluice_diags *diags, sluice_publish_conf *pc)
{
	const char *m = pc->mode.s;
	unsigned v = 0;
	size_t n;

	if (!m)
		return;
	n = strlen(m);
	bool ok = n >= 3 && n <= 4 && strspn(m, "01234567") == n && (n == 3 || m[0] == '0');
	for (size_t i = 0; ok && i < n; i++)
		v = v * 8 + (unsigned)(m[i] - '0');
	if (!ok || (v & 0600) != 0600) {
		sluice_diag_error(diags, pc->mode.pos, "invalid-value",
				  "'%s.mode' must be an octal file mode such as \"0644\" or "
				  "\"0640\" that lets the owner read and write (got \"%s\")",
				  pc->name, m);
		return;
	}
	pc->mode_bits = v;
}

/* One publisher: the `publish` mapping or an entry of the list. */
static void load_publisher(sluice_schema *s, sluice_publish_conf *pc, const sluice_node *x)
{
	const char *path = pc->name;

	pc->pos = x->pos;
	sluice_schema_keys(s, x, path, k_publish);
	sluice_schema_enum(s, &pc->type, x, path, "type", true, k_publish_types);
	sluice_schema_str(s, &pc->path, x, path, "path", false);
	sluice_schema_str(s, &pc->url, x, path, "url", false);
	sluice_schema_str(s, &pc->secret_env, x, path, "secret_env", false);
	sluice_schema_str(s, &pc->mode, x, path, "mode", false);
	load_publish_mode(s->d, pc);
	if (pc->type.s && strcmp(pc->type.s, "http") == 0 && !pc->url.s)
		sluice_diag_error(s->d, x->pos, "missing-key",
				  "missing required key 'url' in %s (type http)", path);
	if (pc->type.s && strcmp(pc->type.s, "http") != 0 && !pc->path.s)
		sluice_diag_error(s->d, x->pos, "missing-key",
				  "missing required key 'path' in %s (type %s)", path, pc->type.s);
}

/* A path as written without its empty and "." segments: "./out//" is
 * "out". Caller frees. */
static char *plain_path(const char *p)
{
	sluice_buf b = SLUICE_BUF_INIT;
	if (*p == '/')
		sluice_buf_printf(&b, "/");
	for (const char *seg = p; *seg;) {
		size_t n = strcspn(seg, "/");
		if (n && !(n == 1 && seg[0] == '.'))
			sluice_buf_printf(&b, "%s%.*s", b.len && b.ptr[b.len - 1] != '/' ? "/" : "",
					  (int)n, seg);
		seg += n;
		while (*seg == '/')
			seg++;
	}
	return sluice_buf_detach(&b);
}

static bool same_path(const char *a, const char *b)
{
	char *x = plain_path(a), *y = plain_path(b);
	bool same = strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

/* `publish`: one mapping (one publisher) or a list of them
 * (docs/configuration.md). Two publishers of one type writing to the same
 * place would overwrite each other's files and state: an error. */
static void load_publishers(sluice_schema *s, sluice_workspace *ws, const sluice_node *n)
{
	bool list = n->kind == SLUICE_NODE_SEQ;
	size_t count = list ? n->count : 1;

	if (list && n->count == 0)
		sluice_diag_error(s->d, n->pos, "empty-list",
				  "'publish' must name at least one publisher; remove it to "
				  "publish nothing");
	ws->publishers = sluice_xcalloc(count ? count : 1, sizeof *ws->publishers);
	for (size_t i = 0; i < count; i++) {
		const sluice_node *x = list ? n->items[i] : n;
		sluice_publish_conf *pc = &ws->publishers[ws->npublishers];
		if (list)
			snprintf(pc->name, sizeof pc->name, "publish[%zu]", i);
		else
			snprintf(pc->name, sizeof pc->name, "publish");
		if (x->kind != SLUICE_NODE_MAP) {
			sluice_diag_error(s->d, x->pos, "wrong-type", "'%s' must be a mapping, not %s",
					  pc->name, sluice_node_kind_name(x->kind));
			continue;
		}
		load_publisher(s, pc, x);
		ws->npublishers++;
		for (size_t k = 0; k + 1 < ws->npublishers; k++) {
			const sluice_publish_conf *o = &ws->publishers[k];
			const sluice_str *mine = pc->path.s ? &pc->path : &pc->url;
			const char *theirs = pc->path.s ? o->path.s : o->url.s;
			if (!pc->type.s || !o->type.s || strcmp(pc->type.s, o->type.s) != 0 ||
			    !mine->s || !theirs || !same_path(mine->s, theirs))
				continue;
			const char *what = pc->path.s ? "path" : "url";
			sluice_diag_error(s->d, mine->pos, "duplicate",
					  "'%s.%s' '%s' is where %s already publishes (type %s); "
					  "give each %s publisher its own %s",
					  pc->name, what, mine->s, o->name, pc->type.s, pc->type.s, what);
			break;
		}
	}
}

int sluice_workspace_load(sluice_workspace **out, const char *path, sluice_diags *diags)
{
	sluice_workspace *ws = sluice_xcalloc(1, sizeof *ws);
	sluice_schema s = {.d = diags};
	const char *top = "the workspace";
	const sluice_node *root, *x;
	unsigned mk = SLUICE_KIND(SLUICE_NODE_MAP), sk = SLUICE_KIND(SLUICE_NODE_SEQ);
	int rc;

	*out = ws;
	ws->path = sluice_xstrdup(path);
	ws->min_approvals[0] = ws->min_approvals[1] = ws->min_approvals[2] = 1;
	rc = sluice_config_load_file_doc(&ws->doc, path, 0, diags);
	if (rc < 0)
		return rc;
	root = ws->doc->root;
	sluice_schema_keys(&s, root, top, k_workspace);
	sluice_schema_str(&s, &ws->name, root, top, "workspace", true);
	if ((x = sluice_schema_get(&s, root, top, "groups", mk, "a mapping of group names", true))) {
		if (x->count == 0)
			sluice_diag_error(diags, x->pos, "empty-list",
					  "'groups' must name at least one group");
		load_groups(&s, ws, x);
	}
	if ((x = sluice_schema_get(&s, root, top, "admins", sk, "a list of admins", true)))
		load_admins(&s, ws, x);
	if ((x = sluice_schema_get(&s, root, top, "repositories", mk, "a mapping", false))) {
		sluice_schema_keys(&s, x, "repositories", k_repositories);
		sluice_schema_str(&s, &ws->url_template, x, "repositories", "url_template", false);
		sluice_schema_str(&s, &ws->ca_bundle, x, "repositories", "ca_bundle", false);
		if (ws->url_template.s && !strstr(ws->url_template.s, "{repository}"))
			sluice_diag_error(diags, ws->url_template.pos, "invalid-value",
					  "'repositories.url_template' must contain {repository}");
		/* docs/configuration.md: 1 MiB to 64 GiB */
		sluice_schema_int(&s, &ws->max_fetch_bytes, x, "repositories", "max_fetch_bytes",
				  false);
		if (ws->max_fetch_bytes.set && (ws->max_fetch_bytes.v < 1048576 ||
						ws->max_fetch_bytes.v > 68719476736)) {
			sluice_diag_error(diags, ws->max_fetch_bytes.pos, "invalid-value",
					  "'repositories.max_fetch_bytes' must be between 1048576 "
					  "(1 MiB) and 68719476736 (64 GiB)");
			ws->max_fetch_bytes.set = false;
		}
		/* docs/configuration.md: 1 to 256 */
		sluice_schema_int(&s, &ws->max_concurrent, x, "repositories", "max_concurrent",
				  false);
		if (ws->max_concurrent.set &&
		    (ws->max_concurrent.v < 1 || ws->max_concurrent.v > 256)) {
			sluice_diag_error(diags, ws->max_concurrent.pos, "invalid-value",
					  "'repositories.max_concurrent' must be between 1 and 256");
			ws->max_concurrent.set = false;
		}
	}
	if ((x = sluice_schema_get(&s, root, top, "plugins", sk, "a list of watched plugins",
				   false)))
		load_plugins(&s, ws, x);
	if ((x = sluice_schema_get(&s, root, top, "secret_providers", mk, "a mapping", false)))
		load_providers(&s, ws, x);
	if ((x = sluice_schema_get(&s, root, top, "policy", mk, "a mapping", false)))
		load_policy(&s, ws, x);
	if ((x = sluice_schema_get(&s, root, top, "publish", mk | sk,
				   "a mapping or a list of mappings", false)))
		load_publishers(&s, ws, x);
	if ((x = sluice_schema_get(&s, root, top, "notifications", sk, "a list", false)))
		load_notifications(&s, ws, x);
	return 0;
}

void sluice_workspace_free(sluice_workspace *ws)
{
	if (!ws)
		return;
	for (size_t i = 0; i < ws->ngroups; i++)
		free(ws->groups[i].members.items);
	free(ws->groups);
	for (size_t i = 0; i < ws->nadmins; i++) {
		free(ws->admins[i].emails.items);
		free(ws->admins[i].ssh_keys.items);
	}
	free(ws->admins);
	for (size_t i = 0; i < ws->nplugins; i++)
		free(ws->plugins[i].environment.items);
	free(ws->plugins);
	for (size_t i = 0; i < ws->nproviders; i++) {
		free(ws->providers[i].allowed_prefixes.items);
		free(ws->providers[i].command.items);
	}
	free(ws->providers);
	free(ws->freeze);
	free(ws->allow_http_services.items);
	for (size_t i = 0; i < ws->nnotifications; i++)
		free(ws->notifications[i].events.items);
	free(ws->notifications);
	free(ws->publishers);
	sluice_doc_free(ws->doc);
	free(ws->path);
	free(ws);
}

char *sluice_workspace_find(const char *root, const char *name)
{
	char *dir = sluice_path_join(root, "workspaces");
	char *found = NULL;
	DIR *d = NULL;
	struct dirent *e;
	size_t n = 0;

	if (name) {
		char *file = sluice_xasprintf("%s.yaml", name);
		found = sluice_path_join(dir, file);
		free(file);
		goto done;
	}
	d = opendir(dir);
	if (!d) {
		sluice_error_set(SLUICE_ENOTFOUND,
				 "no workspaces/ directory in %s; run 'sluice init' or pass --root",
				 root);
		goto done;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".yaml") != 0)
			continue;
		n++;
		if (!found)
			found = sluice_path_join(dir, e->d_name);
	}
	if (n == 0) {
		sluice_error_set(SLUICE_ENOTFOUND, "no workspace file in %s; create %s/NAME.yaml",
				 dir, dir);
	} else if (n > 1) {
		sluice_error_set(SLUICE_EAMBIGUOUS,
				 "%s holds %zu workspaces; choose one with --workspace NAME", dir, n);
		free(found);
		found = NULL;
	}
done:
	if (d)
		closedir(d);
	free(dir);
	return found;
}

const sluice_group *sluice_workspace_group(const sluice_workspace *ws, const char *name)
{
	for (size_t i = 0; i < ws->ngroups; i++)
		if (strcmp(ws->groups[i].name.s, name) == 0)
			return &ws->groups[i];
	return NULL;
}

const sluice_admin *sluice_workspace_admin(const sluice_workspace *ws, const char *id)
{
	for (size_t i = 0; i < ws->nadmins; i++)
		if (ws->admins[i].id.s && strcmp(ws->admins[i].id.s, id) == 0)
			return &ws->admins[i];
	return NULL;
}

char *sluice_workspace_repo_url(const sluice_workspace *ws, const sluice_ws_plugin *p)
{
	sluice_buf b = SLUICE_BUF_INIT;
	const char *t, *at;

	if (p->url.s)
		return sluice_xstrdup(p->url.s);
	if (!ws->url_template.s || !p->repository.s)
		return NULL;
	t = ws->url_template.s;
	while ((at = strstr(t, "{repository}"))) {
		sluice_buf_put(&b, t, (size_t)(at - t));
		sluice_buf_puts(&b, p->repository.s);
		t = at + strlen("{repository}");
	}
	sluice_buf_puts(&b, t);
	return sluice_buf_detach(&b);
}

int sluice_group_members(char ***out, const sluice_workspace *ws, const sluice_group *g,
			 const char *root)
{
	size_t n = 0, cap = 8;
	char **v = sluice_xcalloc(cap, sizeof(char *));
	int rc = 0;

	(void)ws;
	*out = NULL;
	for (size_t i = 0; i < g->members.count; i++) {
		if (n + 1 >= cap)
			v = sluice_xrealloc(v, (cap *= 2) * sizeof(char *));
		v[n++] = sluice_xstrdup(g->members.items[i].s);
	}
	if (g->members_file.s) {
		char *path = NULL, *data = NULL, *line, *save = NULL;
		/* never read a file outside --root, even from a workspace that
		 * was not validated first */
		if ((rc = sluice_workspace_path(&path, root, g->members_file.s)) < 0)
			goto done;
		rc = sluice_file_read(&data, NULL, path, 64u * 1024u * 1024u);
		free(path);
		if (rc < 0)
			goto done;
		for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *e;
			while (*line == ' ' || *line == '\t')
				line++;
			e = line + strlen(line);
			while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
				*--e = '\0';
			if (!*line || *line == '#')
				continue;
			if (n + 1 >= cap)
				v = sluice_xrealloc(v, (cap *= 2) * sizeof(char *));
			v[n++] = sluice_xstrdup(line);
		}
		free(data);
	}
	v[n] = NULL;
	*out = v;
	v = NULL;
done:
	if (v) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
	}
	return rc;
}

/* ---- rollout policies ---------------------------------------------------- */

static const char *const k_rpolicy[] = {"name", "on_new_release", "structure", "health_gates",
					"checklist", NULL};
static const char *const k_structure[] = {"min_stages",
					  "max_first_stage_users",
					  "min_first_stage_days",
					  "min_soak_days",
					  "last_stage_requires_approval",
					  "max_user_growth",
					  NULL};
static const char *const k_gate[] = {"stage",
				     "min_samples",
				     "max_tool_error_rate",
				     "max_refusal_rate",
				     "max_escalation_rate",
				     "min_feedback_samples",
				     "min_positive_feedback_ratio",
				     "max_p95_latency_ms",
				     "max_error_rate_increase",
				     "max_wait_days",
				     "on_breach",
				     NULL};
static const char *const k_on_breach[] = {"pause", "rollback", NULL};
static const char *const k_on_new[] = {"queue", "supersede", NULL};
static const char *const k_check[] = {"item", "by", NULL};

static void rate(sluice_schema *s, const sluice_node *g, const char *path, const char *key,
		 bool *has, double *v)
{
	sluice_pos pos;
	*has = sluice_schema_num(s, v, &pos, g, path, key, false);
	if (*has && (*v < 0 || *v > 1)) {
		sluice_diag_error(s->d, pos, "invalid-value",
				  "'%s.%s' is a ratio and must be between 0 and 1", path, key);
		*has = false;
	}
}

int sluice_rollout_policy_load(sluice_rollout_policy **out, const char *path,
			       sluice_diags *diags)
{
	sluice_rollout_policy *p = sluice_xcalloc(1, sizeof *p);
	sluice_schema s = {.d = diags};
	const char *top = "the rollout policy";
	const sluice_node *root, *x;
	int rc;

	*out = p;
	p->path = sluice_xstrdup(path);
	rc = sluice_config_load_file_doc(&p->doc, path, 0, diags);
	if (rc < 0)
		return rc;
	root = p->doc->root;
	sluice_schema_keys(&s, root, top, k_rpolicy);
	sluice_schema_str(&s, &p->name, root, top, "name", false);
	sluice_schema_enum(&s, &p->on_new_release, root, top, "on_new_release", false, k_on_new);
	if ((x = sluice_schema_get(&s, root, top, "structure", SLUICE_KIND(SLUICE_NODE_MAP),
				   "a mapping", false))) {
		const char *sp = "structure";
		sluice_int *ints[] = {&p->min_stages, &p->max_first_stage_users,
				      &p->min_first_stage_days, &p->min_soak_days};
		const char *names[] = {"min_stages", "max_first_stage_users",
				       "min_first_stage_days", "min_soak_days"};
		sluice_schema_keys(&s, x, sp, k_structure);
		for (size_t i = 0; i < 4; i++) {
			sluice_schema_int(&s, ints[i], x, sp, names[i], false);
			if (ints[i]->set && ints[i]->v < (i == 1 || i == 0 ? 1 : 0)) {
				sluice_diag_error(diags, ints[i]->pos, "invalid-value",
						  "'structure.%s' must be %s", names[i],
						  i <= 1 ? "at least 1" : "zero or more");
				ints[i]->set = false;
			}
		}
		sluice_schema_bool(&s, &p->last_stage_requires_approval, x, sp,
				   "last_stage_requires_approval", false);
		if (sluice_schema_num(&s, &p->max_user_growth, &p->max_user_growth_pos, x, sp,
				      "max_user_growth", false) &&
		    p->max_user_growth < 1) {
			sluice_diag_error(diags, p->max_user_growth_pos, "invalid-value",
					  "'structure.max_user_growth' must be at least 1 (a factor "
					  "by which each stage may grow the audience)");
			p->max_user_growth = 0;
		}
	}
	if ((x = sluice_schema_get(&s, root, top, "health_gates", SLUICE_KIND(SLUICE_NODE_SEQ),
				   "a list of gates", false))) {
		p->gates = sluice_xcalloc(x->count ? x->count : 1, sizeof *p->gates);
		for (size_t i = 0; i < x->count; i++) {
			const sluice_node *g = x->items[i];
			char gp[64];
			sluice_int ms;
			snprintf(gp, sizeof gp, "health_gates[%zu]", i);
			if (g->kind != SLUICE_NODE_MAP) {
				sluice_diag_error(diags, g->pos, "wrong-type",
						  "'%s' must be a mapping, not %s", gp,
						  sluice_node_kind_name(g->kind));
				continue;
			}
			sluice_health_gate *hg = &p->gates[p->ngates++];
			hg->pos = g->pos;
			sluice_schema_keys(&s, g, gp, k_gate);
			sluice_schema_str(&s, &hg->stage, g, gp, "stage", false);
			sluice_schema_int(&s, &ms, g, gp, "min_samples", false);
			hg->min_samples = ms.set ? ms.v : 0;
			if (ms.set && ms.v < 1)
				sluice_diag_error(diags, ms.pos, "invalid-value",
						  "'%s.min_samples' must be at least 1", gp);
			sluice_schema_int(&s, &ms, g, gp, "min_feedback_samples", false);
			hg->min_feedback_samples = ms.set ? ms.v : 0;
			if (ms.set && ms.v < 1)
				sluice_diag_error(diags, ms.pos, "invalid-value",
						  "'%s.min_feedback_samples' must be at least 1", gp);
			rate(&s, g, gp, "max_tool_error_rate", &hg->has_max_tool_error_rate,
			     &hg->max_tool_error_rate);
			rate(&s, g, gp, "max_refusal_rate", &hg->has_max_refusal_rate,
			     &hg->max_refusal_rate);
			rate(&s, g, gp, "max_escalation_rate", &hg->has_max_escalation_rate,
			     &hg->max_escalation_rate);
			rate(&s, g, gp, "min_positive_feedback_ratio",
			     &hg->has_min_positive_feedback_ratio, &hg->min_positive_feedback_ratio);
			rate(&s, g, gp, "max_error_rate_increase", &hg->has_max_error_rate_increase,
			     &hg->max_error_rate_increase);
			sluice_schema_int(&s, &ms, g, gp, "max_p95_latency_ms", false);
			hg->has_max_p95_latency_ms = ms.set && ms.v >= 1;
			hg->max_p95_latency_ms = ms.set ? ms.v : 0;
			if (ms.set && ms.v < 1)
				sluice_diag_error(diags, ms.pos, "invalid-value",
						  "'%s.max_p95_latency_ms' must be at least 1", gp);
			sluice_schema_int(&s, &ms, g, gp, "max_wait_days", false);
			hg->max_wait_days = ms.set && ms.v > 0 ? ms.v : 0;
			if (ms.set && ms.v < 1)
				sluice_diag_error(diags, ms.pos, "invalid-value",
						  "'%s.max_wait_days' must be at least 1", gp);
			sluice_schema_enum(&s, &hg->on_breach, g, gp, "on_breach", false, k_on_breach);
		}
	}
	if ((x = sluice_schema_get(&s, root, top, "checklist", SLUICE_KIND(SLUICE_NODE_SEQ),
				   "a list of required items", false))) {
		p->checklist = sluice_xcalloc(x->count ? x->count : 1, sizeof *p->checklist);
		for (size_t i = 0; i < x->count; i++) {
			const sluice_node *c = x->items[i];
			char cp[64];
			sluice_strs by;
			snprintf(cp, sizeof cp, "checklist[%zu]", i);
			if (c->kind != SLUICE_NODE_MAP) {
				sluice_diag_error(diags, c->pos, "wrong-type",
						  "'%s' must be a mapping {item, by}, not %s", cp,
						  sluice_node_kind_name(c->kind));
				continue;
			}
			sluice_checklist_req *cr = &p->checklist[p->nchecklist++];
			cr->pos = c->pos;
			sluice_schema_keys(&s, c, cp, k_check);
			sluice_schema_enum(&s, &cr->item, c, cp, "item", true, sluice_checklist_items);
			sluice_schema_strs(&s, &by, c, cp, "by", false, true);
			for (size_t r = 0; r < by.count; r++) {
				size_t k;
				for (k = 0; k_roles[k]; k++)
					if (strcmp(k_roles[k], by.items[r].s) == 0)
						break;
				if (k_roles[k])
					cr->by_roles |= 1u << k;
				else
					sluice_diag_error(diags, by.items[r].pos, "invalid-value",
							  "unknown role '%s' in %s.by; roles are "
							  "approver, operator, auditor and ci",
							  by.items[r].s, cp);
			}
			free(by.items);
		}
	}
	return 0;
}

void sluice_rollout_policy_free(sluice_rollout_policy *p)
{
	if (!p)
		return;
	free(p->gates);
	free(p->checklist);
	sluice_doc_free(p->doc);
	free(p->path);
	free(p);
}
