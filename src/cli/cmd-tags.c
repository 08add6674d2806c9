/* sluice tags: a repository's tags, the version each parses to, whether
 * the workspace's range admits it, and the candidate release. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/semver.h"
#include "sluice/source.h"
#include "sluice/util.h"
#include "sluice/watched.h"

static const cli_opt opts[] = {
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

typedef struct {
	const sluice_tag *tag;
	bool is_version;
	sluice_semver v;
	bool in_range;
	char *refused; /* require_signed_tags: why the signature is refused */
} row;

/* Versions first, in ascending order; then other tags by name. */
static int row_cmp(const void *pa, const void *pb)
{
	const row *a = pa, *b = pb;
	if (a->is_version != b->is_version)
		return a->is_version ? -1 : 1;
	if (a->is_version) {
		int c = sluice_semver_cmp(&a->v, &b->v);
		if (c)
			return c;
	}
	return strcmp(a->tag->name, b->tag->name);
}

/* One line of text output: tag names, ids and refusal reasons come from
 * the repository, so the line is printed with its control characters
 * escaped. */
static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *raw = sluice_xvasprintf(fmt, ap);
	va_end(ap);
	char *shown = sluice_str_escape_controls(raw);
	puts(shown);
	free(shown);
	free(raw);
}

static size_t shown_len(const char *s)
{
	char *e = sluice_str_escape_controls(s);
	size_t n = strlen(e);
	free(e);
	return n;
}

static cli_retval run(struct cli *c)
{
	sluice_workspace *ws = NULL;
	const sluice_ws_plugin *p;
	sluice_tag_list tags = {0};
	sluice_range *range = NULL;
	row *rows = NULL;
	char *name = NULL;
	const row *cand = NULL;
	int rc;

	if ((rc = (int)cli_workspace_load(&ws, c)) != CLI_OK)
		return rc;
	if (sluice_watched_find(&p, ws, c->cache, c->args[0]) < 0) {
		rc = cli_fail(SLUICE_EINVAL);
		goto done;
	}
	/* the plugin's id, however it was named (id, owner/name or URL) */
	if (sluice_watched_mirror_id(&name, c->cache, sluice_watched_key(p)) < 0 || !name) {
		free(name);
		name = sluice_xstrdup(c->args[0]);
	}
	const char *range_text = p->versions.s ? p->versions.s : "*";
	char err[256];
	if (sluice_range_parse(&range, range_text, err, sizeof err) < 0) {
		cli_error("%s: versions: %s; run 'sluice validate'", sluice_watched_key(p), err);
		rc = CLI_INVALID;
		goto done;
	}
	if ((rc = sluice_source_tags(&tags, c->cache, sluice_watched_key(p))) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	rows = sluice_xcalloc(tags.count + 1, sizeof *rows);
	for (size_t i = 0; i < tags.count; i++) {
		row *r = &rows[i];
		r->tag = &tags.items[i];
		sluice_semver_init(&r->v);
		/* A tag that does not name a commit can never be a release. */
		r->is_version = sluice_semver_parse_tag(&r->v, r->tag->name) == 0;
		r->in_range = r->is_version && r->tag->commit[0] &&
			      sluice_range_satisfies(range, &r->v);
	}
	if (tags.count > 1)
		qsort(rows, tags.count, sizeof *rows, row_cmp);
	char *signers = NULL;
	if (ws->require_signed_tags.v && ws->allowed_signers.s)
		signers = ws->allowed_signers.s[0] == '/' ? sluice_xstrdup(ws->allowed_signers.s)
							 : sluice_path_join(c->root, ws->allowed_signers.s);
	for (size_t i = 0; signers && i < tags.count; i++)
		if (rows[i].is_version &&
		    sluice_source_verify_tag(c->cache, sluice_watched_key(p),
					     rows[i].tag->name, signers) < 0)
			rows[i].refused = sluice_xstrdup(sluice_error_last());
	free(signers);
	for (size_t i = 0; i < tags.count; i++)
		if (rows[i].in_range && !rows[i].refused && (!cand || sluice_semver_cmp(&rows[i].v, &cand->v) >= 0))
			cand = &rows[i];

	if (c->output == CLI_OUT_JSON) {
		json_t *o = json_object(), *a = json_array();
		json_object_set_new(o, "plugin", json_string(name));
		json_object_set_new(o, "range", json_string(range_text));
		for (size_t i = 0; i < tags.count; i++) {
			json_t *t = json_object();
			json_object_set_new(t, "tag", json_string(rows[i].tag->name));
			if (rows[i].is_version) {
				char *v = sluice_semver_format(&rows[i].v);
				json_object_set_new(t, "version", json_string(v));
				free(v);
			} else
				json_object_set_new(t, "version", json_null());
			json_object_set_new(t, "in_range", json_boolean(rows[i].in_range));
			if (ws->require_signed_tags.v)
				json_object_set_new(t, "signature_refused",
						    rows[i].refused ? json_string(rows[i].refused)
								    : json_null());
			json_array_append_new(a, t);
		}
		json_object_set_new(o, "tags", a);
		json_object_set_new(o, "candidate",
				    cand ? json_string(cand->tag->name) : json_null());
		char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(text);
		free(text);
		json_decref(o);
	} else {
		size_t w = 3;
		for (size_t i = 0; i < tags.count; i++)
			if (shown_len(rows[i].tag->name) > w)
				w = shown_len(rows[i].tag->name);
		out("plugin %s (%s), versions \"%s\"", name, sluice_watched_key(p), range_text);
		if (tags.count)
			out("%-*s  %-20s  %s", (int)w, "TAG", "VERSION", "IN RANGE");
		for (size_t i = 0; i < tags.count; i++) {
			char *v = rows[i].is_version ? sluice_semver_format(&rows[i].v) : NULL;
			const char *why = rows[i].in_range	      ? "yes"
					  : !rows[i].is_version	      ? "no (not a vX.Y.Z tag)"
					  : !rows[i].tag->commit[0]    ? "no (not a commit)"
								      : "no";
			char *tag = sluice_str_escape_controls(rows[i].tag->name);
			out("%-*s  %-20s  %s%s%s", (int)w, tag, v ? v : "-", why,
			    rows[i].refused ? "; refused: " : "", rows[i].refused ? rows[i].refused : "");
			free(tag);
			free(v);
		}
		if (cand)
			out("candidate: %s", cand->tag->name);
		else
			out("candidate: none (no tag in range \"%s\")", range_text);
	}
	rc = CLI_OK;
done:
	for (size_t i = 0; rows && i < tags.count; i++) {
		sluice_semver_clear(&rows[i].v);
		free(rows[i].refused);
	}
	free(rows);
	sluice_tag_list_clear(&tags);
	sluice_range_free(range);
	sluice_workspace_free(ws);
	free(name);
	return rc;
}

const cli_cmd cmd_tags = {
	.name = "tags",
	.run = run,
	.usage = "tags PLUGIN [-w NAME]",
	.summary = "list a plugin's tags, their versions, which the range admits, and the candidate",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_VIEW,
};
