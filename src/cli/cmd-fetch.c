/* sluice fetch: bring the mirrors of watched repositories up to date,
 * fetching only those whose tags changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/source.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"workspace", 'w', "NAME", "the workspace (default: the only one in workspaces/)", false},
	{NULL, 0, NULL, NULL, false},
};

typedef struct {
	bool tty;
	double start, last;
	bool drawn;
} progress_state;

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human_bytes(char *buf, size_t n, double b)
{
	if (b >= 1024.0 * 1024.0)
		snprintf(buf, n, "%.1f MiB", b / (1024.0 * 1024.0));
	else if (b >= 1024.0)
		snprintf(buf, n, "%.1f KiB", b / 1024.0);
	else
		snprintf(buf, n, "%.0f B", b);
}

static void on_progress(void *payload, const sluice_fetch_progress *p)
{
	progress_state *ps = payload;
	double now = mono_now();
	char size[32], rate[32];
	bool done = p->total_objects && p->received_objects == p->total_objects;

	if (!ps->tty || (now - ps->last < 0.1 && !done))
		return;
	ps->last = now;
	double secs = now - ps->start > 0.001 ? now - ps->start : 0.001;
	human_bytes(size, sizeof size, (double)p->received_bytes);
	human_bytes(rate, sizeof rate, (double)p->received_bytes / secs);
	fprintf(stderr, "\r\033[K%s: %u/%u objects, %s, %s/s", p->key, p->received_objects,
		p->total_objects, size, rate);
	ps->drawn = true;
}

static void clear_progress(progress_state *ps)
{
	if (ps->drawn)
		fputs("\r\033[K", stderr);
	ps->drawn = false;
}

/* A workspace path value resolved against --root unless absolute. */
static char *rooted(const struct cli *c, const char *path)
{
	if (!path)
		return NULL;
	if (path[0] == '/')
		return sluice_xstrdup(path);
	return sluice_path_join(c->root, path);
}

/* Plain relative paths in URLs resolve against --root too. */
static char *rooted_url(const struct cli *c, char *url)
{
	if (!url || url[0] == '/' || strstr(url, "://") || strchr(url, ':'))
		return url;
	char *r = sluice_path_join(c->root, url);
	free(url);
	return r;
}

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static void print_list(const char *what, char **v)
{
	if (!v || !*v)
		return;
	printf(" %s", what);
	for (; *v; v++)
		printf(" %s", *v);
	printf(";");
}

static int load_workspace(sluice_workspace **out, struct cli *c)
{
	sluice_diags diags;
	char *path = sluice_workspace_find(c->root, cli_get(c, "workspace"));
	int rc;

	*out = NULL;
	if (!path)
		return cli_fail(sluice_error_code() ? sluice_error_code() : SLUICE_ENOTFOUND);
	sluice_diags_init(&diags);
	rc = sluice_workspace_load(out, path, &diags);
	if (rc < 0 || diags.errors) {
		sluice_diags_sort(&diags);
		sluice_diags_print_text(&diags, stderr);
		cli_error("the workspace '%s' is not valid; run 'sluice validate' for details",
			  path);
		sluice_workspace_free(*out);
		*out = NULL;
		rc = EXIT_INVALID;
	} else
		rc = EXIT_OK;
	sluice_diags_clear(&diags);
	free(path);
	return rc;
}

static int run(struct cli *c)
{
	sluice_workspace *ws = NULL;
	const sluice_ws_plugin **todo = NULL;
	size_t ntodo = 0, counts[4] = {0};
	progress_state ps = {0};
	char *ca = NULL;
	int rc;

	if ((rc = load_workspace(&ws, c)) != EXIT_OK)
		return rc;
	if (ws->ca_bundle.s) {
		ca = rooted(c, ws->ca_bundle.s);
		if ((rc = sluice_source_set_ca_bundle(ca)) < 0) {
			rc = cli_fail(rc);
			goto done;
		}
	}
	todo = sluice_xcalloc(ws->nplugins + c->nargs + 1, sizeof *todo);
	if (c->nargs == 0) {
		for (size_t i = 0; i < ws->nplugins; i++)
			todo[ntodo++] = &ws->plugins[i];
	}
	for (size_t i = 0; i < c->nargs; i++) {
		const sluice_ws_plugin *p;
		if (sluice_source_find_plugin(&p, ws, c->cache, c->args[i]) < 0) {
			rc = cli_fail(SLUICE_EINVAL);
			goto done;
		}
		todo[ntodo++] = p;
	}

	ps.tty = !c->quiet && c->output == CLI_OUT_TEXT && isatty(STDERR_FILENO);
	for (size_t i = 0; i < ntodo; i++) {
		const sluice_ws_plugin *p = todo[i];
		const char *key = sluice_source_plugin_key(p);
		char *url = rooted_url(c, sluice_workspace_repo_url(ws, p));
		char *cred_file = rooted(c, p->credentials_file.s);
		sluice_fetch_opts fo = {p->credentials_env.s, cred_file, on_progress, &ps};
		sluice_fetch_result r;
		char err[1024] = "";
		int frc;

		if (!url) {
			frc = sluice_error_set(SLUICE_EINVAL,
					       "no URL for '%s': give it a 'url' or set "
					       "repositories.url_template",
					       key);
			sluice_fetch_result_init(&r);
			r.status = SLUICE_FETCH_ERROR;
		} else {
			ps.start = ps.last = mono_now();
			frc = sluice_source_fetch(&r, c->cache, key, url, &fo);
			clear_progress(&ps);
		}
		if (frc < 0)
			snprintf(err, sizeof err, "%s", sluice_error_last());
		else
			sluice_source_mark_ok(c->cache, key, c->now);
		counts[r.status]++;

		if (c->output == CLI_OUT_JSON) {
			char *shown = url ? sluice_source_redact_url(url) : NULL;
			json_t *o = json_object();
			json_object_set_new(o, "plugin", json_string(key));
			json_object_set_new(o, "url", shown ? json_string(shown) : json_null());
			json_object_set_new(o, "status",
					    json_string(sluice_fetch_status_name(r.status)));
			json_object_set_new(o, "new_tags", strv_json(r.new_tags));
			json_object_set_new(o, "moved_tags", strv_json(r.moved_tags));
			json_object_set_new(o, "deleted_tags", strv_json(r.deleted_tags));
			json_object_set_new(o, "warning",
					    r.warning ? json_string(r.warning) : json_null());
			json_object_set_new(o, "error", err[0] ? json_string(err) : json_null());
			char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
			puts(line);
			free(line);
			json_decref(o);
			free(shown);
			if (err[0])
				cli_error("%s: %s", key, err);
		} else {
			if (r.warning && !c->quiet)
				cli_warn("%s", r.warning);
			if (err[0])
				cli_error("%s: %s", key, err);
			else if (!c->quiet && (r.status != SLUICE_FETCH_UNCHANGED || c->verbose)) {
				printf("%s: %s;", key, sluice_fetch_status_name(r.status));
				print_list("new", r.new_tags);
				print_list("moved", r.moved_tags);
				print_list("deleted", r.deleted_tags);
				if (r.objects)
					printf(" %u objects, %zu bytes;", r.objects, r.bytes);
				putchar('\n');
			}
			if (!c->quiet)
				for (char **m = r.moved_tags; m && *m; m++)
					cli_warn("%s: tag %s now points elsewhere; its release is "
						 "frozen until an operator runs 'sluice "
						 "accept-tag-move'",
						 key, *m);
		}
		fflush(stdout);
		sluice_fetch_result_clear(&r);
		free(cred_file);
		free(url);
	}
	if (c->output == CLI_OUT_TEXT && !c->quiet)
		printf("%zu repositories: %zu unchanged, %zu fetched, %zu cloned, %zu failed\n",
		       ntodo, counts[SLUICE_FETCH_UNCHANGED], counts[SLUICE_FETCH_FETCHED],
		       counts[SLUICE_FETCH_CLONED], counts[SLUICE_FETCH_ERROR]);
	rc = counts[SLUICE_FETCH_ERROR] ? EXIT_FAIL : EXIT_OK;
done:
	free(ca);
	free(todo);
	sluice_workspace_free(ws);
	return rc;
}

const cli_cmd cmd_fetch = {
	.name = "fetch",
	.run = run,
	.usage = "fetch [PLUGIN...] [-w NAME]",
	.summary = "update the mirrors of watched repositories; fetch only where tags changed",
	.opts = opts,
	.min_args = 0,
	.max_args = 100000,
};
