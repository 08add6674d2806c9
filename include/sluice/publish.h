/* Publishing the effective state (PRODUCT.md section 4): per group, the
 * plugins and versions enabled, with environment, secret references (never
 * values), tool and guidance files, and controls. The document is built
 * once; publishers are small structs of function pointers, so another
 * target (http, codex) is a new publish-*.c file and one line in the
 * table. The format is in docs/publishing.md. */
#ifndef SLUICE_PUBLISH_H
#define SLUICE_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "sluice/config.h"
#include "sluice/engine.h"
#include "sluice/tree.h"

/* One release some group has: its files are copied next to the document. */
typedef struct {
	char *plugin, *version, *tag, *commit;
	sluice_tree *tree;    /* its files (the tagged commit, or a published copy) */
	sluice_plugin *loaded;
	char **files;         /* NULL-terminated paths inside the release */
} sluice_effective_release;

typedef struct {
	json_t *doc; /* effective.json (PRODUCT.md 4.1) */
	sluice_effective_release *releases;
	size_t nreleases;
	/* what the document was built from (assignments, overrides, paths):
	 * equal signatures mean publishing again would change nothing */
	char *signature;
} sluice_effective;

typedef struct sluice_publisher sluice_publisher;
struct sluice_publisher {
	const char *type; /* publish.type in the workspace */
	/* Whether the last publish was built from `signature`. */
	bool (*current)(const sluice_publisher *p, sluice_engine *e, const char *signature);
	/* Opens the published copy of a release whose tag can no longer be
	 * read (it moved): 0 and *out, or a negative code. May be NULL. */
	int (*open_release)(const sluice_publisher *p, sluice_engine *e, const char *plugin,
			    const char *version, const char *commit, sluice_tree **out);
	/* Writes the document and the release files. */
	int (*publish)(const sluice_publisher *p, sluice_engine *e, const sluice_effective *eff);
};

extern const sluice_publisher sluice_publisher_directory;

/* The publisher for publish.type `type`, or NULL with the error set. */
const sluice_publisher *sluice_publisher_find(const char *type);

/* Only the signature (cheap: no git reads). Returns 0 and *out (free()). */
int sluice_effective_signature(char **out, sluice_engine *e);

/* Builds the whole document with each release's files, reading them from
 * git (or through `pub`'s open_release when a tag moved). Returns 0 and
 * *out filled (clear with sluice_effective_clear). */
int sluice_effective_build(sluice_effective *out, sluice_engine *e, const sluice_publisher *pub);
void sluice_effective_clear(sluice_effective *eff);

/* Publishes with the workspace's publisher unless nothing changed since the
 * last publish (force: publish anyway). *changed says whether it wrote.
 * A workspace without `publish` publishes nothing. */
int sluice_engine_publish(bool *changed, sluice_engine *e, bool force);

#endif
