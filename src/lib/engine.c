/* The engine context: configuration, store and admin-repo commit, opened
 * once per command, and who may act on it. The planner's input built from
 * it is in engine-input.c; the reconcile pass in reconcile.c. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "engine-internal.h"
#include "sluice/audit.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/source.h"
#include "sluice/util.h"
#include "sluice/validate.h"

char *sluice_engine_path(const sluice_engine *e, const char *rel)
{
	return sluice_path_under_root(e->root, rel);
}

char *sluice_engine_default_db_path(const char *root)
{
	return sluice_xasprintf("%s/.sluice/sluice.db", root ? root : ".");
}

char *sluice_engine_default_cache_dir(const char *root)
{
	return sluice_xasprintf("%s/.sluice/cache", root ? root : ".");
}

/* The files of the empty stand-in database under dir. */
static void remove_empty_store(const char *dir)
{
	static const char *const files[] = {"empty.db", "empty.db-wal", "empty.db-shm", NULL};

	for (const char *const *f = files; *f; f++) {
		char *path = sluice_path_join(dir, *f);
		unlink(path);
		free(path);
	}
	rmdir(dir);
}

/* SLUICE_ENGINE_EMPTY_OK before the first reconcile: an empty database
 * with the current schema in a private temporary directory, opened
 * read-only like the real one would be, so every reader sees "nothing
 * recorded" through the same code; removed by sluice_engine_free. */
static int open_empty_store(sluice_engine *e)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = sluice_xasprintf("%s/sluice-empty-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	char *path = NULL;
	sluice_store *s = NULL;
	int rc;

	if (!mkdtemp(tmpl)) {
		rc = sluice_error_set(SLUICE_EIO, "cannot make a temporary directory %s", tmpl);
		free(tmpl);
		return rc;
	}
	e->empty_dir = tmpl;
	path = sluice_path_join(tmpl, "empty.db");
	if ((rc = sluice_store_open(&s, path, 0)) == 0) {
		sluice_store_free(s);
		rc = sluice_store_open(&e->store, path, SLUICE_STORE_READONLY);
	}
	free(path);
	return rc;
}

/* HEAD of --root when it is a git work tree (not a directory inside one:
 * the configuration must be the repository's own), with "-dirty" appended
 * when a file the configuration was read from - workspaces/NAME.yaml,
 * rollouts/NAME.yaml, a group's members_file, policy.allowed_signers -
 * differs from HEAD, is untracked or ignored (docs/database.md, audit). */
static char *admin_commit(const sluice_engine *e)
{
	git_repository *repo = NULL;
	git_status_list *status = NULL;
	git_status_options so = GIT_STATUS_OPTIONS_INIT;
	git_oid oid;
	char hex[GIT_OID_HEXSZ + 1];
	const char **paths = NULL;
	size_t npaths = 0;
	char *out = NULL;

	if (sluice_source_init() < 0)
		return NULL;
	if (git_repository_open_ext(&repo, e->root, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		git_error_clear();
		return NULL;
	}
	if (git_repository_is_bare(repo) || git_reference_name_to_id(&oid, repo, "HEAD") < 0)
		goto done;
	git_oid_tostr(hex, sizeof hex, &oid);
	paths = sluice_xcalloc(e->ws->ngroups + 4, sizeof *paths);
	paths[npaths++] = "workspaces/*.yaml";
	paths[npaths++] = "rollouts/*.yaml";
	for (size_t i = 0; i < e->ws->ngroups; i++)
		if (e->ws->groups[i].members_file.s && e->ws->groups[i].members_file.s[0] != '/')
			paths[npaths++] = e->ws->groups[i].members_file.s;
	if (e->ws->allowed_signers.s && e->ws->allowed_signers.s[0] != '/')
		paths[npaths++] = e->ws->allowed_signers.s;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_INCLUDE_IGNORED |
		   GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS | GIT_STATUS_OPT_RECURSE_IGNORED_DIRS;
	so.pathspec.strings = (char **)paths;
	so.pathspec.count = npaths;
	/* a status that cannot be read is not proof of a clean tree */
	if (git_status_list_new(&status, repo, &so) < 0 || git_status_list_entrycount(status) > 0)
		out = sluice_xasprintf("%s-dirty", hex);
	else
		out = sluice_xstrdup(hex);
done:
	git_error_clear();
	git_status_list_free(status);
	free(paths);
	git_repository_free(repo);
	return out;
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

/* Every audit row from now on also notifies the workspace's webhooks that
 * receive its kind (docs/notifications.md). */
static void set_outbox_routes(sluice_engine *e)
{
	const sluice_workspace *ws = e->ws;
	sluice_outbox_route *r;
	const char ***events;

	if (!ws->nnotifications)
		return;
	r = sluice_xcalloc(ws->nnotifications, sizeof *r);
	events = sluice_xcalloc(ws->nnotifications, sizeof *events);
	for (size_t i = 0; i < ws->nnotifications; i++) {
		const sluice_notification *n = &ws->notifications[i];
		events[i] = sluice_xcalloc(n->events.count + 1, sizeof **events);
		for (size_t k = 0; k < n->events.count; k++)
			events[i][k] = n->events.items[k].s;
		r[i] = (sluice_outbox_route){n->url.s ? n->url.s : "", events[i]};
	}
	sluice_store_outbox_routes_set(e->store, e->workspace, r, ws->nnotifications);
	for (size_t i = 0; i < ws->nnotifications; i++)
		free(events[i]);
	free(events);
	free(r);
}

int sluice_engine_open(sluice_engine **out, const char *root, const char *db_path,
		       const char *cache_dir, const char *workspace_name, int64_t now,
		       int flags, sluice_diags *diags)
{
	sluice_engine *e = sluice_xcalloc(1, sizeof *e);
	int rc;

	*out = NULL;
	e->root = sluice_xstrdup(root ? root : ".");
	e->db_path = db_path ? sluice_xstrdup(db_path) : sluice_engine_default_db_path(e->root);
	e->cache_dir = cache_dir ? sluice_xstrdup(cache_dir)
				 : sluice_engine_default_cache_dir(e->root);
	e->now = now;
	e->flags = flags;

	if ((rc = load_config(e, workspace_name, diags)) < 0)
		goto done;
	sluice__engine_rules_init(e);

	e->watched = sluice_xcalloc(e->ws->nplugins + 1, sizeof *e->watched);
	for (size_t i = 0; i < e->ws->nplugins; i++)
		/* a repository without a URL is reported when it is fetched */
		if (sluice_watched_init(&e->watched[e->nwatched++], e->ws, &e->ws->plugins[i],
					e->root) < 0)
			sluice_error_clear();

	e->admin_commit = admin_commit(e);
	if ((flags & SLUICE_ENGINE_READONLY) && (flags & SLUICE_ENGINE_EMPTY_OK) &&
	    access(e->db_path, F_OK) != 0) {
		if ((rc = open_empty_store(e)) < 0)
			goto done;
	} else if ((rc = sluice_store_open(&e->store, e->db_path,
				    flags & SLUICE_ENGINE_READONLY ? SLUICE_STORE_READONLY : 0)) < 0)
		goto done;
	sluice_store_set_admin_commit(e->store, e->admin_commit);
	set_outbox_routes(e);
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
	sluice__engine_rules_clear(e);
	for (size_t i = 0; i < e->nwatched; i++)
		sluice_watched_clear(&e->watched[i]);
	free(e->watched);
	sluice_store_free(e->store);
	sluice_rollout_policy_free(e->policy);
	sluice_workspace_free(e->ws);
	if (e->empty_dir)
		remove_empty_store(e->empty_dir);
	free(e->empty_dir);
	free(e->admin_commit);
	free(e->workspace_path);
	free(e->cache_dir);
	free(e->db_path);
	free(e->root);
	free(e);
}

sluice_store *sluice_engine_store(const sluice_engine *e) { return e->store; }

const sluice_workspace *sluice_engine_workspace(const sluice_engine *e) { return e->ws; }

const char *sluice_engine_workspace_name(const sluice_engine *e) { return e->workspace; }

const char *sluice_engine_workspace_path(const sluice_engine *e) { return e->workspace_path; }

const sluice_rollout_policy *sluice_engine_policy(const sluice_engine *e) { return e->policy; }

const char *sluice_engine_root(const sluice_engine *e) { return e->root; }

const char *sluice_engine_admin_commit(const sluice_engine *e) { return e->admin_commit; }

const char *sluice_engine_db_path(const sluice_engine *e) { return e->db_path; }

const char *sluice_engine_cache_dir(const sluice_engine *e) { return e->cache_dir; }

int64_t sluice_engine_now(const sluice_engine *e) { return e->now; }

int sluice_engine_flags(const sluice_engine *e) { return e->flags; }

bool sluice_engine_store_is_new(const sluice_engine *e) { return e->empty_dir != NULL; }

const sluice_watched *sluice_engine_watched(const sluice_engine *e, size_t *n)
{
	*n = e->nwatched;
	return e->watched;
}

const sluice_rollout_rules *sluice_engine_rules(const sluice_engine *e) { return &e->rules; }

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
	if (!id && sluice_watched_mirror_id(&id, e->cache_dir, w->key) < 0)
		id = NULL;
	sluice_error_clear();
	return id ? id : sluice_xstrdup(w->key);
}

const sluice_watched *sluice_engine_find(sluice_engine *e, const char *name)
{
	/* by owner/name or URL as sluice_watched_find; by id, the store's
	 * id first (sluice_engine_plugin_id) */
	const sluice_ws_plugin *p = sluice_watched_by_name(e->ws, name);
	for (size_t i = 0; p && i < e->nwatched; i++)
		if (e->watched[i].ws_plugin == p)
			return &e->watched[i];
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
