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
	{"workspace", 'w', "NAME", "the workspace (default: the only one in workspaces/)", false},
	{NULL, 0, NULL, NULL, false},
};

/* What the store records the tags of `name` under: the id its repository
 * owns, or the repository itself while it owns none (docs/sources.md). */
static char *store_plugin(sluice_engine *e, const char *name)
{
	const sluice_watched *w = sluice_engine_find(e, name);
	sluice_error_clear();
	return w ? sluice_watched_tracking_id(e->store, w->key) : sluice_xstrdup(name);
}

static int run(struct cli *c)
{
	const char *arg = c->args[0];
	const char *at = strrchr(arg, '@');
	sluice_engine *e = NULL;
	sluice_store *s = NULL;
	sluice_stored_tag before = {0};
	sluice_semver v = SLUICE_SEMVER_INIT;
	char *name = NULL, *plugin = NULL, *tag = NULL;
	int rc;

	if (!at || at == arg || !at[1]) {
		cli_error("'%s' is not PLUGIN@VERSION; write it as backend-pr-reviewer@0.1.0", arg);
		return EXIT_USAGE;
	}
	name = sluice_xstrndup(arg, (size_t)(at - arg));
	tag = at[1] == 'v' ? sluice_xstrdup(at + 1) : sluice_xasprintf("v%s", at + 1);
	if (sluice_semver_parse_tag(&v, tag) < 0) {
		cli_error("'%s' is not a version: %s", at + 1, sluice_error_last());
		rc = EXIT_USAGE;
		goto done;
	}
	if ((rc = cli_engine_open(c, &e, 0)) != EXIT_OK)
		goto done;
	s = e->store;
	plugin = store_plugin(e, name);
	if ((rc = cli_engine_authorize(c, e, SLUICE_ROLE_OPERATOR, plugin, tag + 1)) != EXIT_OK)
		goto done;
	if ((rc = sluice_store_tag_get(&before, s, plugin, tag)) < 0) {
		cli_error("no tag %s of '%s' has been recorded; 'sluice fetch' records tags and "
			  "'sluice tags %s' lists them",
			  tag, name, name);
		rc = sluice_error_exit_status(rc == SLUICE_ENOTFOUND ? SLUICE_EINVAL : rc);
		goto done;
	}
	if ((rc = sluice_reconcile_accept_tag_move(e, plugin, tag)) < 0) {
		if (rc == SLUICE_EINVAL)
			cli_error("tag %s of '%s' has not moved: it still points at %s; nothing to "
				  "accept",
				  tag, name, before.commit);
		else
			cli_error("%s", sluice_error_last());
		rc = sluice_error_exit_status(rc);
		goto done;
	}
	if (!c->quiet)
		printf("accepted: %s %s now trusts commit %s (was %s); the release's approvals "
		       "and attestations are void\n",
		       plugin, tag, before.moved_to, before.commit);
	rc = EXIT_OK;
done:
	sluice_stored_tag_clear(&before);
	sluice_semver_clear(&v);
	sluice_engine_free(e);
	free(plugin);
	free(name);
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
};
