/* sluice secrets check: every secret binding of the releases that may
 * start a stage (and of completed ones), whether the secret exists, its
 * version and age, and when it was checked. Values are never read
 * (docs/secrets.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/secrets.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"workspace", 'w', "NAME", "the workspace (default: the only one in workspaces/)", false},
	{"refresh", 0, NULL, "ask every provider again, ignoring the cached answers", false},
	{NULL, 0, NULL, NULL, false},
};

static json_t *time_json(int64_t t)
{
	char buf[SLUICE_TIME_BUFSZ];
	return t ? json_string(sluice_time_format(buf, t)) : json_null();
}

static const sluice_secret_provider *provider_of(const sluice_engine *e, const char *name)
{
	const sluice_workspace *ws = sluice_engine_workspace(e);
	for (size_t i = 0; i < ws->nproviders; i++)
		if (strcmp(ws->providers[i].name.s, name) == 0)
			return &ws->providers[i];
	return NULL;
}

/* Checks what is due (everything with --refresh), each plugin in its own
 * transaction as reconcile does. */
static int refresh(sluice_engine *e, const sluice_watched *only, bool force)
{
	sluice_store *st = sluice_engine_store(e);
	size_t nwatched = 0;
	const sluice_watched *watched = sluice_engine_watched(e, &nwatched);
	int rc = 0;
	for (size_t i = 0; i < nwatched && rc == 0; i++) {
		const sluice_watched *w = &watched[i];
		if (only && w != only)
			continue;
		char *id = sluice_engine_plugin_id(e, w);
		if ((rc = sluice_store_begin(st)) == 0 &&
		    (rc = sluice_secrets_refresh(e, w->key, id, force, NULL)) == 0)
			rc = sluice_store_commit(st);
		if (rc < 0)
			sluice_store_rollback(st);
		free(id);
	}
	return rc;
}

static cli_retval run(struct cli *c)
{
	sluice_engine *e = c->e;
	sluice_engine_input *in = NULL;
	const sluice_watched *only = NULL;
	sluice_secret_row *rows = NULL;
	size_t nrows = 0;
	json_t *list = json_array();
	bool missing = false;
	int rc;

	if (strcmp(c->args[0], "check") != 0) {
		cli_error("unknown secrets command '%s'; use 'sluice secrets check [PLUGIN]'",
			  c->args[0]);
		json_decref(list);
		return CLI_USAGE;
	}
	if (c->nargs > 1 && !(only = sluice_engine_find(e, c->args[1]))) {
		rc = cli_fail(SLUICE_ENOTFOUND);
		goto done;
	}
	if ((rc = refresh(e, only, cli_has(c, "refresh"))) < 0 ||
	    (rc = sluice_engine_input_load(&in, e, only ? only->key : NULL)) < 0 ||
	    (rc = sluice_store_secret_rows(&rows, &nrows, sluice_engine_store(e),
					       sluice_engine_workspace_name(e), NULL, NULL)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	for (size_t i = 0; i < in->in.nplugins; i++) {
		const sluice_rollout_plugin *p = &in->in.plugins[i];
		for (size_t k = 0; k < p->nreleases; k++) {
			const sluice_rollout_release *r = &p->releases[k];
			bool needed = !r->refused &&
				      sluice_secrets_needed((int)r->state, r->stage_index, r->nstages);
			if (!needed && r->state != SLUICE_RELEASE_COMPLETE)
				continue;
			for (size_t j = 0; j < nrows; j++) {
				const sluice_secret_row *x = &rows[j];
				if (strcmp(x->plugin, in->ids[i]) != 0 || strcmp(x->version, r->version) != 0)
					continue;
				const sluice_secret_provider *sp = provider_of(e, x->provider);
				int64_t age = x->present && x->updated_at ? sluice_engine_now(e) - x->updated_at : -1;
				char *warning = sluice_secret_age_warning(sp, x->present,
									  x->updated_at, sluice_engine_now(e));
				if (needed && !x->present)
					missing = true;
				json_array_append_new(
					list,
					json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:o, s:o, s:o, "
						  "s:b, s:s?, s:s?}",
						  "plugin", x->plugin, "release", x->version, "variable",
						  x->var, "provider", x->provider, "name", x->name,
						  "exists", x->present, "version",
						  x->present ? x->secret_version : NULL, "updated_at",
						  time_json(x->present ? x->updated_at : 0), "age_days",
						  age >= 0 ? json_integer(age / SLUICE_DAY_SECONDS)
							   : json_null(),
						  "checked_at", time_json(x->checked_at), "needed",
						  needed, "problem", x->present ? NULL : x->problem,
						  "warning", warning));
				free(warning);
			}
		}
	}
	if (c->output == CLI_OUT_JSON) {
		json_t *doc = json_pack("{s:s, s:O}", "workspace", sluice_engine_workspace_name(e), "bindings", list);
		char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
		json_decref(doc);
	} else {
		size_t i;
		json_t *b;
		printf("%-22s %-22s %-20s %-40s %-7s %-12s %-8s %s\n", "PLUGIN", "VARIABLE",
		       "PROVIDER", "NAME", "EXISTS", "VERSION", "AGE", "CHECKED");
		json_array_foreach (list, i, b) {
			const char *v = json_string_value(json_object_get(b, "version"));
			json_t *ad = json_object_get(b, "age_days");
			char agebuf[32] = "-";
			if (json_is_integer(ad))
				snprintf(agebuf, sizeof agebuf, "%lldd",
					 (long long)json_integer_value(ad));
			printf("%-22s %-22s %-20s %-40s %-7s %-12s %-8s %s\n",
			       json_string_value(json_object_get(b, "plugin")),
			       json_string_value(json_object_get(b, "variable")),
			       json_string_value(json_object_get(b, "provider")),
			       json_string_value(json_object_get(b, "name")),
			       json_is_true(json_object_get(b, "exists")) ? "yes" : "no", v ? v : "-",
			       agebuf, json_string_value(json_object_get(b, "checked_at")));
			const char *why = json_string_value(json_object_get(b, "problem"));
			const char *warn = json_string_value(json_object_get(b, "warning"));
			if (why)
				printf("  %s@%s: %s\n", json_string_value(json_object_get(b, "plugin")),
				       json_string_value(json_object_get(b, "release")), why);
			if (warn)
				printf("  warning: %s\n", warn);
		}
	}
	rc = missing ? CLI_FAILED : CLI_OK;
done:
	json_decref(list);
	sluice_secret_rows_free(rows, nrows);
	sluice_engine_input_free(in);
	return rc;
}

const cli_cmd cmd_secrets = {
	.name = "secrets",
	.run = run,
	.usage = "secrets check [PLUGIN] [--refresh] [-w NAME] [-o json]",
	.summary = "whether each secret a release binds exists, its version and age",
	.opts = opts,
	.min_args = 1,
	.max_args = 2,
	/* writable: it records what it checks, as reconcile does */
	.flags = CLI_ENGINE,
};
