/* sluice history [PLUGIN]: the audit trail as a timeline - when, who, what,
 * which release, and the details - oldest first. Read-only; it needs no
 * role and reads the database even when the workspace does not validate. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"
#include "sluice/watched.h"

static const cli_opt opts[] = {
	{"since", 0, "RFC3339", "only events at or after this time", false},
	{"limit", 'n', "N", "only the newest N events", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

typedef struct {
	bool json;
	json_t *events;
	size_t count;
	sluice_buf text;
} walk;

/* A detail value for the text form: strings bare unless they hold a
 * space or are empty (then quoted), anything else as compact JSON. */
static void put_value(sluice_buf *b, json_t *v)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (*s && !strpbrk(s, " \t\n\"="))
			sluice_buf_puts(b, s);
		else {
			char *q = json_dumps(v, JSON_ENCODE_ANY);
			sluice_buf_puts(b, q ? q : "\"\"");
			free(q);
		}
		return;
	}
	char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	sluice_buf_puts(b, d ? d : "?");
	free(d);
}

static int on_row(const sluice_audit_row *r, void *ctx)
{
	walk *w = ctx;
	char when[SLUICE_TIME_BUFSZ];
	json_t *details = json_loads(r->details ? r->details : "{}", 0, NULL);

	if (!details)
		details = json_object();
	w->count++;
	if (w->json) {
		json_array_append_new(
			w->events,
			json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?, s:o, s:s?}", "id",
				  (json_int_t)r->id, "at", sluice_time_format(when, r->at), "actor",
				  r->actor, "action", r->action, "plugin", r->plugin, "version",
				  r->version, "details", details, "admin_commit", r->admin_commit));
		return 0;
	}
	sluice_buf_printf(&w->text, "%s  %-12s %-22s", sluice_time_format(when, r->at), r->actor,
			  r->action);
	if (r->plugin)
		sluice_buf_printf(&w->text, " %s%s%s", r->plugin, r->version ? "@" : "",
				  r->version ? r->version : "");
	else
		sluice_buf_puts(&w->text, " -");
	const char *key;
	json_t *v;
	bool first = true;
	json_object_foreach(details, key, v) {
		if (json_is_null(v))
			continue;
		sluice_buf_printf(&w->text, "%s%s=", first ? "  " : ", ", key);
		put_value(&w->text, v);
		first = false;
	}
	sluice_buf_puts(&w->text, "\n");
	json_decref(details);
	return 0;
}

/* A plugin with no events may still be known: tags recorded for it, or a
 * repository the workspace watches (by id, owner/name or URL). Anything
 * else is a wrong name. */
static bool known_plugin(struct cli *c, sluice_store *s, const char *name)
{
	sluice_stored_tag_list tags = {0};
	sluice_workspace *ws = NULL;
	const sluice_ws_plugin *p = NULL;
	sluice_diags d;
	char *path;
	bool known;

	known = sluice_store_tag_list(&tags, s, name) == 0 && tags.count > 0;
	sluice_stored_tag_list_clear(&tags);
	if (!known && (path = sluice_workspace_find(c->root, cli_get(c, "workspace")))) {
		sluice_diags_init(&d);
		if (sluice_workspace_load(&ws, path, &d) == 0)
			known = sluice_watched_find(&p, ws, c->cache, name) == 0;
		sluice_workspace_free(ws);
		sluice_diags_clear(&d);
		free(path);
	}
	sluice_error_clear();
	return known;
}

static cli_retval check(struct cli *c)
{
	const char *since = cli_get(c, "since"), *limit = cli_get(c, "limit");
	int64_t t;

	if (since && sluice_time_parse(&t, since) < 0) {
		cli_error("--since '%s' is not an RFC 3339 time; write it as 2026-12-01T09:00:00Z",
			  since);
		return CLI_USAGE;
	}
	if (limit) {
		char *end = NULL;
		errno = 0;
		long long n = strtoll(limit, &end, 10);
		if (errno || end == limit || *end || n <= 0) {
			cli_error("--limit '%s' is not a positive number of events", limit);
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

static cli_retval run(struct cli *c)
{
	const char *plugin = c->nargs ? c->args[0] : NULL;
	const char *since = cli_get(c, "since"), *limit = cli_get(c, "limit");
	sluice_audit_filter f = {plugin, 0, 0, 0, false};
	walk w = {c->output == CLI_OUT_JSON, NULL, 0, SLUICE_BUF_INIT};
	sluice_store *s = NULL;
	cli_retval rc = CLI_OK;
	int lrc;

	if (since)
		sluice_time_parse(&f.since, since); /* checked above */
	if (limit) {
		f.limit = (size_t)strtoll(limit, NULL, 10);
		/* the newest N, printed oldest first */
		f.newest_first = true;
	}
	if ((lrc = sluice_store_open(&s, c->db, SLUICE_STORE_READONLY)) < 0)
		return cli_fail(lrc);
	w.events = json_array();
	lrc = sluice_audit_foreach(s, &f, on_row, &w);
	if (lrc < 0) {
		rc = cli_fail(lrc);
		goto done;
	}
	if (w.count == 0 && plugin && !known_plugin(c, s, plugin)) {
		cli_error("no plugin '%s' has events, recorded tags or a watched repository; "
			  "'sluice status' lists the plugins",
			  plugin);
		rc = CLI_INVALID;
		goto done;
	}
	if (f.newest_first) {
		/* reverse the newest-first walk into a timeline */
		size_t n = json_array_size(w.events);
		for (size_t i = 0; i < n / 2; i++) {
			json_t *a = json_incref(json_array_get(w.events, i));
			json_t *b = json_incref(json_array_get(w.events, n - 1 - i));
			json_array_set_new(w.events, i, b);
			json_array_set_new(w.events, n - 1 - i, a);
		}
		if (!w.json) {
			/* text lines: reverse them too */
			char *all = sluice_buf_detach(&w.text);
			char **lines = sluice_xcalloc(w.count + 1, sizeof *lines);
			size_t k = 0;
			for (char *save = NULL, *l = all ? strtok_r(all, "\n", &save) : NULL; l;
			     l = strtok_r(NULL, "\n", &save))
				lines[k++] = l;
			while (k > 0)
				sluice_buf_printf(&w.text, "%s\n", lines[--k]);
			free(lines);
			free(all);
		}
	}
	if (w.json) {
		rc = cli_print_json(json_pack("{s:s?, s:o}", "plugin", plugin, "events", w.events));
		w.events = NULL;
		goto done;
	}
	if (c->quiet)
		goto done;
	if (w.count == 0 && plugin)
		printf("no events for %s yet\n", plugin);
	else if (w.count == 0)
		printf("no events yet\n");
	else
		fputs(w.text.ptr, stdout);
done:
	sluice_store_free(s);
	json_decref(w.events);
	sluice_buf_clear(&w.text);
	return rc;
}

const cli_cmd cmd_history = {
	.name = "history",
	.run = run,
	.usage = "history [PLUGIN] [--since RFC3339] [--limit N]",
	.summary = "the audit trail as a timeline: time, actor, action, plugin@version, details",
	.opts = opts,
	.min_args = 0,
	.max_args = 1,
	.flags = CLI_VIEW,
	.check = check,
};
