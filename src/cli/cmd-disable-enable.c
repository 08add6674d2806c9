/* sluice disable | enable PLUGIN --user ID: a user's opt-out of a plugin and
 * its undo, by that user or an operator. A plugin whose release says
 * allow_user_disable: false is enforced and cannot be disabled
 * (docs/concepts.md). Published at once: the user's configuration changes
 * now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"user", 0, "ID", "the user (required)", false},
	CLI_OPT_WORKSPACE,
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

static cli_retval check(struct cli *c)
{
	const char *user = cli_get(c, "user");

	if (!user || !*user) {
		cli_error("%s needs the user: give --user ID", c->cmd->name);
		return CLI_USAGE;
	}
	return CLI_OK;
}

static cli_retval run_disable(struct cli *c, bool disable)
{
	const char *cmd = c->cmd->name, *user = cli_get(c, "user");
	const sluice_workspace *ws = sluice_engine_workspace(c->e);
	const char *wsname = sluice_engine_workspace_name(c->e);
	const char **groups = NULL;
	size_t ngroups = 0;
	bool changed = false;
	cli_retval rc = CLI_OK;
	int lrc;

	if (strcmp(c->actor, user) != 0 &&
	    sluice_identity_require_role(ws, c->actor, SLUICE_ROLE_OPERATOR, cmd) < 0) {
		rc = cli_refuse(c, "%s may not %s %s for %s: only %s themself or an admin with the "
				   "operator role may",
				c->actor, cmd, c->plugin, user, user);
		goto done;
	}
	if ((lrc = cli_user_groups(&groups, &ngroups, c, user)) < 0) {
		rc = cli_fail(lrc);
		goto done;
	}
	if (ngroups == 0) {
		cli_error("user '%s' is in no group of workspace '%s'; check the id", user, wsname);
		rc = CLI_INVALID;
		goto done;
	}
	if (disable && !may_disable(c->p, groups, ngroups, user)) {
		rc = cli_refuse(c, "plugin %s is enforced (allow_user_disable: false); it cannot be "
				   "disabled",
				c->plugin);
		goto done;
	}
	if ((lrc = sluice_store_optout_set(sluice_engine_store(c->e), wsname, c->plugin, user,
					   disable, c->now, &changed)) < 0) {
		rc = cli_fail_action(c, lrc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = cli_print_json(json_pack("{s:s, s:s, s:b, s:b, s:s}", "plugin", c->plugin,
					      "user", user, "disabled", disable, "changed", changed,
					      "actor", c->actor));
		goto done;
	}
	if (c->quiet)
		goto done;
	if (!changed)
		printf("%s is already %s for %s; nothing changed\n", c->plugin,
		       disable ? "disabled" : "enabled", user);
	else if (disable)
		printf("disabled %s for %s (by %s): it leaves %s's configuration now; 'sluice "
		       "enable %s --user %s' undoes it\n",
		       c->plugin, user, c->actor, user, c->plugin, user);
	else
		printf("enabled %s for %s (by %s): %s gets it again now where their groups have "
		       "it\n",
		       c->plugin, user, c->actor, user);
done:
	free(groups);
	return rc;
}

static cli_retval run_on(struct cli *c) { return run_disable(c, true); }
static cli_retval run_off(struct cli *c) { return run_disable(c, false); }

const cli_cmd cmd_disable = {
	.name = "disable",
	.run = run_on,
	.usage = "disable PLUGIN --user ID",
	.summary = "opt a user out of a plugin (the user or an operator; not for enforced plugins)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT | CLI_PUBLISH,
	.ref = CLI_REF_PLUGIN,
	.check = check,
};

const cli_cmd cmd_enable = {
	.name = "enable",
	.run = run_off,
	.usage = "enable PLUGIN --user ID",
	.summary = "undo a user's opt-out of a plugin (the user or an operator)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT | CLI_PUBLISH,
	.ref = CLI_REF_PLUGIN,
	.check = check,
};
