/* The engine context: configuration, store and admin-repo commit, opened
 * once per command. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include <git2.h>

#include "sluice/audit.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/publish.h"
#include "sluice/semver.h"
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
	return sluice_path_under_root(e->root, rel);
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

/* ---- plugins and the planner's input ---------------------------------- */

char *sluice_engine_plugin_id(sluice_engine *e, const sluice_watched *w)
{
	sluice_source_row row;
	char *id = NULL;

	if (sluice_store_source_get(&row, e->store, w->key) == 0 && row.plugin) {
		id = row.plugin;
		row.plugin = NULL;
	}
	sluice_source_row_clear(&row);
	if (!id && sluice_source_plugin_id(&id, e->cache_dir, w->key) < 0)
		id = NULL;
	sluice_error_clear();
	return id ? id : sluice_xstrdup(w->key);
}

const sluice_watched *sluice_engine_find(sluice_engine *e, const char *name)
{
	for (size_t i = 0; i < e->nwatched; i++) {
		const sluice_watched *w = &e->watched[i];
		if (strcmp(w->key, name) == 0 ||
		    (w->ws_plugin->url.s && strcmp(w->ws_plugin->url.s, name) == 0))
			return w;
	}
	for (size_t i = 0; i < e->nwatched; i++) {
		char *id = sluice_engine_plugin_id(e, &e->watched[i]);
		bool match = strcmp(id, name) == 0;
		free(id);
		if (match)
			return &e->watched[i];
	}
	sluice_error_set(SLUICE_ENOTFOUND,
			 "no plugin '%s' in workspace '%s': name a plugin id or a repository "
			 "listed under 'plugins'; run 'sluice reconcile' first if it is new",
			 name, e->workspace);
	return NULL;
}

/* What Sluice checks itself (PRODUCT.md 3.6): a recorded release that
 * passed validation has its manifest validated, its permissions reviewed
 * against policy, and is registered. */
#define auto_checklist sluice_rollout_checked_items

typedef struct {
	sluice_store_plugin_state **states;
	size_t nstates;
	sluice_rollout_plugin *plugins;
	sluice_rollout_approval *approvals;
	const char ***lists; /* checklist arrays made here */
	size_t nlists;
} input_priv;

static void complete_release(input_priv *p, sluice_rollout_release *r, const sluice_range *range)
{
	sluice_semver v;

	sluice_semver_init(&v);
	if (range && (sluice_semver_parse(&v, r->version) < 0 || !sluice_range_satisfies(range, &v)))
		r->out_of_range = true;
	sluice_semver_clear(&v);
	if (r->refused)
		return;
	size_t n = r->nchecklist_done, cap = n + sizeof auto_checklist / sizeof auto_checklist[0];
	const char **items = sluice_xcalloc(cap + 1, sizeof *items);
	for (size_t i = 0; i < n; i++)
		items[i] = r->checklist_done[i];
	for (size_t k = 0; k < sizeof auto_checklist / sizeof auto_checklist[0]; k++) {
		bool have = false;
		for (size_t i = 0; i < r->nchecklist_done && !have; i++)
			have = strcmp(r->checklist_done[i], auto_checklist[k]) == 0;
		if (!have)
			items[n++] = auto_checklist[k];
	}
	p->lists = sluice_xrealloc(p->lists, (p->nlists + 1) * sizeof *p->lists);
	p->lists[p->nlists++] = items;
	r->checklist_done = items;
	r->nchecklist_done = n;
}

int sluice_engine_input_load(sluice_engine_input **out, sluice_engine *e, const char *plugin)
{
	sluice_engine_input *in = sluice_xcalloc(1, sizeof *in);
	input_priv *p = sluice_xcalloc(1, sizeof *p);
	const sluice_watched *only = NULL;
	size_t napprovals = 0;
	bool frozen = false;
	int rc = 0;

	*out = NULL;
	in->priv = p;
	if (plugin && !(only = sluice_engine_find(e, plugin))) {
		rc = SLUICE_ENOTFOUND;
		goto done;
	}
	in->watched = sluice_xcalloc(e->nwatched + 1, sizeof *in->watched);
	in->ids = sluice_xcalloc(e->nwatched + 1, sizeof *in->ids);
	p->states = sluice_xcalloc(e->nwatched + 1, sizeof *p->states);
	p->plugins = sluice_xcalloc(e->nwatched + 1, sizeof *p->plugins);
	for (size_t i = 0; i < e->nwatched; i++) {
		const sluice_watched *w = &e->watched[i];
		sluice_store_plugin_state *st = NULL;
		sluice_range *range = NULL;
		char *id;

		if (only && w != only)
			continue;
		id = sluice_engine_plugin_id(e, w);
		if ((rc = sluice_store_load_plugin_state(&st, e->store, e->workspace, id)) < 0) {
			free(id);
			goto done;
		}
		if (w->ws_plugin->versions.s &&
		    sluice_range_parse(&range, w->ws_plugin->versions.s, NULL, 0) < 0)
			range = NULL; /* validation already reported it */
		for (size_t k = 0; k < st->plugin.nreleases; k++)
			complete_release(p, &st->plugin.releases[k], range);
		sluice_range_free(range);
		in->watched[p->nstates] = w;
		in->ids[p->nstates] = id;
		p->plugins[p->nstates] = st->plugin;
		p->states[p->nstates++] = st;
		napprovals += st->napprovals;
	}
	p->approvals = sluice_xcalloc(napprovals + 1, sizeof *p->approvals);
	for (size_t i = 0; i < p->nstates; i++)
		for (size_t k = 0; k < p->states[i]->napprovals; k++)
			p->approvals[in->in.napprovals++] = p->states[i]->approvals[k];
	if ((rc = sluice_store_workspace_frozen(&frozen, &in->frozen_reason, e->store,
						e->workspace)) < 0)
		goto done;
	in->in.plugins = p->plugins;
	in->in.nplugins = p->nstates;
	in->in.approvals = p->approvals;
	in->in.rules = e->rules;
	in->in.rules.frozen = frozen;
	in->in.rules.frozen_reason = in->frozen_reason;
	in->in.now = e->now;
done:
	if (rc < 0)
		sluice_engine_input_free(in);
	else
		*out = in;
	return rc;
}

void sluice_engine_input_free(sluice_engine_input *in)
{
	if (!in)
		return;
	input_priv *p = in->priv;
	for (size_t i = 0; i < p->nstates; i++) {
		sluice_store_plugin_state_free(p->states[i]);
		free(in->ids[i]);
	}
	for (size_t i = 0; i < p->nlists; i++)
		free(p->lists[i]);
	free(p->lists);
	free(p->states);
	free(p->plugins);
	free(p->approvals);
	free(p);
	free(in->ids);
	free(in->watched);
	free(in->frozen_reason);
	free(in);
}

/* ---- reconcile ------------------------------------------------------------ */

#define RECONCILE_LEASE "reconcile"
#define RECONCILE_LEASE_TTL 600 /* seconds of real time; renewed per plugin */

static void note(sluice_reconcile_item *it, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(sluice_reconcile_item *it, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	while (it->notes && it->notes[n])
		n++;
	it->notes = sluice_xrealloc(it->notes, (n + 2) * sizeof(char *));
	it->notes[n] = msg;
	it->notes[n + 1] = NULL;
}

static bool in_strv(char **v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

/* The deploy snapshot the store rebuilds the planner's input from
 * (docs/database.md). */
static char *deploy_snapshot(const sluice_plugin *pl)
{
	const sluice_deploy *d = &pl->deploy;
	const sluice_manifest *m = &pl->manifest;
	json_t *root = json_object(), *stages = json_array(), *life = json_object();
	int64_t t;

	for (size_t i = 0; i < d->nstages; i++) {
		const sluice_stage *st = &d->stages[i];
		json_t *g = json_array();
		for (size_t k = 0; k < st->groups.count; k++)
			json_array_append_new(g, json_string(st->groups.items[k].s ? st->groups.items[k].s : ""));
		json_array_append_new(stages,
				      json_pack("{s:s, s:o, s:I, s:b}", "name",
						st->name.s ? st->name.s : "", "groups", g,
						"duration_days",
						(json_int_t)(st->duration_days.set ? st->duration_days.v : 0),
						"requires_approval",
						st->requires_approval.set && st->requires_approval.v));
	}
	json_object_set_new(root, "stages", stages);
	json_object_set_new(root, "controls",
			    json_pack("{s:b, s:b, s:b, s:s?}", "require_admin_approval",
				      d->require_admin_approval.set && d->require_admin_approval.v,
				      "allow_user_disable",
				      d->allow_user_disable.set && d->allow_user_disable.v,
				      "collect_feedback", d->collect_feedback.set && d->collect_feedback.v,
				      "audit_dashboard", d->audit_dashboard.s));
	json_object_set_new(root, "risk", json_integer((json_int_t)pl->risk));
	if (m->lifecycle_review_every_days.set)
		json_object_set_new(life, "review_every_days",
				    json_integer((json_int_t)m->lifecycle_review_every_days.v));
	if (m->lifecycle_deprecated.s && sluice_time_parse(&t, m->lifecycle_deprecated.s) == 0)
		json_object_set_new(life, "deprecated_at", json_integer((json_int_t)t));
	if (m->lifecycle_sunset.s && sluice_time_parse(&t, m->lifecycle_sunset.s) == 0)
		json_object_set_new(life, "sunset_at", json_integer((json_int_t)t));
	json_object_set_new(root, "lifecycle", life);
	char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	return text;
}

/* "plugin.yaml:3:10: version ... ; ..." - the first few errors. */
static char *refusal_text(const sluice_diags *d, const char *extra)
{
	sluice_buf b = SLUICE_BUF_INIT;
	size_t shown = 0;

	if (extra)
		sluice_buf_printf(&b, "%s", extra);
	for (size_t i = 0; i < d->count; i++) {
		const sluice_diag *g = &d->items[i];
		if (g->severity != SLUICE_SEV_ERROR)
			continue;
		if (shown == 5) {
			sluice_buf_printf(&b, "; and %zu more (run 'sluice validate --repo ... --tag ...')",
					  d->errors - shown);
			break;
		}
		sluice_buf_printf(&b, "%s%s:%u:%u: %s", b.len ? "; " : "", g->file ? g->file : "?",
				  g->line, g->col, g->message);
		shown++;
	}
	return sluice_buf_detach(&b);
}

/* Reads, validates and records the release at `t` (first seen now). */
static int record_release(sluice_engine *e, sluice_reconcile_item *it, const sluice_watched *w,
			  const sluice_tag *t, const char *commit, bool id_known)
{
	sluice_tree *tree = NULL;
	sluice_plugin *pl = NULL;
	sluice_diags d;
	char *snapshot = NULL, *why = NULL, *extra = NULL;
	const char *version = t->name + 1;
	int rc;

	sluice_diags_init(&d);
	rc = sluice_source_open_tree(&tree, e->cache_dir, w->key, t->name, commit);
	if (rc < 0)
		extra = sluice_xasprintf("cannot read tag %s: %s", t->name, sluice_error_last());
	else if (sluice_plugin_load(&pl, tree, e->ws->max_file_bytes, &d) == 0 && pl) {
		sluice_validate_plugin(pl, e->ws, e->policy, e->root, t->name, &d);
		snapshot = deploy_snapshot(pl);
		if (id_known && pl->manifest.id.s && strcmp(pl->manifest.id.s, it->plugin) != 0)
			extra = sluice_xasprintf("plugin.yaml id '%s' is not '%s', the plugin this "
						 "repository was first seen with",
						 pl->manifest.id.s, it->plugin);
	}
	if (!extra && e->ws->require_signed_tags.set && e->ws->require_signed_tags.v) {
		char *signers = sluice_engine_path(e, e->ws->allowed_signers.s);
		if (!signers || sluice_source_verify_tag(e->cache_dir, w->key, t->name, signers) < 0)
			extra = sluice_xasprintf("tag %s is not signed by an allowed signer: %s",
						 t->name, signers ? sluice_error_last()
								  : "policy.allowed_signers is not set");
		free(signers);
	}
	sluice_release_record rec = {
		.workspace = e->workspace,
		.plugin = it->plugin,
		.version = version,
		.tag = t->name,
		.commit = commit,
		.tagger_email = sluice_tag_email(t),
		.deploy_snapshot = snapshot,
		.seen_at = e->now,
	};
	if ((rc = sluice_store_release_record(e->store, &rec, NULL, NULL)) < 0)
		goto done;
	if (extra || d.errors) {
		sluice_diags_sort(&d);
		why = refusal_text(&d, extra);
		if ((rc = sluice_store_release_set_refused(e->store, e->workspace, it->plugin, version,
							   why, e->now)) < 0)
			goto done;
		note(it, "refused release %s: %s", version, why);
	} else
		note(it, "recorded release %s (%s, commit %.12s)", version, t->name, commit);
	rc = 0;
done:
	sluice_diags_clear(&d);
	sluice_plugin_free(pl);
	sluice_tree_free(tree);
	free(snapshot);
	free(why);
	free(extra);
	return rc;
}

/* Whether the mirror of `w` is as the store last saw it, so listing and
 * observing its tags would change nothing (PRODUCT.md 7: a pass that finds
 * nothing new does no work per repository beyond comparing refs). The
 * fingerprint is written in the same transaction as the tags it was
 * observed with (fetch, or a reconcile that fetched), so equal means every
 * tag, move and deletion in the mirror is already in the store. What the
 * store cannot tell - a release tag this workspace has not recorded yet, for
 * instance one the `versions` range admits since it was edited - sends the
 * repository through the full listing. */
static bool mirror_unchanged(sluice_engine *e, const sluice_watched *w, const char *known_fp,
			     const sluice_store_plugin_state *st, const sluice_range *range)
{
	sluice_tag_refs refs;
	bool same;

	if (!known_fp || sluice_source_tag_refs(&refs, e->cache_dir, w->key) < 0) {
		sluice_error_clear();
		return false;
	}
	same = strcmp(refs.fingerprint, known_fp) == 0;
	for (size_t i = 0; same && i < refs.count; i++) {
		sluice_semver v;
		bool wanted, recorded = false;
		sluice_semver_init(&v);
		wanted = sluice_semver_parse_tag(&v, refs.names[i]) == 0 &&
			 (!range || sluice_range_satisfies(range, &v));
		sluice_semver_clear(&v);
		for (size_t k = 0; wanted && k < st->plugin.nreleases && !recorded; k++)
			recorded = strcmp(st->plugin.releases[k].tag, refs.names[i]) == 0;
		same = !wanted || recorded;
	}
	sluice_tag_refs_clear(&refs);
	return same;
}

/* Tags, new releases, the plan and its application for one repository: the
 * body of its transaction. */
static int pass_plugin(sluice_engine *e, sluice_reconcile_item *it, const sluice_watched *w,
		       const sluice_fetch_result *fr, bool fetched)
{
	sluice_tag_list tags = {0};
	sluice_stored_tag_list stored = {0};
	sluice_store_plugin_state *st = NULL;
	sluice_engine_input *in = NULL;
	sluice_range *range = NULL;
	sluice_plan *plan = NULL;
	sluice_source_row row;
	bool id_known = false;
	char *known_fp = NULL;
	int rc;

	/* the id: the store's, else the manifest's at the newest tag */
	if (sluice_store_source_get(&row, e->store, w->key) == 0 && row.plugin) {
		it->plugin = sluice_xstrdup(row.plugin);
		id_known = true;
		known_fp = row.refs_fingerprint;
		row.refs_fingerprint = NULL;
	}
	sluice_source_row_clear(&row);
	if (!it->plugin && sluice_source_plugin_id(&it->plugin, e->cache_dir, w->key) == 0)
		id_known = true;
	if (!it->plugin)
		it->plugin = sluice_xstrdup(w->key);
	sluice_error_clear();

	if (fetched) {
		char *shown = w->url ? sluice_source_redact_url(w->url) : sluice_xstrdup("");
		rc = sluice_store_source_checked(e->store, w->key, shown, id_known ? it->plugin : NULL,
						 e->now, it->fetch_error ? NULL : fr->fingerprint,
						 it->fetch_error);
		free(shown);
		if (rc < 0)
			goto done;
	}

	if (w->ws_plugin->versions.s &&
	    sluice_range_parse(&range, w->ws_plugin->versions.s, NULL, 0) < 0)
		range = NULL;
	if ((rc = sluice_store_load_plugin_state(&st, e->store, e->workspace, it->plugin)) < 0)
		goto done;
	if (mirror_unchanged(e, w, known_fp, st, range))
		goto plan;
	rc = sluice_source_tags(&tags, e->cache_dir, w->key);
	if (rc == SLUICE_ENOTFOUND) {
		if (!it->fetch_error)
			note(it, "no mirror yet; run 'sluice reconcile' without --no-fetch");
		memset(&tags, 0, sizeof tags);
		rc = 0;
	} else if (rc < 0)
		goto done;
	for (size_t i = 0; i < tags.count; i++) {
		const sluice_tag *t = &tags.items[i];
		sluice_tag_observation obs;
		sluice_semver v;
		bool known = false, in_range;

		sluice_semver_init(&v);
		if (!t->commit[0] || sluice_semver_parse_tag(&v, t->name) < 0) {
			sluice_semver_clear(&v);
			continue; /* not a release tag */
		}
		in_range = !range || sluice_range_satisfies(range, &v);
		sluice_semver_clear(&v);
		for (size_t k = 0; k < st->plugin.nreleases && !known; k++)
			known = strcmp(st->plugin.releases[k].tag, t->name) == 0;
		if (!in_range && !known)
			continue;
		if ((rc = sluice_store_tag_observe(e->store, it->plugin, t->name, t->commit,
						   t->annotated ? t->id : NULL, sluice_tag_email(t),
						   e->now, &obs)) < 0)
			goto done;
		if (obs.status == SLUICE_TAG_MOVED) {
			if (in_strv(fr ? fr->moved_tags : NULL, t->name) || !known)
				note(it, "tag %s moved from %.12s to %.12s: its release is frozen "
					 "until an operator runs 'sluice accept-tag-move'",
				     t->name, obs.commit, t->commit);
			if (known)
				continue;
		}
		if (!known && in_range &&
		    (rc = record_release(e, it, w, t, obs.commit, id_known)) < 0)
			goto done;
	}
	/* tags gone upstream: flagged, their releases kept */
	if (tags.count && (rc = sluice_store_tag_list(&stored, e->store, it->plugin)) == 0) {
		for (size_t i = 0; i < stored.count && rc == 0; i++) {
			bool present = false;
			if (stored.items[i].deleted_at)
				continue;
			for (size_t j = 0; j < tags.count && !present; j++)
				present = strcmp(tags.items[j].name, stored.items[i].tag) == 0;
			if (!present) {
				rc = sluice_store_tag_mark_deleted(e->store, it->plugin,
								   stored.items[i].tag, e->now);
				note(it, "tag %s was deleted upstream; its release is kept",
				     stored.items[i].tag);
			}
		}
	}
	if (rc < 0)
		goto done;

plan:
	if ((rc = sluice_engine_input_load(&in, e, w->key)) < 0 ||
	    (rc = sluice_rollout_plan(&plan, &in->in)) < 0)
		goto done;
	if (plan->nactions) {
		if ((rc = sluice_store_apply_actions(e->store, e->workspace, plan, in->ids[0], false,
						     e->now)) < 0)
			goto done;
		it->applied = plan;
		plan = NULL;
	}
	rc = 0;
done:
	sluice_rollout_plan_free(plan);
	sluice_engine_input_free(in);
	sluice_store_plugin_state_free(st);
	sluice_range_free(range);
	sluice_stored_tag_list_clear(&stored);
	sluice_tag_list_clear(&tags);
	free(known_fp);
	return rc;
}

static int take_lease(sluice_engine *e, sluice_reconcile_report *r, int64_t wait_ms)
{
	sluice_lease_info who;
	int64_t waited = 0;
	int rc;

	for (;;) {
		rc = sluice_store_lease_acquire(e->store, RECONCILE_LEASE, RECONCILE_LEASE_TTL, &who);
		if (rc != SLUICE_EBUSY)
			return rc;
		if (waited >= wait_ms) {
			r->lease_holder = sluice_xstrdup(who.holder);
			return SLUICE_EBUSY;
		}
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		waited += 100;
	}
}

int sluice_engine_reconcile(sluice_reconcile_report *report, sluice_engine *e,
			    const sluice_reconcile_opts *opts)
{
	sluice_reconcile_opts none = {0};
	sluice_fetch_result *fr = NULL;
	int64_t renewed;
	int rc;

	memset(report, 0, sizeof *report);
	if (!opts)
		opts = &none;
	if (e->flags & SLUICE_ENGINE_READONLY)
		return sluice_error_set(SLUICE_EINVAL, "reconcile needs a writable engine");
	rc = take_lease(e, report, opts->lease_wait_ms ? opts->lease_wait_ms : 30000);
	if (rc == SLUICE_EBUSY)
		return 0;
	if (rc < 0)
		return rc;
	renewed = (int64_t)time(NULL);
	if (e->ws->ca_bundle.s) {
		char *ca = sluice_engine_path(e, e->ws->ca_bundle.s);
		rc = sluice_source_set_ca_bundle(ca);
		free(ca);
		if (rc < 0)
			goto done;
	}

	report->items = sluice_xcalloc(e->nwatched + 1, sizeof *report->items);
	report->nitems = e->nwatched;
	fr = sluice_xcalloc(e->nwatched + 1, sizeof *fr);
	/* the network first, outside any transaction: a slow remote never
	 * holds the database */
	for (size_t i = 0; i < e->nwatched; i++) {
		const sluice_watched *w = &e->watched[i];
		sluice_reconcile_item *it = &report->items[i];
		sluice_fetch_result_init(&fr[i]);
		it->watched = w;
		if (opts->no_fetch)
			continue;
		if (!w->url)
			it->fetch_error = sluice_xasprintf("no URL for '%s': give it a 'url' or set "
							   "repositories.url_template", w->key);
		else {
			char *cred = sluice_engine_path(e, w->ws_plugin->credentials_file.s);
			sluice_fetch_opts fo = {w->ws_plugin->credentials_env.s, cred, NULL, NULL};
			if (sluice_source_check_url(w->url) < 0 ||
			    sluice_source_fetch(&fr[i], e->cache_dir, w->key, w->url, &fo) < 0)
				it->fetch_error = sluice_xstrdup(sluice_error_last());
			free(cred);
		}
	}
	for (size_t i = 0; i < e->nwatched; i++) {
		sluice_reconcile_item *it = &report->items[i];
		if ((int64_t)time(NULL) - renewed > RECONCILE_LEASE_TTL / 4) {
			if ((rc = sluice_store_lease_acquire(e->store, RECONCILE_LEASE,
							     RECONCILE_LEASE_TTL, NULL)) < 0)
				goto done; /* lost it: another pass took over */
			renewed = (int64_t)time(NULL);
		}
		if ((rc = sluice_store_begin(e->store)) < 0 ||
		    (rc = pass_plugin(e, it, &e->watched[i], &fr[i], !opts->no_fetch)) < 0 ||
		    (rc = sluice_store_commit(e->store)) < 0) {
			sluice_store_rollback(e->store);
			free(it->error);
			it->error = sluice_xstrdup(sluice_error_last());
			sluice_rollout_plan_free(it->applied);
			it->applied = NULL;
		}
		if (it->fetch_error) {
			sluice_source_row row;
			char when[SLUICE_TIME_BUFSZ] = "never";
			if (sluice_store_source_get(&row, e->store, e->watched[i].key) == 0 &&
			    row.last_ok_at)
				sluice_time_format(when, row.last_ok_at);
			sluice_source_row_clear(&row);
			note(it, "source unreachable, using what was fetched before (last reached %s): %s",
			     when, it->fetch_error);
		}
	}
	rc = 0;
	if (!opts->no_publish && sluice_engine_publish(&report->published, e, false) < 0)
		report->publish_error = sluice_xstrdup(sluice_error_last());
done:
	for (size_t i = 0; fr && i < e->nwatched; i++)
		sluice_fetch_result_clear(&fr[i]);
	free(fr);
	sluice_store_lease_release(e->store, RECONCILE_LEASE);
	return rc;
}

void sluice_reconcile_report_clear(sluice_reconcile_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nitems; i++) {
		sluice_reconcile_item *it = &r->items[i];
		free(it->plugin);
		free(it->fetch_error);
		sluice_strv_free(it->notes);
		sluice_rollout_plan_free(it->applied);
		free(it->error);
	}
	free(r->items);
	free(r->publish_error);
	free(r->lease_holder);
	memset(r, 0, sizeof *r);
}

char *sluice_engine_action_text(const sluice_rollout_action *a)
{
	sluice_buf b = SLUICE_BUF_INIT;

	sluice_buf_printf(&b, "%s%s%s: ", a->plugin ? a->plugin : "?", a->version ? "@" : "",
			  a->version ? a->version : "");
	switch (a->kind) {
	case SLUICE_ACTION_START_STAGE:
		sluice_buf_printf(&b, "start stage %s (%d)", a->stage ? a->stage : "?",
				  a->stage_index + 1);
		break;
	case SLUICE_ACTION_COMPLETE:
		sluice_buf_puts(&b, "complete");
		break;
	case SLUICE_ACTION_SUPERSEDE:
		sluice_buf_printf(&b, "superseded by %s",
				  a->target_version ? a->target_version : "?");
		break;
	case SLUICE_ACTION_SKIP_RELEASE:
		sluice_buf_puts(&b, "skip");
		break;
	case SLUICE_ACTION_PAUSE:
		sluice_buf_puts(&b, "pause");
		break;
	case SLUICE_ACTION_ROLLBACK:
		sluice_buf_printf(&b, "roll back to %s",
				  a->target_version ? a->target_version : "nothing (removed)");
		break;
	case SLUICE_ACTION_WITHDRAW:
		sluice_buf_puts(&b, "withdraw");
		break;
	case SLUICE_ACTION_FREEZE_RELEASE:
		sluice_buf_puts(&b, "freeze");
		break;
	default:
		sluice_buf_puts(&b, "notice");
		break;
	}
	if (a->reason && *a->reason)
		sluice_buf_printf(&b, ": %s", a->reason);
	return sluice_buf_detach(&b);
}
