/* sluice init [DIR]: a new administrators' repository. */
#include "cli.h"

static int run(struct cli *c)
{
	(void)c;
	cli_error("init is not built yet");
	return EXIT_FAIL;
}

const cli_cmd cmd_init = {
	.name = "init",
	.run = run,
	.usage = "init [DIR]",
	.summary = "create a new administrators' repository with examples",
	.opts = NULL,
	.min_args = 0,
	.max_args = 1,
};
