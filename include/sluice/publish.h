/* Publishing the effective state: per group, the plugins and versions
 * enabled, with environment, secret references (never values), tool and
 * guidance files, controls, the users who opted out, and the audit log's
 * head. The document is built once; publishers are
 * small structs of function pointers, so another target (http, codex) is a
 * new publish-*.c file and one line in the table. A workspace may list
 * several publishers; each runs on the same state with its own settings
 * and keeps its own signature, cache and outcome. Publishing knows nothing
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
	/* the one publisher this call runs (an entry of `publish`, set per
	 * publisher by sluice_publish_run_all) */
	const char *publish_type;   /* its type; NULL: nothing is published */
	const char *publish_path;   /* its path; NULL: .sluice/published */
	const char *publish_url;    /* its url (http); NULL: none */
	const char *publish_secret_env; /* its secret_env (http); NULL: none */
	unsigned mode;              /* its mode for files; 0: 0644 (directories
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
	/* The http publisher (publish-http.c) hands the document for its
	 * publish_url to the caller's outbox, which delivers it signed and
	 * retried until acknowledged: the caller's enqueue (0 or a negative
	 * code; `body` is the caller's to copy) and enqueued, the signature
	 * of the last document enqueued for `endpoint` (0 and *sig, free()d
	 * by the caller, NULL when none; or a negative code). Unset: the
	 * http publisher fails. */
	int (*enqueue)(void *arg, const char *endpoint, const char *kind, json_t *body);
	int (*enqueued)(void *arg, const char *endpoint, char **sig);
	void *enqueue_arg;
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

/* Publishes with the publisher c names (c->publish_type) unless nothing
 * changed since its last publish (force: publish anyway). *changed says
 * whether it wrote. No publish_type: nothing is published. */
int sluice_publish_run(bool *changed, const sluice_publish_ctx *c, bool force);

/* What a publisher's state is kept under, beside its type: its path, or
 * its url when it has no path (http); "" when it has neither. Borrowed. */
const char *sluice_publish_target(const sluice_publish_conf *pc);

/* How messages name a publisher: "codex publisher at 'out'". Caller
 * frees. */
char *sluice_publish_label(const char *type, const char *target);

/* The outcome of one publisher of sluice_publish_run_all. */
typedef struct {
	bool changed; /* it wrote */
	int rc;       /* 0, or the negative code that stopped it */
	char *error;  /* why it failed; NULL when it did not */
} sluice_publish_outcome;

/* Runs every publisher of `pubs` (the workspace's `publish` list) on c's
 * state, each with its own settings; one that fails does not stop the
 * others, and each one that is current is skipped (its own signature).
 * out has n entries (clear with sluice_publish_outcomes_clear). Returns 0
 * when all succeeded, else the first failure's code with its error set:
 * prefixed with the publisher's label when there are several, and saying
 * how many more failed. */
int sluice_publish_run_all(sluice_publish_outcome *out, const sluice_publish_ctx *c,
			   const sluice_publish_conf *pubs, size_t n, bool force);
void sluice_publish_outcomes_clear(sluice_publish_outcome *out, size_t n);

/* The workspace's publish outcome as one (status's `"publish"`) from each
 * publisher's (in `publish` order; each[i].known false: never published):
 * known when any is; ok only when every one is known and ok; at the
 * latest attempt of any; error the first failing one's, prefixed with its
 * label when there are several; last_ok_at the oldest last success (0
 * when one never succeeded). Clear out with sluice_publish_state_clear. */
void sluice_publish_state_combine(sluice_publish_state *out, const sluice_publish_state *each,
				  const char *const *types, const char *const *targets, size_t n);

/* Reads the stored outcome of each of the workspace's publishers
 * (`publish` order) and combines them (sluice_publish_state_combine).
 * Returns 0 with *all filled (clear with sluice_publish_state_clear) and,
 * when each is not NULL, *each: ws->npublishers states (free with
 * sluice_publish_states_free); or a negative code. */
int sluice_publish_state_load(sluice_publish_state *all, sluice_publish_state **each,
			      sluice_store *s, const char *workspace, const sluice_workspace *ws);
void sluice_publish_states_free(sluice_publish_state *each, size_t n);

#endif
