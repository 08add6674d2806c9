/* sluice init [DIR]: a new administrators' repository, with the shipped
 * example workspace and rollout policy as commented starting points. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sluice/error.h"
#include "sluice/util.h"

/* generated from the repository's examples (cmake/embed.cmake) */
extern const struct {
	const char *name;
	const char *data;
} sluice_embedded[];

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

static int run(struct cli *c)
{
	const char *dir = c->nargs ? c->args[0] : c->root;
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
			return EXIT_FAIL;
		}
	}
	for (size_t i = 0; sluice_embedded[i].name; i++)
		if ((rc = write_new(dir, sluice_embedded[i].name, sluice_embedded[i].data,
				    c->quiet)) < 0)
			return cli_fail(rc);
	{
		char *gi = sluice_path_join(dir, ".gitignore");
		struct stat st;
		if (lstat(gi, &st) != 0)
			write_new(dir, ".gitignore", gitignore, c->quiet);
		free(gi);
	}
	if (!c->quiet)
		printf("next: edit %s/workspaces/engineering.yaml, then run 'sluice --root %s "
		       "validate'\n", dir, dir);
	return EXIT_OK;
}

const cli_cmd cmd_init = {
	.name = "init",
	.run = run,
	.usage = "init [DIR]",
	.summary = "create a new administrators' repository with a commented example",
	.opts = NULL,
	.min_args = 0,
	.max_args = 1,
};
