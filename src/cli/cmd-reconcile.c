/* sluice reconcile: one pass - fetch, record new tags, validate, advance
 * rollouts, publish (docs/operations.md). */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/engine.h"
#include "sluice/reconcile.h"
#include "sluice/error.h"

static const cli_opt opts[] = {
	CLI_OPT_WORKSPACE,
	{"no-fetch", 0, NULL, "use the mirrors as they are; do not contact remotes", false},
	{"no-publish", 0, NULL, "do not publish the effective state", false},
	{NULL, 0, NULL, NULL, false},
};

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static void print_json(const sluice_reconcile_report *r)
{
	json_t *items = json_array();
	for (size_t i = 0; i < r->nitems; i++) {
		const sluice_reconcile_item *it = &r->items[i];
		json_t *actions = json_array();
		for (size_t k = 0; it->applied && k < it->applied->nactions; k++) {
			const sluice_rollout_action *a = &it->applied->actions[k];
			json_array_append_new(
				actions,
				json_pack("{s:s, s:s?, s:s?, s:i, s:s?, s:s?, s:s?}", "action",
					  sluice_rollout_action_name(a->kind), "version", a->version,
					  "commit", a->commit, "stage_index", a->stage_index, "stage",
					  a->stage, "target_version", a->target_version, "reason",
					  a->reason));
		}
		json_array_append_new(
			items, json_pack("{s:s, s:s?, s:s?, s:o, s:o, s:s?}", "repository",
					 it->watched->key, "plugin", it->plugin, "fetch_error",
					 it->fetch_error, "notes", strv_json(it->notes), "actions",
					 actions, "error", it->error));
	}
	json_t *o = json_pack("{s:o, s:b, s:s?, s:s?, s:{s:i, s:i, s:i, s:s?}}", "plugins", items,
			      "published", r->published, "publish_error", r->publish_error,
			      "skipped_lease_held_by", r->lease_holder, "notifications",
			      "delivered", r->notified.delivered, "failed", r->notified.failed,
			      "dead", r->notified.dead, "error", r->notified.error);
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static cli_retval run(struct cli *c)
{
	sluice_reconcile_report r;
	sluice_reconcile_opts o = {cli_has(c, "no-fetch"), cli_has(c, "no-publish"), 0};
	cli_retval rc;
	int lrc;

	if ((lrc = sluice_reconcile_run(&r, c->e, &o)) < 0)
		return cli_fail(lrc);
	if (r.lease_holder) {
		/* Another pass is doing this work: not a failure under cron. */
		if (!c->quiet)
			cli_warn("another reconcile (%s) is running; this pass did nothing",
				 r.lease_holder);
	}
	if (c->output == CLI_OUT_JSON)
		print_json(&r);
	else {
		for (size_t i = 0; i < r.nitems; i++) {
			const sluice_reconcile_item *it = &r.items[i];
			const char *name = it->plugin ? it->plugin : it->watched->key;
			for (char **n = it->notes; n && *n; n++)
				if (!c->quiet)
					cli_out("%s: %s", name, *n);
			for (size_t k = 0; it->applied && k < it->applied->nactions; k++) {
				char *line = sluice_engine_action_text(&it->applied->actions[k]);
				if (!c->quiet)
					cli_out("%s", line);
				free(line);
			}
			if (it->error)
				cli_error("%s: this plugin's pass was rolled back: %s", name, it->error);
		}
		sluice_secrets_stats ss = {0, 0, 0};
		for (size_t i = 0; i < r.nitems; i++) {
			ss.checked += r.items[i].secrets.checked;
			ss.cached += r.items[i].secrets.cached;
			ss.missing += r.items[i].secrets.missing;
		}
		/* docs/secrets.md: what a pass cost the providers */
		if (!c->quiet && c->verbose && !r.lease_holder)
			printf("secrets: checked %d, cached %d, missing %d\n", ss.checked, ss.cached,
			       ss.missing);
		/* docs/sources.md: what comparing the remotes cost */
		if (!c->quiet && c->verbose && !r.lease_holder && !cli_has(c, "no-fetch"))
			printf("fetch: %zu compared over smart HTTP on %ld connections, %zu opened "
			       "with libgit2\n",
			       r.fetch.probed, r.fetch.connections, r.fetch.git);
		if (r.published && !c->quiet && c->verbose)
			printf("published the effective state\n");
	}
	if (r.publish_error)
		cli_error("cannot publish: %s", r.publish_error);
	/* best effort: the outbox keeps them, a later pass or 'sluice outbox
	 * deliver' sends them */
	if (r.notified.failed)
		cli_warn("%d notification%s not delivered yet (first: %s); see 'sluice outbox list'",
			 r.notified.failed, r.notified.failed == 1 ? "" : "s", r.notified.error);
	/* the pass ran, but what users get is not what it decided */
	rc = r.publish_error ? CLI_FAILED : CLI_OK;
	sluice_reconcile_report_clear(&r);
	return rc;
}

const cli_cmd cmd_reconcile = {
	.name = "reconcile",
	.run = run,
	.usage = "reconcile [--no-fetch] [--no-publish] [-w NAME]",
	.summary = "one pass: fetch, record new tags, validate, advance rollouts, publish",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
	.flags = CLI_ENGINE | CLI_WARNINGS,
};
