/* The engine as commands open it: global flags in, diagnostics and errors
 * printed, an exit status out. Keeps every cmd-*.c that needs the
 * configuration or the store to two calls. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "sluice/error.h"

int cli_engine_open(struct cli *c, sluice_engine **out, int flags)
{
	sluice_diags d;
	int rc;

	sluice_diags_init(&d);
	rc = sluice_engine_open(out, c->root, c->db, c->cache, cli_get(c, "workspace"), c->now,
				flags & ~CLI_ENGINE_NO_WARNINGS, &d);
	if (d.count && (rc < 0 || !(flags & CLI_ENGINE_NO_WARNINGS)))
		sluice_diags_print_text(&d, stderr);
	sluice_diags_clear(&d);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}

int cli_engine_authorize(struct cli *c, sluice_engine *e, unsigned roles, const char *plugin,
			 const char *version)
{
	int rc = sluice_engine_authorize(NULL, e, c->as, roles, c->cmd->name, plugin, version);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}
