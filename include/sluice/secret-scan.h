/* The secret-looking value scanner: whether a plain value of a release
 * or a workspace holds something that looks like a credential. A leaf
 * module (no configuration types), so the loaders and validation both use
 * it (docs/configuration.md, "Secret-looking values"). */
#ifndef SLUICE_SECRET_SCAN_H
#define SLUICE_SECRET_SCAN_H

#include <stddef.h>

/* Whether text (len bytes, possibly many lines) holds something that looks
 * like a secret anywhere: a known token prefix, a private key, a cloud
 * access key, a JSON web token, a password in a URL, `Bearer`/`Basic`
 * credentials, `secret=...`-style assignments, or a long random-looking
 * word. Returns why (static text) and, when not NULL, the 1-based line and
 * column within text where it starts; NULL when nothing does. Callers name
 * the place, never the value (docs/configuration.md, "Secret-looking
 * values"). */
const char *sluice_secret_find(const char *text, size_t len, unsigned *line, unsigned *col);

/* sluice_secret_find over a NUL-terminated value; returns why or NULL. */
const char *sluice_secret_looking(const char *value);

#endif
