/* sluice plan [--at DATE]: what reconcile would do now, or what will have
 * happened by DATE if nothing else changes, and what blocks each stage.
 * Changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"at", 0, "DATE", "replay day by day until DATE (RFC 3339 or YYYY-MM-DD)", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static json_t *time_json(int64_t t)
{
	char buf[SLUICE_TIME_BUFSZ];
	return t ? json_string(sluice_time_format(buf, t)) : json_null();
}

/* Every gate metric evaluated: {"plugin", "version", "stage", ...}. */
static json_t *plan_gates_json(const sluice_plan *p)
{
	json_t *all = sluice_rollout_gates_json(p, NULL, NULL), *g;
	size_t i;

	json_array_foreach(all, i, g) {
		json_object_set_new(g, "plugin", json_string(p->gates[i].plugin));
		json_object_set_new(g, "version", json_string(p->gates[i].version));
	}
	return all;
}

static void print_json(const sluice_plan *p, int64_t now, int64_t at)
{
	json_t *actions = json_array(), *blocked = json_array();
	for (size_t i = 0; i < p->nactions; i++) {
		const sluice_rollout_action *a = &p->actions[i];
		json_array_append_new(
			actions, json_pack("{s:s, s:s?, s:s?, s:s?, s:i, s:s?, s:s?, s:s?, s:o}",
					   "action", sluice_rollout_action_name(a->kind), "plugin",
					   a->plugin, "version", a->version, "commit", a->commit,
					   "stage_index", a->stage_index, "stage", a->stage,
					   "target_version", a->target_version, "reason", a->reason,
					   "at", time_json(a->at ? a->at : now)));
	}
	for (size_t i = 0; i < p->nblocked; i++) {
		const sluice_rollout_block *b = &p->blocked[i];
		json_array_append_new(
			blocked, json_pack("{s:s?, s:s?, s:s?, s:i, s:s, s:s?, s:o}", "plugin",
					   b->plugin, "version", b->version, "stage", b->stage,
					   "stage_index", b->stage_index, "kind",
					   sluice_rollout_block_name(b->kind), "message", b->message,
					   "opens_at", time_json(b->opens_at)));
	}
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "now", time_json(now), "at",
			      time_json(at), "actions", actions, "blocked", blocked, "gates",
			      plan_gates_json(p));
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static void print_text(const sluice_plan *p, const sluice_engine_input *in, bool replay)
{
	char day[SLUICE_TIME_BUFSZ];

	if (!p->nactions)
		printf("nothing to do%s\n", replay ? " by then" : " now");
	for (size_t i = 0; i < p->nactions; i++) {
		char *line = sluice_engine_action_text(&p->actions[i]);
		if (replay) {
			sluice_time_format(day, p->actions[i].at ? p->actions[i].at : in->in.now);
			day[10] = '\0';
			printf("%s %s\n", day, line);
		} else
			printf("%s\n", line);
		free(line);
	}
	/* one heading per blocked release: a plugin may have one rolling out
	 * and a newer one queued, each held by something else */
	for (size_t i = 0; i < in->in.nplugins; i++) {
		for (size_t k = 0; k < p->nblocked; k++) {
			const sluice_rollout_block *b = &p->blocked[k];
			bool seen = false;
			if (!b->plugin || strcmp(b->plugin, in->ids[i]) != 0)
				continue;
			for (size_t j = 0; j < k && !seen; j++)
				seen = p->blocked[j].plugin && strcmp(p->blocked[j].plugin, b->plugin) == 0 &&
				       ((!b->version && !p->blocked[j].version) ||
					(b->version && p->blocked[j].version &&
					 strcmp(p->blocked[j].version, b->version) == 0));
			if (seen)
				continue;
			char *lines = sluice_rollout_explain_release(p, in->ids[i], b->version);
			if (lines && *lines) {
				printf("%s%s%s waits:\n", in->ids[i], b->version ? "@" : "",
				       b->version ? b->version : "");
				for (char *l = strtok(lines, "\n"); l; l = strtok(NULL, "\n"))
					printf("  %s\n", l);
			}
			free(lines);
		}
	}
	for (size_t i = 0; i < p->ngates; i++) {
		char *line = sluice_rollout_gate_text(&p->gates[i]);
		printf("%s@%s gate %s\n", p->gates[i].plugin, p->gates[i].version, line);
		free(line);
	}
}

static cli_retval check(struct cli *c)
{
	const char *at_arg = cli_get(c, "at");
	int64_t at = 0;

	if (at_arg && sluice_time_parse(&at, at_arg) < 0) {
		cli_error("--at '%s' is not a date; write it as 2026-12-21 or 2026-12-21T09:00:00Z",
			  at_arg);
		return CLI_USAGE;
	}
	if (at_arg && at < c->now) {
		cli_error("--at %s is before now; plan looks forward (use 'sluice history' for the past)",
			  at_arg);
		return CLI_USAGE;
	}
	return CLI_OK;
}

static cli_retval run(struct cli *c)
{
	const char *at_arg = cli_get(c, "at");
	sluice_plan *p = NULL;
	int64_t at = 0;
	int rc;

	if (at_arg)
		sluice_time_parse(&at, at_arg); /* checked above */
	if ((rc = at_arg ? sluice_rollout_simulate(&p, &c->in->in, at)
			 : sluice_rollout_plan(&p, &c->in->in)) < 0)
		return cli_fail(rc);
	if (c->output == CLI_OUT_JSON)
		print_json(p, c->now, at);
	else
		print_text(p, c->in, at_arg != NULL);
	sluice_rollout_plan_free(p);
	return CLI_OK;
}

const cli_cmd cmd_plan = {
	.name = "plan",
	.run = run,
	.usage = "plan [--at DATE] [-w NAME]",
	.summary = "show what reconcile would do (by DATE with --at) and what blocks each stage",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
	.flags = CLI_ENGINE | CLI_VIEW | CLI_INPUT | CLI_WARNINGS,
	.check = check,
};
