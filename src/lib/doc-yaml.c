/* YAML documents: libyaml's event parser feeding the sluice_node tree.
 *
 * Scalars resolve like the YAML 1.2 core schema, restricted to what a
 * configuration needs: quoted and block scalars are strings; plain
 * null/Null/NULL/~/empty are null; true/True/TRUE/false/False/FALSE are
 * booleans; decimal integers with an optional sign are integers (out of
 * int64 range is an error, not a silent string); decimal floats (1.5, .5,
 * 1., 1e3, -2.5E-3) are floats. Hex and octal forms (0x1f, 0o17) and
 * .inf/.nan stay strings: no Sluice setting takes them, and a string
 * where a number is expected gives a clear type error later, whereas a
 * silent infinity would slip past range checks. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "doc-internal.h"
#include "sluice/error.h"
#include "sluice/util.h"

typedef struct {
	sluice_node *node;
	doc_map_builder mb;
	doc_seq_builder sb;
	char *key; /* MAP: the key waiting for its value (arena-owned) */
	sluice_pos key_pos;
	size_t nodes_at_start;
	unsigned height; /* nesting levels below this collection */
	char *anchor;    /* malloc'd; registered when the collection ends */
} frame;

typedef struct {
	char *name;
	sluice_node *node;
	size_t size;     /* nodes in the subtree, aliases expanded */
	unsigned height; /* collection levels in the subtree (0: a scalar) */
} anchor;

typedef struct {
	sluice_doc *doc;
	sluice_diags *diags;
	sluice_doc_limits lim;
	const char *data; /* after the BOM, for reader-error offsets */
	size_t len;
	frame *stack;
	size_t depth, cap;
	anchor *anchors;
	size_t nanchors, acap;
	size_t *aslots; /* open addressing over anchors: index+1 */
	size_t naslots;
	size_t nodes;
	size_t errors;
	int fatal; /* 0, SLUICE_EINVAL or SLUICE_ELIMIT: stop now */
	sluice_node *root;
	bool have_root;
} yaml_state;

static sluice_pos mark_pos(const yaml_state *st, yaml_mark_t m)
{
	sluice_pos p = {st->doc->file, (unsigned)m.line + 1, (unsigned)m.column + 1};
	return p;
}

static size_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static anchor *anchor_find(yaml_state *st, const char *name, size_t **slot)
{
	if (!st->naslots)
		return NULL;
	size_t h = hash_name(name) & (st->naslots - 1);
	while (st->aslots[h]) {
		anchor *a = &st->anchors[st->aslots[h] - 1];
		if (strcmp(a->name, name) == 0) {
			if (slot)
				*slot = &st->aslots[h];
			return a;
		}
		h = (h + 1) & (st->naslots - 1);
	}
	if (slot)
		*slot = &st->aslots[h];
	return NULL;
}

/* Registers (or redefines: YAML lets a later anchor shadow an earlier one)
 * an anchor. Takes ownership of name. */
static void anchor_set(yaml_state *st, char *name, sluice_node *node, size_t size,
		       unsigned height)
{
	if ((st->nanchors + 1) * 2 > st->naslots) {
		size_t n = st->naslots ? st->naslots * 2 : 16;
		free(st->aslots);
		st->aslots = sluice_xcalloc(n, sizeof *st->aslots);
		st->naslots = n;
		for (size_t i = 0; i < st->nanchors; i++) {
			size_t h = hash_name(st->anchors[i].name) & (n - 1);
			while (st->aslots[h])
				h = (h + 1) & (n - 1);
			st->aslots[h] = i + 1;
		}
	}
	size_t *slot = NULL;
	anchor *a = anchor_find(st, name, &slot);
	if (a) {
		free(name);
	} else {
		if (st->nanchors == st->acap) {
			st->acap = st->acap ? st->acap * 2 : 8;
			st->anchors = sluice_xrealloc(st->anchors, st->acap * sizeof *st->anchors);
		}
		a = &st->anchors[st->nanchors++];
		a->name = name;
		*slot = st->nanchors;
	}
	a->node = node;
	a->size = size;
	a->height = height;
}

static void error_at(yaml_state *st, yaml_mark_t m, const char *code, const char *msg)
{
	sluice_diag_error(st->diags, mark_pos(st, m), code, "%s", msg);
	st->errors++;
}

/* Counts `n` more nodes; false (and the limit reported) when too many. */
static bool count_nodes(yaml_state *st, size_t n, yaml_mark_t m)
{
	if (n > st->lim.max_nodes || st->nodes > st->lim.max_nodes - n) {
		doc_report_nodes_limit(st->diags, mark_pos(st, m), st->lim.max_nodes);
		st->fatal = SLUICE_ELIMIT;
		return false;
	}
	st->nodes += n;
	return true;
}

/* Hangs a finished node (of `height` collection levels) under the
 * current collection, or makes it the root. */
static void attach(yaml_state *st, sluice_node *n, unsigned height)
{
	if (!st->depth) {
		st->root = n;
		st->have_root = true;
		return;
	}
	frame *f = &st->stack[st->depth - 1];
	if (height + 1 > f->height)
		f->height = height + 1;
	if (f->node->kind == SLUICE_NODE_SEQ) {
		doc_seq_add(&f->sb, n);
		return;
	}
	if (!f->key) {
		/* collections as keys are refused before they get here */
		f->key = n->text ? n->text : doc_strndup(st->doc, "", 0);
		f->key_pos = n->pos;
		return;
	}
	const sluice_node_pair *first = doc_map_add(&f->mb, f->key, f->key_pos, n);
	if (first) {
		doc_report_duplicate(st->diags, f->key_pos, first);
		st->errors++;
	}
	f->key = NULL;
}

static bool refuse_tag(yaml_state *st, const yaml_char_t *tag, yaml_mark_t m)
{
	const char *t = (const char *)tag, *std = "tag:yaml.org,2002:";
	if (!t)
		return false;
	/* show the tag as written: libyaml expands the "!!" shorthand */
	bool shorthand = sluice_str_has_prefix(t, std);
	sluice_diag_error(st->diags, mark_pos(st, m), "yaml-tag",
			  "tags are not supported (found '%s%s'); remove the tag and write a plain value",
			  shorthand ? "!!" : "", shorthand ? t + strlen(std) : t);
	st->errors++;
	return true;
}

/* A collection may not be a mapping key: Sluice keys are names. */
static bool refuse_collection_key(yaml_state *st, const char *what, yaml_mark_t m)
{
	if (!st->depth)
		return false;
	frame *f = &st->stack[st->depth - 1];
	if (f->node->kind != SLUICE_NODE_MAP || f->key)
		return false;
	sluice_diag_error(st->diags, mark_pos(st, m), "yaml-key",
			  "a mapping key must be a plain value, not %s", what);
	st->errors++;
	st->fatal = SLUICE_EINVAL;
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Matches [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and writes
 * the same number in JSON syntax to out (cap bytes), so jansson converts
 * it without depending on the C locale's decimal point. */
static bool float_to_json(char *out, size_t cap, const char *s, size_t n)
{
	size_t i = 0, o = 0;
	bool intpart = false, frac = false;
#define PUT(c)                     \
	do {                       \
		if (o + 2 > cap)   \
			return false; \
		out[o++] = (c);    \
	} while (0)
	if (i < n && (s[i] == '-' || s[i] == '+')) {
		if (s[i] == '-')
			PUT('-');
		i++;
	}
	while (i < n && isdigit((unsigned char)s[i])) {
		PUT(s[i++]);
		intpart = true;
	}
	if (!intpart)
		PUT('0');
	if (i < n && s[i] == '.') {
		PUT('.');
		i++;
		while (i < n && isdigit((unsigned char)s[i])) {
			PUT(s[i++]);
			frac = true;
		}
		if (!frac)
			PUT('0');
	}
	if (!intpart && !frac)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		PUT('e');
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			PUT(s[i++]);
		if (!all_digits(s + i, n - i))
			return false;
		while (i < n)
			PUT(s[i++]);
	}
#undef PUT
	out[o] = '\0';
	return i == n;
}

static void resolve_plain(yaml_state *st, sluice_node *n, yaml_mark_t m)
{
	const char *s = n->text;
	size_t len = n->text_len;

	if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0) {
		n->kind = SLUICE_NODE_NULL;
		return;
	}
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
		n->kind = SLUICE_NODE_BOOL;
		n->v.b = true;
		return;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
		n->kind = SLUICE_NODE_BOOL;
		n->v.b = false;
		return;
	}
	size_t sign = (s[0] == '-' || s[0] == '+') ? 1 : 0;
	if (all_digits(s + sign, len - sign)) {
		errno = 0;
		long long v = strtoll(s, NULL, 10);
		if (errno == ERANGE) {
			sluice_diag_error(st->diags, mark_pos(st, m), "out-of-range",
					  "integer out of range: %s is not between %lld and %lld", s,
					  (long long)INT64_MIN, (long long)INT64_MAX);
			st->errors++;
			return;
		}
		n->kind = SLUICE_NODE_INT;
		n->v.i = v;
		return;
	}
	char buf[128];
	if (len < sizeof buf - 4 && float_to_json(buf, sizeof buf, s, len)) {
		json_error_t jerr;
		json_t *j = json_loads(buf, JSON_DECODE_ANY, &jerr);
		if (!j || !json_is_number(j)) {
			sluice_diag_error(st->diags, mark_pos(st, m), "out-of-range",
					  "number out of range: %s", s);
			st->errors++;
		} else {
			n->kind = SLUICE_NODE_FLOAT;
			n->v.f = json_number_value(j);
		}
		json_decref(j);
	}
}

static void on_scalar(yaml_state *st, yaml_event_t *ev)
{
	yaml_mark_t m = ev->start_mark;
	const char *val = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;

	if (!count_nodes(st, 1, m))
		return;
	refuse_tag(st, ev->data.scalar.tag, m);
	sluice_node *n = doc_node_new(st->doc, SLUICE_NODE_STRING, (unsigned)m.line + 1,
				      (unsigned)m.column + 1);
	if (memchr(val, '\0', len)) {
		/* an escape such as "\0" or "\x00" in a double-quoted string */
		error_at(st, m, "nul-byte",
			 "string contains a NUL character (an escape such as \\0); remove it");
		len = strlen(val);
	}
	n->text = doc_strndup(st->doc, val, len);
	n->text_len = len;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	if (!n->quoted)
		resolve_plain(st, n, m);
	if (ev->data.scalar.anchor)
		anchor_set(st, sluice_xstrdup((const char *)ev->data.scalar.anchor), n, 1, 0);
	attach(st, n, 0);
}

static void on_start(yaml_state *st, yaml_event_t *ev, bool is_map)
{
	yaml_mark_t m = ev->start_mark;
	const yaml_char_t *tag = is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
	const yaml_char_t *anc =
		is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;

	if (refuse_collection_key(st, is_map ? "a mapping" : "a list", m))
		return;
	if (st->depth + 1 > st->lim.max_depth) {
		doc_report_depth_limit(st->diags, mark_pos(st, m), st->lim.max_depth);
		st->fatal = SLUICE_ELIMIT;
		return;
	}
	if (!count_nodes(st, 1, m))
		return;
	refuse_tag(st, tag, m);
	if (st->depth == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->stack = sluice_xrealloc(st->stack, st->cap * sizeof *st->stack);
	}
	frame *f = &st->stack[st->depth++];
	memset(f, 0, sizeof *f);
	f->node = doc_node_new(st->doc, is_map ? SLUICE_NODE_MAP : SLUICE_NODE_SEQ,
			       (unsigned)m.line + 1, (unsigned)m.column + 1);
	f->nodes_at_start = st->nodes - 1;
	f->anchor = anc ? sluice_xstrdup((const char *)anc) : NULL;
}

static void on_end(yaml_state *st)
{
	frame *f = &st->stack[--st->depth];
	sluice_node *n = f->node;
	if (n->kind == SLUICE_NODE_MAP)
		doc_map_finish(st->doc, &f->mb, n);
	else
		doc_seq_finish(st->doc, &f->sb, n);
	if (f->anchor) {
		anchor_set(st, f->anchor, n, st->nodes - f->nodes_at_start, f->height);
		f->anchor = NULL;
	}
	attach(st, n, f->height);
}

static void on_alias(yaml_state *st, yaml_event_t *ev)
{
	yaml_mark_t m = ev->start_mark;
	const char *name = (const char *)ev->data.alias.anchor;
	anchor *a = anchor_find(st, name, NULL);

	if (!a) {
		sluice_diag_error(st->diags, mark_pos(st, m), "yaml-alias",
				  "alias '*%s' refers to no anchor '&%s' defined before it", name,
				  name);
		st->errors++;
		st->fatal = SLUICE_EINVAL;
		return;
	}
	if (a->node->kind == SLUICE_NODE_MAP || a->node->kind == SLUICE_NODE_SEQ) {
		if (refuse_collection_key(st, a->node->kind == SLUICE_NODE_MAP ? "a mapping"
									       : "a list",
					  m))
			return;
	}
	if (st->depth + a->height > st->lim.max_depth) {
		doc_report_depth_limit(st->diags, mark_pos(st, m), st->lim.max_depth);
		st->fatal = SLUICE_ELIMIT;
		return;
	}
	/* the subtree is shared, not copied: memory stays flat, but it counts
	 * in full so that nested aliases cannot expand without bound for
	 * whoever walks the tree */
	if (!count_nodes(st, a->size, m))
		return;
	attach(st, a->node, a->height);
}

static const char *lower_msg(char *buf, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s && s[i] && i + 1 < cap; i++)
		buf[i] = (char)tolower((unsigned char)s[i]);
	buf[i] = '\0';
	return buf;
}

/* The byte at a libyaml mark, found from its line and column (columns
 * count characters). */
static int char_at(const yaml_state *st, yaml_mark_t m)
{
	size_t i = 0, line = 0, col = 0;
	while (i < st->len && line < m.line)
		if (st->data[i++] == '\n')
			line++;
	while (i < st->len && col < m.column && st->data[i] != '\n') {
		i++;
		while (i < st->len && ((unsigned char)st->data[i] & 0xc0) == 0x80)
			i++;
		col++;
	}
	return i < st->len ? (unsigned char)st->data[i] : -1;
}

static void report_syntax(yaml_state *st, yaml_parser_t *p)
{
	char problem[200], context[200];
	sluice_pos pos = {st->doc->file, 0, 0};

	st->errors++;
	st->fatal = SLUICE_EINVAL;
	lower_msg(problem, sizeof problem, p->problem ? p->problem : "cannot parse");
	lower_msg(context, sizeof context, p->context);

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		sluice_diag_error(st->diags, pos, "yaml-syntax", "out of memory while parsing");
		st->fatal = SLUICE_ENOMEM;
		return;
	case YAML_READER_ERROR:
		/* the bytes were checked before parsing; what is left are
		 * characters YAML does not allow, such as control characters */
		doc_offset_pos(st->data, p->problem_offset, &pos.line, &pos.col);
		if (p->problem_value >= 0)
			sluice_diag_error(st->diags, pos, "yaml-syntax", "%s (character U+%04X)",
					  problem, (unsigned)p->problem_value);
		else
			sluice_diag_error(st->diags, pos, "yaml-syntax", "%s", problem);
		return;
	default:
		break;
	}
	pos = mark_pos(st, p->problem_mark);
	if (p->context && strstr(p->context, "quoted scalar") &&
	    (strstr(problem, "end of stream") || strstr(problem, "document indicator"))) {
		/* where the parser stopped is the end of the file; the user
		 * needs the quote that was never closed */
		pos = mark_pos(st, p->context_mark);
		sluice_diag_error(st->diags, pos, "yaml-syntax",
				  "unclosed quote: this string has no closing quote");
		return;
	}
	if (strstr(problem, "cannot start any token") && char_at(st, p->problem_mark) == '\t') {
		sluice_diag_error(st->diags, pos, "yaml-syntax",
				  "tab character where YAML expects indentation; indent with spaces");
		return;
	}
	const char *hint = "";
	if (strstr(problem, "mapping values are not allowed"))
		hint = "; check the indentation, and quote values that contain ': '";
	else if (strstr(problem, "did not find expected key") ||
		 strstr(problem, "did not find expected '-'"))
		hint = "; check the indentation of this line";
	else if (strstr(problem, "did not find expected ','"))
		hint = "; is a closing bracket missing?";
	if (p->context) {
		sluice_pos cp = mark_pos(st, p->context_mark);
		sluice_diag_error(st->diags, pos, "yaml-syntax",
				  "%s %s started at line %u, column %u%s", problem, context, cp.line,
				  cp.col, hint);
		return;
	}
	sluice_diag_error(st->diags, pos, "yaml-syntax", "%s%s", problem, hint);
	return;
	sluice_diag_error(st->diags, pos, "yaml-syntax", "%s", problem);
}

int sluice_doc_parse_yaml(sluice_doc **out, const char *file, const char *data, size_t len,
			  const sluice_doc_limits *lim, sluice_diags *diags)
{
	yaml_state st;
	yaml_parser_t parser;
	bool parser_ready = false;
	size_t bom = 0, docs = 0;
	int rc;

	memset(&st, 0, sizeof st);
	if (!data)
		data = "", len = 0;
	*out = doc_new(file);
	st.doc = *out;
	st.diags = diags;
	doc_limits_resolve(&st.lim, lim);
	rc = doc_check_input(&bom, st.doc->file, data, len, &st.lim, diags);
	if (rc < 0)
		goto done;
	st.data = data + bom;
	st.len = len - bom;
	if (!yaml_parser_initialize(&parser)) {
		rc = sluice_error_set(SLUICE_ENOMEM, "out of memory");
		goto done;
	}
	parser_ready = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data + bom, len - bom);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	for (bool end = false; !end && !st.fatal;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			report_syntax(&st, &parser);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			end = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				error_at(&st, ev.start_mark, "yaml-multidoc",
					 "a second YAML document ('---') in the file; "
					 "each file holds one document");
				st.fatal = SLUICE_EINVAL;
			}
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&st, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_start(&st, &ev, false);
			break;
		case YAML_MAPPING_START_EVENT:
			on_start(&st, &ev, true);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(&st);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(&st, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}

	if (st.fatal)
		rc = st.fatal;
	else if (st.errors)
		rc = SLUICE_EINVAL;
	if (rc == SLUICE_EINVAL)
		sluice_error_set(SLUICE_EINVAL, "%s: the YAML has errors", st.doc->file);
	else if (rc == 0)
		st.doc->root = st.root;
done:
	if (parser_ready)
		yaml_parser_delete(&parser);
	while (st.depth) {
		frame *f = &st.stack[--st.depth];
		doc_map_builder_clear(&f->mb);
		doc_seq_builder_clear(&f->sb);
		free(f->anchor);
	}
	free(st.stack);
	for (size_t i = 0; i < st.nanchors; i++)
		free(st.anchors[i].name);
	free(st.anchors);
	free(st.aslots);
	return rc;
}
