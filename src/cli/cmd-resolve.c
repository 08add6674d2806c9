/* sluice resolve --user ID | --group NAME: what a person or a group gets,
 * and why - which group gives each plugin, at which stage of which release
 * (PRODUCT.md 4, 4.1). Read-only; it needs no role. The answer is the
 * stored rollout state, i.e. what the last reconcile published. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/tree.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"user", 0, "ID", "the user to resolve", false},
	{"group", 0, "NAME", "the group to resolve", false},
	OPS_OPT_WORKSPACE,
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
	return ops_release(p, version);
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

static int resolve_user(ops_ctx *o, const char *user)
{
	struct cli *c = o->cli;
	const char **groups = NULL;
	char **disabled = NULL;
	size_t ngroups = 0, ndisabled = 0, ngrants = 0, nall = 0;
	json_t *jgroups = NULL, *jplugins = NULL, *joff = NULL;
	sluice_buf text = SLUICE_BUF_INIT;
	int rc;

	if ((rc = ops_user_groups(&groups, &ngroups, o, user)) < 0 ||
	    (rc = sluice_store_optout_list(&disabled, &ndisabled, o->e->store, o->e->workspace,
					   user)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	jgroups = json_array();
	jplugins = json_array();
	joff = json_array();
	for (size_t g = 0; g < ngroups; g++)
		json_array_append_new(jgroups, json_string(groups[g]));
	sluice_buf_printf(&text, "%s: %s", user, ngroups ? "groups " : "in no group");
	for (size_t g = 0; g < ngroups; g++)
		sluice_buf_printf(&text, "%s%s", g ? ", " : "", groups[g]);
	sluice_buf_puts(&text, "\n");

	for (size_t i = 0; i < o->in->in.nplugins; i++) {
		const sluice_rollout_plugin *p = &o->in->in.plugins[i];
		sluice_rollout_user u = {user, groups, ngroups, (const char *const *)disabled,
					 ndisabled};
		sluice_rollout_grant *g = NULL;
		size_t n = 0;
		if ((rc = sluice_rollout_resolve_user(&g, &n, p, 1, &u)) < 0) {
			rc = cli_fail(rc);
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
		rc = ops_print_json(json_pack("{s:s, s:O, s:O, s:O}", "user", user, "groups",
					      jgroups, "plugins", jplugins, "disabled", joff));
		goto done;
	}
	rc = EXIT_OK;
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

static int resolve_group(ops_ctx *o, const char *group)
{
	struct cli *c = o->cli;
	const sluice_group *g = sluice_workspace_group(o->e->ws, group);
	char **members = NULL;
	json_t *jmembers = NULL, *jplugins = NULL;
	sluice_buf text = SLUICE_BUF_INIT;
	size_t count = 0;
	int rc;

	if (!g) {
		sluice_buf names = SLUICE_BUF_INIT;
		for (size_t i = 0; i < o->e->ws->ngroups; i++)
			sluice_buf_printf(&names, "%s%s", i ? ", " : "", o->e->ws->groups[i].name.s);
		cli_error("no group '%s' in workspace '%s' (groups: %s)", group, o->e->workspace,
			  names.len ? names.ptr : "none");
		sluice_buf_clear(&names);
		return EXIT_INVALID;
	}
	if ((rc = sluice_group_members(&members, o->e->ws, g, o->e->root)) < 0)
		return cli_fail(rc);
	jmembers = json_array();
	jplugins = json_array();
	for (size_t i = 0; members && members[i]; i++)
		json_array_append_new(jmembers, json_string(members[i]));
	sluice_buf_printf(&text, "%s (%zu member%s)\n", group, json_array_size(jmembers),
			  json_array_size(jmembers) == 1 ? "" : "s");
	for (size_t i = 0; i < o->in->in.nplugins; i++) {
		const sluice_rollout_plugin *p = &o->in->in.plugins[i];
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
		rc = ops_print_json(json_pack("{s:s, s:O, s:O}", "group", group, "members", jmembers,
					      "plugins", jplugins));
	else {
		rc = EXIT_OK;
		if (!c->quiet)
			fputs(text.ptr, stdout);
	}
	json_decref(jmembers);
	json_decref(jplugins);
	sluice_buf_clear(&text);
	sluice_strv_free(members);
	return rc;
}

static int run(struct cli *c)
{
	const char *user = cli_get(c, "user"), *group = cli_get(c, "group");
	ops_ctx o = {0};
	int rc;

	if (!user == !group) {
		cli_error("resolve needs exactly one of --user ID and --group NAME");
		return EXIT_USAGE;
	}
	if ((rc = ops_open(&o, c, "resolve", true)) >= 0 || (rc = ops_load(&o)) >= 0)
		goto done;
	rc = user ? resolve_user(&o, user) : resolve_group(&o, group);
done:
	ops_close(&o);
	return rc;
}

const cli_cmd cmd_resolve = {
	.name = "resolve",
	.run = run,
	.usage = "resolve --user ID | --group NAME",
	.summary = "what a user or group gets, and why (which group, stage and release)",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
};
