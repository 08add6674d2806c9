/* sluice attest PLUGIN@VERSION ITEM [--evidence URL]: records that a
 * release-checklist item Sluice cannot check itself was done (contract
 * tests, guidance evaluations, security review...), by an admin with the
 * role the rollout policy names for that item (`by`), else `ci` or
 * `approver` (docs/configuration.md). */
#include <stdio.h>
#include <string.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"evidence", 0, "URL", "where the proof is (a CI run, a review)", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static cli_retval check(struct cli *c)
{
	const char *item = c->args[1];
	sluice_buf names = SLUICE_BUF_INIT;

	if (cli_one_of(sluice_checklist_items, item))
		return CLI_OK;
	for (const char *const *i = sluice_checklist_items; *i; i++)
		sluice_buf_printf(&names, "%s%s", names.len ? ", " : "", *i);
	cli_error("'%s' is not a checklist item; the items are %s", item, names.ptr);
	sluice_buf_clear(&names);
	return CLI_INVALID;
}

/* The roles the rollout policy names for the item (`by`), else ci or
 * approver. */
static unsigned roles_for(const struct cli *c)
{
	const sluice_rollout_policy *policy = sluice_engine_policy(c->e);
	const char *item = c->args[1];

	for (size_t i = 0; policy && i < policy->nchecklist; i++)
		if (policy->checklist[i].item.s && !strcmp(policy->checklist[i].item.s, item) &&
		    policy->checklist[i].by_roles)
			return policy->checklist[i].by_roles;
	return SLUICE_ROLE_CI | SLUICE_ROLE_APPROVER;
}

static cli_retval run(struct cli *c)
{
	const char *item = c->args[1], *evidence = cli_get(c, "evidence");
	char when[SLUICE_TIME_BUFSZ];
	int lrc;

	if (sluice_rollout_checked_item(item))
		return cli_refuse(c, "%s is checked by sluice itself when it records a release; it "
				     "cannot be attested ('sluice checklist %s@%s' shows its state)",
				  item, c->plugin, c->version);
	if ((lrc = sluice_store_attest(sluice_engine_store(c->e), sluice_engine_workspace_name(c->e),
				       c->plugin, c->version, item, evidence, c->now)) < 0)
		return cli_fail_action(c, lrc);
	if (c->output == CLI_OUT_JSON)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s}", "plugin",
						c->plugin, "version", c->version, "item", item,
						"actor", c->actor, "evidence", evidence, "at",
						sluice_time_format(when, c->now)));
	if (!c->quiet)
		printf("attested %s for %s@%s by %s%s%s\n", item, c->plugin, c->version, c->actor,
		       evidence ? ": " : "", evidence ? evidence : "");
	return CLI_OK;
}

const cli_cmd cmd_attest = {
	.name = "attest",
	.run = run,
	.usage = "attest PLUGIN@VERSION ITEM [--evidence URL]",
	.summary = "record a release-checklist item as done (ci or approver, or the policy's roles)",
	.opts = opts,
	.min_args = 2,
	.max_args = 2,
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT,
	.ref = CLI_REF_RELEASE,
	.check = check,
	.roles_for = roles_for,
};
