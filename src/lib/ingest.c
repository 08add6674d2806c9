/* Telemetry ingest (docs/telemetry.md): a stream of JSON lines, each
 * parsed, checked against the workspace and stored once per id, with the
 * rollups kept up to date in the same unit of work. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "engine-internal.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/ingest.h"
#include "sluice/util.h"

/* Events come in runs of one release and a few users: remember the last
 * release matched and a small cache of user hashes (HMAC dominates the
 * cost of an event otherwise). */
#define USER_CACHE 1024

typedef struct {
	char *user;
	char hash[SLUICE_USER_HASH_SZ];
} user_slot;

typedef struct {
	const sluice_ingest_ctx *ctx;
	size_t last_release;
	user_slot users[USER_CACHE];
} ingest_state;

static bool known_release(ingest_state *st, const sluice_event *ev, bool *plugin_known)
{
	const sluice_ingest_ctx *c = st->ctx;
	size_t i = st->last_release;

	*plugin_known = false;
	if (i < c->nreleases && !strcmp(c->plugins[i], ev->plugin) && !strcmp(c->versions[i], ev->version)) {
		*plugin_known = true;
		return true;
	}
	for (i = 0; i < c->nreleases; i++) {
		if (strcmp(c->plugins[i], ev->plugin) != 0)
			continue;
		*plugin_known = true;
		if (strcmp(c->versions[i], ev->version) == 0) {
			st->last_release = i;
			return true;
		}
	}
	return false;
}

static int check(ingest_state *st, const sluice_event *ev)
{
	const sluice_ingest_ctx *c = st->ctx;
	bool plugin_known, group_known = false;

	if (strcmp(ev->workspace, c->workspace) != 0)
		return sluice_error_set(SLUICE_EINVAL, "event of workspace '%s', not '%s'",
					ev->workspace, c->workspace);
	if (!known_release(st, ev, &plugin_known)) {
		if (!plugin_known)
			return sluice_error_set(SLUICE_EINVAL, "unknown plugin '%s': workspace '%s' "
						"has recorded no release of it", ev->plugin,
						c->workspace);
		return sluice_error_set(SLUICE_EINVAL, "unknown version %s@%s: no such release "
					"has been recorded", ev->plugin, ev->version);
	}
	for (size_t i = 0; i < c->ngroups && !group_known; i++)
		group_known = strcmp(c->groups[i], ev->group) == 0;
	if (!group_known)
		return sluice_error_set(SLUICE_EINVAL, "unknown group '%s' in workspace '%s'",
					ev->group, c->workspace);
	return 0;
}

int sluice_ingest_check(const sluice_ingest_ctx *ctx, const sluice_event *ev)
{
	ingest_state st = {.ctx = ctx, .last_release = (size_t)-1};
	return check(&st, ev);
}

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int user_hash(const char **out, ingest_state *st, const char *user)
{
	user_slot *u;
	int rc;

	*out = NULL;
	if (!user)
		return 0;
	u = &st->users[str_hash(user) % USER_CACHE];
	if (u->user && strcmp(u->user, user) == 0) {
		*out = u->hash;
		return 0;
	}
	if ((rc = sluice_telemetry_user_hash(u->hash, st->ctx->key, user)) < 0)
		return rc;
	free(u->user);
	u->user = sluice_xstrdup(user);
	*out = u->hash;
	return 0;
}

static void state_clear(ingest_state *st)
{
	for (size_t i = 0; i < USER_CACHE; i++)
		free(st->users[i].user);
}

static void reject(const sluice_ingest_ctx *ctx, sluice_ingest_stats *stats, const char *source,
		   int64_t line, const char *text, size_t len)
{
	stats->rejected++;
	if (ctx->on_reject)
		ctx->on_reject(ctx->arg, source, line, sluice_error_last(), text, len);
}

int sluice_ingest_stream(sluice_ingest_stats *stats, sluice_store *s, const sluice_ingest_ctx *ctx,
			 FILE *in, const char *source)
{
	ingest_state *st = sluice_xcalloc(1, sizeof *st);
	sluice_store_ingest *g = NULL;
	char *line = NULL, *scratch = NULL;
	size_t cap = 0, scap = 0;
	ssize_t got;
	int rc;

	memset(stats, 0, sizeof *stats);
	st->ctx = ctx;
	st->last_release = (size_t)-1;
	if ((rc = sluice_store_ingest_begin(&g, s, ctx->workspace)) < 0)
		goto done;
	while ((got = getline(&line, &cap, in)) > 0) {
		size_t len = (size_t)got;
		sluice_event ev;
		const char *uh;
		bool added;

		stats->lines++;
		if (line[len - 1] != '\n') {
			sluice_error_set(SLUICE_EINVAL, "truncated line: no newline at the end of "
					 "the input, not ingested (a producer writes NAME.tmp and "
					 "renames it when complete)");
			reject(ctx, stats, source, stats->lines, line, len);
			break;
		}
		line[--len] = '\0';
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (sluice_event_parse_scratch(&ev, line, len, &scratch, &scap) < 0 ||
		    check(st, &ev) < 0) {
			reject(ctx, stats, source, stats->lines, line, len);
			sluice_event_clear(&ev);
			continue;
		}
		stats->unknown_fields += (int64_t)ev.unknown_fields;
		if ((rc = user_hash(&uh, st, ev.user)) < 0 ||
		    (rc = sluice_store_ingest_add(g, &ev, uh, &added)) < 0) {
			sluice_event_clear(&ev);
			goto done;
		}
		if (added)
			stats->added++;
		else
			stats->duplicates++;
		sluice_event_clear(&ev);
	}
	if (ferror(in))
		rc = sluice_error_set(SLUICE_EIO, "cannot read %s", source);
done:
	rc = sluice_store_ingest_end(g, rc);
	free(line);
	free(scratch);
	state_clear(st);
	free(st);
	return rc;
}

int sluice_ingest_event(bool *added, sluice_store *s, const sluice_ingest_ctx *ctx,
			const sluice_event *ev)
{
	char hash[SLUICE_USER_HASH_SZ];
	sluice_store_ingest *g = NULL;
	int rc;

	*added = false;
	if ((rc = sluice_ingest_check(ctx, ev)) < 0)
		return rc;
	if (ev->user && (rc = sluice_telemetry_user_hash(hash, ctx->key, ev->user)) < 0)
		return rc;
	if ((rc = sluice_store_ingest_begin(&g, s, ctx->workspace)) < 0)
		return rc;
	rc = sluice_store_ingest_add(g, ev, ev->user ? hash : NULL, added);
	return sluice_store_ingest_end(g, rc);
}

/* ---- the context and the spool ------------------------------------------ */

typedef struct {
	char **plugins, **versions;
	const char **groups;
	size_t n;
} ctx_owned;

int sluice_ingest_ctx_load(sluice_ingest_ctx *ctx, sluice_engine *e, int64_t now)
{
	ctx_owned *o = sluice_xcalloc(1, sizeof *o);
	int rc;

	memset(ctx, 0, sizeof *ctx);
	ctx->priv = o;
	if ((rc = sluice_store_release_versions(&o->plugins, &o->versions, &o->n, e->store,
						e->workspace)) < 0 ||
	    (rc = sluice_store_telemetry_key(ctx->key, e->store, e->workspace, now)) < 0) {
		sluice_ingest_ctx_clear(ctx);
		return rc;
	}
	o->groups = sluice_xcalloc(e->ws->ngroups + 1, sizeof *o->groups);
	for (size_t i = 0; i < e->ws->ngroups; i++)
		o->groups[i] = e->ws->groups[i].name.s ? e->ws->groups[i].name.s : "";
	ctx->workspace = e->workspace;
	ctx->plugins = (const char *const *)o->plugins;
	ctx->versions = (const char *const *)o->versions;
	ctx->nreleases = o->n;
	ctx->groups = o->groups;
	ctx->ngroups = e->ws->ngroups;
	return 0;
}

void sluice_ingest_ctx_clear(sluice_ingest_ctx *ctx)
{
	ctx_owned *o;

	if (!ctx || !(o = ctx->priv))
		return;
	for (size_t i = 0; i < o->n; i++) {
		free(o->plugins[i]);
		free(o->versions[i]);
	}
	free(o->plugins);
	free(o->versions);
	free(o->groups);
	free(o);
	memset(ctx, 0, sizeof *ctx);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);
	return n >= k && strcmp(s + n - k, suf) == 0;
}

/* Moves DIR/name into DIR/sub/name (rename: atomic on one file system). */
static int move_to(const char *dir, const char *sub, const char *name)
{
	char *d = sluice_path_join(dir, sub), *from = sluice_path_join(dir, name);
	char *to = sluice_path_join(d, name);
	int rc = 0;

	if (sluice_mkdir_p(d, 0700) < 0 || rename(from, to) != 0)
		rc = sluice_error_set(SLUICE_EIO, "cannot move %s to %s: %s", from, to,
				      strerror(errno));
	free(d);
	free(from);
	free(to);
	return rc;
}

/* The complete files of the spool, sorted. */
static int spool_names(char ***out, size_t *n, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return sluice_error_set(SLUICE_EIO, "cannot open spool directory %s: %s", dir,
					strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char *path;
		struct stat sb;
		if (de->d_name[0] == '.' || has_suffix(de->d_name, ".tmp"))
			continue;
		path = sluice_path_join(dir, de->d_name);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (*n == cap)
				names = sluice_xrealloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
			names[(*n)++] = sluice_xstrdup(de->d_name);
		}
		free(path);
	}
	closedir(d);
	if (*n)
		qsort(names, *n, sizeof *names, cmp_str);
	*out = names;
	return 0;
}

static void add_stats(sluice_ingest_stats *t, const sluice_ingest_stats *s)
{
	t->lines += s->lines;
	t->added += s->added;
	t->duplicates += s->duplicates;
	t->rejected += s->rejected;
	t->unknown_fields += s->unknown_fields;
}

int sluice_ingest_spool(sluice_ingest_stats *total, size_t *nfiles, sluice_store *s,
			const sluice_ingest_ctx *ctx, const char *dir)
{
	char **names = NULL;
	size_t n = 0;
	int rc;

	memset(total, 0, sizeof *total);
	*nfiles = 0;
	if ((rc = spool_names(&names, &n, dir)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path;
		FILE *in;
		sluice_ingest_stats st;

		if (ctx->proceed && !ctx->proceed(ctx->arg))
			break;
		path = sluice_path_join(dir, names[i]);
		if (!(in = fopen(path, "r"))) {
			rc = sluice_error_set(SLUICE_EIO, "cannot open %s: %s", path, strerror(errno));
		} else {
			rc = sluice_ingest_stream(&st, s, ctx, in, path);
			fclose(in);
			if (rc == 0) {
				add_stats(total, &st);
				(*nfiles)++;
				/* after its transaction: a crash before the move
				 * ingests it again next time, which changes nothing */
				rc = move_to(dir, st.rejected ? "rejected" : "done", names[i]);
			}
		}
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* ---- retention ------------------------------------------------------------- */

void sluice_prune_items_free(sluice_prune_item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++)
		free(items[i].plugin);
	free(items);
}

int sluice_telemetry_prune(sluice_prune_item **items, size_t *n, sluice_engine *e, int64_t now)
{
	sluice_prune_item *out = sluice_xcalloc(e->nwatched + 1, sizeof *out);
	int rc = 0;

	*items = NULL;
	*n = 0;
	for (size_t i = 0; i < e->nwatched && rc == 0; i++) {
		sluice_prune_item *it = &out[i];
		it->plugin = sluice_engine_plugin_id(e, &e->watched[i]);
		rc = sluice_store_telemetry_retention(&it->retention_days, e->store, e->workspace,
						      it->plugin);
		if (rc == 0 && it->retention_days > 0)
			rc = sluice_store_telemetry_prune(&it->deleted, e->store, e->workspace,
							  it->plugin,
							  now - it->retention_days * SLUICE_DAY_SECONDS);
	}
	if (rc == 0)
		rc = sluice_store_telemetry_set_pruned_at(e->store, e->workspace, now);
	if (rc < 0) {
		sluice_prune_items_free(out, e->nwatched);
		return rc;
	}
	*items = out;
	*n = e->nwatched;
	return 0;
}

void sluice_telemetry_prune_daily(char **msg, sluice_engine *e)
{
	sluice_prune_item *items = NULL;
	int64_t last = 0, deleted = 0;
	size_t n = 0;

	*msg = NULL;
	if (sluice_store_telemetry_pruned_at(&last, e->store, e->workspace) < 0 ||
	    (last && e->now < last + SLUICE_DAY_SECONDS)) {
		sluice_error_clear();
		return;
	}
	if (sluice_telemetry_prune(&items, &n, e, e->now) < 0) {
		*msg = sluice_xasprintf("telemetry prune failed (tried again next pass): %s",
					sluice_error_last());
		sluice_error_clear();
		return;
	}
	for (size_t i = 0; i < n; i++)
		deleted += items[i].deleted;
	if (deleted)
		*msg = sluice_xasprintf("pruned %lld raw telemetry event%s past retention "
					"(daily rollups kept)",
					(long long)deleted, deleted == 1 ? "" : "s");
	sluice_prune_items_free(items, n);
}

/* ---- the reject file ---------------------------------------------------- */

char *sluice_ingest_rejects_default(const char *db_path)
{
	const char *slash = strrchr(db_path, '/');
	char *dir = slash ? sluice_xstrndup(db_path, (size_t)(slash - db_path)) : sluice_xstrdup(".");
	char *path = sluice_path_join(dir, "telemetry-rejects.jsonl");
	free(dir);
	return path;
}

FILE *sluice_ingest_rejects_open(const char *path)
{
	FILE *f = fopen(path, "a");
	if (!f) {
		sluice_error_set(SLUICE_EIO, "cannot open the reject file %s: %s", path,
				 strerror(errno));
		return NULL;
	}
	if (fchmod(fileno(f), 0600) < 0) {
		/* the file is someone else's: appending is all we need */
	}
	return f;
}

void sluice_ingest_reject_write(FILE *to, const char *source, int64_t line, const char *reason,
				const char *text, size_t len)
{
	bool cut = len > SLUICE_REJECT_TEXT_MAX;
	json_t *j = json_pack("{s:s, s:I, s:s, s:s%, s:b}", "source", source, "line",
			      (json_int_t)line, "reason", reason, "text", text,
			      cut ? (size_t)SLUICE_REJECT_TEXT_MAX : len, "truncated", cut);

	if (!j) /* text that is not UTF-8 */
		j = json_pack("{s:s, s:I, s:s, s:n, s:b}", "source", source, "line",
			      (json_int_t)line, "reason", reason, "text", false);
	json_dumpf(j, to, JSON_COMPACT | JSON_ENSURE_ASCII);
	fputc('\n', to);
	fflush(to);
	json_decref(j);
}
