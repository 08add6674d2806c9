/* The engine: the one place commands get their configuration and the
 * store. A command opens an engine once (workspace, rollout policy, store,
 * the administrators' repository commit), asks it for the planner's input,
 * and closes it. The context is engine.c, the planner's input
 * engine-input.c; reconcile (reconcile.h) is built on the same context. */
#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sluice/config.h"
#include "sluice/diag.h"
#include "sluice/rollout.h"
#include "sluice/store.h"
#include "sluice/watched.h"

/* The built-in default rollout policy (docs/configuration.md) when the workspace
 * names none: any stage structure, no checklist, no health gates. */
#define SLUICE_ENGINE_DEFAULT_POLICY "(built-in default)"

enum {
	/* Open the store read-only (status, plan): no database is created;
	 * a missing one is SLUICE_ENOTFOUND ("run 'sluice reconcile'"). */
	SLUICE_ENGINE_READONLY = 1 << 0,
	/* With READONLY: a database that does not exist yet reads as empty
	 * (nothing recorded), for the views that must work before the first
	 * reconcile. Nothing is created at db_path. */
	SLUICE_ENGINE_EMPTY_OK = 1 << 1,
};

/* The opened workspace context; opaque, read through the accessors below
 * (libgit2's git_repository is the model). */
typedef struct sluice_engine sluice_engine;

/* Where the state lives when --db and --cache are not given:
 * <root>/.sluice/sluice.db and <root>/.sluice/cache (docs/operations.md).
 * Both are computed here alone. Caller frees. */
char *sluice_engine_default_db_path(const char *root);
char *sluice_engine_default_cache_dir(const char *root);

/* Opens the engine: finds and loads workspaces/<workspace_name>.yaml under
 * root (the only one when workspace_name is NULL), validates it with its
 * rollout policy, opens the store at db_path (created unless READONLY),
 * reads the admin repository's HEAD, and tells the store to record it with
 * every audit row. Problems with the configuration go to diags (printed by
 * the caller): when the workspace has validation errors the result is
 * SLUICE_EINVAL (exit 2). Returns 0 and *out (free with
 * sluice_engine_free), or a negative code with the error set. */
int sluice_engine_open(sluice_engine **out, const char *root, const char *db_path,
		       const char *cache_dir, const char *workspace_name, int64_t now,
		       int flags, sluice_diags *diags);

/* Closes the store and frees everything. NULL-safe. */
void sluice_engine_free(sluice_engine *e);

/* ---- what an opened engine holds (borrowed; valid until _free) -------- */

/* The store; NULL never (read-only when opened READONLY). */
sluice_store *sluice_engine_store(const sluice_engine *e);
/* The loaded, validated workspace configuration. */
const sluice_workspace *sluice_engine_workspace(const sluice_engine *e);
/* Its name ("engineering"). */
const char *sluice_engine_workspace_name(const sluice_engine *e);
/* workspaces/NAME.yaml as found under the root. */
const char *sluice_engine_workspace_path(const sluice_engine *e);
/* The rollout policy the workspace names; NULL for the built-in default
 * (SLUICE_ENGINE_DEFAULT_POLICY). */
const sluice_rollout_policy *sluice_engine_policy(const sluice_engine *e);
/* The administrators' repository (--root), its HEAD commit when it is a
 * git work tree (else NULL), the database and the mirrors' directory. */
const char *sluice_engine_root(const sluice_engine *e);
const char *sluice_engine_admin_commit(const sluice_engine *e);
const char *sluice_engine_db_path(const sluice_engine *e);
const char *sluice_engine_cache_dir(const sluice_engine *e);
/* The rollout clock the engine was opened with. */
int64_t sluice_engine_now(const sluice_engine *e);
/* The SLUICE_ENGINE_* flags it was opened with. */
int sluice_engine_flags(const sluice_engine *e);
/* Whether its store reads as empty because no database existed yet
 * (SLUICE_ENGINE_EMPTY_OK). */
bool sluice_engine_store_is_new(const sluice_engine *e);
/* The watched repositories, in workspace order: *n of them. */
const sluice_watched *sluice_engine_watched(const sluice_engine *e, size_t *n);
/* The workspace and rollout policy flattened for the planner (`frozen` is
 * read from the store by sluice_engine_input_load). */
const sluice_rollout_rules *sluice_engine_rules(const sluice_engine *e);

/* A path from the workspace (members file, publish path) resolved against
 * root unless absolute. Caller frees. */
char *sluice_engine_path(const sluice_engine *e, const char *rel);

/* ---- plugins and the planner's input ----------------------------------- */

/* The plugin id of a watched repository: the one the store recorded, else
 * the manifest id at its mirror's newest version tag, else the repository
 * key itself (nothing fetched yet). Returns a malloc'd string. */
char *sluice_engine_plugin_id(sluice_engine *e, const sluice_watched *w);

/* The watched repository that `name` designates: its owner/name, its URL
 * or its plugin id. Returns it, or NULL with SLUICE_ENOTFOUND set. */
const sluice_watched *sluice_engine_find(sluice_engine *e, const char *name);

/* The planner's input for every watched plugin (or only `plugin`, an id or
 * repository): the stored state, completed with what the store does not
 * know (the tracked range, the checklist items Sluice checks itself,
 * the workspace freeze). in.plugins[i] belongs to watched[i]. A
 * read-only value for its users: the fields are documented and may be
 * read; only sluice_engine_input_load writes them, and `priv` is the
 * loader's. */
typedef struct {
	sluice_rollout_input in;
	const sluice_watched **watched; /* per plugin */
	char **ids;                     /* per plugin */
	char *frozen_reason;
	void *priv;
} sluice_engine_input;

/* Returns 0 and *out (free with sluice_engine_input_free). */
int sluice_engine_input_load(sluice_engine_input **out, sluice_engine *e, const char *plugin);
void sluice_engine_input_free(sluice_engine_input *in);

/* One line for an action: "backend-pr-reviewer@0.1.0: start stage
 * devex-dogfood (1 of 3): <reason>". Caller frees. */
char *sluice_engine_action_text(const sluice_rollout_action *a);

/* ---- identity and roles ------------------------------------------------ */

/* Who is acting and may they: resolves the actor (sluice_identity_actor
 * with as_flag and $SLUICE_ACTOR), checks that they hold one of `roles`
 * (SLUICE_ROLE_* bits; 0: no role needed), and sets them as the store's
 * actor for later audit rows. A refusal is audited (access.refused, with
 * the command and why) before SLUICE_EREFUSED is returned; `plugin` and
 * `version` (may be NULL) name what the command was about. *actor_out
 * (may be NULL) receives a malloc'd copy of the actor. */
int sluice_engine_authorize(char **actor_out, sluice_engine *e, const char *as_flag,
			    unsigned roles, const char *command, const char *plugin,
			    const char *version);

#endif
