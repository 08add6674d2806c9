/* Watched repositories: fetch setup, tag recording and lookup by name, one
 * copy for `fetch`, `validate --repo`, `tags` and reconcile. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/doc.h"
#include "sluice/error.h"
#include "sluice/refs-http.h"
#include "sluice/util.h"
#include "sluice/watched.h"

const char *sluice_watched_key(const sluice_ws_plugin *p)
{
	return p->repository.s ? p->repository.s : p->url.s;
}

/* A plain relative path in a URL resolves against --root, like every other
 * path in the workspace; URLs and scp-like user@host:path are kept. */
static char *rooted_url(const char *root, char *url)
{
	if (!url || url[0] == '/' || strstr(url, "://") || strchr(url, ':'))
		return url;
	char *r = sluice_path_join(root ? root : ".", url);
	free(url);
	return r;
}

static int no_url(const sluice_watched *w)
{
	return sluice_error_set(SLUICE_EINVAL,
				"no URL for '%s': give it a 'url' or set repositories.url_template",
				w->key);
}

int sluice_watched_init(sluice_watched *w, const sluice_workspace *ws, const sluice_ws_plugin *p,
			const char *root)
{
	w->ws_plugin = p;
	w->key = sluice_watched_key(p);
	w->url = rooted_url(root, sluice_workspace_repo_url(ws, p));
	w->max_fetch_bytes = ws->max_fetch_bytes.set ? (uint64_t)ws->max_fetch_bytes.v : 0;
	return w->url ? 0 : no_url(w);
}

void sluice_watched_clear(sluice_watched *w)
{
	if (!w)
		return;
	free(w->url);
	w->url = NULL;
}

int sluice_watched_set_ca_bundle(const sluice_workspace *ws, const char *root)
{
	if (!ws || !ws->ca_bundle.s)
		return 0;
	char *ca = sluice_path_under_root(root, ws->ca_bundle.s);
	int rc = sluice_source_set_ca_bundle(ca);
	free(ca);
	return rc;
}

/* The fetch options of w: its credentials (the file resolved against
 * root: *cred, which the caller frees) and its download limit. */
static sluice_fetch_opts fetch_opts(const sluice_watched *w, const char *root, char **cred,
				    void (*progress)(void *payload, const sluice_fetch_progress *p),
				    void *payload)
{
	const sluice_ws_plugin *p = w->ws_plugin;
	*cred = p ? sluice_path_under_root(root, p->credentials_file.s) : NULL;
	return (sluice_fetch_opts){p ? p->credentials_env.s : NULL, *cred, progress, payload,
				   w->max_fetch_bytes};
}

int sluice_watched_fetch(sluice_fetch_result *out, const sluice_watched *w, const char *root,
			 const char *cache_dir,
			 void (*progress)(void *payload, const sluice_fetch_progress *p),
			 void *payload)
{
	char *cred = NULL;
	int rc;

	sluice_fetch_result_init(out);
	if (!w->url) {
		out->status = SLUICE_FETCH_ERROR;
		return no_url(w);
	}
	sluice_fetch_opts fo = fetch_opts(w, root, &cred, progress, payload);
	rc = sluice_source_fetch(out, cache_dir, w->key, w->url, &fo);
	free(cred);
	return rc;
}

/* ---- many at once ---------------------------------------------------- */

void sluice_watched_fetch_item_clear(sluice_watched_fetch_item *it)
{
	if (!it)
		return;
	sluice_fetch_result_clear(&it->r);
	free(it->error);
	it->error = NULL;
}

/* The libgit2 part of a pass: a queue of items that worker threads take
 * one at a time. Each thread opens its own repositories (libgit2 is
 * thread-safe so); errors are thread-local, so each is copied into its
 * item here. */
typedef struct {
	sluice_watched_fetch_item **queue;
	size_t n, next;
	const char *root, *cache_dir;
	void (*progress)(void *payload, const sluice_fetch_progress *p);
	void *payload;
	pthread_mutex_t lock;          /* next, live */
	pthread_cond_t ended;          /* a worker ended (live went down) */
	size_t live;                   /* workers still running */
	pthread_mutex_t progress_lock; /* one progress call at a time */
	bool (*heartbeat)(void *arg);  /* the calling thread's, about once a second */
	void *heartbeat_arg;
	bool stop;                     /* the heartbeat said stop: take no more */
} git_pool;

static void pool_progress(void *payload, const sluice_fetch_progress *p)
{
	git_pool *g = payload;
	pthread_mutex_lock(&g->progress_lock);
	g->progress(g->payload, p);
	pthread_mutex_unlock(&g->progress_lock);
}

static void git_fetch_one(git_pool *g, sluice_watched_fetch_item *it)
{
	sluice_fetch_result_clear(&it->r);
	it->git = true;
	if (sluice_watched_fetch(&it->r, it->w, g->root, g->cache_dir,
				 g->progress ? pool_progress : NULL, g) < 0)
		it->error = sluice_xstrdup(sluice_error_last());
	sluice_error_clear();
}

static void *git_worker(void *arg)
{
	git_pool *g = arg;
	for (;;) {
		pthread_mutex_lock(&g->lock);
		sluice_watched_fetch_item *it = g->next < g->n && !g->stop ? g->queue[g->next++] : NULL;
		pthread_mutex_unlock(&g->lock);
		if (!it)
			return NULL;
		git_fetch_one(g, it);
	}
}

static void *git_thread(void *arg)
{
	git_pool *g = arg;
	git_worker(g);
	pthread_mutex_lock(&g->lock);
	g->live--;
	pthread_cond_signal(&g->ended);
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* With a heartbeat the calling thread only waits and beats, so that a
 * long clone never starves it (the daemon's leases, its watchdog);
 * without one it takes its share of the fetches. */
static void git_pool_run(git_pool *g, unsigned bound)
{
	size_t nthreads = g->n < bound ? g->n : bound;
	pthread_t *t = sluice_xcalloc(nthreads + 1, sizeof *t);
	size_t started = 0;

	if (nthreads > 1 || (g->heartbeat && nthreads == 1))
		for (; started < nthreads; started++) {
			pthread_mutex_lock(&g->lock);
			g->live++;
			pthread_mutex_unlock(&g->lock);
			if (pthread_create(&t[started], NULL, git_thread, g) != 0) {
				pthread_mutex_lock(&g->lock);
				g->live--;
				pthread_mutex_unlock(&g->lock);
				break;
			}
		}
	if (!g->heartbeat || !started)
		git_worker(g); /* no thread to be had, or its share */
	pthread_mutex_lock(&g->lock);
	while (g->live > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&g->ended, &g->lock, &ts);
		if (g->heartbeat && g->live > 0 && !g->stop) {
			pthread_mutex_unlock(&g->lock);
			bool go_on = g->heartbeat(g->heartbeat_arg);
			pthread_mutex_lock(&g->lock);
			g->stop = !go_on;
		}
	}
	pthread_mutex_unlock(&g->lock);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
}

static void item_error(sluice_watched_fetch_item *it, const char *why)
{
	sluice_fetch_result_clear(&it->r);
	it->r.status = SLUICE_FETCH_ERROR;
	it->r.new_tags = sluice_xcalloc(1, sizeof(char *));
	it->r.moved_tags = sluice_xcalloc(1, sizeof(char *));
	it->r.deleted_tags = sluice_xcalloc(1, sizeof(char *));
	it->r.notes = sluice_xcalloc(1, sizeof(char *));
	it->error = sluice_xstrdup(why);
}

/* The caller's heartbeat, remembering a stop for the rest of the pass. */
typedef struct {
	bool (*fn)(void *arg);
	void *arg;
	bool stopped;
} beat;

static bool beat_once(void *arg)
{
	beat *b = arg;
	if (!b->stopped && !b->fn(b->arg))
		b->stopped = true;
	return !b->stopped;
}

int sluice_watched_fetch_all(sluice_watched_fetch_item *items, size_t n,
			     const sluice_workspace *ws, const char *root, const char *cache_dir,
			     void (*progress)(void *payload, const sluice_fetch_progress *p),
			     void *payload, bool (*heartbeat)(void *arg), void *heartbeat_arg,
			     sluice_fetch_stats *stats)
{
	sluice_fetch_stats none;
	sluice_refs_probe *probes = sluice_xcalloc(n + 1, sizeof *probes);
	size_t *probed_item = sluice_xcalloc(n + 1, sizeof *probed_item);
	char **tokens = sluice_xcalloc(n + 1, sizeof *tokens);
	char *ca = NULL;
	size_t nprobes = 0;
	unsigned bound = ws && ws->max_concurrent.set ? (unsigned)ws->max_concurrent.v
						      : SLUICE_FETCH_CONCURRENT_DEFAULT;
	beat b = {heartbeat, heartbeat_arg, false};
	git_pool g = {.root = root, .cache_dir = cache_dir, .progress = progress,
		      .payload = payload, .heartbeat = heartbeat ? beat_once : NULL,
		      .heartbeat_arg = &b};

	if (!stats)
		stats = &none;
	memset(stats, 0, sizeof *stats);
	pthread_mutex_init(&g.lock, NULL);
	pthread_cond_init(&g.ended, NULL);
	pthread_mutex_init(&g.progress_lock, NULL);
	g.queue = sluice_xcalloc(n + 1, sizeof *g.queue);
	for (size_t i = 0; i < n; i++) {
		sluice_fetch_result_init(&items[i].r);
		items[i].error = NULL;
		items[i].probed = items[i].git = false;
	}
	if (ws && ws->ca_bundle.s)
		ca = sluice_path_under_root(root, ws->ca_bundle.s);

	/* what smart HTTP can answer: https and loopback http remotes that
	 * libgit2 would reach too, with the token it would send */
	for (size_t i = 0; i < n; i++) {
		const sluice_watched *w = items[i].w;
		char *cred = NULL;
		if (!w->url || !sluice_refs_http_url(w->url) || sluice_source_check_url(w->url) < 0) {
			sluice_error_clear();
			g.queue[g.n++] = &items[i];
			continue;
		}
		sluice_fetch_opts fo = fetch_opts(w, root, &cred, NULL, NULL);
		/* a missing token: the probe goes without, and a server that
		 * wants one sends it to libgit2, which says what is missing */
		if (sluice_source_token(&tokens[nprobes], &fo) < 0)
			sluice_error_clear();
		free(cred);
		probes[nprobes] = (sluice_refs_probe){.url = w->url, .key = w->key,
						      .password = tokens[nprobes]};
		probed_item[nprobes++] = i;
	}
	sluice_refs_probe_opts po = {bound, ca, 0, g.heartbeat, &b};
	if (nprobes && sluice_refs_http_probe(probes, nprobes, &po, &stats->connections) < 0) {
		/* libcurl cannot start: every probe falls back to libgit2 */
		sluice_error_clear();
		for (size_t k = 0; k < nprobes; k++)
			probes[k].status = SLUICE_PROBE_FALLBACK;
	}
	for (size_t k = 0; k < nprobes; k++) {
		sluice_watched_fetch_item *it = &items[probed_item[k]];
		bool unchanged = false;
		it->probed = true;
		stats->probed++;
		if (probes[k].status == SLUICE_PROBE_ERROR) {
			item_error(it, probes[k].why);
			continue;
		}
		if (probes[k].status == SLUICE_PROBE_REFS &&
		    sluice_source_compare_refs(&it->r, &unchanged, cache_dir, it->w->key,
					       &probes[k].refs) == 0 &&
		    unchanged)
			continue;
		sluice_error_clear();
		g.queue[g.n++] = it;
	}
	stats->git = g.n;
	/* a stop during the probes: nothing more is fetched */
	g.stop = b.stopped;
	git_pool_run(&g, bound);
	for (size_t i = g.next; i < g.n; i++)
		item_error(g.queue[i], "the pass stopped before this repository was fetched");
	for (size_t k = 0; k < nprobes; k++) {
		sluice_refs_probe_clear(&probes[k]);
		if (tokens[k]) {
			volatile char *v = tokens[k];
			while (*v)
				*v++ = 0;
		}
		free(tokens[k]);
	}
	pthread_mutex_destroy(&g.lock);
	pthread_cond_destroy(&g.ended);
	pthread_mutex_destroy(&g.progress_lock);
	free(g.queue);
	free(probes);
	free(probed_item);
	free(tokens);
	free(ca);
	return 0;
}

#define MAX_MANIFEST_BYTES (4u * 1024u * 1024u)

int sluice_watched_mirror_id(char **out, const char *cache_dir, const char *key)
{
	sluice_tag_list tags = {0};
	sluice_semver best = SLUICE_SEMVER_INIT, v = SLUICE_SEMVER_INIT;
	const sluice_tag *pick = NULL;
	bool pick_ver = false;
	sluice_tree *tree = NULL;
	sluice_doc *doc = NULL;
	sluice_diags diags;
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	sluice_diags_init(&diags);
	if ((rc = sluice_source_tags(&tags, cache_dir, key)) < 0)
		goto done;
	for (size_t i = 0; i < tags.count; i++) {
		const sluice_tag *t = &tags.items[i];
		if (!t->commit[0])
			continue;
		if (sluice_semver_parse_tag(&v, t->name) == 0) {
			if (!pick_ver || sluice_semver_cmp(&v, &best) > 0) {
				sluice_semver_clear(&best);
				sluice_semver_copy(&best, &v);
				pick = t;
				pick_ver = true;
			}
		} else if (!pick_ver && (!pick || t->time > pick->time))
			pick = t;
		sluice_semver_clear(&v);
	}
	if (!pick) {
		rc = sluice_error_set(SLUICE_ENOTFOUND, "'%s' has no tag yet", key);
		goto done;
	}
	if ((rc = sluice_source_open_tree(&tree, cache_dir, key, pick->name, NULL)) < 0 ||
	    (rc = sluice_tree_read(tree, &data, &len, "plugin.yaml", MAX_MANIFEST_BYTES)) < 0)
		goto done;
	rc = sluice_doc_parse_yaml(&doc, "plugin.yaml", data, len, NULL, &diags);
	const sluice_node *id = rc == 0 && doc->root ? sluice_node_get(doc->root, "id") : NULL;
	if (!id || id->kind != SLUICE_NODE_STRING || !id->text || !*id->text) {
		rc = sluice_error_set(SLUICE_ENOTFOUND, "plugin.yaml of '%s' at '%s' has no id", key,
				      pick->name);
		goto done;
	}
	*out = sluice_xstrdup(id->text);
	rc = 0;
done:
	sluice_doc_free(doc);
	sluice_diags_clear(&diags);
	free(data);
	sluice_tree_free(tree);
	sluice_semver_clear(&best);
	sluice_semver_clear(&v);
	sluice_tag_list_clear(&tags);
	return rc;
}

const sluice_ws_plugin *sluice_watched_by_name(const sluice_workspace *ws, const char *name)
{
	for (size_t i = 0; i < ws->nplugins; i++) {
		const sluice_ws_plugin *p = &ws->plugins[i];
		if ((p->repository.s && strcmp(p->repository.s, name) == 0) ||
		    (p->url.s && strcmp(p->url.s, name) == 0))
			return p;
	}
	return NULL;
}

int sluice_watched_find(const sluice_ws_plugin **out, const sluice_workspace *ws,
			const char *cache_dir, const char *name)
{
	if ((*out = sluice_watched_by_name(ws, name)))
		return 0;
	/* A plugin id: read from each mirror's manifest. */
	for (size_t i = 0; i < ws->nplugins; i++) {
		const sluice_ws_plugin *p = &ws->plugins[i];
		char *id = NULL;
		if (sluice_watched_mirror_id(&id, cache_dir, sluice_watched_key(p)) == 0 &&
		    strcmp(id, name) == 0)
			*out = p;
		free(id);
		if (*out)
			return 0;
	}
	return sluice_error_set(SLUICE_ENOTFOUND,
				"no plugin '%s' in workspace '%s': it is neither a repository "
				"listed under 'plugins' (owner/name) nor the id of a fetched one; "
				"run 'sluice fetch' first if it is new",
				name, ws->name.s ? ws->name.s : ws->path);
}

/* ---- recording tags ------------------------------------------------------ */

char *sluice_watched_tracking_id(sluice_store *s, const char *key)
{
	sluice_source_row row;
	char *id = NULL;

	if (sluice_store_source_get(&row, s, key) == 0 && row.plugin) {
		id = row.plugin;
		row.plugin = NULL;
	}
	sluice_source_row_clear(&row);
	sluice_error_clear();
	return id ? id : sluice_xstrdup(key);
}

bool sluice_tag_filter_wants(const sluice_tag_filter *f, const char *name, bool *in_range,
			     bool *recorded)
{
	sluice_semver v;
	bool is_release, admitted, known = false;

	sluice_semver_init(&v);
	is_release = sluice_semver_parse_tag(&v, name) == 0;
	admitted = is_release && (!f->range || sluice_range_satisfies(f->range, &v));
	sluice_semver_clear(&v);
	for (size_t k = 0; f->recorded && k < f->recorded->nreleases && !known; k++)
		known = strcmp(f->recorded->releases[k].tag, name) == 0;
	if (in_range)
		*in_range = admitted;
	if (recorded)
		*recorded = known;
	if (!f->releases_only)
		return true;
	return is_release && (admitted || known);
}

int sluice_watched_observe_tags(sluice_store *s, const char *cache_dir, const char *key,
				const char *plugin, int64_t now, const sluice_observe_opts *o)
{
	sluice_tag_list tags = {0};
	sluice_stored_tag_list stored = {0};
	char *tracked = sluice_watched_tracking_id(s, key);
	int rc;

	/* One repository's tags never land under another's id: that is how a
	 * second repository claiming an id would "move" the real release's
	 * tags (docs/sources.md, plugin ids). */
	if (strcmp(tracked, plugin) != 0) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "internal: the tags of %s are recorded under '%s', not '%s'", key,
				      tracked, plugin);
		goto done;
	}
	if ((rc = sluice_source_tags(&tags, cache_dir, key)) < 0)
		goto done;
	for (size_t i = 0; i < tags.count; i++) {
		sluice_observed_tag ot = {.tag = &tags.items[i]};
		const sluice_tag *t = ot.tag;
		if (!t->commit[0])
			continue; /* not a commit: never a release */
		if (!sluice_tag_filter_wants(&o->filter, t->name, &ot.in_range, &ot.recorded))
			continue;
		if ((rc = sluice_store_tag_observe(s, plugin, t->name, t->commit,
						   t->annotated ? t->id : NULL, sluice_tag_email(t),
						   now, &ot.obs)) < 0)
			goto done;
		if (o->observed && (rc = o->observed(o->ctx, &ot)) != 0)
			goto done; /* an error, or > 0: stop here */
	}
	/* tags gone upstream: flagged, their releases kept */
	if ((rc = sluice_store_tag_list(&stored, s, plugin)) < 0)
		goto done;
	for (size_t i = 0; i < stored.count; i++) {
		bool present = false;
		if (stored.items[i].deleted_at)
			continue;
		for (size_t j = 0; j < tags.count && !present; j++)
			present = strcmp(tags.items[j].name, stored.items[i].tag) == 0;
		if (present)
			continue;
		if ((rc = sluice_store_tag_mark_deleted(s, plugin, stored.items[i].tag, now)) < 0)
			goto done;
		if (o->deleted)
			o->deleted(o->ctx, stored.items[i].tag);
	}
	rc = 0;
done:
	sluice_stored_tag_list_clear(&stored);
	sluice_tag_list_clear(&tags);
	free(tracked);
	return rc;
}
