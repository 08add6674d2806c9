/* Documents: the node arena, input checks and lookups shared by the YAML
 * and JSON loaders. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "doc-internal.h"
#include "sluice/error.h"
#include "sluice/util.h"

/* All nodes, strings and arrays of one document live in a chain of blocks
 * freed at once: a document is built once, read many times, freed whole,
 * and aliases may share subtrees, so per-node ownership would be awkward. */
typedef struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
} arena_block;

#define ARENA_BLOCK 65536u

void doc_limits_resolve(sluice_doc_limits *out, const sluice_doc_limits *in)
{
	sluice_doc_limits l = {0};
	if (in)
		l = *in;
	if (!l.max_bytes)
		l.max_bytes = SLUICE_DOC_DEFAULT_MAX_BYTES;
	if (!l.max_depth)
		l.max_depth = SLUICE_DOC_DEFAULT_MAX_DEPTH;
	if (!l.max_nodes)
		l.max_nodes = SLUICE_DOC_DEFAULT_MAX_NODES;
	*out = l;
}

sluice_doc *doc_new(const char *file)
{
	sluice_doc *d = sluice_xcalloc(1, sizeof *d);
	d->file = sluice_xstrdup(file ? file : "");
	return d;
}

void *doc_alloc(sluice_doc *d, size_t n)
{
	arena_block *b = d->arena;
	n = (n + 15u) & ~(size_t)15u;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
		arena_block *nb = sluice_xmalloc(sizeof *nb + cap);
		nb->used = 0;
		nb->cap = cap;
		if (b && cap != ARENA_BLOCK) {
			/* a big one-off: keep the current block for small allocations */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			d->arena = nb;
		}
		b = nb;
	}
	void *p = b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *doc_strndup(sluice_doc *d, const char *s, size_t n)
{
	char *p = doc_alloc(d, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

sluice_node *doc_node_new(sluice_doc *d, sluice_node_kind k, unsigned line, unsigned col)
{
	sluice_node *n = doc_alloc(d, sizeof *n);
	n->kind = k;
	n->pos.file = d->file;
	n->pos.line = line;
	n->pos.col = col;
	return n;
}

void sluice_doc_free(sluice_doc *doc)
{
	if (!doc)
		return;
	arena_block *b = doc->arena;
	while (b) {
		arena_block *next = b->next;
		free(b);
		b = next;
	}
	free(doc->file);
	free(doc);
}

void doc_offset_pos(const char *data, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;
	for (size_t i = 0; i < off; i++) {
		unsigned char ch = (unsigned char)data[i];
		if (ch == '\n') {
			l++;
			c = 1;
		} else if ((ch & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

int doc_check_input(size_t *bom, const char *file, const char *data, size_t len,
		    const sluice_doc_limits *lim, sluice_diags *diags)
{
	sluice_pos pos = {file, 0, 0};
	size_t skip = 0, bad;

	*bom = 0;
	if (len > lim->max_bytes) {
		sluice_diag_error(diags, pos, "limit",
				  "file is %zu bytes, over the limit of %zu bytes; "
				  "raise policy.max_file_bytes in the workspace definition "
				  "if it really needs to be this big",
				  len, lim->max_bytes);
		return sluice_error_set(SLUICE_ELIMIT, "%s: file is %zu bytes, over the limit of %zu bytes",
					file, len, lim->max_bytes);
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	const char *nul = memchr(data + skip, '\0', len - skip);
	if (nul) {
		doc_offset_pos(data + skip, (size_t)(nul - data) - skip, &pos.line, &pos.col);
		sluice_diag_error(diags, pos, "nul-byte",
				  "NUL byte in file; configuration files must be text");
		return sluice_error_set(SLUICE_EINVAL, "%s:%u:%u: NUL byte in file", file, pos.line,
					pos.col);
	}
	if (!sluice_utf8_valid(data + skip, len - skip, &bad)) {
		doc_offset_pos(data + skip, bad, &pos.line, &pos.col);
		sluice_diag_error(diags, pos, "invalid-utf8",
				  "invalid UTF-8 (byte 0x%02x); save the file as UTF-8",
				  (unsigned char)data[skip + bad]);
		return sluice_error_set(SLUICE_EINVAL, "%s:%u:%u: invalid UTF-8", file, pos.line,
					pos.col);
	}
	*bom = skip;
	return 0;
}

/* FNV-1a from a per-process random basis, then a murmur3 finaliser so
 * the low bits (the slot) depend on every input bit: keys crafted to
 * collide cannot be computed ahead of time, so a hostile file cannot turn
 * the duplicate check quadratic. */
static uint64_t hash_seed(void)
{
	static uint64_t seed;
	if (!seed) {
		uint64_t r = 0;
		if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
			r = (uint64_t)(uintptr_t)&r ^ (uint64_t)getpid() << 32;
		seed = (r ^ 1469598103934665603ull) | 1;
	}
	return seed;
}

static size_t hash_key(const char *s)
{
	uint64_t h = hash_seed();
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (size_t)h;
}

static void map_rehash(doc_map_builder *mb, size_t nslots)
{
	free(mb->slots);
	mb->slots = sluice_xcalloc(nslots, sizeof *mb->slots);
	mb->nslots = nslots;
	for (size_t i = 0; i < mb->count; i++) {
		size_t h = hash_key(mb->pairs[i].key) & (nslots - 1);
		while (mb->slots[h])
			h = (h + 1) & (nslots - 1);
		mb->slots[h] = i + 1;
	}
}

const sluice_node_pair *doc_map_add(doc_map_builder *mb, char *key, sluice_pos key_pos,
				    sluice_node *value)
{
	if ((mb->count + 1) * 2 > mb->nslots)
		map_rehash(mb, mb->nslots ? mb->nslots * 2 : 16);
	size_t h = hash_key(key) & (mb->nslots - 1);
	while (mb->slots[h]) {
		const sluice_node_pair *p = &mb->pairs[mb->slots[h] - 1];
		if (strcmp(p->key, key) == 0)
			return p;
		h = (h + 1) & (mb->nslots - 1);
	}
	if (mb->count == mb->cap) {
		mb->cap = mb->cap ? mb->cap * 2 : 8;
		mb->pairs = sluice_xrealloc(mb->pairs, mb->cap * sizeof *mb->pairs);
	}
	mb->pairs[mb->count].key = key;
	mb->pairs[mb->count].key_pos = key_pos;
	mb->pairs[mb->count].value = value;
	mb->count++;
	mb->slots[h] = mb->count;
	return NULL;
}

void doc_map_finish(sluice_doc *d, doc_map_builder *mb, sluice_node *map)
{
	if (mb->count) {
		map->pairs = doc_alloc(d, mb->count * sizeof *map->pairs);
		memcpy(map->pairs, mb->pairs, mb->count * sizeof *map->pairs);
	}
	map->count = mb->count;
	doc_map_builder_clear(mb);
}

void doc_map_builder_clear(doc_map_builder *mb)
{
	free(mb->pairs);
	free(mb->slots);
	memset(mb, 0, sizeof *mb);
}

/* An error, not a warning: YAML and JSON readers disagree on which value
 * of a repeated key wins (libyaml-based tools and Sluice keep the first,
 * jansson and most JSON readers the last), so a second `permissions:` block
 * could pass the checks while another reader uses it (docs/configuration.md). */
void doc_report_duplicate(sluice_diags *diags, sluice_pos dup, const sluice_node_pair *first)
{
	sluice_diag_error(diags, dup, "duplicate-key",
			  "duplicate key '%s' (first at line %u, column %u); readers disagree on "
			  "which value wins, so keep only one",
			  first->key, first->key_pos.line, first->key_pos.col);
}

void doc_seq_add(doc_seq_builder *sb, sluice_node *n)
{
	if (sb->count == sb->cap) {
		sb->cap = sb->cap ? sb->cap * 2 : 8;
		sb->items = sluice_xrealloc(sb->items, sb->cap * sizeof *sb->items);
	}
	sb->items[sb->count++] = n;
}

void doc_seq_finish(sluice_doc *d, doc_seq_builder *sb, sluice_node *seq)
{
	if (sb->count) {
		seq->items = doc_alloc(d, sb->count * sizeof *seq->items);
		memcpy(seq->items, sb->items, sb->count * sizeof *seq->items);
	}
	seq->count = sb->count;
	doc_seq_builder_clear(sb);
}

void doc_seq_builder_clear(doc_seq_builder *sb)
{
	free(sb->items);
	memset(sb, 0, sizeof *sb);
}

void doc_report_nodes_limit(sluice_diags *diags, sluice_pos pos, size_t max_nodes)
{
	sluice_diag_error(diags, pos, "limit",
			  "document expands to more than %zu nodes (aliases included)", max_nodes);
	sluice_error_set(SLUICE_ELIMIT, "%s: document expands to more than %zu nodes", pos.file,
			 max_nodes);
}

void doc_report_depth_limit(sluice_diags *diags, sluice_pos pos, unsigned max_depth)
{
	sluice_diag_error(diags, pos, "limit", "nesting is deeper than %u levels", max_depth);
	sluice_error_set(SLUICE_ELIMIT, "%s:%u:%u: nesting is deeper than %u levels", pos.file,
			 pos.line, pos.col, max_depth);
}

const sluice_node_pair *sluice_node_pair_get(const sluice_node *n, const char *key)
{
	if (!n || n->kind != SLUICE_NODE_MAP || !key)
		return NULL;
	for (size_t i = 0; i < n->count; i++)
		if (strcmp(n->pairs[i].key, key) == 0)
			return &n->pairs[i];
	return NULL;
}

const sluice_node *sluice_node_get(const sluice_node *n, const char *key)
{
	const sluice_node_pair *p = sluice_node_pair_get(n, key);
	return p ? p->value : NULL;
}

const char *sluice_node_kind_name(sluice_node_kind k)
{
	switch (k) {
	case SLUICE_NODE_NULL:
		return "null";
	case SLUICE_NODE_BOOL:
		return "a boolean";
	case SLUICE_NODE_INT:
		return "an integer";
	case SLUICE_NODE_FLOAT:
		return "a number";
	case SLUICE_NODE_STRING:
		return "a string";
	case SLUICE_NODE_SEQ:
		return "a list";
	case SLUICE_NODE_MAP:
		return "a mapping";
	}
	return "a value";
}
