/* Private helpers shared by the YAML and JSON loaders (doc-yaml.c,
 * doc-json.c): the node arena, input checks, positions and the map builder
 * that finds duplicate keys. Not part of the public API. */
#ifndef SLUICE_DOC_INTERNAL_H
#define SLUICE_DOC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/diag.h"
#include "sluice/doc.h"

/* Limits with the defaults filled in. */
void doc_limits_resolve(sluice_doc_limits *out, const sluice_doc_limits *in);

/* A new empty document named `file`; nodes come from its arena. */
sluice_doc *doc_new(const char *file);
/* Zeroed memory that lives as long as the document. */
void *doc_alloc(sluice_doc *d, size_t n);
/* A NUL-terminated copy of n bytes, owned by the document. */
char *doc_strndup(sluice_doc *d, const char *s, size_t n);
sluice_node *doc_node_new(sluice_doc *d, sluice_node_kind k, unsigned line, unsigned col);

/* The 1-based line and column of byte `off` in `data` (columns count
 * characters, not bytes: UTF-8 continuation bytes do not advance). */
void doc_offset_pos(const char *data, size_t off, unsigned *line, unsigned *col);

/* Checks the whole input before any parser sees it: size against
 * lim->max_bytes, NUL bytes, invalid UTF-8. Reports to diags and returns
 * SLUICE_ELIMIT / SLUICE_EINVAL, or 0 and the length of a leading UTF-8
 * byte order mark (0 or 3) in *bom. */
int doc_check_input(size_t *bom, const char *file, const char *data, size_t len,
		    const sluice_doc_limits *lim, sluice_diags *diags);

/* Collects the pairs of one mapping and finds repeated keys in O(1) each,
 * so a mapping with 100000 keys stays linear. */
typedef struct {
	sluice_node_pair *pairs;
	size_t count, cap;
	size_t *slots; /* open addressing: index+1 into pairs, 0 = empty */
	size_t nslots;
} doc_map_builder;

/* Adds key (already owned by the document) unless it is already there.
 * Returns NULL when added, or the earlier pair with the same key (the new
 * one is then not added: the first value wins). */
const sluice_node_pair *doc_map_add(doc_map_builder *mb, char *key, sluice_pos key_pos,
				    sluice_node *value);
/* Moves the pairs into the document's arena as map->pairs/count. */
void doc_map_finish(sluice_doc *d, doc_map_builder *mb, sluice_node *map);
void doc_map_builder_clear(doc_map_builder *mb);

/* The duplicate-key error, at the second occurrence, naming the first
 * (the caller counts it as an error of the document). */
void doc_report_duplicate(sluice_diags *diags, sluice_pos dup, const sluice_node_pair *first);

/* Growable list of node pointers for sequences. */
typedef struct {
	sluice_node **items;
	size_t count, cap;
} doc_seq_builder;

void doc_seq_add(doc_seq_builder *sb, sluice_node *n);
void doc_seq_finish(sluice_doc *d, doc_seq_builder *sb, sluice_node *seq);
void doc_seq_builder_clear(doc_seq_builder *sb);

/* The limit message for too many nodes. */
void doc_report_nodes_limit(sluice_diags *diags, sluice_pos pos, size_t max_nodes);
void doc_report_depth_limit(sluice_diags *diags, sluice_pos pos, unsigned max_depth);

#endif
