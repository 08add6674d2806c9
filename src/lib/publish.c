/* The effective state, built once from the stored state the caller hands
 * over (sluice_publish_ctx) and given to the workspace's publisher
 * (docs/publishing.md). */
#include <stdlib.h>
#include <string.h>

#include "sluice/error.h"
#include "sluice/publish.h"
#include "sluice/rollout.h"
#include "sluice/source.h"
#include "sluice/util.h"

/* The format of effective.json; part of the signature so a new format is
 * published even when nothing else changed. */
#define EFFECTIVE_FORMAT 2

static const sluice_publisher *const publishers[] = {
	&sluice_publisher_directory,
	&sluice_publisher_codex,
	&sluice_publisher_http,
	NULL,
};

const sluice_publisher *sluice_publisher_find(const char *type)
{
	for (const sluice_publisher *const *p = publishers; *p; p++)
		if (strcmp((*p)->type, type) == 0)
			return *p;
	sluice_error_set(SLUICE_EINVAL,
			 "publish.type '%s' is not supported by this build yet; use 'directory', "
			 "'codex' or 'http'",
			 type);
	return NULL;
}

/* The release groups have, per group in workspace order: calls cb for each
 * (group, plugin index, release). */
typedef int (*assign_cb)(void *ctx, const char *group, const sluice_publish_plugin *pp,
			 const sluice_rollout_release *r);

static int each_assignment(const sluice_publish_ctx *c, assign_cb cb, void *ctx)
{
	int rc;
	for (size_t g = 0; g < c->ngroups; g++) {
		const char *group = c->groups[g];
		for (size_t p = 0; p < c->nplugins; p++) {
			const sluice_rollout_plugin *pl = c->plugins[p].state;
			ptrdiff_t r = sluice_rollout_assigned(pl, group);
			if (r < 0)
				continue;
			if ((rc = cb(ctx, group, &c->plugins[p], &pl->releases[r])) < 0)
				return rc;
		}
	}
	return 0;
}

static int sig_line(void *ctx, const char *group, const sluice_publish_plugin *pp,
		    const sluice_rollout_release *r)
{
	/* allow_user_disable decides whether the plugin's opt-outs count */
	sluice_buf_printf(ctx, "assign\t%s\t%s\t%s\t%s\t%d\n", group, pp->id, r->version,
			  r->commit, r->allow_user_disable ? 1 : 0);
	return 0;
}

unsigned sluice_publish_file_mode(const sluice_publish_ctx *c)
{
	return c->mode ? c->mode & 0777 : 0644;
}

unsigned sluice_publish_dir_mode(const sluice_publish_ctx *c)
{
	unsigned m = sluice_publish_file_mode(c);
	return m | (m & 0444) >> 2;
}

int sluice_publish_signature(char **out, const sluice_publish_ctx *c)
{
	sluice_buf b = SLUICE_BUF_INIT;
	int rc;

	sluice_buf_printf(&b, "format\t%d\nworkspace\t%s\npath\t%s\nmode\t%o\n", EFFECTIVE_FORMAT,
			  c->workspace, c->publish_path ? c->publish_path : "",
			  sluice_publish_file_mode(c));
	for (size_t g = 0; g < c->ngroups; g++)
		sluice_buf_printf(&b, "group\t%s\n", c->groups[g]);
	for (size_t p = 0; p < c->nplugins; p++) {
		const sluice_kvs *env = c->plugins[p].environment;
		for (size_t k = 0; env && k < env->count; k++)
			sluice_buf_printf(&b, "env\t%s\t%s=%s\n", c->plugins[p].id,
					  env->items[k].key.s,
					  env->items[k].value.s ? env->items[k].value.s : "");
		for (size_t u = 0; u < c->plugins[p].ndisabled_users; u++)
			sluice_buf_printf(&b, "optout\t%s\t%s\n", c->plugins[p].id,
					  c->plugins[p].disabled_users[u]);
	}
	/* a secret's version and presence are part of the state; when it was
	 * last checked is not (like audit_head: refreshed with the next real
	 * change), or every re-check would rewrite the document */
	for (size_t i = 0; i < c->nsecrets; i++)
		sluice_buf_printf(&b, "secret\t%s\t%s\t%s\t%d\t%s\n", c->secrets[i].plugin,
				  c->secrets[i].version, c->secrets[i].var, c->secrets[i].present,
				  c->secrets[i].secret_version ? c->secrets[i].secret_version : "");
	rc = each_assignment(c, sig_line, &b);
	*out = rc < 0 ? NULL : sluice_buf_detach(&b);
	sluice_buf_clear(&b);
	return rc;
}

/* The cache of release records (see record_of): bump when record_of or
 * entry_of change what they make from a release, so records made by an
 * older build are read from git again. */
#define CACHE_FORMAT 1

static void add_file(json_t *files, const char *path)
{
	size_t i;
	json_t *v;
	json_array_foreach (files, i, v)
		if (strcmp(json_string_value(v), path) == 0)
			return;
	json_array_append_new(files, json_string(path));
}

/* What a release contributes to every entry that names it, from its files
 * alone: the deploy file's environment (before the workspace's override),
 * secret references, controls, the tool and guidance paths inside the
 * release, and the files to copy. It depends only on the files at the
 * release's commit, so a record kept from an earlier publish at the same
 * tag and commit is the record that reading git again would make. */
static json_t *record_of(const sluice_plugin *pl, const char *tag, const char *commit)
{
	const sluice_deploy *d = &pl->deploy;
	const sluice_manifest *m = &pl->manifest;
	json_t *env = json_object(), *secrets = json_object(), *tools = json_array(),
	       *guidance = json_array(), *files = json_array();

	for (size_t i = 0; i < d->environment.count; i++)
		if (d->environment.items[i].key.s)
			json_object_set_new(env, d->environment.items[i].key.s,
					    json_string(d->environment.items[i].value.s
							? d->environment.items[i].value.s : ""));
	/* references only: the value is never read here */
	for (size_t i = 0; i < d->nsecrets; i++)
		if (d->secrets[i].var.s)
			json_object_set_new(secrets, d->secrets[i].var.s,
					    json_pack("{s:s?, s:s?, s:n}", "provider",
						      d->secrets[i].provider.s, "name",
						      d->secrets[i].name.s, "version"));
	add_file(files, "plugin.yaml");
	add_file(files, "deploy/workspace-config.yaml");
	for (size_t i = 0; i < m->ntools; i++)
		if (m->tools[i].definition.s) {
			json_array_append_new(tools, json_string(m->tools[i].definition.s));
			add_file(files, m->tools[i].definition.s);
		}
	const char *paths[] = {m->guidance_role.s, m->guidance_workflow.s,
			       m->guidance_output_format.s, m->guidance_escalation.s};
	for (size_t i = 0; i < 4; i++)
		if (paths[i]) {
			json_array_append_new(guidance, json_string(paths[i]));
			add_file(files, paths[i]);
		}
	return json_pack("{s:s, s:s, s:o, s:o, s:{s:b, s:b, s:b, s:s?}, s:o, s:o, s:o}", "tag",
			 tag, "commit", commit, "environment", env, "secrets", secrets, "controls",
			 "require_admin_approval",
			 d->require_admin_approval.set && d->require_admin_approval.v,
			 "allow_user_disable", d->allow_user_disable.set && d->allow_user_disable.v,
			 "collect_feedback", d->collect_feedback.set && d->collect_feedback.v,
			 "audit_dashboard", d->audit_dashboard.s, "tools", tools, "guidance",
			 guidance, "files", files);
}

/* A record is usable when it was made at this tag and commit and every
 * member entry_of and the publishers use has its type; anything else (a
 * damaged cache) is read from git again. */
static bool record_usable(json_t *rec, const char *tag, const char *commit)
{
	const char *t = json_string_value(json_object_get(rec, "tag"));
	const char *c = json_string_value(json_object_get(rec, "commit"));
	const char *key;
	size_t i;
	json_t *v;

	if (!t || !c || strcmp(t, tag) != 0 || strcmp(c, commit) != 0 ||
	    !json_is_object(json_object_get(rec, "environment")) ||
	    !json_is_object(json_object_get(rec, "secrets")) ||
	    !json_is_object(json_object_get(rec, "controls")))
		return false;
	json_object_foreach (json_object_get(rec, "environment"), key, v)
		if (!json_is_string(v))
			return false;
	const char *arrays[] = {"tools", "guidance", "files"};
	for (size_t k = 0; k < 3; k++) {
		json_t *a = json_object_get(rec, arrays[k]);
		if (!json_is_array(a))
			return false;
		json_array_foreach (a, i, v)
			if (!json_is_string(v) || sluice_path_problem(json_string_value(v)))
				return false;
	}
	return true;
}

/* The release's secret references with what the last check found:
 * provider, name, version (null when not checked or none) and checked_at. */
static json_t *secrets_of(const sluice_publish_ctx *c, const sluice_effective_release *er,
			  json_t *rec)
{
	json_t *out = json_deep_copy(json_object_get(rec, "secrets")), *v;
	const char *var;

	json_object_foreach (out, var, v) {
		const sluice_secret_row *row = NULL;
		for (size_t i = 0; i < c->nsecrets && !row; i++)
			if (strcmp(c->secrets[i].plugin, er->plugin) == 0 &&
			    strcmp(c->secrets[i].version, er->version) == 0 &&
			    strcmp(c->secrets[i].var, var) == 0)
				row = &c->secrets[i];
		char when[SLUICE_TIME_BUFSZ];
		json_object_set_new(v, "version",
				    row && row->present && row->secret_version
					    ? json_string(row->secret_version) : json_null());
		json_object_set_new(v, "checked_at",
				    row ? json_string(sluice_time_format(when, row->checked_at))
					: json_null());
	}
	return out;
}

/* The users who opted out of the plugin, when this release lets them (as
 * sluice_rollout_resolve_user decides for `resolve`): with
 * allow_user_disable false the plugin is enforced and no opt-out counts. */
static json_t *disabled_users_of(const sluice_publish_plugin *pp, const sluice_rollout_release *r)
{
	json_t *a = json_array();
	for (size_t u = 0; r->allow_user_disable && u < pp->ndisabled_users; u++)
		json_array_append_new(a, json_string(pp->disabled_users[u]));
	return a;
}

/* The entry of effective.json for a release (docs/publishing.md): its record
 * with the workspace plugin's environment laid over the deploy file's, and
 * the users who opted out. The groups that have the release share it. */
static json_t *entry_of(const sluice_publish_ctx *c, const sluice_effective_release *er,
			json_t *rec, const sluice_publish_plugin *pp,
			const sluice_rollout_release *r)
{
	const sluice_kvs *over = pp->environment;
	json_t *env = json_copy(json_object_get(rec, "environment")), *tools = json_array(),
	       *guidance = json_array(), *v;
	size_t i;

	for (size_t k = 0; over && k < over->count; k++)
		if (over->items[k].key.s)
			json_object_set_new(env, over->items[k].key.s,
					    json_string(over->items[k].value.s ? over->items[k].value.s
									       : ""));
	char *prefix = sluice_xasprintf("releases/%s/%s", er->plugin, er->version);
	json_array_foreach (json_object_get(rec, "tools"), i, v)
		json_array_append_new(tools, json_sprintf("%s/%s", prefix, json_string_value(v)));
	json_array_foreach (json_object_get(rec, "guidance"), i, v)
		json_array_append_new(guidance,
				      json_sprintf("%s/%s", prefix, json_string_value(v)));
	json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:O, s:o, s:o, s:s, s:o}", "id",
				  er->plugin, "version", er->version, "tag", er->tag, "commit",
				  er->commit, "environment", env, "secrets", secrets_of(c, er, rec),
				  "controls",
				  json_object_get(rec, "controls"), "tools", tools, "guidance",
				  guidance, "files", prefix, "disabled_users",
				  disabled_users_of(pp, r));
	free(prefix);
	return entry;
}

int sluice_effective_release_open(sluice_tree **out, const sluice_publish_ctx *c,
				  const sluice_publisher *pub, const sluice_effective_release *er)
{
	int rc = sluice_source_open_tree(out, c->cache_dir, er->key, er->tag, er->commit);
	if (rc < 0 && pub && pub->open_release &&
	    pub->open_release(pub, c, er->plugin, er->version, er->commit, out) == 0)
		rc = 0;
	if (rc < 0)
		return sluice_error_wrap(rc, "cannot read the files of %s@%s", er->plugin,
					 er->version);
	return 0;
}

/* Reads the release's files (one tree, closed before returning) into a
 * record. */
static int read_record(json_t **out, const sluice_publish_ctx *c, const sluice_publisher *pub,
		       const sluice_effective_release *er)
{
	sluice_tree *tree = NULL;
	sluice_plugin *pl = NULL;
	sluice_diags d;
	int rc;

	*out = NULL;
	if ((rc = sluice_effective_release_open(&tree, c, pub, er)) < 0)
		return rc;
	sluice_diags_init(&d);
	rc = sluice_plugin_load(&pl, tree, c->max_file_bytes, &d);
	sluice_diags_clear(&d);
	if (rc < 0 || !pl)
		rc = sluice_error_wrap(rc < 0 ? rc : SLUICE_EINVAL, "cannot load %s@%s",
				       er->plugin, er->version);
	else
		*out = record_of(pl, er->tag, er->commit);
	sluice_plugin_free(pl);
	sluice_tree_free(tree);
	return rc < 0 ? rc : 0;
}

typedef struct {
	const sluice_publish_ctx *c;
	const sluice_publisher *pub;
	sluice_effective *eff;
	json_t *groups;
	json_t *old; /* the previous publish's records: plugin -> version -> record */
	json_t *now; /* this build's, saved with it */
} build_ctx;

/* The release's entry, made once per build: from the record of an earlier
 * publish at the same tag and commit when there is one, else from git. */
static int release_entry(build_ctx *b, const sluice_publish_plugin *pp,
			 const sluice_rollout_release *r, json_t **out)
{
	sluice_effective *eff = b->eff;
	sluice_effective_release *er;
	json_t *rec, *byver;
	size_t i;
	int rc;

	for (i = 0; i < eff->nreleases; i++)
		if (strcmp(eff->releases[i].plugin, pp->id) == 0 &&
		    strcmp(eff->releases[i].version, r->version) == 0) {
			*out = eff->releases[i].entry;
			return 0;
		}
	eff->releases = sluice_xrealloc(eff->releases, (eff->nreleases + 1) * sizeof *eff->releases);
	er = &eff->releases[eff->nreleases++];
	memset(er, 0, sizeof *er);
	er->plugin = sluice_xstrdup(pp->id);
	er->version = sluice_xstrdup(r->version);
	er->tag = sluice_xstrdup(r->tag);
	er->commit = sluice_xstrdup(r->commit);
	er->key = pp->key;
	if (sluice_path_problem(er->plugin) || strchr(er->plugin, '/') ||
	    sluice_path_problem(er->version) || strchr(er->version, '/'))
		return sluice_error_set(SLUICE_EINVAL, "cannot publish '%s@%s': not a safe file name",
					er->plugin, er->version);
	rec = json_object_get(json_object_get(b->old, er->plugin), er->version);
	if (rec && record_usable(rec, er->tag, er->commit))
		json_incref(rec);
	else if ((rc = read_record(&rec, b->c, b->pub, er)) < 0)
		return rc;
	if (!(byver = json_object_get(b->now, er->plugin))) {
		byver = json_object();
		json_object_set_new(b->now, er->plugin, byver);
	}
	json_object_set_new(byver, er->version, rec);
	json_t *f;
	size_t n = 0;
	er->files = sluice_xcalloc(json_array_size(json_object_get(rec, "files")) + 1, sizeof(char *));
	json_array_foreach (json_object_get(rec, "files"), i, f)
		er->files[n++] = sluice_xstrdup(json_string_value(f));
	er->entry = entry_of(b->c, er, rec, pp, r);
	*out = er->entry;
	return 0;
}

static int build_entry(void *ctx, const char *group, const sluice_publish_plugin *pp,
		       const sluice_rollout_release *r)
{
	build_ctx *b = ctx;
	json_t *entry = NULL;
	int rc;

	if ((rc = release_entry(b, pp, r, &entry)) < 0)
		return rc;
	json_array_append(json_object_get(b->groups, group), entry);
	return 0;
}

/* The previous publish's records, when they are of this build's format. */
static json_t *old_records(const sluice_publish_ctx *c, const sluice_publisher *pub)
{
	json_t *cache = pub && pub->load_cache ? pub->load_cache(pub, c) : NULL, *rec = NULL;
	if (json_integer_value(json_object_get(cache, "format")) == CACHE_FORMAT &&
	    json_is_object(json_object_get(cache, "releases")))
		rec = json_incref(json_object_get(cache, "releases"));
	json_decref(cache);
	return rec;
}

static int build(sluice_effective *out, const sluice_publish_ctx *c, const sluice_publisher *pub,
		 char *signature)
{
	char when[SLUICE_TIME_BUFSZ];
	build_ctx b = {c, pub, out, json_object(), old_records(c, pub), json_object()};
	int rc;

	memset(out, 0, sizeof *out);
	out->signature = signature;
	for (size_t g = 0; g < c->ngroups; g++)
		json_object_set_new(b.groups, c->groups[g], json_array());
	if ((rc = each_assignment(c, build_entry, &b)) < 0)
		goto done;
	/* the head as the document is built: a copy of it outside the
	 * database (docs/publishing.md) */
	json_t *head = c->audit_head_hash ? json_pack("{s:I, s:s}", "id",
						      (json_int_t)c->audit_head_id, "hash",
						      c->audit_head_hash)
					  : json_null();
	out->doc = json_pack("{s:s, s:s, s:o, s:O}", "workspace", c->workspace, "generated_at",
			     sluice_time_format(when, c->now), "audit_head", head, "groups",
			     b.groups);
	out->cache = json_pack("{s:i, s:O}", "format", CACHE_FORMAT, "releases", b.now);
done:
	json_decref(b.groups);
	json_decref(b.old);
	json_decref(b.now);
	if (rc < 0)
		sluice_effective_clear(out);
	return rc;
}

int sluice_effective_build(sluice_effective *out, const sluice_publish_ctx *c,
			   const sluice_publisher *pub)
{
	char *sig = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = sluice_publish_signature(&sig, c)) < 0)
		return rc;
	return build(out, c, pub, sig); /* takes sig */
}

void sluice_effective_clear(sluice_effective *eff)
{
	if (!eff)
		return;
	for (size_t i = 0; i < eff->nreleases; i++) {
		sluice_effective_release *er = &eff->releases[i];
		free(er->plugin);
		free(er->version);
		free(er->tag);
		free(er->commit);
		sluice_strv_free(er->files);
		json_decref(er->entry);
	}
	free(eff->releases);
	json_decref(eff->doc);
	json_decref(eff->cache);
	free(eff->signature);
	memset(eff, 0, sizeof *eff);
}

int sluice_publish_run(bool *changed, const sluice_publish_ctx *c, bool force)
{
	const sluice_publisher *pub;
	sluice_effective eff;
	char *sig = NULL;
	int rc;

	*changed = false;
	if (!c->publish_type)
		return 0;
	if (!(pub = sluice_publisher_find(c->publish_type)))
		return SLUICE_EINVAL;
	if ((rc = sluice_publish_signature(&sig, c)) < 0)
		return rc;
	if (!force && pub->current(pub, c, sig)) {
		free(sig);
		return 0;
	}
	if ((rc = build(&eff, c, pub, sig)) < 0) /* takes sig */
		return rc;
	rc = pub->publish(pub, c, &eff);
	sluice_effective_clear(&eff);
	if (rc == 0)
		*changed = true;
	return rc;
}

const char *sluice_publish_target(const sluice_publish_conf *pc)
{
	return pc->path.s ? pc->path.s : pc->url.s ? pc->url.s : "";
}

char *sluice_publish_label(const char *type, const char *target)
{
	return sluice_xasprintf("%s publisher at '%s'", type, target);
}

int sluice_publish_run_all(sluice_publish_outcome *out, const sluice_publish_ctx *c,
			   const sluice_publish_conf *pubs, size_t n, bool force)
{
	size_t failed = 0, first = 0;

	for (size_t i = 0; i < n; i++) {
		sluice_publish_ctx one = *c;
		one.publish_type = pubs[i].type.s;
		one.publish_path = pubs[i].path.s;
		one.publish_url = pubs[i].url.s;
		one.publish_secret_env = pubs[i].secret_env.s;
		one.mode = pubs[i].mode_bits;
		memset(&out[i], 0, sizeof out[i]);
		if ((out[i].rc = sluice_publish_run(&out[i].changed, &one, force)) < 0) {
			out[i].error = sluice_xstrdup(sluice_error_last());
			if (!failed++)
				first = i;
		}
	}
	if (!failed)
		return 0;
	if (n == 1)
		return sluice_error_set(out[first].rc, "%s", out[first].error);
	char *label = sluice_publish_label(pubs[first].type.s ? pubs[first].type.s : "?",
					   sluice_publish_target(&pubs[first]));
	int rc = failed == 1
			 ? sluice_error_set(out[first].rc, "%s: %s", label, out[first].error)
			 : sluice_error_set(out[first].rc,
					    "%s: %s; %zu more publisher%s failed: see 'sluice status'",
					    label, out[first].error, failed - 1, failed > 2 ? "s" : "");
	free(label);
	return rc;
}

void sluice_publish_outcomes_clear(sluice_publish_outcome *out, size_t n)
{
	for (size_t i = 0; out && i < n; i++) {
		free(out[i].error);
		memset(&out[i], 0, sizeof out[i]);
	}
}

void sluice_publish_state_combine(sluice_publish_state *out, const sluice_publish_state *each,
				  const char *const *types, const char *const *targets, size_t n)
{
	bool all_ok = n > 0, all_succeeded = n > 0;
	ptrdiff_t never = -1;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < n; i++) {
		const sluice_publish_state *st = &each[i];
		if (!st->known) {
			all_ok = all_succeeded = false;
			if (never < 0)
				never = (ptrdiff_t)i;
			continue;
		}
		out->known = true;
		if (st->at > out->at)
			out->at = st->at;
		if (!st->last_ok_at)
			all_succeeded = false;
		else if (!out->last_ok_at || st->last_ok_at < out->last_ok_at)
			out->last_ok_at = st->last_ok_at;
		if (st->ok)
			continue;
		all_ok = false;
		if (out->error)
			continue;
		if (n == 1) {
			out->error = sluice_xstrdup(st->error ? st->error : "unknown error");
		} else {
			char *label = sluice_publish_label(types[i], targets[i]);
			out->error = sluice_xasprintf("%s: %s", label,
						      st->error ? st->error : "unknown error");
			free(label);
		}
	}
	/* a publisher added since the last publish has no outcome yet: the
	 * combined one is not ok until it has published */
	if (out->known && !out->error && never >= 0) {
		char *label = sluice_publish_label(types[never], targets[never]);
		out->error = sluice_xasprintf("%s: not published yet", label);
		free(label);
	}
	out->ok = out->known && all_ok;
	if (!all_succeeded)
		out->last_ok_at = 0;
}

int sluice_publish_state_load(sluice_publish_state *all, sluice_publish_state **each,
			      sluice_store *s, const char *workspace, const sluice_workspace *ws)
{
	size_t n = ws->npublishers;
	sluice_publish_state *st = sluice_xcalloc(n + 1, sizeof *st);
	const char **types = sluice_xcalloc(n + 1, sizeof *types);
	const char **targets = sluice_xcalloc(n + 1, sizeof *targets);
	int rc = 0;

	memset(all, 0, sizeof *all);
	for (size_t i = 0; i < n; i++) {
		types[i] = ws->publishers[i].type.s;
		targets[i] = sluice_publish_target(&ws->publishers[i]);
		if ((rc = sluice_store_publish_state_get(&st[i], s, workspace, types[i],
							 targets[i])) < 0)
			goto done;
	}
	sluice_publish_state_combine(all, st, types, targets, n);
	if (each) {
		*each = st;
		st = NULL;
	}
done:
	sluice_publish_states_free(st, n);
	free(types);
	free(targets);
	return rc;
}

void sluice_publish_states_free(sluice_publish_state *each, size_t n)
{
	for (size_t i = 0; each && i < n; i++)
		sluice_publish_state_clear(&each[i]);
	free(each);
}
