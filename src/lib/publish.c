/* The effective state, built once from the planner's input and handed to
 * the workspace's publisher (docs/publishing.md). */
#include <stdlib.h>
#include <string.h>

#include "sluice/error.h"
#include "sluice/publish.h"
#include "sluice/rollout.h"
#include "sluice/source.h"
#include "sluice/util.h"

/* The format of effective.json; part of the signature so a new format is
 * published even when nothing else changed. */
#define EFFECTIVE_FORMAT 1

static const sluice_publisher *const publishers[] = {
	&sluice_publisher_directory,
	NULL,
};

const sluice_publisher *sluice_publisher_find(const char *type)
{
	for (const sluice_publisher *const *p = publishers; *p; p++)
		if (strcmp((*p)->type, type) == 0)
			return *p;
	sluice_error_set(SLUICE_EINVAL,
			 "publish.type '%s' is not supported by this build yet; use 'directory'",
			 type);
	return NULL;
}

/* The release groups have, per group in workspace order: calls cb for each
 * (group, plugin index, release). */
typedef int (*assign_cb)(void *ctx, const char *group, const sluice_engine_input *in, size_t p,
			 const sluice_rollout_release *r);

static int each_assignment(sluice_engine *e, const sluice_engine_input *in, assign_cb cb, void *ctx)
{
	int rc;
	for (size_t g = 0; g < e->ws->ngroups; g++) {
		const char *group = e->ws->groups[g].name.s;
		for (size_t p = 0; p < in->in.nplugins; p++) {
			const sluice_rollout_plugin *pl = &in->in.plugins[p];
			ptrdiff_t r = sluice_rollout_assigned(pl, group);
			if (r < 0)
				continue;
			if ((rc = cb(ctx, group, in, p, &pl->releases[r])) < 0)
				return rc;
		}
	}
	return 0;
}

static int sig_line(void *ctx, const char *group, const sluice_engine_input *in, size_t p,
		    const sluice_rollout_release *r)
{
	sluice_buf_printf(ctx, "assign\t%s\t%s\t%s\t%s\n", group, in->ids[p], r->version, r->commit);
	return 0;
}

static int signature_of(char **out, sluice_engine *e, const sluice_engine_input *in)
{
	sluice_buf b = SLUICE_BUF_INIT;
	int rc;

	sluice_buf_printf(&b, "format\t%d\nworkspace\t%s\npath\t%s\n", EFFECTIVE_FORMAT,
			  e->workspace, e->ws->publish_path.s ? e->ws->publish_path.s : "");
	for (size_t g = 0; g < e->ws->ngroups; g++)
		sluice_buf_printf(&b, "group\t%s\n", e->ws->groups[g].name.s);
	for (size_t p = 0; p < in->in.nplugins; p++) {
		const sluice_kvs *env = &in->watched[p]->ws_plugin->environment;
		for (size_t k = 0; k < env->count; k++)
			sluice_buf_printf(&b, "env\t%s\t%s=%s\n", in->ids[p], env->items[k].key.s,
					  env->items[k].value.s ? env->items[k].value.s : "");
	}
	rc = each_assignment(e, in, sig_line, &b);
	*out = rc < 0 ? NULL : sluice_buf_detach(&b);
	sluice_buf_clear(&b);
	return rc;
}

int sluice_effective_signature(char **out, sluice_engine *e)
{
	sluice_engine_input *in = NULL;
	int rc;

	*out = NULL;
	if ((rc = sluice_engine_input_load(&in, e, NULL)) < 0)
		return rc;
	rc = signature_of(out, e, in);
	sluice_engine_input_free(in);
	return rc;
}

static void add_file(char ***files, size_t *n, const char *path)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*files)[i], path) == 0)
			return;
	*files = sluice_xrealloc(*files, (*n + 2) * sizeof(char *));
	(*files)[(*n)++] = sluice_xstrdup(path);
	(*files)[*n] = NULL;
}

typedef struct {
	sluice_engine *e;
	const sluice_publisher *pub;
	sluice_effective *eff;
	json_t *groups;
} build_ctx;

/* Loads the release's files once per build. */
static int open_release(build_ctx *b, const sluice_engine_input *in, size_t p,
			const sluice_rollout_release *r, sluice_effective_release **out)
{
	sluice_effective *eff = b->eff;
	sluice_effective_release *er;
	sluice_diags d;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < eff->nreleases; i++)
		if (strcmp(eff->releases[i].plugin, in->ids[p]) == 0 &&
		    strcmp(eff->releases[i].version, r->version) == 0) {
			*out = &eff->releases[i];
			return 0;
		}
	eff->releases = sluice_xrealloc(eff->releases, (eff->nreleases + 1) * sizeof *eff->releases);
	er = &eff->releases[eff->nreleases++];
	memset(er, 0, sizeof *er);
	er->plugin = sluice_xstrdup(in->ids[p]);
	er->version = sluice_xstrdup(r->version);
	er->tag = sluice_xstrdup(r->tag);
	er->commit = sluice_xstrdup(r->commit);
	if (sluice_path_problem(er->plugin) || strchr(er->plugin, '/') ||
	    sluice_path_problem(er->version) || strchr(er->version, '/'))
		return sluice_error_set(SLUICE_EINVAL, "cannot publish '%s@%s': not a safe file name",
					er->plugin, er->version);
	rc = sluice_source_open_tree(&er->tree, b->e->cache_dir, in->watched[p]->key, r->tag,
				     r->commit);
	if (rc < 0 && b->pub && b->pub->open_release &&
	    b->pub->open_release(b->pub, b->e, er->plugin, er->version, er->commit, &er->tree) == 0)
		rc = 0;
	if (rc < 0)
		return sluice_error_set(rc, "cannot read the files of %s@%s: %s", er->plugin,
					er->version, sluice_error_last());
	sluice_diags_init(&d);
	rc = sluice_plugin_load(&er->loaded, er->tree, b->e->ws->max_file_bytes, &d);
	sluice_diags_clear(&d);
	if (rc < 0 || !er->loaded)
		return sluice_error_set(rc < 0 ? rc : SLUICE_EINVAL, "cannot load %s@%s: %s",
					er->plugin, er->version, sluice_error_last());
	add_file(&er->files, &n, "plugin.yaml");
	add_file(&er->files, &n, "deploy/workspace-config.yaml");
	const sluice_manifest *m = &er->loaded->manifest;
	for (size_t i = 0; i < m->ntools; i++)
		if (m->tools[i].definition.s)
			add_file(&er->files, &n, m->tools[i].definition.s);
	const char *guidance[] = {m->guidance_role.s, m->guidance_workflow.s,
				  m->guidance_output_format.s, m->guidance_escalation.s};
	for (size_t i = 0; i < 4; i++)
		if (guidance[i])
			add_file(&er->files, &n, guidance[i]);
	*out = er;
	return 0;
}

static json_t *file_list(const sluice_effective_release *er, const char *prefix, bool tools)
{
	json_t *a = json_array();
	const sluice_manifest *m = &er->loaded->manifest;
	if (tools) {
		for (size_t i = 0; i < m->ntools; i++)
			if (m->tools[i].definition.s)
				json_array_append_new(a, json_sprintf("%s/%s", prefix,
								      m->tools[i].definition.s));
		return a;
	}
	const char *guidance[] = {m->guidance_role.s, m->guidance_workflow.s,
				  m->guidance_output_format.s, m->guidance_escalation.s};
	for (size_t i = 0; i < 4; i++)
		if (guidance[i])
			json_array_append_new(a, json_sprintf("%s/%s", prefix, guidance[i]));
	return a;
}

static int build_entry(void *ctx, const char *group, const sluice_engine_input *in, size_t p,
		       const sluice_rollout_release *r)
{
	build_ctx *b = ctx;
	sluice_effective_release *er = NULL;
	int rc;

	if ((rc = open_release(b, in, p, r, &er)) < 0)
		return rc;
	const sluice_deploy *d = &er->loaded->deploy;
	const sluice_kvs *over = &in->watched[p]->ws_plugin->environment;
	json_t *env = json_object(), *secrets = json_object();
	/* the deploy file's environment, overridden by the workspace's */
	for (size_t i = 0; i < d->environment.count; i++)
		if (d->environment.items[i].key.s)
			json_object_set_new(env, d->environment.items[i].key.s,
					    json_string(d->environment.items[i].value.s
							? d->environment.items[i].value.s : ""));
	for (size_t i = 0; i < over->count; i++)
		if (over->items[i].key.s)
			json_object_set_new(env, over->items[i].key.s,
					    json_string(over->items[i].value.s ? over->items[i].value.s
									       : ""));
	/* references only: the value is never read here */
	for (size_t i = 0; i < d->nsecrets; i++)
		if (d->secrets[i].var.s)
			json_object_set_new(secrets, d->secrets[i].var.s,
					    json_pack("{s:s?, s:s?, s:n}", "provider",
						      d->secrets[i].provider.s, "name",
						      d->secrets[i].name.s, "version"));
	char *prefix = sluice_xasprintf("releases/%s/%s", er->plugin, er->version);
	json_t *entry = json_pack(
		"{s:s, s:s, s:s, s:s, s:o, s:o, s:{s:b, s:b, s:b, s:s?}, s:o, s:o, s:s}", "id",
		er->plugin, "version", er->version, "tag", er->tag, "commit", er->commit,
		"environment", env, "secrets", secrets, "controls", "require_admin_approval",
		d->require_admin_approval.set && d->require_admin_approval.v, "allow_user_disable",
		d->allow_user_disable.set && d->allow_user_disable.v, "collect_feedback",
		d->collect_feedback.set && d->collect_feedback.v, "audit_dashboard",
		d->audit_dashboard.s, "tools", file_list(er, prefix, true), "guidance",
		file_list(er, prefix, false), "files", prefix);
	free(prefix);
	json_array_append_new(json_object_get(b->groups, group), entry);
	return 0;
}

int sluice_effective_build(sluice_effective *out, sluice_engine *e, const sluice_publisher *pub)
{
	sluice_engine_input *in = NULL;
	char when[SLUICE_TIME_BUFSZ];
	build_ctx b = {e, pub, out, json_object()};
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = sluice_engine_input_load(&in, e, NULL)) < 0)
		goto done;
	if ((rc = signature_of(&out->signature, e, in)) < 0)
		goto done;
	for (size_t g = 0; g < e->ws->ngroups; g++)
		json_object_set_new(b.groups, e->ws->groups[g].name.s, json_array());
	if ((rc = each_assignment(e, in, build_entry, &b)) < 0)
		goto done;
	out->doc = json_pack("{s:s, s:s, s:O}", "workspace", e->workspace, "generated_at",
			     sluice_time_format(when, e->now), "groups", b.groups);
done:
	json_decref(b.groups);
	sluice_engine_input_free(in);
	if (rc < 0)
		sluice_effective_clear(out);
	return rc;
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
		sluice_plugin_free(er->loaded);
		sluice_tree_free(er->tree);
		sluice_strv_free(er->files);
	}
	free(eff->releases);
	json_decref(eff->doc);
	free(eff->signature);
	memset(eff, 0, sizeof *eff);
}

int sluice_engine_publish(bool *changed, sluice_engine *e, bool force)
{
	const sluice_publisher *pub;
	sluice_effective eff;
	char *sig = NULL;
	int rc;

	*changed = false;
	if (!e->ws->publish_type.s)
		return 0;
	if (!(pub = sluice_publisher_find(e->ws->publish_type.s)))
		return SLUICE_EINVAL;
	if (!force) {
		if ((rc = sluice_effective_signature(&sig, e)) < 0)
			return rc;
		bool same = pub->current(pub, e, sig);
		free(sig);
		if (same)
			return 0;
	}
	if ((rc = sluice_effective_build(&eff, e, pub)) < 0)
		return rc;
	rc = pub->publish(pub, e, &eff);
	sluice_effective_clear(&eff);
	if (rc == 0)
		*changed = true;
	return rc;
}
