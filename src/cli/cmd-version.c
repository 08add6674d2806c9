/* sluice version: the program and library versions it was built with. */
#include <stdio.h>

#include <git2.h>
#include <jansson.h>
#include <sqlite3.h>
#include <yaml.h>

#include "cli.h"

static cli_retval run(struct cli *c)
{
	int maj, min, rev;
	git_libgit2_version(&maj, &min, &rev);
	if (c->output == CLI_OUT_JSON) {
		printf("{\"version\": \"%s\", \"libgit2\": \"%d.%d.%d\", \"libyaml\": \"%s\", "
		       "\"jansson\": \"%s\", \"sqlite\": \"%s\"}\n",
		       SLUICE_VERSION, maj, min, rev, yaml_get_version_string(),
		       JANSSON_VERSION, sqlite3_libversion());
		return CLI_OK;
	}
	printf("sluice %s (libgit2 %d.%d.%d, libyaml %s, jansson %s, sqlite %s)\n",
	       SLUICE_VERSION, maj, min, rev, yaml_get_version_string(), JANSSON_VERSION,
	       sqlite3_libversion());
	return CLI_OK;
}

const cli_cmd cmd_version = {
	.name = "version",
	.run = run,
	.usage = "version",
	.summary = "print the version of sluice and its libraries",
	.opts = NULL,
	.min_args = 0,
	.max_args = 0,
};
