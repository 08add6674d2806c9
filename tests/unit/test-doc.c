/* The YAML and JSON loaders: node kinds, positions of keys and values,
 * duplicate keys, limits, hostile bytes and syntax errors, each with the
 * exact position and message a user sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/doc.h"
#include "sluice/error.h"
#include "sluice/util.h"

static sluice_diags D;

static int setup(void **state)
{
	(void)state;
	sluice_diags_init(&D);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sluice_diags_clear(&D);
	return 0;
}

static sluice_doc *parse_lim(bool yaml, const char *text, size_t len, int want_rc,
			     const sluice_doc_limits *lim)
{
	sluice_doc *doc = NULL;
	int rc = yaml ? sluice_doc_parse_yaml(&doc, yaml ? "f.yaml" : "f.json", text, len, lim, &D)
		      : sluice_doc_parse_json(&doc, "f.json", text, len, lim, &D);
	if (rc != want_rc) {
		for (size_t i = 0; i < D.count; i++)
			print_error("%u:%u: %s\n", D.items[i].line, D.items[i].col,
				    D.items[i].message);
	}
	assert_int_equal(rc, want_rc);
	assert_non_null(doc);
	if (rc < 0)
		assert_null(doc->root);
	return doc;
}

static sluice_doc *yaml(const char *text, int want_rc)
{
	return parse_lim(true, text, strlen(text), want_rc, NULL);
}

static sluice_doc *json(const char *text, int want_rc)
{
	return parse_lim(false, text, strlen(text), want_rc, NULL);
}

/* Asserts that diagnostic i is exactly this. */
static void diag_is(size_t i, unsigned line, unsigned col, sluice_severity sev, const char *code,
		    const char *msg)
{
	assert_true(i < D.count);
	const sluice_diag *x = &D.items[i];
	assert_string_equal(x->message, msg);
	assert_string_equal(x->code, code);
	assert_int_equal(x->line, line);
	assert_int_equal(x->col, col);
	assert_int_equal(x->severity, sev);
}

/* The only diagnostic is this error. */
static void only_error(unsigned line, unsigned col, const char *code, const char *msg)
{
	assert_int_equal(D.count, 1);
	diag_is(0, line, col, SLUICE_SEV_ERROR, code, msg);
}

static void at(const sluice_node *n, sluice_node_kind k, unsigned line, unsigned col)
{
	assert_non_null(n);
	assert_int_equal(n->kind, k);
	assert_int_equal(n->pos.line, line);
	assert_int_equal(n->pos.col, col);
}

static void key_at(const sluice_node *map, const char *key, unsigned line, unsigned col)
{
	const sluice_node_pair *p = sluice_node_pair_get(map, key);
	assert_non_null(p);
	assert_int_equal(p->key_pos.line, line);
	assert_int_equal(p->key_pos.col, col);
	assert_string_equal(p->key_pos.file, map->pos.file);
}

/* ---- YAML ---- */

static void yaml_block_positions(void **state)
{
	(void)state;
	sluice_doc *doc = yaml("# plugin\n"
			       "id: backend-pr-reviewer\n"
			       "tools:\n"
			       "  - id: get_diff\n"
			       "    file: tools/get.json\n"
			       "  -   plain\n"
			       "nested:\n"
			       "    deeper:\n"
			       "        value: 42\n",
			       0);
	const sluice_node *r = doc->root;
	at(r, SLUICE_NODE_MAP, 2, 1);
	assert_string_equal(r->pos.file, "f.yaml");
	assert_int_equal(r->count, 3);
	assert_string_equal(r->pairs[0].key, "id");
	assert_string_equal(r->pairs[1].key, "tools");
	assert_string_equal(r->pairs[2].key, "nested");
	key_at(r, "id", 2, 1);
	at(sluice_node_get(r, "id"), SLUICE_NODE_STRING, 2, 5);
	assert_string_equal(sluice_node_get(r, "id")->text, "backend-pr-reviewer");
	key_at(r, "tools", 3, 1);
	const sluice_node *tools = sluice_node_get(r, "tools");
	at(tools, SLUICE_NODE_SEQ, 4, 3);
	assert_int_equal(tools->count, 2);
	at(tools->items[0], SLUICE_NODE_MAP, 4, 5);
	key_at(tools->items[0], "file", 5, 5);
	at(sluice_node_get(tools->items[0], "file"), SLUICE_NODE_STRING, 5, 11);
	at(tools->items[1], SLUICE_NODE_STRING, 6, 7);
	const sluice_node *deeper = sluice_node_get(sluice_node_get(r, "nested"), "deeper");
	at(deeper, SLUICE_NODE_MAP, 9, 9);
	key_at(deeper, "value", 9, 9);
	at(sluice_node_get(deeper, "value"), SLUICE_NODE_INT, 9, 16);
	assert_int_equal(sluice_node_get(deeper, "value")->v.i, 42);
	assert_int_equal(D.count, 0);
	sluice_doc_free(doc);
}

static void yaml_flow_positions(void **state)
{
	(void)state;
	sluice_doc *doc = yaml("a: {b: [1, {c: \"d\"}], e: []}\n"
			       "f: [\n"
			       "  x,\n"
			       "  'y'\n"
			       "]\n",
			       0);
	const sluice_node *a = sluice_node_get(doc->root, "a");
	at(a, SLUICE_NODE_MAP, 1, 4);
	key_at(a, "b", 1, 5);
	const sluice_node *b = sluice_node_get(a, "b");
	at(b, SLUICE_NODE_SEQ, 1, 8);
	at(b->items[0], SLUICE_NODE_INT, 1, 9);
	at(b->items[1], SLUICE_NODE_MAP, 1, 12);
	key_at(b->items[1], "c", 1, 13);
	at(sluice_node_get(b->items[1], "c"), SLUICE_NODE_STRING, 1, 16);
	assert_true(sluice_node_get(b->items[1], "c")->quoted);
	key_at(a, "e", 1, 23);
	at(sluice_node_get(a, "e"), SLUICE_NODE_SEQ, 1, 26);
	assert_int_equal(sluice_node_get(a, "e")->count, 0);
	const sluice_node *f = sluice_node_get(doc->root, "f");
	at(f, SLUICE_NODE_SEQ, 2, 4);
	at(f->items[0], SLUICE_NODE_STRING, 3, 3);
	at(f->items[1], SLUICE_NODE_STRING, 4, 3);
	assert_string_equal(f->items[1]->text, "y");
	sluice_doc_free(doc);
}

static void yaml_scalars(void **state)
{
	(void)state;
	sluice_doc *doc = yaml("n1: null\nn2: ~\nn3:\nn4: NULL\n"
			       "b1: true\nb2: False\nb3: TRUE\nb4: yes\n"
			       "i1: 42\ni2: -7\ni3: +3\ni4: 007\n"
			       "f1: 1.5\nf2: .5\nf3: 1e3\nf4: -2.5E-3\nf5: 1.\n"
			       "s1: .inf\ns2: 0x10\ns3: \"true\"\ns4: '42'\ns5: 1.2.3\n"
			       "s6: |\n  line one\n  line two\n"
			       "s7: \"a\\tb\"\ns8: \"\"\n",
			       0);
	const sluice_node *r = doc->root;
	const char *nulls[] = {"n1", "n2", "n3", "n4"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sluice_node_get(r, nulls[i])->kind, SLUICE_NODE_NULL);
	assert_string_equal(sluice_node_get(r, "n2")->text, "~");
	assert_string_equal(sluice_node_get(r, "n3")->text, "");
	assert_int_equal(sluice_node_get(r, "b1")->kind, SLUICE_NODE_BOOL);
	assert_true(sluice_node_get(r, "b1")->v.b);
	assert_false(sluice_node_get(r, "b2")->v.b);
	assert_true(sluice_node_get(r, "b3")->v.b);
	assert_string_equal(sluice_node_get(r, "b3")->text, "TRUE");
	/* YAML 1.1's yes/no are plain strings in 1.2 */
	assert_int_equal(sluice_node_get(r, "b4")->kind, SLUICE_NODE_STRING);
	assert_int_equal(sluice_node_get(r, "i1")->v.i, 42);
	assert_int_equal(sluice_node_get(r, "i2")->v.i, -7);
	assert_int_equal(sluice_node_get(r, "i3")->v.i, 3);
	assert_int_equal(sluice_node_get(r, "i4")->kind, SLUICE_NODE_INT);
	assert_int_equal(sluice_node_get(r, "i4")->v.i, 7);
	assert_string_equal(sluice_node_get(r, "i4")->text, "007");
	assert_int_equal(sluice_node_get(r, "f1")->kind, SLUICE_NODE_FLOAT);
	assert_true(sluice_node_get(r, "f1")->v.f == 1.5);
	assert_true(sluice_node_get(r, "f2")->v.f == 0.5);
	assert_true(sluice_node_get(r, "f3")->v.f == 1000.0);
	assert_true(sluice_node_get(r, "f4")->v.f == -0.0025);
	assert_true(sluice_node_get(r, "f5")->v.f == 1.0);
	assert_string_equal(sluice_node_get(r, "f2")->text, ".5");
	const char *strs[] = {"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"};
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(sluice_node_get(r, strs[i])->kind, SLUICE_NODE_STRING);
	assert_false(sluice_node_get(r, "s1")->quoted);
	assert_true(sluice_node_get(r, "s3")->quoted);
	assert_true(sluice_node_get(r, "s6")->quoted);
	assert_string_equal(sluice_node_get(r, "s6")->text, "line one\nline two\n");
	assert_string_equal(sluice_node_get(r, "s7")->text, "a\tb");
	assert_int_equal(sluice_node_get(r, "s7")->text_len, 3);
	assert_string_equal(sluice_node_get(r, "s8")->text, "");
	assert_int_equal(D.count, 0);
	sluice_doc_free(doc);
}

static void yaml_number_range(void **state)
{
	(void)state;
	sluice_doc_free(yaml("ok: 9223372036854775807\nlow: -9223372036854775808\n"
			     "big: 9223372036854775808\nhuge: 1e999\n",
			     SLUICE_EINVAL));
	assert_int_equal(D.count, 2);
	diag_is(0, 3, 6, SLUICE_SEV_ERROR, "out-of-range",
		"integer out of range: 9223372036854775808 is not between "
		"-9223372036854775808 and 9223372036854775807");
	diag_is(1, 4, 7, SLUICE_SEV_ERROR, "out-of-range", "number out of range: 1e999");
}

static void yaml_duplicate_key(void **state)
{
	(void)state;
	/* an error, not a warning: readers disagree on which value wins, so a
	 * second permissions block could pass the check and still be used */
	sluice_doc_free(yaml("name: first\n"
			     "other: 1\n"
			     "sub:\n"
			     "    x: 1\n"
			     "    x: 2\n"
			     "name: second\n",
			     SLUICE_EINVAL));
	assert_int_equal(D.count, 2);
	assert_int_equal(D.errors, 2);
	diag_is(0, 5, 5, SLUICE_SEV_ERROR, "duplicate-key",
		"duplicate key 'x' (first at line 4, column 5); readers disagree on which "
		"value wins, so keep only one");
	diag_is(1, 6, 1, SLUICE_SEV_ERROR, "duplicate-key",
		"duplicate key 'name' (first at line 1, column 1); readers disagree on which "
		"value wins, so keep only one");
	sluice_diags_clear(&D);
	/* a whole second block, as an attacker would smuggle it */
	sluice_doc_free(yaml("permissions:\n  repository: {read: true}\n"
			     "id: x\n"
			     "permissions:\n  repository: {write: true}\n",
			     SLUICE_EINVAL));
	only_error(4, 1, "duplicate-key",
		   "duplicate key 'permissions' (first at line 1, column 1); readers disagree "
		   "on which value wins, so keep only one");
}

static void yaml_multi_document(void **state)
{
	(void)state;
	sluice_doc_free(yaml("a: 1\n---\nb: 2\n", SLUICE_EINVAL));
	only_error(2, 1, "yaml-multidoc",
		   "a second YAML document ('---') in the file; each file holds one document");
	sluice_diags_clear(&D);
	/* an explicit start and end of the one document is fine */
	sluice_doc *doc = yaml("---\na: 1\n...\n", 0);
	assert_int_equal(sluice_node_get(doc->root, "a")->v.i, 1);
	sluice_doc_free(doc);
}

static void yaml_aliases(void **state)
{
	(void)state;
	sluice_doc *doc = yaml("base: &b\n  x: 1\n  y: [a, b]\n"
			       "copy: *b\n"
			       "name: &n hello\n"
			       "again: *n\n"
			       "<<: *b\n",
			       0);
	const sluice_node *base = sluice_node_get(doc->root, "base");
	/* a node with an anchor starts at its anchor */
	at(base, SLUICE_NODE_MAP, 1, 7);
	/* the alias is the same subtree, at the anchor's position */
	assert_ptr_equal(sluice_node_get(doc->root, "copy"), base);
	assert_string_equal(sluice_node_get(doc->root, "again")->text, "hello");
	at(sluice_node_get(doc->root, "again"), SLUICE_NODE_STRING, 5, 7);
	/* merge keys are not special: '<<' is an ordinary key */
	assert_ptr_equal(sluice_node_get(doc->root, "<<"), base);
	assert_null(sluice_node_get(doc->root, "x"));
	assert_int_equal(D.count, 0);
	sluice_doc_free(doc);
	sluice_doc_free(yaml("a: *nope\n", SLUICE_EINVAL));
	only_error(1, 4, "yaml-alias", "alias '*nope' refers to no anchor '&nope' defined before it");
	sluice_diags_clear(&D);
	/* an alias to the collection it is in is not complete yet */
	sluice_doc_free(yaml("a: &r [1, *r]\n", SLUICE_EINVAL));
	only_error(1, 11, "yaml-alias", "alias '*r' refers to no anchor '&r' defined before it");
}

static void yaml_billion_laughs(void **state)
{
	(void)state;
	sluice_buf b = SLUICE_BUF_INIT;
	sluice_buf_puts(&b, "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (int i = 1; i < 10; i++) {
		sluice_buf_printf(&b, "l%d: &l%d [", i, i);
		for (int k = 0; k < 9; k++)
			sluice_buf_printf(&b, "%s*l%d", k ? ", " : "", i - 1);
		sluice_buf_puts(&b, "]\n");
	}
	/* 10^9 nodes if expanded: stops at the level that crosses 100000 */
	sluice_doc_free(parse_lim(true, b.ptr, b.len, SLUICE_ELIMIT, NULL));
	only_error(6, 10, "limit", "document expands to more than 100000 nodes (aliases included)");
	assert_int_equal(sluice_error_code(), SLUICE_ELIMIT);
	sluice_buf_clear(&b);
}

static void yaml_nodes_limit(void **state)
{
	(void)state;
	sluice_doc_limits lim = {0, 0, 5};
	sluice_doc_free(parse_lim(true, "[1, 2, 3, 4]", 12, 0, &lim));
	sluice_doc_free(parse_lim(true, "[1, 2, 3, 4, 5]", 15, SLUICE_ELIMIT, &lim));
	only_error(1, 14, "limit", "document expands to more than 5 nodes (aliases included)");
	sluice_diags_clear(&D);
	/* an alias counts its whole subtree again */
	sluice_doc_free(parse_lim(true, "a: &x [1]\nb: *x\n", 16, SLUICE_ELIMIT, &lim));
	only_error(2, 4, "limit", "document expands to more than 5 nodes (aliases included)");
}

static char *nested(const char *open, const char *close, int levels)
{
	sluice_buf b = SLUICE_BUF_INIT;
	for (int i = 0; i < levels; i++)
		sluice_buf_puts(&b, open);
	sluice_buf_puts(&b, "1");
	for (int i = 0; i < levels; i++)
		sluice_buf_puts(&b, close);
	return sluice_buf_detach(&b);
}

static void yaml_depth(void **state)
{
	(void)state;
	char *ok = nested("[", "]", 64), *deep = nested("[", "]", 65);
	sluice_doc_free(yaml(ok, 0));
	sluice_doc_free(yaml(deep, SLUICE_ELIMIT));
	only_error(1, 65, "limit", "nesting is deeper than 64 levels");
	sluice_diags_clear(&D);
	/* block style counts the same way */
	sluice_doc_limits lim = {0, 2, 0};
	sluice_doc_free(parse_lim(true, "a:\n  b: 1\n", 10, 0, &lim));
	sluice_doc_free(parse_lim(true, "a:\n  b:\n    c: 1\n", 17, SLUICE_ELIMIT, &lim));
	only_error(3, 5, "limit", "nesting is deeper than 2 levels");
	sluice_diags_clear(&D);
	/* an alias of a deep subtree deepens wherever it is used */
	sluice_doc_free(parse_lim(true, "a: &x [1]\nb: [*x]\n", 18, SLUICE_ELIMIT, &lim));
	only_error(2, 5, "limit", "nesting is deeper than 2 levels");
	free(ok);
	free(deep);
}

static void yaml_unclosed_quote(void **state)
{
	(void)state;
	sluice_doc_free(yaml("a: 1\nb: \"never closed\nc: 3\n", SLUICE_EINVAL));
	only_error(2, 4, "yaml-syntax", "unclosed quote: this string has no closing quote");
	sluice_diags_clear(&D);
	sluice_doc_free(yaml("list:\n  - 'single\n", SLUICE_EINVAL));
	only_error(2, 5, "yaml-syntax", "unclosed quote: this string has no closing quote");
	sluice_diags_clear(&D);
	/* a document marker ends the file's text as far as the string goes */
	sluice_doc_free(yaml("a: \"abc\n---\nb: 1\n", SLUICE_EINVAL));
	only_error(1, 4, "yaml-syntax", "unclosed quote: this string has no closing quote");
	sluice_diags_clear(&D);
	/* other problems inside a quoted string stay where they are */
	sluice_doc_free(yaml("a: \"ab\\qc\"\n", SLUICE_EINVAL));
	only_error(1, 7, "yaml-syntax",
		   "found unknown escape character while parsing a quoted scalar started at "
		   "line 1, column 4");
}

static void yaml_bad_indentation(void **state)
{
	(void)state;
	sluice_doc_free(yaml("a: 1\n b: 2\n", SLUICE_EINVAL));
	only_error(2, 3, "yaml-syntax",
		   "mapping values are not allowed in this context; check the indentation, "
		   "and quote values that contain ': '");
	sluice_diags_clear(&D);
	sluice_doc_free(yaml("a:\n  b: 1\n c: 2\n", SLUICE_EINVAL));
	only_error(3, 2, "yaml-syntax",
		   "did not find expected key while parsing a block mapping started at "
		   "line 1, column 1; check the indentation of this line");
}

static void yaml_tab_indentation(void **state)
{
	(void)state;
	sluice_doc_free(yaml("a:\n\tb: 1\n", SLUICE_EINVAL));
	only_error(2, 1, "yaml-syntax",
		   "tab character where YAML expects indentation; indent with spaces");
}

static void yaml_unclosed_bracket(void **state)
{
	(void)state;
	sluice_doc_free(yaml("a: [1, 2\nb: 3\n", SLUICE_EINVAL));
	only_error(2, 2, "yaml-syntax",
		   "did not find expected ',' or ']' while parsing a flow sequence started at "
		   "line 1, column 4; is a closing bracket missing?");
}

static void yaml_tags_refused(void **state)
{
	(void)state;
	sluice_doc_free(yaml("a: !!binary aGVsbG8=\nb: !mine x\nc: !!map {}\n", SLUICE_EINVAL));
	assert_int_equal(D.count, 3);
	diag_is(0, 1, 4, SLUICE_SEV_ERROR, "yaml-tag",
		"tags are not supported (found '!!binary'); remove the tag and write a plain value");
	diag_is(1, 2, 4, SLUICE_SEV_ERROR, "yaml-tag",
		"tags are not supported (found '!mine'); remove the tag and write a plain value");
	diag_is(2, 3, 4, SLUICE_SEV_ERROR, "yaml-tag",
		"tags are not supported (found '!!map'); remove the tag and write a plain value");
}

static void yaml_collection_key(void **state)
{
	(void)state;
	sluice_doc_free(yaml("? [a, b]\n: 1\n", SLUICE_EINVAL));
	only_error(1, 3, "yaml-key", "a mapping key must be a plain value, not a list");
	sluice_diags_clear(&D);
	sluice_doc_free(yaml("x: &m {a: 1}\n*m : 2\n", SLUICE_EINVAL));
	only_error(2, 1, "yaml-key", "a mapping key must be a plain value, not a mapping");
	sluice_diags_clear(&D);
	/* scalar keys keep their text as written */
	sluice_doc *doc = yaml("1: a\ntrue: b\n\"q\": c\n", 0);
	assert_non_null(sluice_node_get(doc->root, "1"));
	assert_non_null(sluice_node_get(doc->root, "true"));
	assert_non_null(sluice_node_get(doc->root, "q"));
	sluice_doc_free(doc);
}

static void yaml_nul(void **state)
{
	(void)state;
	sluice_doc_free(parse_lim(true, "a: 1\nbb: x\0y\n", 13, SLUICE_EINVAL, NULL));
	only_error(2, 6, "nul-byte", "NUL byte in file; configuration files must be text");
	sluice_diags_clear(&D);
	sluice_doc_free(yaml("a: \"x\\0y\"\n", SLUICE_EINVAL));
	only_error(1, 4, "nul-byte",
		   "string contains a NUL character (an escape such as \\0); remove it");
}

static void yaml_bad_utf8(void **state)
{
	(void)state;
	/* columns count characters: 'é' is one */
	sluice_doc_free(yaml("a: 1\nb: \"\xc3\xa9\xff\"\n", SLUICE_EINVAL));
	only_error(2, 6, "invalid-utf8", "invalid UTF-8 (byte 0xff); save the file as UTF-8");
	sluice_diags_clear(&D);
	/* an encoded surrogate is not UTF-8 either */
	sluice_doc_free(yaml("a: \xed\xa0\x80\n", SLUICE_EINVAL));
	only_error(1, 4, "invalid-utf8", "invalid UTF-8 (byte 0xed); save the file as UTF-8");
}

static void yaml_bom_and_unicode_columns(void **state)
{
	(void)state;
	sluice_doc *doc = yaml("\xef\xbb\xbf" "a: 1\n\xc3\xa9t\xc3\xa9: [x, y]\n", 0);
	key_at(doc->root, "a", 1, 1);
	at(sluice_node_get(doc->root, "a"), SLUICE_NODE_INT, 1, 4);
	key_at(doc->root, "\xc3\xa9t\xc3\xa9", 2, 1);
	at(sluice_node_get(doc->root, "\xc3\xa9t\xc3\xa9")->items[1], SLUICE_NODE_STRING, 2, 10);
	sluice_doc_free(doc);
}

static void yaml_empty(void **state)
{
	(void)state;
	sluice_doc *doc = yaml("", 0);
	assert_null(doc->root);
	assert_string_equal(doc->file, "f.yaml");
	sluice_doc_free(doc);
	doc = yaml("# only a comment\n\n", 0);
	assert_null(doc->root);
	sluice_doc_free(doc);
	doc = yaml("\xef\xbb\xbf", 0);
	assert_null(doc->root);
	sluice_doc_free(doc);
	doc = parse_lim(true, NULL, 0, 0, NULL);
	assert_null(doc->root);
	sluice_doc_free(doc);
	doc = parse_lim(false, NULL, 0, 0, NULL);
	assert_null(doc->root);
	sluice_doc_free(doc);
	assert_int_equal(D.count, 0);
}

static void size_limit(void **state)
{
	(void)state;
	char *big = sluice_xmalloc(SLUICE_DOC_DEFAULT_MAX_BYTES + 2);
	memset(big, ' ', SLUICE_DOC_DEFAULT_MAX_BYTES + 1);
	big[SLUICE_DOC_DEFAULT_MAX_BYTES + 1] = '\0';
	sluice_doc_free(parse_lim(true, big, SLUICE_DOC_DEFAULT_MAX_BYTES + 1, SLUICE_ELIMIT, NULL));
	only_error(0, 0, "limit",
		   "file is 4194305 bytes, over the limit of 4194304 bytes; raise "
		   "policy.max_file_bytes in the workspace definition if it really needs "
		   "to be this big");
	sluice_diags_clear(&D);
	sluice_doc_free(parse_lim(true, big, SLUICE_DOC_DEFAULT_MAX_BYTES, 0, NULL));
	sluice_doc_limits lim = {10, 0, 0};
	sluice_doc_free(parse_lim(false, "[1, 2, 3, 4]", 12, SLUICE_ELIMIT, &lim));
	only_error(0, 0, "limit",
		   "file is 12 bytes, over the limit of 10 bytes; raise policy.max_file_bytes "
		   "in the workspace definition if it really needs to be this big");
	free(big);
}

/* ---- JSON ---- */

static void json_positions_and_kinds(void **state)
{
	(void)state;
	sluice_doc *doc = json("{\n"
			       "  \"id\": \"get_diff\",\n"
			       "  \"n\": [1, -2.5, true, null, \"s\\u00e9\"],\n"
			       "  \"o\": {\"k\": {}, \"\xc3\xa9\": false}\n"
			       "}\n",
			       0);
	const sluice_node *r = doc->root;
	at(r, SLUICE_NODE_MAP, 1, 1);
	assert_string_equal(r->pos.file, "f.json");
	key_at(r, "id", 2, 3);
	at(sluice_node_get(r, "id"), SLUICE_NODE_STRING, 2, 9);
	assert_true(sluice_node_get(r, "id")->quoted);
	const sluice_node *n = sluice_node_get(r, "n");
	at(n, SLUICE_NODE_SEQ, 3, 8);
	at(n->items[0], SLUICE_NODE_INT, 3, 9);
	assert_int_equal(n->items[0]->v.i, 1);
	at(n->items[1], SLUICE_NODE_FLOAT, 3, 12);
	assert_true(n->items[1]->v.f == -2.5);
	assert_string_equal(n->items[1]->text, "-2.5");
	at(n->items[2], SLUICE_NODE_BOOL, 3, 18);
	at(n->items[3], SLUICE_NODE_NULL, 3, 24);
	at(n->items[4], SLUICE_NODE_STRING, 3, 30);
	assert_string_equal(n->items[4]->text, "s\xc3\xa9");
	const sluice_node *o = sluice_node_get(r, "o");
	at(o, SLUICE_NODE_MAP, 4, 8);
	key_at(o, "k", 4, 9);
	at(sluice_node_get(o, "k"), SLUICE_NODE_MAP, 4, 14);
	key_at(o, "\xc3\xa9", 4, 18);
	at(sluice_node_get(o, "\xc3\xa9"), SLUICE_NODE_BOOL, 4, 23);
	assert_int_equal(D.count, 0);
	sluice_doc_free(doc);
}

static void json_duplicate_key(void **state)
{
	(void)state;
	/* jansson alone keeps the last value, Sluice's tree the first: an error */
	sluice_doc_free(json("{\"a\": 1,\n \"b\": {\"c\": 1, \"c\": [2]},\n \"a\": {\"x\": 1}}",
			     SLUICE_EINVAL));
	assert_int_equal(D.count, 2);
	assert_int_equal(D.errors, 2);
	diag_is(0, 2, 16, SLUICE_SEV_ERROR, "duplicate-key",
		"duplicate key 'c' (first at line 2, column 8); readers disagree on which "
		"value wins, so keep only one");
	diag_is(1, 3, 2, SLUICE_SEV_ERROR, "duplicate-key",
		"duplicate key 'a' (first at line 1, column 2); readers disagree on which "
		"value wins, so keep only one");
	sluice_diags_clear(&D);
	/* keys are compared decoded: "\u0061" is "a" */
	sluice_doc_free(json("{\"a\": 1, \"\\u0061\": 2}", SLUICE_EINVAL));
	only_error(1, 10, "duplicate-key",
		   "duplicate key 'a' (first at line 1, column 2); readers disagree on which "
		   "value wins, so keep only one");
}

static void json_syntax_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		unsigned line, col;
		const char *msg;
	} cases[] = {
		{"{\n  \"a\": 1,\n  \"b\": x\n}", 3, 8, "invalid JSON: invalid token near 'x'"},
		{"{\"a\": tru}", 1, 7, "invalid JSON: invalid token near 'tru'"},
		{"{\"a\": 1,\n \"b\": [1, 2\n}\n", 3, 1, "invalid JSON: ']' expected near '}'"},
		{"{\"\xc3\xa9\": 1,, \"b\": 2}", 1, 9,
		 "invalid JSON: string or '}' expected near ','"},
		{"[1,]", 1, 4, "invalid JSON: unexpected token near ']'"},
		{"{\"a\": 1}\n{\"b\": 2}\n", 2, 1, "invalid JSON: end of file expected near '{'"},
		{"{\"a\":\n", 2, 1, "invalid JSON: unexpected token near end of file"},
		{"{\"a\": 99999999999999999999}", 1, 7,
		 "invalid JSON: too big integer near '99999999999999999999'"},
		{"{\"a\": 1e999}", 1, 7, "invalid JSON: real number overflow near '1e999'"},
		{"{\"a\": 1 \"b\": 2}", 1, 9,
		 "invalid JSON: '}' expected near '\"b\"'; is a ',' missing before it?"},
		{"{'a': 1}", 1, 2, "invalid JSON: string or '}' expected near '''"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sluice_diags_clear(&D);
		sluice_doc_free(json(cases[i].text, SLUICE_EINVAL));
		only_error(cases[i].line, cases[i].col, "json-syntax", cases[i].msg);
	}
}

static void json_unclosed_string(void **state)
{
	(void)state;
	const char *msg = "unclosed string: a JSON string must end with '\"' on the line where "
			  "it starts";
	sluice_doc_free(json("{\"a\": \"abc", SLUICE_EINVAL));
	only_error(1, 7, "json-syntax", msg);
	sluice_diags_clear(&D);
	sluice_doc_free(json("{\"a\": \"abc\",\n \"b\": \"no end\n}", SLUICE_EINVAL));
	only_error(2, 7, "json-syntax", msg);
	sluice_diags_clear(&D);
	/* too long for jansson to quote it back: found all the same */
	sluice_doc_free(json("{\"a\": \"0123456789012345678901234567890123456789", SLUICE_EINVAL));
	only_error(1, 7, "json-syntax", msg);
}

static void json_nul_and_encoding(void **state)
{
	(void)state;
	sluice_doc_free(json("{\"a\": \"x\\u0000y\"}", SLUICE_EINVAL));
	only_error(1, 7, "nul-byte", "string contains a NUL character (\\u0000); remove it");
	sluice_diags_clear(&D);
	/* jansson refuses a NUL in a key itself */
	sluice_doc_free(json("{\"a\\u0000\": 1}", SLUICE_EINVAL));
	only_error(1, 2, "json-syntax",
		   "invalid JSON: NUL byte in object key not supported near '\"a\\u0000\"'");
	sluice_diags_clear(&D);
	sluice_doc_free(parse_lim(false, "{\"a\":\n \"\0\"}", 11, SLUICE_EINVAL, NULL));
	only_error(2, 3, "nul-byte", "NUL byte in file; configuration files must be text");
	sluice_diags_clear(&D);
	sluice_doc_free(json("[\"\xc3\xa9\", \"\xc3\x28\"]", SLUICE_EINVAL));
	only_error(1, 8, "invalid-utf8", "invalid UTF-8 (byte 0xc3); save the file as UTF-8");
	sluice_diags_clear(&D);
	sluice_doc *doc = json("\xef\xbb\xbf{\"a\": 1}", 0);
	key_at(doc->root, "a", 1, 2);
	at(sluice_node_get(doc->root, "a"), SLUICE_NODE_INT, 1, 7);
	sluice_doc_free(doc);
}

static void json_limits(void **state)
{
	(void)state;
	char *ok = nested("{\"k\": [", "]}", 32), *deep = nested("[", "]", 65);
	sluice_doc_free(json(ok, 0));
	sluice_doc_free(json(deep, SLUICE_ELIMIT));
	only_error(1, 65, "limit", "nesting is deeper than 64 levels");
	sluice_diags_clear(&D);
	/* brackets inside strings do not count */
	sluice_doc_free(json("[\"[[[[[[[[[[\"]", 0));
	sluice_doc_limits lim = {0, 0, 3};
	sluice_doc_free(parse_lim(false, "[1, 2]", 6, 0, &lim));
	/* keys count, as in YAML: a mapping, its key and a value are 3 */
	sluice_doc_free(parse_lim(false, "{\"a\": 1}", 8, 0, &lim));
	sluice_doc_free(parse_lim(false, "{\"a\": [1, 2]}", 13, SLUICE_ELIMIT, &lim));
	only_error(1, 8, "limit", "document expands to more than 3 nodes (aliases included)");
	free(ok);
	free(deep);
}

static void json_empty(void **state)
{
	(void)state;
	sluice_doc *doc = json("", 0);
	assert_null(doc->root);
	sluice_doc_free(doc);
	doc = json(" \n\t\n", 0);
	assert_null(doc->root);
	sluice_doc_free(doc);
	/* any JSON value may be the root; callers check the kind */
	doc = json("\"just a string\"", 0);
	at(doc->root, SLUICE_NODE_STRING, 1, 1);
	sluice_doc_free(doc);
	assert_int_equal(D.count, 0);
}

static void node_helpers(void **state)
{
	(void)state;
	sluice_doc *doc = yaml("a: [1]\n", 0);
	assert_null(sluice_node_get(doc->root, "b"));
	assert_null(sluice_node_get(NULL, "a"));
	assert_null(sluice_node_get(sluice_node_get(doc->root, "a"), "a"));
	assert_null(sluice_node_pair_get(doc->root, NULL));
	assert_string_equal(sluice_node_kind_name(SLUICE_NODE_MAP), "a mapping");
	assert_string_equal(sluice_node_kind_name(SLUICE_NODE_SEQ), "a list");
	assert_string_equal(sluice_node_kind_name(SLUICE_NODE_STRING), "a string");
	assert_string_equal(sluice_node_kind_name(SLUICE_NODE_INT), "an integer");
	sluice_doc_free(doc);
	sluice_doc_free(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(yaml_block_positions),
		T(yaml_flow_positions),
		T(yaml_scalars),
		T(yaml_number_range),
		T(yaml_duplicate_key),
		T(yaml_multi_document),
		T(yaml_aliases),
		T(yaml_billion_laughs),
		T(yaml_nodes_limit),
		T(yaml_depth),
		T(yaml_unclosed_quote),
		T(yaml_bad_indentation),
		T(yaml_tab_indentation),
		T(yaml_unclosed_bracket),
		T(yaml_tags_refused),
		T(yaml_collection_key),
		T(yaml_nul),
		T(yaml_bad_utf8),
		T(yaml_bom_and_unicode_columns),
		T(yaml_empty),
		T(size_limit),
		T(json_positions_and_kinds),
		T(json_duplicate_key),
		T(json_syntax_errors),
		T(json_unclosed_string),
		T(json_nul_and_encoding),
		T(json_limits),
		T(json_empty),
		T(node_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
