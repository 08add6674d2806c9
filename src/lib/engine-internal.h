/* The engine's insides, shared by the library files built on it
 * (engine.c, engine-input.c, reconcile.c); not part of the API: the CLI
 * reads an engine through the accessors in sluice/engine.h. */
#ifndef SLUICE_ENGINE_INTERNAL_H
#define SLUICE_ENGINE_INTERNAL_H

#include "sluice/engine.h"

struct sluice_engine {
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
	char *empty_dir;          /* SLUICE_ENGINE_EMPTY_OK: the private
				   * directory of the empty stand-in database */

	sluice_watched *watched;
	size_t nwatched;

	/* workspace and rollout policy flattened for the planner; `frozen`
	 * is read from the store by sluice_engine_input_load. */
	sluice_rollout_rules rules;
	void *priv;
};

/* Flattens the workspace and rollout policy into e->rules (storage in
 * e->priv); called once the configuration is loaded. */
void sluice__engine_rules_init(sluice_engine *e);

/* Frees what sluice__engine_rules_init made. NULL-safe on e->priv. */
void sluice__engine_rules_clear(sluice_engine *e);

#endif
