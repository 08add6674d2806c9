/* Internal: typed reading of document nodes with diagnostics. Every getter
 * reports a wrong type at the value, a missing required key at the mapping
 * that lacks it and an unknown key at the key (with a "did you mean" hint).
 * `path` names the mapping in messages, e.g. "rollout.stages[1]". */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include <stdbool.h>

#include "sluice/config.h"
#include "sluice/diag.h"
#include "sluice/doc.h"

/* The known keys of the mappings checked so far (a ring: loaders keep only
 * a few mappings open at once), so that a missing key can tell whether a
 * misspelling of it stands in the mapping. */
#define SLUICE_SCHEMA_SEEN 128

typedef struct {
	sluice_diags *d;
	struct {
		const sluice_node *map;
		const char *const *known;
	} seen[SLUICE_SCHEMA_SEEN];
	unsigned nseen;
} sluice_schema;

/* Reports every key of `map` that is not in `known` (NULL-terminated). */
void sluice_schema_keys(sluice_schema *s, const sluice_node *map, const char *path,
			const char *const *known);

/* Returns the node under key when it has one of the kinds in `kinds`
 * (a bit set of 1u << SLUICE_NODE_*), reporting a wrong kind; NULL when
 * absent (reported when required) or wrong. `what` says the expected
 * type in words ("a mapping", "a list of strings"). A required key that
 * is absent because it is misspelt is not reported again: the unknown
 * key's "did you mean" already names it (when sluice_schema_keys saw the
 * mapping first). */
const sluice_node *sluice_schema_get(sluice_schema *s, const sluice_node *map,
				     const char *path, const char *key, unsigned kinds,
				     const char *what, bool required);

/* Typed getters; they leave `out` unset (s == NULL / set == false) when
 * the key is absent or wrong. For bool and int, `pos` then still points
 * at a value of the wrong type or at a misspelt key, so that later checks
 * can tell "not given" (pos.line == 0) from "given but unusable, already
 * reported" and stay quiet about the latter. */
void sluice_schema_str(sluice_schema *s, sluice_str *out, const sluice_node *map,
		       const char *path, const char *key, bool required);
void sluice_schema_bool(sluice_schema *s, sluice_bool *out, const sluice_node *map,
			const char *path, const char *key, bool required);
void sluice_schema_int(sluice_schema *s, sluice_int *out, const sluice_node *map,
		       const char *path, const char *key, bool required);
/* A number (int or float) into *out; returns false when absent or wrong. */
bool sluice_schema_num(sluice_schema *s, double *out, sluice_pos *pos,
		       const sluice_node *map, const char *path, const char *key,
		       bool required);
/* A list of strings; an empty list is an error when `nonempty`. */
void sluice_schema_strs(sluice_schema *s, sluice_strs *out, const sluice_node *map,
			const char *path, const char *key, bool required, bool nonempty);
/* A mapping of names to scalar values (environment). */
void sluice_schema_kvs(sluice_schema *s, sluice_kvs *out, const sluice_node *map,
		       const char *path, const char *key);
/* A string value one of `allowed` (NULL-terminated), reported otherwise. */
void sluice_schema_enum(sluice_schema *s, sluice_str *out, const sluice_node *map,
			const char *path, const char *key, bool required,
			const char *const *allowed);

/* Shared by the config loaders (config.c, config-workspace.c). */
int sluice_config_load_file_doc(sluice_doc **out, const char *path, size_t max_bytes,
				sluice_diags *d);
void sluice_config_load_permissions(sluice_schema *s, sluice_permissions *p,
				    const sluice_node *n, const char *path);
extern const char *const sluice_notification_events[];

#define SLUICE_KIND(k) (1u << (k))
#define SLUICE_KINDS_SCALAR                                                     \
	(SLUICE_KIND(SLUICE_NODE_STRING) | SLUICE_KIND(SLUICE_NODE_INT) |       \
	 SLUICE_KIND(SLUICE_NODE_FLOAT) | SLUICE_KIND(SLUICE_NODE_BOOL))

#endif
