/* sluice attest PLUGIN@VERSION ITEM [--evidence URL]: records that a
 * release-checklist item Sluice cannot check itself was done (contract
 * tests, guidance evaluations, security review...), by an admin with the
 * role the rollout policy names for that item (`by`), else `ci` or
 * `approver` (PRODUCT.md 3.6). */
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"evidence", 0, "URL", "where the proof is (a CI run, a review)", false},
	OPS_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static int run(struct cli *c)
{
	const char *item = c->args[1], *evidence = cli_get(c, "evidence");
	const sluice_rollout_plugin *p;
	const sluice_rollout_release *r;
	char when[SLUICE_TIME_BUFSZ];
	unsigned roles = SLUICE_ROLE_CI | SLUICE_ROLE_APPROVER;
	ops_ctx o = {0};
	int rc;

	if (!ops_one_of(sluice_checklist_items, item)) {
		sluice_buf names = SLUICE_BUF_INIT;
		for (const char *const *i = sluice_checklist_items; *i; i++)
			sluice_buf_printf(&names, "%s%s", names.len ? ", " : "", *i);
		cli_error("'%s' is not a checklist item; the items are %s", item, names.ptr);
		sluice_buf_clear(&names);
		return EXIT_INVALID;
	}
	if ((rc = ops_parse_ref(&o, c->args[0], false)) >= 0 ||
	    (rc = ops_open(&o, c, "attest", false)) >= 0)
		goto done;
	for (size_t i = 0; o.e->policy && i < o.e->policy->nchecklist; i++)
		if (o.e->policy->checklist[i].item.s && !strcmp(o.e->policy->checklist[i].item.s, item) &&
		    o.e->policy->checklist[i].by_roles)
			roles = o.e->policy->checklist[i].by_roles;
	if ((rc = ops_authorize(&o, roles)) >= 0)
		goto done;
	if (sluice_rollout_checked_item(item)) {
		rc = ops_refuse(&o, "%s is checked by sluice itself when it records a release; it "
				    "cannot be attested ('sluice checklist %s@%s' shows its state)",
				item, o.plugin, o.version);
		goto done;
	}
	if ((rc = ops_load(&o)) >= 0)
		goto done;
	p = ops_plugin(&o, o.plugin);
	if (!(r = ops_release(p, o.version))) {
		rc = ops_refuse(&o, "cannot attest %s for %s@%s: no such release has been recorded",
				item, o.plugin, o.version);
		goto done;
	}
	if ((rc = sluice_store_attest(o.e->store, o.e->workspace, o.plugin, o.version, item,
				      evidence, c->now)) < 0) {
		rc = ops_fail(&o, rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = ops_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s}", "plugin", o.plugin,
					      "version", o.version, "item", item, "actor", o.actor,
					      "evidence", evidence, "at",
					      sluice_time_format(when, c->now)));
		goto done;
	}
	rc = EXIT_OK;
	if (!c->quiet)
		printf("attested %s for %s@%s by %s%s%s\n", item, o.plugin, o.version, o.actor,
		       evidence ? ": " : "", evidence ? evidence : "");
done:
	ops_close(&o);
	return rc;
}

const cli_cmd cmd_attest = {
	.name = "attest",
	.run = run,
	.usage = "attest PLUGIN@VERSION ITEM [--evidence URL]",
	.summary = "record a release-checklist item as done (ci or approver, or the policy's roles)",
	.opts = opts,
	.min_args = 2,
	.max_args = 2,
};
