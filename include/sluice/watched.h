/* Watched repositories: the plugins a workspace lists under `plugins`, seen
 * from the network and the store. This is the one place that knows how a
 * watched repository is fetched - its URL (a plain relative path resolves
 * against --root), its credentials (credentials_env, credentials_file under
 * --root), the workspace's CA bundle - how its tags are recorded, and how a
 * name on the command line designates one. `fetch`, `validate --repo`,
 * `tags` and reconcile all go through it (docs/sources.md). */
#ifndef SLUICE_WATCHED_H
#define SLUICE_WATCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/config.h"
#include "sluice/rollout.h"
#include "sluice/semver.h"
#include "sluice/source.h"
#include "sluice/store.h"

/* A watched repository of the workspace. */
typedef struct {
	const sluice_ws_plugin *ws_plugin; /* borrowed from the workspace; NULL for
					    * a repository named on the command line */
	const char *key;  /* the mirror key: repository owner/name, or the URL */
	char *url;        /* resolved against --root; NULL when none can be made */
	uint64_t max_fetch_bytes; /* repositories.max_fetch_bytes; 0: the default */
} sluice_watched;

/* The mirror key of a watched plugin: its repository's owner/name, or its
 * URL when it has none. Borrowed from p. */
const char *sluice_watched_key(const sluice_ws_plugin *p);

/* Fills *w for plugin p of ws: its key, its URL (explicit url or
 * repositories.url_template), a plain relative path resolved against root,
 * and the workspace's repositories.max_fetch_bytes.
 * Returns 0, or SLUICE_EINVAL ("no URL for ...") when no URL can be made;
 * *w is filled either way (url NULL then). Clear with
 * sluice_watched_clear. */
int sluice_watched_init(sluice_watched *w, const sluice_workspace *ws, const sluice_ws_plugin *p,
			const char *root);
void sluice_watched_clear(sluice_watched *w);

/* Uses the workspace's repositories.ca_bundle (relative to root) for https
 * fetches; nothing when it has none. Returns 0 or the error of
 * sluice_source_set_ca_bundle. */
int sluice_watched_set_ca_bundle(const sluice_workspace *ws, const char *root);

/* Brings the mirror of w in cache_dir up to date (sluice_source_fetch) with
 * w's credentials, the credentials file resolved against root, and at most
 * w->max_fetch_bytes downloaded. `progress`
 * may be NULL. Returns 0 with *out filled, or a negative code with the
 * error set: SLUICE_EINVAL ("no URL for ...") when w has no URL, or the
 * fetch's own error. Clear *out with sluice_fetch_result_clear either way. */
int sluice_watched_fetch(sluice_fetch_result *out, const sluice_watched *w, const char *root,
			 const char *cache_dir,
			 void (*progress)(void *payload, const sluice_fetch_progress *p),
			 void *payload);

/* One repository of a pass of sluice_watched_fetch_all. */
typedef struct {
	const sluice_watched *w; /* in */
	sluice_fetch_result r;   /* as sluice_watched_fetch fills it */
	char *error;             /* NULL, or why it failed (URLs masked); malloc'd */
	bool probed;             /* its refs were compared over smart HTTP */
	bool git;                /* it was opened with libgit2 */
} sluice_watched_fetch_item;

/* What a pass cost the network. */
typedef struct {
	size_t probed;     /* repositories whose refs were read over smart HTTP */
	size_t git;        /* repositories opened with libgit2 */
	long connections;  /* HTTP connections the smart-HTTP reads opened */
} sluice_fetch_stats;

/* The default and the bounds of repositories.max_concurrent. */
#define SLUICE_FETCH_CONCURRENT_DEFAULT 16
#define SLUICE_FETCH_CONCURRENT_MAX 256

/* Brings the mirrors of items[0..n) up to date, with results equal to
 * sluice_watched_fetch's one by one (docs/sources.md, "How refs are
 * compared"): the refs of https (and loopback http) remotes are read first
 * over smart HTTP, many requests on a few reused connections, and only a
 * repository whose tags differ from its mirror's - or whose server gave no
 * answer a probe can trust, so that libgit2 says what is wrong - is fetched
 * with libgit2; a malformed or oversized advertisement is an error of that
 * repository alone. libgit2 fetches (ssh, file and those https ones) run on
 * up to repositories.max_concurrent threads, as many as smart-HTTP requests
 * in flight. Credentials, the CA bundle (ws's repositories.ca_bundle, also
 * given to libgit2 with sluice_watched_set_ca_bundle) and URLs are as for
 * sluice_watched_fetch. `progress` is called from those threads, one call
 * at a time; may be NULL. `heartbeat` is called on the calling thread
 * about once a second while the pass runs (a caller renews its leases
 * there); false stops the pass: what is not fetched yet ends with the
 * error "the pass stopped ..." (a libgit2 fetch under way finishes). May
 * be NULL. Touches no store. Returns 0 with every item
 * filled (clear each with sluice_watched_fetch_item_clear) and *stats (may
 * be NULL); a negative code only when the pass could not start. */
int sluice_watched_fetch_all(sluice_watched_fetch_item *items, size_t n,
			     const sluice_workspace *ws, const char *root, const char *cache_dir,
			     void (*progress)(void *payload, const sluice_fetch_progress *p),
			     void *payload, bool (*heartbeat)(void *arg), void *heartbeat_arg,
			     sluice_fetch_stats *stats);
void sluice_watched_fetch_item_clear(sluice_watched_fetch_item *it);

/* The plugin id in the mirror of `key`: the `id` in plugin.yaml at its
 * highest version tag (vX.Y.Z; without one, its newest tag). Returns 0 and
 * a malloc'd *out, or SLUICE_ENOTFOUND when no mirror, tag or id. */
int sluice_watched_mirror_id(char **out, const char *cache_dir, const char *key);

/* The watched plugin whose repository owner/name or explicit URL is
 * `name`; NULL when none is. Borrowed from ws. */
const sluice_ws_plugin *sluice_watched_by_name(const sluice_workspace *ws, const char *name);

/* Finds the watched plugin that `name` designates without a store: its
 * repository's owner/name, its explicit URL, or its plugin id (the
 * manifest id at the newest version tag of its mirror). Returns 0 and *out
 * (borrowed from ws), or SLUICE_ENOTFOUND with a message that lists what
 * was tried. */
int sluice_watched_find(const sluice_ws_plugin **out, const sluice_workspace *ws,
			const char *cache_dir, const char *name);

/* ---- recording tags ------------------------------------------------------ */

/* Which tags sluice_watched_observe_tags records, and what it tells about
 * each. `fetch` records every tag that names a commit; reconcile only
 * release tags (vX.Y.Z) that the tracked range admits or that already have
 * a release in the workspace (docs/sources.md). */
typedef struct {
	bool releases_only;
	const sluice_range *range;             /* NULL: every version */
	const sluice_rollout_plugin *recorded; /* the workspace's releases; may be NULL */
} sluice_tag_filter;

/* Whether the filter takes tag `name` (the commit is not looked at);
 * *in_range: a vX.Y.Z tag the range admits; *recorded: it has a release
 * in f->recorded. Either out pointer may be NULL. */
bool sluice_tag_filter_wants(const sluice_tag_filter *f, const char *name, bool *in_range,
			     bool *recorded);

/* One tag as recorded by this pass. */
typedef struct {
	const sluice_tag *tag;       /* in the mirror */
	sluice_tag_observation obs;  /* what the store knew (obs.commit: the trusted commit) */
	bool in_range;
	bool recorded;
} sluice_observed_tag;

typedef struct {
	sluice_tag_filter filter;
	/* Called after each tag is recorded, before the next one; a nonzero
	 * return stops the pass with that value (negative: an error; positive:
	 * stop early, e.g. because the repository's id just changed, without
	 * looking for deleted tags). May be NULL. */
	int (*observed)(void *ctx, const sluice_observed_tag *o);
	/* Called for each tag flagged deleted by this pass. May be NULL. */
	void (*deleted)(void *ctx, const char *tag);
	void *ctx;
} sluice_observe_opts;

/* What the tags and releases of repository `key` are recorded under: the
 * plugin id it owns (sluice_store_source_claim), else `key` itself - never
 * an id read from a manifest that did not validate. Returns a malloc'd
 * string. */
char *sluice_watched_tracking_id(sluice_store *s, const char *key);

/* Records the tags of the mirror of `key` under `plugin`, which must be
 * its sluice_watched_tracking_id (else SLUICE_EINVAL), in the store (the
 * caller holds the transaction): each tag the filter takes is observed
 * (first sighting recorded, a move marked; sluice_store_tag_observe), and
 * each recorded tag gone from the mirror is flagged deleted (its release
 * is kept). Returns 0, a positive value of the `observed` callback,
 * SLUICE_ENOTFOUND when there is no mirror yet (nothing recorded), or
 * another negative code. */
int sluice_watched_observe_tags(sluice_store *s, const char *cache_dir, const char *key,
				const char *plugin, int64_t now, const sluice_observe_opts *o);

#endif
