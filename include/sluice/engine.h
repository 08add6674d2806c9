/* The engine: the one place commands get their configuration and the
 * store. A command opens an engine once (workspace, rollout policy, store,
 * the administrators' repository commit), asks it for the planner's input,
 * and closes it. Reconcile - fetch, record tags, validate releases, plan,
 * apply, publish - is built on the same context (docs/operations.md). */
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

/* The built-in default rollout policy (PRODUCT.md 1.2) when the workspace
 * names none: any stage structure, no checklist, no health gates. */
#define SLUICE_ENGINE_DEFAULT_POLICY "(built-in default)"

enum {
	/* Open the store read-only (status, plan): no database is created;
	 * a missing one is SLUICE_ENOTFOUND ("run 'sluice reconcile'"). */
	SLUICE_ENGINE_READONLY = 1 << 0,
};

/* A watched repository of the workspace. */
typedef struct {
	const sluice_ws_plugin *ws_plugin; /* borrowed from the workspace */
	const char *key;  /* the mirror key: repository owner/name, or the URL */
	char *url;        /* resolved against --root; NULL when none can be made */
} sluice_watched;

typedef struct sluice_engine {
	char *root;       /* --root */
	char *db_path;
	char *cache_dir;
	int64_t now;      /* the rollout clock (--now) */
	int flags;

	char *workspace_path;     /* workspaces/NAME.yaml as found */
	sluice_workspace *ws;
	const char *workspace;    /* its name (borrowed from ws) */
	sluice_rollout_policy *policy; /* NULL: the built-in default */
	sluice_store *store;
	char *admin_commit;       /* HEAD of --root when it is a git work tree */

	sluice_watched *watched;
	size_t nwatched;

	/* workspace and rollout policy flattened for the planner; `frozen`
	 * is read from the store by sluice_engine_input_load. */
	sluice_rollout_rules rules;
	void *priv;
} sluice_engine;

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
 * the workspace freeze). in.plugins[i] belongs to watched[i]. */
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

/* ---- reconcile ------------------------------------------------------------ */

/* What one pass did for one watched repository. */
typedef struct {
	const sluice_watched *watched;
	char *plugin;        /* id */
	char *fetch_error;   /* the remote could not be reached (audited) */
	char **notes;        /* NULL-terminated: "recorded release 0.1.0", ... */
	sluice_plan *applied; /* the actions applied (NULL when none) */
	char *error;         /* the plugin's pass failed and was rolled back */
} sluice_reconcile_item;

typedef struct {
	sluice_reconcile_item *items;
	size_t nitems;
	bool published;      /* the effective state changed and was written */
	char *publish_error;
	char *lease_holder;  /* set when another reconcile held the lease */
} sluice_reconcile_report;

typedef struct {
	bool no_fetch;         /* read the mirrors as they are (tests, bench) */
	bool no_publish;
	int64_t lease_wait_ms; /* how long to wait for another pass; 0: 30 s */
} sluice_reconcile_opts;

/* One pass (PRODUCT.md section 6): under the "reconcile" lease, fetches
 * every watched repository (an unreachable one is audited and its stored
 * state used), records its tags (a moved tag freezes its release), records
 * and validates each new release in the tracked range (a release with
 * errors is recorded as refused, with its reasons), then plans and applies
 * each plugin in its own transaction, and publishes. Problems of one
 * plugin are in its item, never stop the others. Returns 0 when the pass
 * ran (report filled; clear with sluice_reconcile_report_clear), 0 with
 * report->lease_holder set when another pass held the lease throughout,
 * or a negative code when the pass could not run. */
int sluice_engine_reconcile(sluice_reconcile_report *report, sluice_engine *e,
			    const sluice_reconcile_opts *opts);
void sluice_reconcile_report_clear(sluice_reconcile_report *r);

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
