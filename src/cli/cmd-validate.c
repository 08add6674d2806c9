/* sluice validate: check the workspace, rollout policies and a plugin;
 * report every problem at once (docs/commands.md). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/semver.h"
#include "sluice/source.h"
#include "sluice/util.h"
#include "sluice/validate.h"
#include "sluice/watched.h"

static const cli_opt opts[] = {
	{"plugin", 0, "DIR", "also validate the plugin in directory DIR", false},
	{"repo", 0, "URL|REPO", "validate a tagged release from git (a URL, a path, or a watched owner/name)", false},
	{"tag", 0, "TAG", "the release tag to validate with --repo (e.g. v0.1.0)", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

/* A path under --root as users see it: "workspaces/x.yaml" for root ".". */
static char *under_root(const char *root, const char *rel)
{
	return strcmp(root, ".") == 0 ? sluice_xstrdup(rel) : sluice_path_join(root, rel);
}

/* Loads and checks every YAML file in rollouts/; returns the one the workspace
 * names (caller frees), or NULL. */
static sluice_rollout_policy *load_policies(const char *root, const sluice_workspace *ws,
					    sluice_diags *d)
{
	char *dir = under_root(root, "rollouts");
	sluice_rollout_policy *chosen = NULL;
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		const char *f = names[i]->d_name;
		size_t l = strlen(f);
		if (f[0] != '.' && l > 5 && strcmp(f + l - 5, ".yaml") == 0) {
			char *path = sluice_path_join(dir, f);
			sluice_rollout_policy *rp = NULL;
			sluice_rollout_policy_load(&rp, path, d);
			if (rp && rp->doc && rp->doc->root && ws->rollout_policy.s &&
			    strlen(ws->rollout_policy.s) == l - 5 &&
			    strncmp(ws->rollout_policy.s, f, l - 5) == 0 && !chosen)
				chosen = rp;
			else
				sluice_rollout_policy_free(rp);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	free(dir);
	return chosen;
}

/* Fetches --repo into the cache and opens the tree at --tag; reports the
 * tag's standing against the workspace's range. A watched repository
 * (--repo owner/name) is fetched as `fetch` and reconcile fetch it: its
 * URL (a relative path under --root), credentials and the CA bundle; any
 * other --repo is a URL or a path as given. Returns CLI_OK or the problem. */
static cli_retval open_release(sluice_tree **tree, struct cli *c, const sluice_workspace *ws,
			const sluice_ws_plugin **watched, sluice_diags *d)
{
	const char *repo = cli_get(c, "repo"), *tag = cli_get(c, "tag");
	/* A URL's password never reaches a message or the mirror's name: the
	 * masked URL names the repository, the real one is only fetched. */
	char *shown = sluice_source_redact_url(repo);
	sluice_watched w = {NULL, shown, NULL, 0};
	sluice_fetch_result fr;
	sluice_semver v;
	cli_retval rc = CLI_OK;

	sluice_fetch_result_init(&fr);
	sluice_semver_init(&v);
	*watched = NULL;
	for (size_t i = 0; ws && i < ws->nplugins; i++)
		if (ws->plugins[i].repository.s && strcmp(ws->plugins[i].repository.s, repo) == 0)
			*watched = &ws->plugins[i];
	if (*watched) {
		if (sluice_watched_init(&w, ws, *watched, c->root) < 0) {
			cli_error("%s", sluice_error_last());
			rc = CLI_INVALID;
			goto done;
		}
	} else {
		w.url = sluice_xstrdup(repo);
		if (ws && ws->max_fetch_bytes.set)
			w.max_fetch_bytes = (uint64_t)ws->max_fetch_bytes.v;
	}
	if (sluice_semver_parse_tag(&v, tag) < 0) {
		cli_error("%s; release tags look like v1.2.3", sluice_error_last());
		rc = CLI_INVALID;
		goto done;
	}
	if (*watched && sluice_watched_set_ca_bundle(ws, c->root) < 0) {
		cli_error("repositories.ca_bundle: %s", sluice_error_last());
		rc = CLI_INVALID;
		goto done;
	}
	if (sluice_watched_fetch(&fr, &w, c->root, c->cache, NULL, NULL) < 0) {
		cli_error("cannot fetch %s: %s", shown, sluice_error_last());
		rc = CLI_FAILED;
		goto done;
	}
	if (sluice_source_open_tree(tree, c->cache, w.key, tag, NULL) < 0) {
		cli_error("cannot read tag '%s' of %s: %s", tag, shown, sluice_error_last());
		rc = sluice_error_code() == SLUICE_ENOTFOUND ? CLI_INVALID : CLI_FAILED;
		goto done;
	}
	if (*watched && (*watched)->versions.s) {
		sluice_range *r = NULL;
		char err[200];
		if (sluice_range_parse(&r, (*watched)->versions.s, err, sizeof err) == 0 &&
		    !sluice_range_satisfies(r, &v))
			sluice_diag_warning(d, (*watched)->versions.pos, "out-of-range",
					    "tag '%s' is outside this workspace's tracked range '%s'; "
					    "it would not be rolled out", tag, (*watched)->versions.s);
		sluice_range_free(r);
	}
done:
	sluice_semver_clear(&v);
	sluice_fetch_result_clear(&fr);
	sluice_watched_clear(&w);
	free(shown);
	return rc;
}

static cli_retval run(struct cli *c)
{
	sluice_diags d;
	sluice_workspace *ws = NULL;
	sluice_rollout_policy *rp = NULL;
	sluice_plugin *plugin = NULL;
	sluice_tree *tree = NULL;
	char *wspath = NULL;
	cli_retval rc = CLI_OK;

	sluice_diags_init(&d);
	wspath = sluice_workspace_find(c->root, cli_get(c, "workspace"));
	if (!wspath) {
		rc = cli_fail(sluice_error_code() == SLUICE_EAMBIGUOUS ? SLUICE_EAMBIGUOUS : SLUICE_EINVAL);
		goto done;
	}
	if (strcmp(c->root, ".") == 0 && strncmp(wspath, "./", 2) == 0)
		memmove(wspath, wspath + 2, strlen(wspath + 2) + 1);
	if (sluice_workspace_load(&ws, wspath, &d) == 0 && ws->doc && ws->doc->root) {
		if ((rc = cli_check_now(c, ws)) != CLI_OK)
			goto done;
		sluice_validate_workspace(ws, c->root, &d);
		rp = load_policies(c->root, ws, &d);
	}
	if (cli_has(c, "repo") != cli_has(c, "tag")) {
		cli_error("--repo and --tag go together: 'sluice validate --repo REPO --tag v1.2.3'");
		rc = CLI_USAGE;
		goto done;
	}
	if (cli_has(c, "repo") && cli_has(c, "plugin")) {
		cli_error("give either --plugin DIR or --repo REPO --tag TAG, not both");
		rc = CLI_USAGE;
		goto done;
	}
	if (cli_has(c, "repo")) {
		const sluice_ws_plugin *watched = NULL;
		const sluice_workspace *w = ws && ws->doc && ws->doc->root ? ws : NULL;
		if ((rc = open_release(&tree, c, w, &watched, &d)) != CLI_OK) {
			/* the release could not be read: still show what was found */
			sluice_diags_sort(&d);
			sluice_diags_print_text(&d, stdout);
			goto done;
		}
		sluice_plugin_load(&plugin, tree, w && w->max_file_bytes ? w->max_file_bytes : 0, &d);
		if (watched && plugin->deploy.source_repository.s &&
		    strcmp(plugin->deploy.source_repository.s, watched->repository.s) != 0)
			sluice_diag_error(&d, plugin->deploy.source_repository.pos, "repo-mismatch",
					  "plugin.source.repository is '%s' but this release comes "
					  "from '%s'", plugin->deploy.source_repository.s,
					  watched->repository.s);
		sluice_validate_plugin(plugin, w, rp, c->root, cli_get(c, "tag"), &d);
	} else if (cli_get(c, "plugin")) {
		if (sluice_tree_open_dir(&tree, cli_get(c, "plugin")) < 0) {
			sluice_pos pos = {cli_get(c, "plugin"), 0, 0};
			sluice_diag_error(&d, pos, "missing-file", "%s", sluice_error_last());
		} else {
			sluice_plugin_load(&plugin, tree,
					   ws && ws->max_file_bytes ? ws->max_file_bytes : 0, &d);
			sluice_validate_plugin(plugin, ws && ws->doc && ws->doc->root ? ws : NULL, rp,
					       c->root, NULL, &d);
		}
	}
	sluice_diags_sort(&d);
	if (c->output == CLI_OUT_JSON)
		sluice_diags_print_json(&d, stdout);
	else if (!c->quiet || d.errors)
		sluice_diags_print_text(&d, stdout);
	if (c->verbose)
		fprintf(stderr, "validate: %zu error%s, %zu warning%s\n", d.errors,
			d.errors == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
	rc = d.errors ? CLI_INVALID : CLI_OK;
done:
	sluice_plugin_free(plugin);
	sluice_tree_free(tree);
	sluice_rollout_policy_free(rp);
	sluice_workspace_free(ws);
	free(wspath);
	sluice_diags_clear(&d);
	return rc;
}

const cli_cmd cmd_validate = {
	.name = "validate",
	.run = run,
	.usage = "validate [--workspace NAME] [--plugin DIR | --repo URL|REPO --tag TAG]",
	.summary = "check the workspace, rollout policies and a plugin; report every problem",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
};
