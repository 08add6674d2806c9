/* sluice resolve --user ID | --group NAME: what a person or a group gets,
 * and why - which group gives each plugin, at which stage of which release
 * (docs/concepts.md). Read-only; it needs no role. The answer is the
 * stored rollout state, i.e. what the last reconcile published. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/tree.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"user", 0, "ID", "the user to resolve", false},
	{"group", 0, "NAME", "the group to resolve", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

/* The first stage of r that names `group` (stages are cumulative). */
static const char *stage_of(const sluice_rollout_release *r, const char *group)
{
	for (size_t k = 0; k < r->nstages; k++)
		for (size_t g = 0; g < r->stages[k].ngroups; g++)
			if (r->stages[k].groups[g] && !strcmp(r->stages[k].groups[g], group))
				return r->stages[k].name;
	return NULL;
}

static const sluice_rollout_release *release_of(const sluice_rollout_plugin *p,
						const char *version)
{
	return cli_release(p, version);
}

/* ", stage backend-pilot of 0.1.1" plus "(stable)" when it is. */
static void put_why(sluice_buf *b, const sluice_rollout_plugin *p,
		    const sluice_rollout_release *r, const char *group)
{
	ptrdiff_t stable = sluice_rollout_stable(p);
	const char *stage = stage_of(r, group);

	sluice_buf_printf(b, "via group %s", group);
	if (stage)
		sluice_buf_printf(b, ", stage %s of %s", stage, r->version);
	if (stable >= 0 && &p->releases[stable] == r)
		sluice_buf_puts(b, " (the stable release)");
	else
		sluice_buf_printf(b, " (rolling out: %s)", sluice_release_state_name(r->state));
}

static cli_retval resolve_user(struct cli *c, const char *user)
{
	const char **groups = NULL;
	char **disabled = NULL;
	size_t ngroups = 0, ndisabled = 0, ngrants = 0, nall = 0;
	json_t *jgroups = NULL, *jplugins = NULL, *joff = NULL;
	sluice_buf text = SLUICE_BUF_INIT;
	cli_retval rc = CLI_OK;
	int lrc;

	if ((lrc = cli_user_groups(&groups, &ngroups, c, user)) < 0 ||
	    (lrc = sluice_store_optout_list(&disabled, &ndisabled, sluice_engine_store(c->e),
					    sluice_engine_workspace_name(c->e), user)) < 0) {
		rc = cli_fail(lrc);
		goto done;
	}
	if (ngroups == 0) {
		/* a user is known by the groups that list them */
		cli_error("user '%s' is in no group of workspace '%s'; check the id", user,
			  sluice_engine_workspace_name(c->e));
		rc = CLI_INVALID;
		goto done;
	}
	jgroups = json_array();
	jplugins = json_array();
	joff = json_array();
	for (size_t g = 0; g < ngroups; g++)
		json_array_append_new(jgroups, json_string(groups[g]));
	sluice_buf_printf(&text, "%s: groups ", user);
	for (size_t g = 0; g < ngroups; g++)
		sluice_buf_printf(&text, "%s%s", g ? ", " : "", groups[g]);
	sluice_buf_puts(&text, "\n");

	for (size_t i = 0; i < c->in->in.nplugins; i++) {
		const sluice_rollout_plugin *p = &c->in->in.plugins[i];
		sluice_rollout_user u = {user, groups, ngroups, (const char *const *)disabled,
					 ndisabled};
		sluice_rollout_grant *g = NULL;
		size_t n = 0;
		if ((lrc = sluice_rollout_resolve_user(&g, &n, p, 1, &u)) < 0) {
			rc = cli_fail(lrc);
			goto done;
		}
		for (size_t k = 0; k < n; k++) {
			const sluice_rollout_release *r = release_of(p, g[k].version);
			nall++;
			if (g[k].disabled) {
				json_array_append_new(joff, json_pack("{s:s, s:s}", "id", g[k].plugin,
								      "version", g[k].version));
				sluice_buf_printf(&text,
						  "  %s %s: disabled by the user ('sluice enable %s "
						  "--user %s' undoes it)\n",
						  g[k].plugin, g[k].version, g[k].plugin, user);
				continue;
			}
			ngrants++;
			json_array_append_new(
				jplugins,
				json_pack("{s:s, s:s, s:s, s:s, s:b}", "id", g[k].plugin, "version",
					  g[k].version, "commit", g[k].commit, "via_group",
					  g[k].via_group, "user_can_disable", g[k].user_can_disable));
			sluice_buf_printf(&text, "  %s %s (commit %.12s): ", g[k].plugin,
					  g[k].version, g[k].commit);
			if (r)
				put_why(&text, p, r, g[k].via_group);
			sluice_buf_printf(&text, "; %s\n",
					  g[k].user_can_disable ? "the user may disable it"
								: "enforced: the user cannot disable it");
		}
		free(g);
	}
	if (nall == 0)
		sluice_buf_printf(&text, "  no plugins\n");
	if (c->output == CLI_OUT_JSON) {
		rc = cli_print_json(json_pack("{s:s, s:O, s:O, s:O}", "user", user, "groups",
					      jgroups, "plugins", jplugins, "disabled", joff));
		goto done;
	}
	if (!c->quiet)
		fputs(text.ptr, stdout);
done:
	json_decref(jgroups);
	json_decref(jplugins);
	json_decref(joff);
	sluice_buf_clear(&text);
	sluice_strv_free(disabled);
	free(groups);
	return rc;
}

static cli_retval resolve_group(struct cli *c, const char *group)
{
	const sluice_workspace *ws = sluice_engine_workspace(c->e);
	const sluice_group *g = sluice_workspace_group(ws, group);
	char **members = NULL;
	json_t *jmembers = NULL, *jplugins = NULL;
	sluice_buf text = SLUICE_BUF_INIT;
	size_t count = 0;
	cli_retval rc;
	int lrc;

	if (!g) {
		sluice_buf names = SLUICE_BUF_INIT;
		for (size_t i = 0; i < ws->ngroups; i++)
			sluice_buf_printf(&names, "%s%s", i ? ", " : "", ws->groups[i].name.s);
		cli_error("no group '%s' in workspace '%s' (groups: %s)", group,
			  sluice_engine_workspace_name(c->e), names.len ? names.ptr : "none");
		sluice_buf_clear(&names);
		return CLI_INVALID;
	}
	if ((lrc = sluice_group_members(&members, ws, g, sluice_engine_root(c->e))) < 0)
		return cli_fail(lrc);
	jmembers = json_array();
	jplugins = json_array();
	for (size_t i = 0; members && members[i]; i++)
		json_array_append_new(jmembers, json_string(members[i]));
	sluice_buf_printf(&text, "%s (%zu member%s)\n", group, json_array_size(jmembers),
			  json_array_size(jmembers) == 1 ? "" : "s");
	for (size_t i = 0; i < c->in->in.nplugins; i++) {
		const sluice_rollout_plugin *p = &c->in->in.plugins[i];
		ptrdiff_t k = sluice_rollout_assigned(p, group);
		if (k < 0)
			continue;
		const sluice_rollout_release *r = &p->releases[k];
		count++;
		json_array_append_new(jplugins,
				      json_pack("{s:s, s:s, s:s, s:s?, s:s, s:b}", "id", p->id,
						"version", r->version, "commit", r->commit, "stage",
						stage_of(r, group), "state",
						sluice_release_state_name(r->state),
						"user_can_disable", r->allow_user_disable));
		sluice_buf_printf(&text, "  %s %s (commit %.12s): ", p->id, r->version, r->commit);
		put_why(&text, p, r, group);
		sluice_buf_puts(&text, "\n");
	}
	if (!count)
		sluice_buf_puts(&text, "  no plugins\n");
	if (c->output == CLI_OUT_JSON)
		rc = cli_print_json(json_pack("{s:s, s:O, s:O}", "group", group, "members", jmembers,
					      "plugins", jplugins));
	else {
		rc = CLI_OK;
		if (!c->quiet)
			fputs(text.ptr, stdout);
	}
	json_decref(jmembers);
	json_decref(jplugins);
	sluice_buf_clear(&text);
	sluice_strv_free(members);
	return rc;
}

static cli_retval check(struct cli *c)
{
	if (!cli_get(c, "user") == !cli_get(c, "group")) {
		cli_error("resolve needs exactly one of --user ID and --group NAME");
		return CLI_USAGE;
	}
	return CLI_OK;
}

static cli_retval run(struct cli *c)
{
	const char *user = cli_get(c, "user");

	return user ? resolve_user(c, user) : resolve_group(c, cli_get(c, "group"));
}

const cli_cmd cmd_resolve = {
	.name = "resolve",
	.run = run,
	.usage = "resolve --user ID | --group NAME",
	.summary = "what a user or group gets, and why (which group, stage and release)",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
	.flags = CLI_ENGINE | CLI_VIEW | CLI_INPUT,
	.check = check,
};
