/* A small TOML writer for the files Codex reads (docs/publishing.md):
 * tables, string, integer and boolean values and arrays of strings. Every
 * string goes out as a basic string with the escapes TOML defines, every
 * key bare when it is [A-Za-z0-9_-]+ and quoted otherwise, so an id, URL
 * or tool name from a plugin team can never change the file's structure.
 * A value TOML cannot carry (invalid UTF-8, a NUL) makes the document an
 * error instead of a file Codex would misread.
 *
 * The first error sticks: later calls do nothing, and sluice_toml_finish
 * reports it. Callers write a whole document and check once. */
#ifndef SLUICE_TOML_H
#define SLUICE_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/util.h"

typedef struct {
	sluice_buf out;
	int rc; /* 0, or the first error (its message is in sluice_error_last) */
} sluice_toml;

void sluice_toml_init(sluice_toml *t);
/* Frees what the document holds; t may be reused after sluice_toml_init. */
void sluice_toml_clear(sluice_toml *t);

/* [a.b."c d"]: the header of the table at `path` (n keys). */
int sluice_toml_table(sluice_toml *t, const char *const *path, size_t n);
/* key = "value" */
int sluice_toml_string(sluice_toml *t, const char *key, const char *value);
/* key = "value" for a value of `len` bytes (a NUL inside is an error) */
int sluice_toml_stringn(sluice_toml *t, const char *key, const char *value, size_t len);
int sluice_toml_int(sluice_toml *t, const char *key, int64_t value);
int sluice_toml_bool(sluice_toml *t, const char *key, bool value);
/* key = ["a", "b"] */
int sluice_toml_string_array(sluice_toml *t, const char *key, const char *const *values,
			     size_t n);

/* Returns 0 and the document in *out (caller frees; *len its length), or
 * the first error; t is cleared either way. */
int sluice_toml_finish(char **out, size_t *len, sluice_toml *t);

/* Appends `s` (len bytes) to b as a TOML basic string, quotes included.
 * Returns 0, or SLUICE_EINVAL for invalid UTF-8 or a NUL (b unchanged). */
int sluice_toml_quote(sluice_buf *b, const char *s, size_t len);
/* Appends a key: bare when it is [A-Za-z0-9_-]+, else quoted. */
int sluice_toml_key(sluice_buf *b, const char *key);

#endif
