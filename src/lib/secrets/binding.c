/* Binding: before a stage starts, every secret the release binds is asked
 * of its provider, and the answer kept in the store with the time it was
 * checked, so that a no-op pass over many plugins asks only for what is
 * due (docs/secrets.md). */
#include <stdlib.h>
#include <string.h>

#include "secrets-internal.h"
#include "../engine-internal.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/source.h"
#include "sluice/util.h"

bool sluice_secrets_needed(int state, int stage_index, size_t nstages)
{
	if (state == SLUICE_RELEASE_PENDING)
		return true;
	return (state == SLUICE_RELEASE_IN_PROGRESS || state == SLUICE_RELEASE_PAUSED) &&
	       stage_index + 1 < (int)nstages;
}

static const sluice_secret_provider *find_provider(const sluice_workspace *ws, const char *name)
{
	for (size_t i = 0; name && i < ws->nproviders; i++)
		if (ws->providers[i].name.s && strcmp(ws->providers[i].name.s, name) == 0)
			return &ws->providers[i];
	return NULL;
}

/* The references (var, provider, name) of a release: those recorded at an
 * earlier check, else the deploy file at the recorded commit. */
static int release_refs(sluice_secret_row **refs, size_t *n, sluice_engine *e,
			const char *repo_key, const char *plugin, const sluice_rollout_release *r)
{
	sluice_tree *tree = NULL;
	sluice_plugin *pl = NULL;
	sluice_diags d;
	int rc;

	if ((rc = sluice_store_secret_rows(refs, n, e->store, e->workspace, plugin, r->version)) < 0 ||
	    *n)
		return rc;
	sluice_diags_init(&d);
	if (sluice_source_open_tree(&tree, e->cache_dir, repo_key, r->tag, r->commit) == 0 &&
	    sluice_plugin_load(&pl, tree, e->ws->max_file_bytes, &d) == 0 && pl) {
		const sluice_deploy *dp = &pl->deploy;
		*refs = sluice_xcalloc(dp->nsecrets + 1, sizeof **refs);
		for (size_t i = 0; i < dp->nsecrets; i++) {
			if (!dp->secrets[i].var.s || !dp->secrets[i].provider.s ||
			    !dp->secrets[i].name.s)
				continue;
			sluice_secret_row *x = &(*refs)[(*n)++];
			x->plugin = sluice_xstrdup(plugin);
			x->version = sluice_xstrdup(r->version);
			x->var = sluice_xstrdup(dp->secrets[i].var.s);
			x->provider = sluice_xstrdup(dp->secrets[i].provider.s);
			x->name = sluice_xstrdup(dp->secrets[i].name.s);
		}
	}
	/* a release that cannot be read was refused at recording */
	sluice_error_clear();
	sluice_diags_clear(&d);
	sluice_plugin_free(pl);
	sluice_tree_free(tree);
	return 0;
}

/* Asks the provider about one reference and fills the row's result. */
static void check_one(sluice_secret_row *x, sluice_engine *e, const char *plugin)
{
	const sluice_secret_provider *p = find_provider(e->ws, x->provider);
	sluice_secret_meta m;
	int rc;

	free(x->problem);
	free(x->secret_version);
	x->problem = x->secret_version = NULL;
	x->updated_at = 0;
	x->present = false;
	x->checked_at = e->now;
	if (!p) {
		x->problem = sluice_xasprintf("secret provider '%s' is not configured in the "
					      "workspace's secret_providers",
					      x->provider);
		return;
	}
	sluice_secret_query q = {x->name, e->workspace, plugin, e->root};
	rc = sluice_secret_check(&m, p, &q);
	if (rc < 0) {
		x->problem = sluice_xstrdup(sluice_error_last());
		sluice_error_clear();
		return;
	}
	x->present = m.exists;
	x->secret_version = m.version;
	m.version = NULL;
	x->updated_at = m.updated_at;
	if (!m.exists)
		x->problem = sluice_xasprintf("%s has no %s", x->provider, x->name);
	sluice_secret_meta_clear(&m);
}

int sluice_secrets_refresh(sluice_engine *e, const char *repo_key, const char *plugin,
			   bool force, sluice_secrets_stats *stats)
{
	sluice_store_plugin_state *st = NULL;
	sluice_secrets_stats n_ = {0, 0, 0};
	int rc;

	if ((rc = sluice_store_load_plugin_state(&st, e->store, e->workspace, plugin)) < 0)
		goto done;
	for (size_t i = 0; i < st->plugin.nreleases; i++) {
		const sluice_rollout_release *r = &st->plugin.releases[i];
		sluice_secret_row *refs = NULL;
		size_t n = 0;

		if (r->refused || !sluice_secrets_needed((int)r->state, r->stage_index, r->nstages))
			continue;
		if ((rc = release_refs(&refs, &n, e, repo_key, plugin, r)) < 0)
			goto done;
		for (size_t k = 0; k < n && rc == 0; k++) {
			sluice_secret_row *x = &refs[k];
			const sluice_secret_provider *p = find_provider(e->ws, x->provider);
			int64_t every = p && p->check_every > 0 ? p->check_every : 600;
			if (!force && x->checked_at && x->present && e->now >= x->checked_at &&
			    e->now - x->checked_at < every) {
				n_.cached++;
				continue;
			}
			check_one(x, e, plugin);
			n_.checked++;
			n_.missing += !x->present;
			rc = sluice_store_secret_put(e->store, e->workspace, x);
		}
		sluice_secret_rows_free(refs, n);
		if (rc < 0)
			goto done;
	}
done:
	if (stats && rc == 0) {
		stats->checked += n_.checked;
		stats->cached += n_.cached;
		stats->missing += n_.missing;
	}
	sluice_store_plugin_state_free(st);
	return rc;
}
