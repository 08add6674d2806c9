/* Semantic Versioning 2.0 versions and node-semver style ranges.
 *
 * Pure: no I/O, no clock. Release tags are `v` + a SemVer 2.0 version
 * (docs/versions.md); workspaces choose releases with ranges such as
 * ">=0.1.0 <1.0.0", "^1.2", "1.x || 2.x" or a pinned "0.1.0". */
#ifndef SLUICE_SEMVER_H
#define SLUICE_SEMVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint64_t major, minor, patch;
	char *pre;   /* NULL or the pre-release without its '-', e.g. "rc.1" */
	char *build; /* NULL or the build metadata without its '+' */
} sluice_semver;

#define SLUICE_SEMVER_INIT {0, 0, 0, NULL, NULL}

void sluice_semver_init(sluice_semver *v);

/* Frees v's strings and resets it to 0.0.0; NULL-safe. */
void sluice_semver_clear(sluice_semver *v);

/* Parses a strict SemVer 2.0 version ("1.2.3", "1.0.0-rc.1+build.5"): no
 * leading 'v', no leading zeros in numbers or numeric pre-release
 * identifiers, no empty identifiers, identifiers only of [0-9A-Za-z-],
 * numbers that fit in 64 bits. Returns 0 (out owns its strings; release
 * them with sluice_semver_clear) or SLUICE_EINVAL with the reason and
 * column in sluice_error_last(); on error *out is 0.0.0. */
int sluice_semver_parse(sluice_semver *out, const char *s);

/* Parses a release tag: exactly 'v' followed by a strict version, with an
 * optional "refs/tags/" prefix ("v1.2.3-rc.1", "refs/tags/v0.1.0").
 * Returns 0 or SLUICE_EINVAL like sluice_semver_parse. */
int sluice_semver_parse_tag(sluice_semver *out, const char *tag);

/* Deep copy; dst must not hold strings (init or clear it first). */
void sluice_semver_copy(sluice_semver *dst, const sluice_semver *src);

/* SemVer 2.0 precedence: <0, 0 or >0. Build metadata is ignored, so
 * 1.0.0+a and 1.0.0+b compare equal. */
int sluice_semver_cmp(const sluice_semver *a, const sluice_semver *b);

/* Whether the version texts a and b are written differently but name the
 * same version: equal precedence, so they differ only in build metadata
 * ("0.1.0" and "0.1.0+build.2"). Such a tag is not a new release
 * (docs/versions.md). False when either text is not a strict version. */
bool sluice_semver_build_variant(const char *a, const char *b);

/* "1.2.3-rc.1+build.5" (build included when present); caller frees. */
char *sluice_semver_format(const sluice_semver *v);

/* A parsed range: one or more comparator sets joined by "||". */
typedef struct sluice_range sluice_range;

/* Parses a node-semver range (comparators <, <=, >, >=, = and bare
 * versions, space-separated AND, "||" OR, hyphen ranges "1.2 - 2.3.4",
 * x-ranges "1.x" "1.2.*" "*" "" "1.2", tilde "~1.2.3", caret "^0.2.3",
 * optional leading 'v'). Returns 0 and *out (free with sluice_range_free)
 * or SLUICE_EINVAL with *out NULL; the message names what is wrong and
 * its column, e.g. "unexpected '!' at column 7 in range '>=1.0 !2'", and
 * is copied to err (when not NULL, truncated to errlen) and to
 * sluice_error_last(). */
int sluice_range_parse(sluice_range **out, const char *text, char *err, size_t errlen);

/* Whether v is in the range. As in node-semver (includePrerelease off), a
 * version with a pre-release matches only if a comparator of the matching
 * set names a pre-release of the same major.minor.patch. */
bool sluice_range_satisfies(const sluice_range *r, const sluice_semver *v);

/* The index of the highest version in versions[0..n) that satisfies r (the
 * first one on ties), or -1 when none does. */
ptrdiff_t sluice_range_max_satisfying(const sluice_range *r, const sluice_semver *versions,
				      size_t n);

/* The range as plain comparators, written as node-semver's
 * `new Range(text).range` does (e.g. "^1.2" -> ">=1.2.0 <2.0.0-0", and "*"
 * for any version); caller frees. */
char *sluice_range_format(const sluice_range *r);

/* The text the range was parsed from; valid while r lives. */
const char *sluice_range_text(const sluice_range *r);

void sluice_range_free(sluice_range *r);

#endif
