/* sluice init [--example] [DIR]: a new administrators' repository, with the
 * shipped example workspace and rollout policy as commented starting
 * points; --example also makes the example plugin repository and points
 * the workspace at it, so that reconcile and status work at once. */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sluice/error.h"
#include "sluice/example.h"
#include "sluice/util.h"

/* generated from the repository's examples (cmake/embed.cmake) */
extern const struct {
	const char *name;
	const char *data;
} sluice_embedded[], sluice_example_plugin[];

/* Where --example puts the plugin repository, under DIR: in the state
 * directory, which .gitignore leaves out of the administrators' history. */
#define EXAMPLE_GIT ".sluice/examples"
#define EXAMPLE_REPO "acme/codex-plugin-backend-pr-reviewer"
#define EXAMPLE_TEMPLATE "\"file:///srv/git/{repository}.git\""
/* the first release of examples/plugins/backend-pr-reviewer, as
 * scripts/make-example-repos.sh makes it: 2026-11-30T10:00:00Z */
#define EXAMPLE_VAULT "{type: vault-kv2, address: https://vault.acme.example, mount: secret,\n" \
	"                       token_env: VAULT_TOKEN, allowed_prefixes: [codex/]}"
#define EXAMPLE_ENV "{type: env, allowed_prefixes: [codex/]}  # init --example: SLUICE_SECRET_* variables"
#define EXAMPLE_TAG "v0.1.0"
#define EXAMPLE_TAGGER "devex-lead@acme.example"
#define EXAMPLE_WHEN 1796032800LL

static const char gitignore[] = "# sluice's state: the database, git mirrors, published files\n"
				".sluice/\n";

static int write_new(const char *dir, const char *name, const char *data, bool quiet)
{
	char *path = sluice_path_join(dir, name);
	char *parent = sluice_xstrdup(path);
	struct stat st;
	int rc = 0;

	*strrchr(parent, '/') = '\0';
	if (lstat(path, &st) == 0) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "%s already exists; init never overwrites files (remove it "
				      "or choose another directory)", path);
		goto done;
	}
	if ((rc = sluice_mkdir_p(parent, 0755)) < 0)
		goto done;
	if ((rc = sluice_file_write_atomic(path, data, strlen(data))) < 0)
		goto done;
	if (!quiet)
		printf("created %s\n", path);
done:
	free(parent);
	free(path);
	return rc;
}

/* One text replacement in `data` (a malloc'd copy, caller frees). Returns
 * NULL (error set) when the shipped file no longer has `from`. */
static char *replace_once(const char *data, const char *from, const char *to)
{
	const char *at = strstr(data, from);
	if (!at) {
		sluice_error_set(SLUICE_ERROR, "the embedded workspace has no '%s' for --example to "
			"change; rebuild sluice from an unmodified source tree", from);
		return NULL;
	}
	return sluice_xasprintf("%.*s%s%s", (int)(at - data), data, to, at + strlen(from));
}

/* The shipped workspace with its url_template pointed at the example
 * repository under `absdir`, and its secret provider (a Vault that does not
 * exist here) replaced by the env provider, so the example's secret binding
 * can be satisfied by one variable (docs/secrets.md). */
static char *example_workspace(const char *data, const char *absdir)
{
	char *url = sluice_xasprintf("\"file://%s/" EXAMPLE_GIT "/{repository}.git\"", absdir);
	char *a = replace_once(data, EXAMPLE_TEMPLATE, url);
	char *b = a ? replace_once(a, EXAMPLE_VAULT, EXAMPLE_ENV) : NULL;
	free(url);
	free(a);
	return b;
}

static int make_example(const char *absdir, bool quiet)
{
	sluice_example_file *files;
	size_t n = 0;
	char *git_dir, *commit = NULL;
	int rc;

	while (sluice_example_plugin[n].name)
		n++;
	files = sluice_xcalloc(n + 1, sizeof *files);
	for (size_t i = 0; i < n; i++) {
		files[i].name = sluice_example_plugin[i].name;
		files[i].data = sluice_example_plugin[i].data;
	}
	git_dir = sluice_xasprintf("%s/" EXAMPLE_GIT "/" EXAMPLE_REPO ".git", absdir);
	rc = sluice_example_repo_create(&commit, git_dir, files, n, EXAMPLE_TAG, EXAMPLE_TAGGER,
					EXAMPLE_WHEN);
	if (rc == 0 && !quiet)
		printf("created %s (tag %s, commit %.12s)\n", git_dir, EXAMPLE_TAG, commit);
	free(commit);
	free(git_dir);
	free(files);
	return rc;
}

static cli_retval run(struct cli *c)
{
	const char *dir = c->nargs ? c->args[0] : c->root;
	bool example = cli_has(c, "example");
	char *absdir = NULL, *ws = NULL;
	int rc;

	/* check everything first, so a refusal leaves the directory as it was */
	for (size_t i = 0; sluice_embedded[i].name; i++) {
		char *path = sluice_path_join(dir, sluice_embedded[i].name);
		struct stat st;
		bool exists = lstat(path, &st) == 0;
		free(path);
		if (exists) {
			cli_error("%s/%s already exists; init never overwrites files (remove it or "
				  "choose another directory)", dir, sluice_embedded[i].name);
			return CLI_FAILED;
		}
	}
	if (example) {
		if ((rc = sluice_mkdir_p(dir, 0755)) < 0 || !(absdir = realpath(dir, NULL)))
			return cli_fail(rc < 0 ? rc : sluice_error_set(SLUICE_EIO, "cannot resolve %s: %s",
							      dir, strerror(errno)));
		if ((rc = make_example(absdir, c->quiet)) < 0)
			goto fail;
	}
	for (size_t i = 0; sluice_embedded[i].name; i++) {
		const char *data = sluice_embedded[i].data;
		if (example && strcmp(sluice_embedded[i].name, "workspaces/engineering.yaml") == 0) {
			if (!(ws = example_workspace(data, absdir))) {
				rc = SLUICE_ERROR;
				goto fail;
			}
			data = ws;
		}
		if ((rc = write_new(dir, sluice_embedded[i].name, data, c->quiet)) < 0)
			goto fail;
	}
	{
		char *gi = sluice_path_join(dir, ".gitignore");
		struct stat st;
		if (lstat(gi, &st) != 0)
			write_new(dir, ".gitignore", gitignore, c->quiet);
		free(gi);
	}
	if (!c->quiet && example)
		printf("next: cd %s, then run 'sluice reconcile' and 'sluice status'\n", dir);
	else if (!c->quiet)
		printf("next: edit %s/workspaces/engineering.yaml, then run 'sluice --root %s "
		       "validate'\n", dir, dir);
	free(ws);
	free(absdir);
	return CLI_OK;
fail:
	free(ws);
	free(absdir);
	return cli_fail(rc);
}

static const cli_opt opts[] = {
	{"example", 0, NULL,
	 "also make the example plugin repository (tag " EXAMPLE_TAG ") under DIR/" EXAMPLE_GIT
	 " and point the workspace at it",
	 false},
	{NULL, 0, NULL, NULL, false},
};

const cli_cmd cmd_init = {
	.name = "init",
	.run = run,
	.usage = "init [--example] [DIR]",
	.summary = "create a new administrators' repository with a commented example",
	.opts = opts,
	.min_args = 0,
	.max_args = 1,
};
