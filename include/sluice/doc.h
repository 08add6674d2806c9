/* Documents: YAML (libyaml) and JSON (jansson) files loaded into one tree
 * of nodes that remember the file, line and column of every key and value,
 * so every later check can point at the exact place. */
#ifndef SLUICE_DOC_H
#define SLUICE_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sluice/diag.h"

typedef enum {
	SLUICE_NODE_NULL,
	SLUICE_NODE_BOOL,
	SLUICE_NODE_INT,
	SLUICE_NODE_FLOAT,
	SLUICE_NODE_STRING,
	SLUICE_NODE_SEQ,
	SLUICE_NODE_MAP,
} sluice_node_kind;

typedef struct sluice_node sluice_node;

typedef struct {
	char *key;
	sluice_pos key_pos;
	sluice_node *value;
} sluice_node_pair;

struct sluice_node {
	sluice_node_kind kind;
	sluice_pos pos;    /* where the value starts */
	/* Scalars: the text as written (for YAML the plain/quoted scalar value,
	 * for JSON the string value or the number's literal). */
	char *text;
	size_t text_len;   /* strings may hold no NUL (rejected at load) */
	bool quoted;       /* YAML: the scalar was quoted or a block scalar */
	union {
		bool b;
		int64_t i;
		double f;
	} v;
	/* SEQ: items; MAP: pairs in document order (keys are unique: a
	 * document with a repeated key is refused). */
	sluice_node **items;
	sluice_node_pair *pairs;
	size_t count;
};

/* Limits applied while loading; zero fields take the defaults. */
typedef struct {
	size_t max_bytes;   /* default 4 MiB */
	unsigned max_depth; /* default 64 */
	size_t max_nodes;   /* default 100000: keys, values and every alias
			     * expansion's whole subtree count */
} sluice_doc_limits;

#define SLUICE_DOC_DEFAULT_MAX_BYTES (4u * 1024u * 1024u)
#define SLUICE_DOC_DEFAULT_MAX_DEPTH 64u
#define SLUICE_DOC_DEFAULT_MAX_NODES 100000u

typedef struct {
	char *file;        /* the name used in diagnostics (owned) */
	sluice_node *root; /* NULL for an empty document or on fatal error */
	/* all nodes are owned by the document */
	void *arena;
} sluice_doc;

/* Parses `len` bytes of YAML named `file` into *out (caller frees with
 * sluice_doc_free). Syntax errors, duplicate keys, NUL bytes, invalid UTF-8
 * and exceeded limits go to `diags` with their position. Returns 0 when a
 * tree was built (root may be NULL for an empty document), SLUICE_EINVAL
 * when the text could not be parsed (out->root is NULL; *out is still
 * valid and must be freed), SLUICE_ELIMIT when a limit stopped it.
 * Any error diagnostic means a negative return and no tree; a duplicate
 * key is such an error (code "duplicate-key", at the second occurrence,
 * naming the first), reported for every repeated key of the file.
 * Codes: duplicate-key, yaml-syntax, yaml-multidoc, yaml-tag, yaml-key, yaml-alias,
 * json-syntax, out-of-range, nul-byte, invalid-utf8, limit.
 * An alias is the anchored node itself (shared, not copied). */
int sluice_doc_parse_yaml(sluice_doc **out, const char *file, const char *data,
			  size_t len, const sluice_doc_limits *lim,
			  sluice_diags *diags);

/* Same for JSON, parsed by jansson; a scanning pass over the same bytes
 * supplies the positions and finds duplicate keys. */
int sluice_doc_parse_json(sluice_doc **out, const char *file, const char *data,
			  size_t len, const sluice_doc_limits *lim,
			  sluice_diags *diags);

void sluice_doc_free(sluice_doc *doc);

/* The value under `key` in a MAP node, or NULL (also when n is not a map). */
const sluice_node *sluice_node_get(const sluice_node *n, const char *key);
/* The pair for `key` (for its key position), or NULL. */
const sluice_node_pair *sluice_node_pair_get(const sluice_node *n, const char *key);

/* A short English name of a kind for messages: "a mapping", "a string"... */
const char *sluice_node_kind_name(sluice_node_kind k);

#endif
