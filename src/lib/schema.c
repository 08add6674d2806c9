/* Typed reading of document nodes with positioned diagnostics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "sluice/secret-scan.h"
#include "sluice/util.h"

static void list_known(char *buf, size_t len, const char *const *known)
{
	size_t off = 0;
	buf[0] = '\0';
	for (const char *const *k = known; *k && off + 1 < len; k++) {
		int n = snprintf(buf + off, len - off, "%s%s", k == known ? "" : ", ", *k);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static bool is_known(const char *const *known, const char *key)
{
	for (const char *const *k = known; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

/* The key of `map` that is a misspelling of `key` (an unknown key whose
 * best "did you mean" is `key`), or NULL. */
static const sluice_node_pair *misspelling(const sluice_schema *s, const sluice_node *map,
					   const char *key)
{
	const char *const *known = NULL;
	unsigned n = s->nseen < SLUICE_SCHEMA_SEEN ? s->nseen : SLUICE_SCHEMA_SEEN;

	for (unsigned i = 0; i < n; i++)
		if (s->seen[i].map == map)
			known = s->seen[i].known;
	if (!known || !map || map->kind != SLUICE_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->count; i++) {
		const char *hint;
		if (is_known(known, map->pairs[i].key))
			continue;
		hint = sluice_did_you_mean(map->pairs[i].key, known);
		if (hint && strcmp(hint, key) == 0)
			return &map->pairs[i];
	}
	return NULL;
}

/* Where a bool or int that could not be read was written: the value of
 * the wrong type, or the misspelt key; nothing when it is just absent. */
static sluice_pos unusable_pos(const sluice_schema *s, const sluice_node *map, const char *key)
{
	const sluice_node *v = sluice_node_get(map, key);
	const sluice_node_pair *typo;
	sluice_pos none = {NULL, 0, 0};

	if (v && v->kind != SLUICE_NODE_NULL)
		return v->pos;
	if (!v && (typo = misspelling(s, map, key)))
		return typo->key_pos;
	return none;
}

void sluice_schema_keys(sluice_schema *s, const sluice_node *map, const char *path,
			const char *const *known)
{
	if (!map || map->kind != SLUICE_NODE_MAP)
		return;
	s->seen[s->nseen % SLUICE_SCHEMA_SEEN].map = map;
	s->seen[s->nseen % SLUICE_SCHEMA_SEEN].known = known;
	s->nseen++;
	for (size_t i = 0; i < map->count; i++) {
		const sluice_node_pair *p = &map->pairs[i];
		const char *const *k;
		for (k = known; *k; k++)
			if (strcmp(*k, p->key) == 0)
				break;
		if (*k)
			continue;
		const char *hint = sluice_did_you_mean(p->key, known), *why;
		if ((why = sluice_secret_looking(p->key))) {
			/* never echo it: the key itself may be the credential */
			sluice_diag_error(s->d, p->key_pos, "unknown-key",
					  "unknown key in %s; it looks like a secret (%s), so it is "
					  "not shown: remove it", path, why);
		} else if (hint) {
			sluice_diag_error(s->d, p->key_pos, "unknown-key",
					  "unknown key '%s' in %s; did you mean '%s'?", p->key,
					  path, hint);
		} else {
			char names[400];
			list_known(names, sizeof names, known);
			sluice_diag_error(s->d, p->key_pos, "unknown-key",
					  "unknown key '%s' in %s (known keys: %s)", p->key, path,
					  names);
		}
	}
}

static void join_path(char *buf, size_t len, const char *path, const char *key)
{
	if (!path || !*path || strcmp(path, "the manifest") == 0 ||
	    strcmp(path, "the deploy file") == 0 || strcmp(path, "the workspace") == 0 ||
	    strcmp(path, "the rollout policy") == 0 || strcmp(path, "the tool contract") == 0)
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", path, key);
}

const sluice_node *sluice_schema_get(sluice_schema *s, const sluice_node *map,
				     const char *path, const char *key, unsigned kinds,
				     const char *what, bool required)
{
	const sluice_node *v;
	char full[256];

	if (!map || map->kind != SLUICE_NODE_MAP)
		return NULL;
	join_path(full, sizeof full, path, key);
	v = sluice_node_get(map, key);
	if (!v || (v->kind == SLUICE_NODE_NULL && !(kinds & SLUICE_KIND(SLUICE_NODE_NULL)))) {
		if (required && (v || !misspelling(s, map, key))) {
			sluice_pos pos = v ? v->pos : map->pos;
			if (v)
				sluice_diag_error(s->d, pos, "missing-value",
						  "'%s' has no value; it must be %s", full, what);
			else
				sluice_diag_error(s->d, pos, "missing-key",
						  "missing required key '%s' in %s", key,
						  path && *path ? path : "this file");
		}
		return NULL;
	}
	if (!(kinds & SLUICE_KIND(v->kind))) {
		sluice_diag_error(s->d, v->pos, "wrong-type", "'%s' must be %s, not %s", full, what,
				  sluice_node_kind_name(v->kind));
		return NULL;
	}
	return v;
}

void sluice_schema_str(sluice_schema *s, sluice_str *out, const sluice_node *map,
		       const char *path, const char *key, bool required)
{
	const sluice_node *v = sluice_schema_get(s, map, path, key,
						 SLUICE_KIND(SLUICE_NODE_STRING), "a string",
						 required);
	memset(out, 0, sizeof *out);
	if (!v)
		return;
	out->s = v->text;
	out->pos = v->pos;
	if (v->text_len == 0 && required) {
		char full[256];
		join_path(full, sizeof full, path, key);
		sluice_diag_error(s->d, v->pos, "empty-value", "'%s' must not be empty", full);
	}
}

void sluice_schema_bool(sluice_schema *s, sluice_bool *out, const sluice_node *map,
			const char *path, const char *key, bool required)
{
	const sluice_node *v = sluice_schema_get(s, map, path, key,
						 SLUICE_KIND(SLUICE_NODE_BOOL),
						 "true or false", required);
	memset(out, 0, sizeof *out);
	if (!v) {
		out->pos = unusable_pos(s, map, key);
		return;
	}
	out->set = true;
	out->v = v->v.b;
	out->pos = v->pos;
}

void sluice_schema_int(sluice_schema *s, sluice_int *out, const sluice_node *map,
		       const char *path, const char *key, bool required)
{
	const sluice_node *v = sluice_schema_get(s, map, path, key,
						 SLUICE_KIND(SLUICE_NODE_INT), "an integer",
						 required);
	memset(out, 0, sizeof *out);
	if (!v) {
		out->pos = unusable_pos(s, map, key);
		return;
	}
	out->set = true;
	out->v = v->v.i;
	out->pos = v->pos;
}

bool sluice_schema_num(sluice_schema *s, double *out, sluice_pos *pos,
		       const sluice_node *map, const char *path, const char *key,
		       bool required)
{
	const sluice_node *v = sluice_schema_get(
		s, map, path, key, SLUICE_KIND(SLUICE_NODE_INT) | SLUICE_KIND(SLUICE_NODE_FLOAT),
		"a number", required);
	if (!v)
		return false;
	*out = v->kind == SLUICE_NODE_INT ? (double)v->v.i : v->v.f;
	if (pos)
		*pos = v->pos;
	return true;
}

void sluice_schema_strs(sluice_schema *s, sluice_strs *out, const sluice_node *map,
			const char *path, const char *key, bool required, bool nonempty)
{
	const sluice_node *v = sluice_schema_get(s, map, path, key,
						 SLUICE_KIND(SLUICE_NODE_SEQ),
						 "a list of strings", required);
	char full[256];

	memset(out, 0, sizeof *out);
	if (!v)
		return;
	join_path(full, sizeof full, path, key);
	out->pos = v->pos;
	if (v->count == 0 && nonempty)
		sluice_diag_error(s->d, v->pos, "empty-list", "'%s' must not be an empty list",
				  full);
	out->items = sluice_xcalloc(v->count, sizeof *out->items);
	for (size_t i = 0; i < v->count; i++) {
		const sluice_node *it = v->items[i];
		if (it->kind != SLUICE_NODE_STRING) {
			sluice_diag_error(s->d, it->pos, "wrong-type",
					  "'%s[%zu]' must be a string, not %s", full, i,
					  sluice_node_kind_name(it->kind));
			continue;
		}
		out->items[out->count].s = it->text;
		out->items[out->count].pos = it->pos;
		out->count++;
	}
}

void sluice_schema_kvs(sluice_schema *s, sluice_kvs *out, const sluice_node *map,
		       const char *path, const char *key)
{
	const sluice_node *v = sluice_schema_get(s, map, path, key,
						 SLUICE_KIND(SLUICE_NODE_MAP), "a mapping",
						 false);
	char full[256];

	memset(out, 0, sizeof *out);
	if (!v)
		return;
	join_path(full, sizeof full, path, key);
	out->pos = v->pos;
	out->items = sluice_xcalloc(v->count, sizeof *out->items);
	for (size_t i = 0; i < v->count; i++) {
		const sluice_node_pair *p = &v->pairs[i];
		/* numbers and booleans are fine as environment values: keep the text */
		if (!(SLUICE_KINDS_SCALAR & SLUICE_KIND(p->value->kind))) {
			sluice_diag_error(s->d, p->value->pos, "wrong-type",
					  "'%s.%s' must be a string, not %s", full, p->key,
					  sluice_node_kind_name(p->value->kind));
			continue;
		}
		sluice_kv *kv = &out->items[out->count++];
		kv->key.s = p->key;
		kv->key.pos = p->key_pos;
		kv->value.s = p->value->text;
		kv->value.pos = p->value->pos;
	}
}

void sluice_schema_enum(sluice_schema *s, sluice_str *out, const sluice_node *map,
			const char *path, const char *key, bool required,
			const char *const *allowed)
{
	const sluice_node *v = sluice_schema_get(
		s, map, path, key,
		SLUICE_KIND(SLUICE_NODE_STRING) | SLUICE_KIND(SLUICE_NODE_BOOL), "a string",
		required);
	char full[256], names[300];

	memset(out, 0, sizeof *out);
	if (!v)
		return;
	join_path(full, sizeof full, path, key);
	for (const char *const *a = allowed; *a; a++) {
		if (strcmp(*a, v->text) == 0) {
			out->s = v->text;
			out->pos = v->pos;
			return;
		}
	}
	list_known(names, sizeof names, allowed);
	const char *hint = sluice_did_you_mean(v->text, allowed);
	if (!allowed[1])
		sluice_diag_error(s->d, v->pos, "invalid-value",
				  "'%s' must be '%s' (the only value Sluice supports)", full,
				  allowed[0]);
	else if (hint)
		sluice_diag_error(s->d, v->pos, "invalid-value",
				  "'%s' must be one of %s; did you mean '%s'?", full, names, hint);
	else
		sluice_diag_error(s->d, v->pos, "invalid-value", "'%s' must be one of %s", full,
				  names);
}
