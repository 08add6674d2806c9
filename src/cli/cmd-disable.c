/* sluice disable | enable PLUGIN --user ID: a user's opt-out of a plugin and
 * its undo, by that user or an operator. A plugin whose release says
 * allow_user_disable: false is enforced and cannot be disabled
 * (PRODUCT.md 3.2). Takes effect at the next publish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"user", 0, "ID", "the user (required)", false},
	OPS_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

/* allow_user_disable as it applies to `user`: that of the release they get,
 * else of the newest release; true when nothing was recorded yet. */
static bool may_disable(const sluice_rollout_plugin *p, const char *const *groups,
			size_t ngroups, const char *user)
{
	sluice_rollout_user u = {user, groups, ngroups, NULL, 0};
	const sluice_rollout_release *newest = NULL;
	sluice_rollout_grant *g = NULL;
	size_t n = 0;
	bool may = true;

	if (sluice_rollout_resolve_user(&g, &n, p, 1, &u) == 0 && n == 1) {
		may = g[0].user_can_disable;
		free(g);
		return may;
	}
	free(g);
	for (size_t i = 0; i < p->nreleases; i++)
		if (!newest || p->releases[i].rank > newest->rank)
			newest = &p->releases[i];
	return newest ? newest->allow_user_disable : true;
}

static int run_disable(struct cli *c, bool disable)
{
	const char *cmd = disable ? "disable" : "enable", *user = cli_get(c, "user");
	const sluice_rollout_plugin *p;
	const char **groups = NULL;
	size_t ngroups = 0;
	bool changed = false;
	ops_ctx o = {0};
	int rc;

	if (!user || !*user) {
		cli_error("%s needs the user: give --user ID", cmd);
		return EXIT_USAGE;
	}
	if ((rc = ops_parse_ref(&o, c->args[0], true)) >= 0)
		goto done;
	if (o.version) {
		cli_error("%s works on the whole plugin, not one version; give just %s", cmd,
			  o.plugin);
		rc = EXIT_USAGE;
		goto done;
	}
	if ((rc = ops_open(&o, c, cmd, false)) >= 0 || (rc = ops_authorize(&o, 0)) >= 0)
		goto done;
	if (strcmp(o.actor, user) != 0 &&
	    sluice_identity_require_role(o.e->ws, o.actor, SLUICE_ROLE_OPERATOR, cmd) < 0) {
		rc = ops_refuse(&o, "%s may not %s %s for %s: only %s themself or an admin with the "
				    "operator role may",
				o.actor, cmd, o.plugin, user, user);
		goto done;
	}
	if ((rc = ops_load(&o)) >= 0)
		goto done;
	p = ops_plugin(&o, o.plugin);
	if ((rc = ops_user_groups(&groups, &ngroups, &o, user)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	if (disable && ngroups == 0) {
		cli_error("user '%s' is in no group of workspace '%s'; check the id", user,
			  o.e->workspace);
		rc = EXIT_INVALID;
		goto done;
	}
	if (disable && p && !may_disable(p, groups, ngroups, user)) {
		rc = ops_refuse(&o, "plugin %s is enforced (allow_user_disable: false); it cannot be "
				    "disabled",
				o.plugin);
		goto done;
	}
	if ((rc = sluice_store_optout_set(o.e->store, o.e->workspace, o.plugin, user, disable,
					  c->now, &changed)) < 0) {
		rc = ops_fail(&o, rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack("{s:s, s:s, s:b, s:b, s:s}", "plugin", o.plugin, "user",
					      user, "disabled", disable, "changed", changed, "actor",
					      o.actor));
		goto done;
	}
	rc = EXIT_OK;
	if (c->quiet)
		goto done;
	if (!changed)
		printf("%s is already %s for %s; nothing changed\n", o.plugin,
		       disable ? "disabled" : "enabled", user);
	else if (disable)
		printf("disabled %s for %s (by %s): it leaves %s's configuration at the next "
		       "reconcile; 'sluice enable %s --user %s' undoes it\n",
		       o.plugin, user, o.actor, user, o.plugin, user);
	else
		printf("enabled %s for %s (by %s): %s gets it again at the next reconcile where "
		       "their groups have it\n",
		       o.plugin, user, o.actor, user);
done:
	free(groups);
	ops_close(&o);
	return rc;
}

static int run_on(struct cli *c) { return run_disable(c, true); }
static int run_off(struct cli *c) { return run_disable(c, false); }

const cli_cmd cmd_disable = {
	.name = "disable",
	.run = run_on,
	.usage = "disable PLUGIN --user ID",
	.summary = "opt a user out of a plugin (the user or an operator; not for enforced plugins)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};

const cli_cmd cmd_enable = {
	.name = "enable",
	.run = run_off,
	.usage = "enable PLUGIN --user ID",
	.summary = "undo a user's opt-out of a plugin (the user or an operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
