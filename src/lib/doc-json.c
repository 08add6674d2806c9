/* JSON documents. jansson is the parser: it checks the whole text and
 * decodes every string and number. jansson keeps no positions and lets
 * the last duplicate key win, so one scanning pass over the same bytes
 * walks the (by then known to be valid) structure, records where every
 * key and value starts, finds duplicate keys, and builds the node tree
 * keeping the FIRST value of a duplicate key, as the YAML loader does. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "doc-internal.h"
#include "sluice/error.h"
#include "sluice/util.h"

typedef struct {
	sluice_doc *doc;
	sluice_diags *diags;
	sluice_doc_limits lim;
	const char *p;
	size_t len, off;
	unsigned line, col;
	size_t nodes;
	size_t errors;
	int fatal;
} json_scan;

static void advance(json_scan *s)
{
	unsigned char c = (unsigned char)s->p[s->off++];
	if (c == '\n') {
		s->line++;
		s->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		s->col++;
	}
}

static void skip_ws(json_scan *s)
{
	while (s->off < s->len) {
		char c = s->p[s->off];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		advance(s);
	}
}

/* Skips a string token starting at its opening quote. */
static void skip_string(json_scan *s)
{
	advance(s);
	while (s->off < s->len && s->p[s->off] != '"') {
		if (s->p[s->off] == '\\' && s->off + 1 < s->len)
			advance(s);
		advance(s);
	}
	if (s->off < s->len)
		advance(s);
}

static sluice_pos here(const json_scan *s)
{
	sluice_pos p = {s->doc->file, s->line, s->col};
	return p;
}

/* Decodes the token [start, s->off) with jansson. */
static json_t *decode(const json_scan *s, size_t start)
{
	json_error_t err;
	return json_loadb(s->p + start, s->off - start, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
}

/* A decoded string copied into the document, or NULL after reporting a
 * string that holds a NUL (\u0000), which no C consumer could see whole. */
static char *decode_string(json_scan *s, size_t start, sluice_pos pos, size_t *out_len)
{
	json_t *j = decode(s, start);
	char *r = NULL;
	if (!json_is_string(j)) {
		/* jansson accepted the whole text, so this cannot happen */
		sluice_diag_error(s->diags, pos, "json-syntax", "invalid JSON string");
		s->errors++;
		goto done;
	}
	size_t n = json_string_length(j);
	const char *v = json_string_value(j);
	if (memchr(v, '\0', n)) {
		sluice_diag_error(s->diags, pos, "nul-byte",
				  "string contains a NUL character (\\u0000); remove it");
		s->errors++;
		n = strlen(v);
	}
	r = doc_strndup(s->doc, v, n);
	if (out_len)
		*out_len = n;
done:
	json_decref(j);
	return r;
}

static sluice_node *parse_value(json_scan *s);

static bool count_node(json_scan *s)
{
	if (s->nodes >= s->lim.max_nodes) {
		doc_report_nodes_limit(s->diags, here(s), s->lim.max_nodes);
		s->fatal = SLUICE_ELIMIT;
		return false;
	}
	s->nodes++;
	return true;
}

static sluice_node *parse_object(json_scan *s, sluice_node *n)
{
	doc_map_builder mb = {0};

	advance(s); /* { */
	skip_ws(s);
	while (!s->fatal && s->off < s->len && s->p[s->off] == '"') {
		sluice_pos kpos = here(s);
		size_t start = s->off;
		/* keys count as nodes, as they do in YAML */
		if (!count_node(s))
			break;
		skip_string(s);
		char *key = decode_string(s, start, kpos, NULL);
		skip_ws(s);
		if (s->off < s->len && s->p[s->off] == ':')
			advance(s);
		skip_ws(s);
		sluice_node *v = parse_value(s);
		if (key && v) {
			const sluice_node_pair *first = doc_map_add(&mb, key, kpos, v);
			if (first) {
				doc_report_duplicate(s->diags, kpos, first);
				s->errors++;
			}
		}
		skip_ws(s);
		if (s->off < s->len && s->p[s->off] == ',') {
			advance(s);
			skip_ws(s);
		}
	}
	if (s->off < s->len && s->p[s->off] == '}')
		advance(s);
	doc_map_finish(s->doc, &mb, n);
	return n;
}

static sluice_node *parse_array(json_scan *s, sluice_node *n)
{
	doc_seq_builder sb = {0};

	advance(s); /* [ */
	skip_ws(s);
	while (!s->fatal && s->off < s->len && s->p[s->off] != ']') {
		sluice_node *v = parse_value(s);
		if (!v)
			break;
		doc_seq_add(&sb, v);
		skip_ws(s);
		if (s->off < s->len && s->p[s->off] == ',') {
			advance(s);
			skip_ws(s);
		}
	}
	if (s->off < s->len && s->p[s->off] == ']')
		advance(s);
	doc_seq_finish(s->doc, &sb, n);
	return n;
}

static sluice_node *parse_value(json_scan *s)
{
	if (s->fatal || s->off >= s->len)
		return NULL;
	if (!count_node(s))
		return NULL;
	sluice_node *n = doc_node_new(s->doc, SLUICE_NODE_NULL, s->line, s->col);
	size_t start = s->off;
	char c = s->p[s->off];

	if (c == '{') {
		n->kind = SLUICE_NODE_MAP;
		return parse_object(s, n);
	}
	if (c == '[') {
		n->kind = SLUICE_NODE_SEQ;
		return parse_array(s, n);
	}
	if (c == '"') {
		skip_string(s);
		n->kind = SLUICE_NODE_STRING;
		n->quoted = true;
		n->text = decode_string(s, start, n->pos, &n->text_len);
		if (!n->text)
			n->text = doc_strndup(s->doc, "", 0);
		return n;
	}
	/* a literal: true, false, null or a number */
	while (s->off < s->len && strchr(" \t\r\n,]}:", s->p[s->off]) == NULL)
		advance(s);
	n->text = doc_strndup(s->doc, s->p + start, s->off - start);
	n->text_len = s->off - start;
	if (strcmp(n->text, "null") == 0)
		return n;
	if (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0) {
		n->kind = SLUICE_NODE_BOOL;
		n->v.b = n->text[0] == 't';
		return n;
	}
	json_t *j = decode(s, start);
	if (json_is_integer(j)) {
		n->kind = SLUICE_NODE_INT;
		n->v.i = json_integer_value(j);
	} else if (json_is_real(j)) {
		n->kind = SLUICE_NODE_FLOAT;
		n->v.f = json_real_value(j);
	} else {
		sluice_diag_error(s->diags, n->pos, "json-syntax", "invalid JSON value '%s'",
				  n->text);
		s->errors++;
	}
	json_decref(j);
	return n;
}

/* Refuses nesting deeper than the limit before jansson sees the text, so
 * a hostile file cannot make the parser recurse thousands of levels. */
static int check_depth(json_scan *s)
{
	unsigned depth = 0;
	bool in_str = false;
	for (size_t i = 0; i < s->len; i++) {
		char c = s->p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > s->lim.max_depth) {
				sluice_pos pos = {s->doc->file, 0, 0};
				doc_offset_pos(s->p, i, &pos.line, &pos.col);
				doc_report_depth_limit(s->diags, pos, s->lim.max_depth);
				return SLUICE_ELIMIT;
			}
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

/* The opening quote of a string still open at byte `end`, or -1. */
static long open_quote_before(const json_scan *s, size_t end)
{
	long quote = -1;
	for (size_t i = 0; i < end && i < s->len; i++) {
		if (quote >= 0 && s->p[i] == '\\')
			i++;
		else if (s->p[i] == '"')
			quote = quote >= 0 ? -1 : (long)i;
	}
	return quote;
}

static size_t utf8_chars(const char *t, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)t[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* jansson reports 1-based lines and columns counted in characters, at the
 * LAST character it read: the end of the offending token, or column 0
 * when it stopped after a newline. Sluice points at the start of the
 * token instead (as libyaml does), and at the opening quote of a string
 * that was never closed. */
static void report_syntax(json_scan *s, const json_error_t *err)
{
	sluice_pos pos = {s->doc->file, err->line > 0 ? (unsigned)err->line : 1,
			  (unsigned)(err->column > 0 ? err->column : 0)};
	size_t at = err->position > 0 ? (size_t)err->position : 0;
	const char *near = strstr(err->text, " near '");

	if (at > s->len)
		at = s->len;
	if (sluice_str_has_prefix(err->text, "premature end of input") ||
	    sluice_str_has_prefix(err->text, "unexpected newline")) {
		long q = open_quote_before(s, at);
		if (q >= 0) {
			doc_offset_pos(s->p, (size_t)q, &pos.line, &pos.col);
			sluice_diag_error(s->diags, pos, "json-syntax",
					  "unclosed string: a JSON string must end with '\"' "
					  "on the line where it starts");
			return;
		}
	}
	if (pos.col == 0) {
		doc_offset_pos(s->p, at, &pos.line, &pos.col);
	} else if (near && !strstr(near, "near end of file")) {
		const char *tok = near + 7;
		size_t n = strlen(tok);
		if (n > 0 && tok[n - 1] == '\'') {
			size_t chars = utf8_chars(tok, n - 1);
			if (chars > 0 && chars <= pos.col)
				pos.col -= (unsigned)(chars - 1);
		}
	}
	/* jansson names only the closing bracket it wanted; after a complete
	 * value the usual cause is a missing comma before the next one */
	const char *hint = "";
	if (near && strchr("\"{[-0123456789tfn", near[7]) &&
	    (sluice_str_has_prefix(err->text, "'}' expected") ||
	     sluice_str_has_prefix(err->text, "']' expected")))
		hint = "; is a ',' missing before it?";
	sluice_diag_error(s->diags, pos, "json-syntax", "invalid JSON: %s%s", err->text, hint);
}

int sluice_doc_parse_json(sluice_doc **out, const char *file, const char *data, size_t len,
			  const sluice_doc_limits *lim, sluice_diags *diags)
{
	json_scan s;
	json_error_t err;
	json_t *root = NULL;
	size_t bom = 0;
	int rc;

	memset(&s, 0, sizeof s);
	if (!data)
		data = "", len = 0;
	*out = doc_new(file);
	s.doc = *out;
	s.diags = diags;
	doc_limits_resolve(&s.lim, lim);
	rc = doc_check_input(&bom, s.doc->file, data, len, &s.lim, diags);
	if (rc < 0)
		goto done;
	s.p = data + bom;
	s.len = len - bom;
	s.line = s.col = 1;
	skip_ws(&s);
	if (s.off == s.len)
		goto done; /* empty: no root, the caller says what is missing */
	rc = check_depth(&s);
	if (rc < 0)
		goto done;

	root = json_loadb(s.p, s.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!root) {
		report_syntax(&s, &err);
		rc = sluice_error_set(SLUICE_EINVAL, "%s: invalid JSON: %s", s.doc->file, err.text);
		goto done;
	}
	json_decref(root);
	root = NULL;

	sluice_node *n = parse_value(&s);
	if (s.fatal)
		rc = s.fatal;
	else if (s.errors)
		rc = sluice_error_set(SLUICE_EINVAL, "%s: the JSON has errors", s.doc->file);
	else
		s.doc->root = n;
done:
	json_decref(root);
	return rc;
}
