/* sluice validate: check the workspace, rollout policies and a plugin. */
#include "cli.h"

static const cli_opt opts[] = {
	{"plugin", 0, "DIR", "validate the plugin in directory DIR", true},
	{"workspace", 'w', "NAME", "the workspace (default: the only one in workspaces/)", false},
	{NULL, 0, NULL, NULL, false},
};

static int run(struct cli *c)
{
	(void)c;
	cli_error("validate is not built yet");
	return EXIT_FAIL;
}

const cli_cmd cmd_validate = {
	.name = "validate",
	.run = run,
	.usage = "validate [--plugin DIR]",
	.summary = "check the workspace, rollout policies and plugins; report every problem",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
};
