/* The engine (or the workspace alone) as commands open it: global flags
 * in, diagnostics and errors printed, an exit status out. Keeps every
 * cmd-*.c that needs the configuration or the store to two calls. */
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

int cli_workspace_load(sluice_workspace **out, struct cli *c)
{
	sluice_diags diags;
	char *path = sluice_workspace_find(c->root, cli_get(c, "workspace"));
	int rc;

	*out = NULL;
	if (!path)
		return cli_fail(sluice_error_code() ? sluice_error_code() : SLUICE_ENOTFOUND);
	sluice_diags_init(&diags);
	rc = sluice_workspace_load(out, path, &diags);
	if (rc < 0 || diags.errors) {
		sluice_diags_sort(&diags);
		sluice_diags_print_text(&diags, stderr);
		cli_error("the workspace '%s' is not valid; run 'sluice validate' for details",
			  path);
		sluice_workspace_free(*out);
		*out = NULL;
		rc = EXIT_INVALID;
	} else
		rc = EXIT_OK;
	sluice_diags_clear(&diags);
	free(path);
	return rc;
}
