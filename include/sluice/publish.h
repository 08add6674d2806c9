/* Publishing the effective state: per group, the plugins and versions
 * enabled, with environment, secret references (never values), tool and
 * guidance files, controls, the users who opted out, and the audit log's
 * head. The document is built once; publishers are
 * small structs of function pointers, so another target (http, codex) is a
 * new publish-*.c file and one line in the table. Publishing knows nothing
 * of the engine: the caller hands it the stored state and the workspace's
 * settings in a sluice_publish_ctx. The format is in docs/publishing.md. */
#ifndef SLUICE_PUBLISH_H
#define SLUICE_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sluice/config.h"
#include "sluice/rollout.h"
#include "sluice/store.h"
#include "sluice/tree.h"

/* One watched plugin as a publisher sees it. */
typedef struct {
	const char *id;                      /* the plugin id */
	const char *key;                     /* its repository's mirror key */
	const sluice_kvs *environment;       /* the workspace's overrides of its environment */
	const sluice_rollout_plugin *state;  /* its releases as stored: who has which */
	/* the users who opted out of it (sluice_store_optout_users), sorted;
	 * published for the releases that allow it (allow_user_disable) */
	const char *const *disabled_users;
	size_t ndisabled_users;
} sluice_publish_plugin;

/* What publishing needs to know, and nothing more: the caller (reconcile)
 * fills it from the workspace and the planner's input; everything is
 * borrowed and must outlive the call. */
typedef struct {
	const char *workspace;      /* its name */
	const char *root;           /* --root: a relative publish_path is under it */
	const char *cache_dir;      /* the mirrors the releases are read from */
	const char *publish_type;   /* publish.type; NULL: nothing is published */
	const char *publish_path;   /* publish.path; NULL: .sluice/published */
	unsigned mode;              /* publish.mode for files; 0: 0644 (directories
				     * get x where the mode has r) */
	size_t max_file_bytes;      /* policy.max_file_bytes; 0: the default */
	const char *const *groups;  /* the workspace's groups, in its order */
	size_t ngroups;
	const sluice_publish_plugin *plugins;
	size_t nplugins;
	int64_t now;                /* generated_at */
	/* the last secret checks (sluice_store_secret_rows): each entry's
	 * secrets carry the version and checked_at found, never a value */
	const sluice_secret_row *secrets;
	size_t nsecrets;
	/* the audit log's head (sluice_audit_head) when the document is
	 * built; not part of the signature: see docs/publishing.md */
	int64_t audit_head_id;
	const char *audit_head_hash; /* NULL: published as null */
	/* The http publisher (publish-http.c) hands the document to the
	 * caller's outbox, which delivers it signed and retried until
	 * acknowledged: publish.url, the caller's enqueue (0 or a negative
	 * code; `body` is the caller's to copy) and the signature of the last
	 * document enqueued (NULL: none). Unset for the other publishers. */
	const char *publish_url;
	int (*enqueue)(void *arg, const char *endpoint, const char *kind, json_t *body);
	void *enqueue_arg;
	const char *last_signature;
} sluice_publish_ctx;

/* One release some group has: its files are copied next to the document.
 * Nothing here holds a repository open: a publisher that must copy the
 * files opens them with sluice_effective_release_open, one release at a
 * time. */
typedef struct {
	char *plugin, *version, *tag, *commit;
	const char *key;      /* its repository's mirror key (borrowed from the context) */
	char **files;         /* NULL-terminated paths inside the release */
	json_t *entry;        /* its entry in the document, shared by its groups */
} sluice_effective_release;

typedef struct {
	json_t *doc; /* effective.json (docs/publishing.md) */
	sluice_effective_release *releases;
	size_t nreleases;
	/* what the document was built from (assignments, overrides, paths):
	 * equal signatures mean publishing again would change nothing */
	char *signature;
	/* what each release's entry was made from, per tag and commit: the
	 * publisher keeps it and hands it back through load_cache, so the next
	 * build reads from git only the releases it has not seen */
	json_t *cache;
} sluice_effective;

typedef struct sluice_publisher sluice_publisher;
struct sluice_publisher {
	const char *type; /* publish.type in the workspace */
	/* Whether the last publish was built from `signature`. */
	bool (*current)(const sluice_publisher *p, const sluice_publish_ctx *c,
			const char *signature);
	/* Opens the published copy of a release whose tag can no longer be
	 * read (it moved): 0 and *out, or a negative code. May be NULL. */
	int (*open_release)(const sluice_publisher *p, const sluice_publish_ctx *c,
			    const char *plugin, const char *version, const char *commit,
			    sluice_tree **out);
	/* The cache saved by the last publish (sluice_effective.cache), or
	 * NULL: a new reference. May be NULL (every release is read). */
	json_t *(*load_cache)(const sluice_publisher *p, const sluice_publish_ctx *c);
	/* Writes the document, the release files and the cache. */
	int (*publish)(const sluice_publisher *p, const sluice_publish_ctx *c,
		       const sluice_effective *eff);
};

extern const sluice_publisher sluice_publisher_directory;
/* per group, the files Codex clients read (src/lib/publish-codex.c) */
extern const sluice_publisher sluice_publisher_codex;
/* the document POSTed to publish.url through the outbox (src/lib/publish-http.c) */
extern const sluice_publisher sluice_publisher_http;

/* The publisher for publish.type `type`, or NULL with the error set. */
const sluice_publisher *sluice_publisher_find(const char *type);

/* The mode of published files (publish.mode, default 0644) and of
 * published directories (the same with x wherever it has r: 0640 gives
 * 0750). */
unsigned sluice_publish_file_mode(const sluice_publish_ctx *c);
unsigned sluice_publish_dir_mode(const sluice_publish_ctx *c);

/* Only the signature (cheap: no git reads). Returns 0 and *out (free()). */
int sluice_publish_signature(char **out, const sluice_publish_ctx *c);

/* Builds the whole document and the list of each release's files. A
 * release is read from git (or through `pub`'s open_release when a tag
 * moved) only when `pub`'s cache has no record of it at the same tag and
 * commit, one tree at a time. Returns 0 and *out filled (clear with
 * sluice_effective_clear). */
int sluice_effective_build(sluice_effective *out, const sluice_publish_ctx *c,
			   const sluice_publisher *pub);
void sluice_effective_clear(sluice_effective *eff);

/* Opens the files of a release to copy them: the tagged commit in its
 * mirror, or through `pub`'s open_release when the tag moved. Returns 0
 * and *out (sluice_tree_free it as soon as its files are written), or a
 * negative code. */
int sluice_effective_release_open(sluice_tree **out, const sluice_publish_ctx *c,
				  const sluice_publisher *pub, const sluice_effective_release *er);

/* Publishes with the workspace's publisher unless nothing changed since the
 * last publish (force: publish anyway). *changed says whether it wrote.
 * A workspace without `publish` publishes nothing. */
int sluice_publish_run(bool *changed, const sluice_publish_ctx *c, bool force);

#endif
