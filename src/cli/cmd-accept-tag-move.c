/* sluice accept-tag-move: an operator accepts that a release tag now
 * points at another commit. The new commit is validated as a new tag
 * would be (sluice_reconcile_accept_tag_move); once trusted, the release
 * takes it and every approval and attestation it had is void. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/reconcile.h"
#include "sluice/semver.h"
#include "sluice/source.h"
#include "sluice/store.h"
#include "sluice/util.h"
#include "sluice/watched.h"

static const cli_opt opts[] = {
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

/* What the store records the tags of `name` under: the id its repository
 * owns, or the repository itself while it owns none (docs/sources.md). */
static char *store_plugin(sluice_engine *e, const char *name)
{
	const sluice_watched *w = sluice_engine_find(e, name);
	sluice_error_clear();
	return w ? sluice_watched_tracking_id(sluice_engine_store(e), w->key) : sluice_xstrdup(name);
}

/* The dispatcher has parsed PLUGIN@VERSION (c->plugin as given), opened
 * the engine and checked the operator. */
static cli_retval run(struct cli *c)
{
	const char *name = c->plugin;
	sluice_store *s = sluice_engine_store(c->e);
	sluice_stored_tag before = {0};
	char *plugin = NULL, *tag = sluice_xasprintf("v%s", c->version);
	cli_retval rc = CLI_OK;
	int lrc;

	plugin = store_plugin(c->e, name);
	if ((lrc = sluice_store_tag_get(&before, s, plugin, tag)) < 0) {
		cli_error("no tag %s of '%s' has been recorded; 'sluice fetch' records tags and "
			  "'sluice tags %s' lists them",
			  tag, name, name);
		rc = cli_retval_of(lrc == SLUICE_ENOTFOUND ? SLUICE_EINVAL : lrc);
		goto done;
	}
	if ((lrc = sluice_reconcile_accept_tag_move(c->e, plugin, tag)) < 0) {
		if (lrc == SLUICE_EINVAL)
			cli_error("tag %s of '%s' has not moved: it still points at %s; nothing to "
				  "accept",
				  tag, name, before.commit);
		else
			cli_error("%s", sluice_error_last());
		rc = cli_retval_of(lrc);
		goto done;
	}
	if (!c->quiet)
		printf("accepted: %s %s now trusts commit %s (was %s); the release's approvals "
		       "and attestations are void\n",
		       plugin, tag, before.moved_to, before.commit);
done:
	sluice_stored_tag_clear(&before);
	free(plugin);
	free(tag);
	return rc;
}

const cli_cmd cmd_accept_tag_move = {
	.name = "accept-tag-move",
	.run = run,
	.usage = "accept-tag-move PLUGIN@VERSION",
	.summary = "accept that a release tag moved; the release takes the new commit and loses "
		   "its approvals (operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_WARNINGS,
	.roles = SLUICE_ROLE_OPERATOR,
	.ref = CLI_REF_RELEASE,
};
