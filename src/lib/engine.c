/* The engine context: configuration, store and admin-repo commit, opened
 * once per command. */
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "sluice/audit.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/source.h"
#include "sluice/util.h"
#include "sluice/validate.h"

/* Storage behind e->rules. */
typedef struct {
	sluice_rollout_admin *admins;
	const char ***emails;
	sluice_rollout_freeze *freeze;
	sluice_rollout_gate *gates;
	const char **checklist;
} engine_priv;

char *sluice_engine_path(const sluice_engine *e, const char *rel)
{
	if (!rel)
		return NULL;
	if (rel[0] == '/' || strcmp(e->root, ".") == 0)
		return sluice_xstrdup(rel);
	return sluice_path_join(e->root, rel);
}

/* A plain relative path in a URL resolves against --root, as in fetch. */
static char *rooted_url(const sluice_engine *e, char *url)
{
	if (!url || url[0] == '/' || strstr(url, "://") || strchr(url, ':'))
		return url;
	char *r = sluice_path_join(e->root, url);
	free(url);
	return r;
}

/* HEAD of --root when it is a git work tree (not a directory inside one:
 * the configuration must be the repository's own). */
static char *admin_commit(const char *root)
{
	git_repository *repo = NULL;
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1];
	char *out = NULL;

	if (sluice_source_init() < 0)
		return NULL;
	if (git_repository_open_ext(&repo, root, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		git_error_clear();
		return NULL;
	}
	if (!git_repository_is_bare(repo) && git_reference_name_to_id(&oid, repo, "HEAD") == 0) {
		git_oid_tostr(hex, sizeof hex, &oid);
		out = sluice_xstrdup(hex);
	}
	git_error_clear();
	git_repository_free(repo);
	return out;
}

static void flatten_rules(sluice_engine *e)
{
	engine_priv *p = e->priv;
	const sluice_workspace *ws = e->ws;
	sluice_rollout_rules *r = &e->rules;

	memcpy(r->min_approvals, ws->min_approvals, sizeof r->min_approvals);
	r->prevent_self_approval = ws->prevent_self_approval.set && ws->prevent_self_approval.v;
	r->approval_ttl_days = ws->approval_ttl_days.set ? ws->approval_ttl_days.v : 0;

	p->admins = sluice_xcalloc(ws->nadmins + 1, sizeof *p->admins);
	p->emails = sluice_xcalloc(ws->nadmins + 1, sizeof *p->emails);
	for (size_t i = 0; i < ws->nadmins; i++) {
		const sluice_admin *a = &ws->admins[i];
		p->emails[i] = sluice_xcalloc(a->emails.count + 1, sizeof(char *));
		for (size_t k = 0; k < a->emails.count; k++)
			p->emails[i][k] = a->emails.items[k].s;
		p->admins[i].id = a->id.s;
		p->admins[i].roles = a->roles;
		p->admins[i].emails = p->emails[i];
		p->admins[i].nemails = a->emails.count;
	}
	r->admins = p->admins;
	r->nadmins = ws->nadmins;

	p->freeze = sluice_xcalloc(ws->nfreeze + 1, sizeof *p->freeze);
	for (size_t i = 0; i < ws->nfreeze; i++) {
		p->freeze[i].from = ws->freeze[i].from;
		p->freeze[i].to = ws->freeze[i].to;
		p->freeze[i].reason = ws->freeze[i].reason.s;
	}
	r->freeze = p->freeze;
	r->nfreeze = ws->nfreeze;

	if (!e->policy)
		return;
	r->supersede = e->policy->on_new_release.s &&
		       strcmp(e->policy->on_new_release.s, "supersede") == 0;
	p->gates = sluice_xcalloc(e->policy->ngates + 1, sizeof *p->gates);
	for (size_t i = 0; i < e->policy->ngates; i++) {
		const sluice_health_gate *g = &e->policy->gates[i];
		sluice_rollout_gate *o = &p->gates[i];
		o->stage = g->stage.s;
		o->has_max_tool_error_rate = g->has_max_tool_error_rate;
		o->has_max_refusal_rate = g->has_max_refusal_rate;
		o->has_max_escalation_rate = g->has_max_escalation_rate;
		o->has_min_positive_feedback_ratio = g->has_min_positive_feedback_ratio;
		o->max_tool_error_rate = g->max_tool_error_rate;
		o->max_refusal_rate = g->max_refusal_rate;
		o->max_escalation_rate = g->max_escalation_rate;
		o->min_positive_feedback_ratio = g->min_positive_feedback_ratio;
		o->min_samples = g->min_samples;
		o->min_feedback_samples = g->min_feedback_samples;
		o->rollback_on_breach = g->on_breach.s && strcmp(g->on_breach.s, "rollback") == 0;
	}
	r->gates = p->gates;
	r->ngates = e->policy->ngates;
	p->checklist = sluice_xcalloc(e->policy->nchecklist + 1, sizeof(char *));
	for (size_t i = 0; i < e->policy->nchecklist; i++)
		p->checklist[i] = e->policy->checklist[i].item.s;
	r->checklist_required = p->checklist;
	r->nchecklist_required = e->policy->nchecklist;
}

static int load_config(sluice_engine *e, const char *workspace_name, sluice_diags *d)
{
	int rc;

	e->workspace_path = sluice_workspace_find(e->root, workspace_name);
	if (!e->workspace_path)
		return sluice_error_code() ? sluice_error_code() : SLUICE_ENOTFOUND;
	if (strcmp(e->root, ".") == 0 && strncmp(e->workspace_path, "./", 2) == 0)
		memmove(e->workspace_path, e->workspace_path + 2, strlen(e->workspace_path + 2) + 1);
	if ((rc = sluice_workspace_load(&e->ws, e->workspace_path, d)) < 0)
		return rc;
	if (!d->errors)
		sluice_validate_workspace(e->ws, e->root, d);
	if (!d->errors && e->ws->rollout_policy.s) {
		char *rel = sluice_xasprintf("rollouts/%s.yaml", e->ws->rollout_policy.s);
		char *path = sluice_engine_path(e, rel);
		rc = sluice_rollout_policy_load(&e->policy, path, d);
		free(path);
		free(rel);
		if (rc < 0)
			return rc;
	}
	if (d->errors) {
		sluice_diags_sort(d);
		return sluice_error_set(SLUICE_EINVAL,
					"the workspace '%s' is not valid (%zu error%s); run 'sluice "
					"validate' and fix it",
					e->workspace_path, d->errors, d->errors == 1 ? "" : "s");
	}
	e->workspace = e->ws->name.s;
	return 0;
}

int sluice_engine_open(sluice_engine **out, const char *root, const char *db_path,
		       const char *cache_dir, const char *workspace_name, int64_t now,
		       int flags, sluice_diags *diags)
{
	sluice_engine *e = sluice_xcalloc(1, sizeof *e);
	int rc;

	*out = NULL;
	e->root = sluice_xstrdup(root ? root : ".");
	e->db_path = db_path ? sluice_xstrdup(db_path)
			     : sluice_xasprintf("%s/.sluice/sluice.db", e->root);
	e->cache_dir = cache_dir ? sluice_xstrdup(cache_dir)
				 : sluice_xasprintf("%s/.sluice/cache", e->root);
	e->now = now;
	e->flags = flags;
	e->priv = sluice_xcalloc(1, sizeof(engine_priv));

	if ((rc = load_config(e, workspace_name, diags)) < 0)
		goto done;
	flatten_rules(e);

	e->watched = sluice_xcalloc(e->ws->nplugins + 1, sizeof *e->watched);
	for (size_t i = 0; i < e->ws->nplugins; i++) {
		sluice_watched *w = &e->watched[e->nwatched++];
		w->ws_plugin = &e->ws->plugins[i];
		w->key = w->ws_plugin->repository.s ? w->ws_plugin->repository.s
						    : w->ws_plugin->url.s;
		w->url = rooted_url(e, sluice_workspace_repo_url(e->ws, w->ws_plugin));
	}

	e->admin_commit = admin_commit(e->root);
	if ((rc = sluice_store_open(&e->store, e->db_path,
				    flags & SLUICE_ENGINE_READONLY ? SLUICE_STORE_READONLY : 0)) < 0)
		goto done;
	sluice_store_set_admin_commit(e->store, e->admin_commit);
	rc = 0;
done:
	if (rc < 0)
		sluice_engine_free(e);
	else
		*out = e;
	return rc;
}

void sluice_engine_free(sluice_engine *e)
{
	if (!e)
		return;
	engine_priv *p = e->priv;
	if (p) {
		for (size_t i = 0; p->emails && e->ws && i < e->ws->nadmins; i++)
			free(p->emails[i]);
		free(p->emails);
		free(p->admins);
		free(p->freeze);
		free(p->gates);
		free(p->checklist);
		free(p);
	}
	for (size_t i = 0; i < e->nwatched; i++)
		free(e->watched[i].url);
	free(e->watched);
	sluice_store_free(e->store);
	sluice_rollout_policy_free(e->policy);
	sluice_workspace_free(e->ws);
	free(e->admin_commit);
	free(e->workspace_path);
	free(e->cache_dir);
	free(e->db_path);
	free(e->root);
	free(e);
}

int sluice_engine_authorize(char **actor_out, sluice_engine *e, const char *as_flag,
			    unsigned roles, const char *command, const char *plugin,
			    const char *version)
{
	char *actor = NULL, *why = NULL;
	const char *claimed = as_flag ? as_flag : getenv("SLUICE_ACTOR");
	int rc, arc;

	if (actor_out)
		*actor_out = NULL;
	rc = sluice_identity_actor(&actor, e->ws, as_flag, getenv("SLUICE_ACTOR"));
	if (rc == 0)
		rc = sluice_identity_require_role(e->ws, actor, roles, command);
	if (rc == 0) {
		sluice_store_set_actor(e->store, actor);
		if (actor_out)
			*actor_out = actor;
		else
			free(actor);
		return 0;
	}
	if (rc != SLUICE_EREFUSED || (e->flags & SLUICE_ENGINE_READONLY)) {
		free(actor);
		return rc;
	}
	/* The refusal goes in the audit log under the name that was tried
	 * (or the OS user that tried it). */
	why = sluice_xstrdup(sluice_error_last());
	sluice_audit_entry ent = {
		.at = e->now,
		.actor = actor ? actor : claimed && *claimed ? claimed : "unknown",
		.action = "access.refused",
		.plugin = plugin,
		.version = version,
		.details = json_pack("{s:s, s:s, s:s?}", "command", command, "reason", why,
				     "claimed", claimed && *claimed ? claimed : NULL),
	};
	arc = sluice_audit_append(e->store, &ent, NULL);
	json_decref(ent.details);
	if (arc < 0)
		rc = arc;
	else
		sluice_error_set(rc, "%s", why);
	free(why);
	free(actor);
	return rc;
}
