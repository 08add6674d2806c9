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
#include "sluice/store.h"
#include "sluice/util.h"
#include "sluice/watched.h"

static const cli_opt opts[] = {
	CLI_OPT_WORKSPACE,
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

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* One watched repository in this pass. */
typedef struct {
	const sluice_ws_plugin *p;
	sluice_watched w; /* key and URL */
	const char *key;
	char *shown; /* redacted, for output and the store */
	sluice_fetch_result r;
	char *error;
	char **frozen; /* tags whose recorded commit differs (store) */
	char **flagged_deleted;
	size_t nfrozen, nflagged;
} item;

static void push(char ***v, size_t *n, const char *s)
{
	*v = sluice_xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = sluice_xstrdup(s);
	(*v)[*n] = NULL;
}

static int on_tag(void *ctx, const sluice_observed_tag *o)
{
	item *it = ctx;
	if (o->obs.status == SLUICE_TAG_MOVED)
		push(&it->frozen, &it->nfrozen, o->tag->name);
	return 0;
}

static void on_deleted(void *ctx, const char *tag)
{
	item *it = ctx;
	push(&it->flagged_deleted, &it->nflagged, tag);
}

/* Records every tag of a repository whose tags changed since the store
 * last saw them: first-seen commits, moves, deletions. Unlike reconcile,
 * fetch records every tag, not only release tags in range, so a tag's
 * first commit is known before the range admits it (docs/sources.md).
 * Cheap to repeat, so a crash between the fetch and this point loses
 * nothing. */
static int observe_tags(sluice_store *s, item *it, const char *cache, const char *plugin,
			int64_t now)
{
	sluice_observe_opts o = {.observed = on_tag, .deleted = on_deleted, .ctx = it};
	return sluice_watched_observe_tags(s, cache, it->key, plugin, now, &o);
}

/* Writes the pass to the store in one transaction, after all network
 * work, so the database is never locked while a remote is slow. */
static int record(struct cli *c, item *items, size_t n)
{
	sluice_store *s = NULL;
	int rc;

	if ((rc = sluice_store_open(&s, c->db, 0)) < 0 || (rc = sluice_store_begin(s)) < 0)
		goto done;
	for (size_t i = 0; i < n && rc == 0; i++) {
		item *it = &items[i];
		const char *url = it->shown ? it->shown : "";
		if (it->error) {
			rc = sluice_store_source_checked(s, it->key, url, NULL, c->now, NULL,
							 it->error);
			continue;
		}
		sluice_source_row row = {0};
		bool known = sluice_store_source_get(&row, s, it->key) == 0;
		/* until a release of it validates, the repository stands in
		 * for its plugin id (docs/sources.md, plugin ids) */
		char *plugin = sluice_watched_tracking_id(s, it->key);
		if (!known || !row.refs_fingerprint ||
		    strcmp(row.refs_fingerprint, it->r.fingerprint) != 0 ||
		    it->r.status != SLUICE_FETCH_UNCHANGED)
			rc = observe_tags(s, it, c->cache, plugin, c->now);
		if (rc == 0)
			rc = sluice_store_source_checked(s, it->key, url, plugin, c->now,
							 it->r.fingerprint, NULL);
		sluice_source_row_clear(&row);
		free(plugin);
	}
	if (rc == 0)
		rc = sluice_store_commit(s);
done:
	if (rc < 0)
		cli_error("cannot record the fetched tags in '%s': %s", c->db, sluice_error_last());
	sluice_store_free(s);
	return rc;
}

static void print_text(const struct cli *c, const item *it)
{
	const sluice_fetch_result *r = &it->r;
	sluice_buf b = SLUICE_BUF_INIT;

	if (r->warning && !c->quiet)
		cli_warn("%s", r->warning);
	for (char **n = r->notes; n && *n && !c->quiet; n++)
		cli_warn("%s: %s", it->key, *n);
	if (it->error) {
		cli_error("%s: %s", it->key, it->error);
		return;
	}
	if (c->quiet)
		return;
	for (size_t i = 0; i < it->nfrozen; i++)
		cli_warn("%s: tag %s points at another commit than when it was first seen; its "
			 "release is frozen until an operator runs 'sluice accept-tag-move'",
			 it->key, it->frozen[i]);
	for (size_t i = 0; i < it->nflagged; i++)
		cli_warn("%s: tag %s was deleted upstream; its release is kept and flagged",
			 it->key, it->flagged_deleted[i]);
	if (r->status == SLUICE_FETCH_UNCHANGED && !c->verbose)
		return;
	const char *what[] = {"new", "moved", "deleted"};
	char **lists[] = {r->new_tags, r->moved_tags, r->deleted_tags};
	for (size_t k = 0; k < 3; k++) {
		if (!lists[k] || !lists[k][0])
			continue;
		sluice_buf_printf(&b, "%s%s", b.len ? "; " : "", what[k]);
		for (char **t = lists[k]; *t; t++)
			sluice_buf_printf(&b, " %s", *t);
	}
	if (r->objects)
		sluice_buf_printf(&b, "%s%u objects, %zu bytes", b.len ? "; " : "", r->objects,
				  r->bytes);
	/* tag names come from the repository: printed escaped */
	char *line = sluice_xasprintf("%s: %s%s%s%s", it->key, sluice_fetch_status_name(r->status),
				      b.len ? " (" : "", b.len ? b.ptr : "", b.len ? ")" : "");
	char *shown = sluice_str_escape_controls(line);
	puts(shown);
	free(shown);
	free(line);
	sluice_buf_clear(&b);
}

static void print_json(const item *it)
{
	const sluice_fetch_result *r = &it->r;
	json_t *o = json_object();
	json_object_set_new(o, "plugin", json_string(it->key));
	json_object_set_new(o, "url", it->shown ? json_string(it->shown) : json_null());
	json_object_set_new(o, "status", json_string(sluice_fetch_status_name(r->status)));
	json_object_set_new(o, "new_tags", strv_json(r->new_tags));
	json_object_set_new(o, "moved_tags", strv_json(r->moved_tags));
	json_object_set_new(o, "deleted_tags", strv_json(r->deleted_tags));
	json_object_set_new(o, "frozen_tags", strv_json(it->frozen));
	json_object_set_new(o, "notes", strv_json(r->notes));
	json_object_set_new(o, "warning", r->warning ? json_string(r->warning) : json_null());
	json_object_set_new(o, "error", it->error ? json_string(it->error) : json_null());
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	puts(line);
	free(line);
	json_decref(o);
}

static cli_retval run(struct cli *c)
{
	sluice_workspace *ws = NULL;
	item *items = NULL;
	sluice_watched_fetch_item *fi = NULL;
	sluice_fetch_stats stats = {0, 0, 0};
	size_t n = 0, counts[4] = {0};
	progress_state ps = {0};
	int rc;

	if ((rc = cli_workspace_load(&ws, c)) != CLI_OK)
		return rc;
	if ((rc = sluice_watched_set_ca_bundle(ws, c->root)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	items = sluice_xcalloc(ws->nplugins + c->nargs + 1, sizeof *items);
	if (c->nargs == 0)
		for (size_t i = 0; i < ws->nplugins; i++)
			items[n++].p = &ws->plugins[i];
	for (size_t i = 0; i < c->nargs; i++) {
		const sluice_ws_plugin *p;
		if (sluice_watched_find(&p, ws, c->cache, c->args[i]) < 0) {
			rc = cli_fail(SLUICE_EINVAL);
			goto done;
		}
		items[n++].p = p;
	}

	ps.tty = !c->quiet && c->output == CLI_OUT_TEXT && isatty(STDERR_FILENO);
	fi = sluice_xcalloc(n + 1, sizeof *fi);
	for (size_t i = 0; i < n; i++) {
		item *it = &items[i];
		sluice_watched_init(&it->w, ws, it->p, c->root);
		it->key = it->w.key;
		if (it->w.url)
			it->shown = sluice_source_redact_url(it->w.url);
		fi[i].w = &it->w;
	}
	/* every remote at once, up to repositories.max_concurrent; the
	 * progress line shows whichever repository reported last */
	ps.start = ps.last = mono_now();
	if ((rc = sluice_watched_fetch_all(fi, n, ws, c->root, c->cache, on_progress, &ps, NULL, NULL,
					   &stats)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	clear_progress(&ps);
	for (size_t i = 0; i < n; i++) {
		item *it = &items[i];
		it->r = fi[i].r;
		sluice_fetch_result_init(&fi[i].r);
		it->error = fi[i].error;
		fi[i].error = NULL;
		counts[it->r.status]++;
	}

	int stored = record(c, items, n);
	for (size_t i = 0; i < n; i++) {
		if (c->output == CLI_OUT_JSON) {
			print_json(&items[i]);
			if (items[i].error)
				cli_error("%s: %s", items[i].key, items[i].error);
		} else
			print_text(c, &items[i]);
	}
	if (c->output == CLI_OUT_TEXT && !c->quiet)
		printf("%zu %s: %zu unchanged, %zu fetched, %zu cloned, %zu failed\n", n,
		       n == 1 ? "repository" : "repositories",
		       counts[SLUICE_FETCH_UNCHANGED], counts[SLUICE_FETCH_FETCHED],
		       counts[SLUICE_FETCH_CLONED], counts[SLUICE_FETCH_ERROR]);
	if (c->output == CLI_OUT_TEXT && !c->quiet && c->verbose)
		printf("%zu compared over smart HTTP on %ld connections, %zu opened with libgit2\n",
		       stats.probed, stats.connections, stats.git);
	rc = counts[SLUICE_FETCH_ERROR] || stored < 0 ? CLI_FAILED : CLI_OK;
done:
	for (size_t i = 0; i < n; i++) {
		sluice_fetch_result_clear(&items[i].r);
		sluice_watched_clear(&items[i].w);
		free(items[i].shown);
		free(items[i].error);
		sluice_strv_free(items[i].frozen);
		sluice_strv_free(items[i].flagged_deleted);
	}
	for (size_t i = 0; fi && i < n; i++)
		sluice_watched_fetch_item_clear(&fi[i]);
	free(fi);
	free(items);
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
