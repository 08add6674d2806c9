/* Table tests of versions, tags, ordering and ranges.
 *
 * Expected results come from the SemVer 2.0 specification (semver.org) and
 * from node-semver's own fixtures (test/fixtures/range-include.js,
 * range-exclude.js, range-parse.js, comparisons.js, equality.js,
 * valid-versions.js), keeping the strict cases without `loose` or
 * `includePrerelease`. Cases marked "sluice" are this project's choices
 * (error texts, tags, the workspace examples of docs/configuration.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/error.h"
#include "sluice/semver.h"

static sluice_semver ver(const char *s)
{
	sluice_semver v;
	if (sluice_semver_parse(&v, s) < 0)
		fail_msg("test version '%s' does not parse: %s", s, sluice_error_last());
	return v;
}

/* ---- parsing ----------------------------------------------------------- */

static const struct {
	const char *in;
	uint64_t major, minor, patch;
	const char *pre, *build;
} valid_versions[] = {
	/* node-semver valid-versions.js */
	{"1.0.0", 1, 0, 0, NULL, NULL},
	{"2.1.0", 2, 1, 0, NULL, NULL},
	{"3.2.1", 3, 2, 1, NULL, NULL},
	{"1.2.3-0", 1, 2, 3, "0", NULL},
	{"1.2.3-123", 1, 2, 3, "123", NULL},
	{"1.2.3-1.2.3", 1, 2, 3, "1.2.3", NULL},
	{"1.2.3-1a", 1, 2, 3, "1a", NULL},
	{"1.2.3-a1", 1, 2, 3, "a1", NULL},
	{"1.2.3-alpha", 1, 2, 3, "alpha", NULL},
	{"1.2.3-alpha.1", 1, 2, 3, "alpha.1", NULL},
	{"1.2.3-alpha-1", 1, 2, 3, "alpha-1", NULL},
	{"1.2.3-alpha-.-beta", 1, 2, 3, "alpha-.-beta", NULL},
	{"1.2.3+456", 1, 2, 3, NULL, "456"},
	{"1.2.3+build", 1, 2, 3, NULL, "build"},
	{"1.2.3+new-build", 1, 2, 3, NULL, "new-build"},
	{"1.2.3+build.1", 1, 2, 3, NULL, "build.1"},
	{"1.2.3+build.1a", 1, 2, 3, NULL, "build.1a"},
	{"1.2.3+build.alpha.beta", 1, 2, 3, NULL, "build.alpha.beta"},
	{"1.2.3-alpha+build", 1, 2, 3, "alpha", "build"},
	/* semver.org examples: item 10 allows leading zeros in build metadata */
	{"1.0.0-alpha+001", 1, 0, 0, "alpha", "001"},
	{"1.0.0+20130313144700", 1, 0, 0, NULL, "20130313144700"},
	{"1.0.0-beta+exp.sha.5114f85", 1, 0, 0, "beta", "exp.sha.5114f85"},
	{"1.0.0-0.3.7", 1, 0, 0, "0.3.7", NULL},
	{"1.0.0-x.7.z.92", 1, 0, 0, "x.7.z.92", NULL},
	{"1.0.0-x-y-z.--", 1, 0, 0, "x-y-z.--", NULL},
	{"0.0.0", 0, 0, 0, NULL, NULL},
	/* sluice: the largest numbers that fit */
	{"18446744073709551615.0.18446744073709551615", UINT64_MAX, 0, UINT64_MAX, NULL, NULL},
};

static void test_parse_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof valid_versions / sizeof *valid_versions; i++) {
		const char *in = valid_versions[i].in;
		sluice_semver v;
		if (sluice_semver_parse(&v, in) < 0)
			fail_msg("'%s' should parse: %s", in, sluice_error_last());
		assert_true(v.major == valid_versions[i].major);
		assert_true(v.minor == valid_versions[i].minor);
		assert_true(v.patch == valid_versions[i].patch);
		if (valid_versions[i].pre)
			assert_string_equal(v.pre, valid_versions[i].pre);
		else
			assert_null(v.pre);
		if (valid_versions[i].build)
			assert_string_equal(v.build, valid_versions[i].build);
		else
			assert_null(v.build);
		char *text = sluice_semver_format(&v);
		assert_string_equal(text, in);
		free(text);
		sluice_semver_clear(&v);
	}
}

/* sluice: the exact messages a user sees for a bad version */
static const struct {
	const char *in, *msg;
} invalid_versions[] = {
	{"", "invalid version '': expected a version at column 1"},
	{"hello, world", "invalid version 'hello, world': unexpected 'h' at column 1"},
	{"v1.2.3", "invalid version 'v1.2.3': a version starts with a digit; drop the leading 'v'"},
	{"1.2", "invalid version '1.2': expected '.' and the patch version at column 4"},
	{"1", "invalid version '1': expected '.' and the minor version at column 2"},
	{"1.2.", "invalid version '1.2.': expected the patch version after '.' at column 5"},
	{"1.2.3.4", "invalid version '1.2.3.4': unexpected '.' at column 6"},
	{"01.2.3", "invalid version '01.2.3': the major version '01' has a leading zero at column 1"},
	{"1.02.3", "invalid version '1.02.3': the minor version '02' has a leading zero at column 3"},
	{"1.2.03", "invalid version '1.2.03': the patch version '03' has a leading zero at column 5"},
	{"1.2.3-01", "invalid version '1.2.3-01': the numeric pre-release identifier '01' has a leading zero at column 7"},
	{"1.2.3-rc.01", "invalid version '1.2.3-rc.01': the numeric pre-release identifier '01' has a leading zero at column 10"},
	{"1.2.3-", "invalid version '1.2.3-': empty pre-release identifier at column 7"},
	{"1.2.3-a..b", "invalid version '1.2.3-a..b': empty pre-release identifier at column 9"},
	{"1.2.3-a.", "invalid version '1.2.3-a.': empty pre-release identifier at column 9"},
	{"1.2.3+", "invalid version '1.2.3+': empty build metadata identifier at column 7"},
	{"1.2.3-a_b", "invalid version '1.2.3-a_b': unexpected '_' at column 8"},
	{"1.2.3-alpha+build+x", "invalid version '1.2.3-alpha+build+x': unexpected '+' at column 18"},
	{"1.2.3 ", "invalid version '1.2.3 ': unexpected ' ' at column 6"},
	{" 1.2.3", "invalid version ' 1.2.3': unexpected ' ' at column 1"},
	{"1.x.3", "invalid version '1.x.3': unexpected 'x' at column 3"},
	{"1.2.3-\xc3\xa9", "invalid version '1.2.3-\xc3\xa9': unexpected byte 0xc3 at column 7"},
	{"18446744073709551616.0.0", "invalid version '18446744073709551616.0.0': the major version '18446744073709551616' is too large (at most 18446744073709551615) at column 1"},
	{"0.0.99999999999999999999999999", "invalid version '0.0.99999999999999999999999999': the patch version '999999999999999999999999...' is too large (at most 18446744073709551615) at column 5"},
};

static void test_parse_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof invalid_versions / sizeof *invalid_versions; i++) {
		sluice_semver v;
		int rc = sluice_semver_parse(&v, invalid_versions[i].in);
		if (rc != SLUICE_EINVAL)
			fail_msg("'%s' should be refused", invalid_versions[i].in);
		assert_string_equal(sluice_error_last(), invalid_versions[i].msg);
		assert_null(v.pre);
		assert_true(v.major == 0 && v.minor == 0 && v.patch == 0);
	}
	sluice_semver v;
	assert_int_equal(sluice_semver_parse(&v, NULL), SLUICE_EINVAL);
	sluice_semver_clear(NULL);
}

/* sluice: release tags are 'v' + version, optionally as a full ref */
static const struct {
	const char *tag, *version, *msg;
} tags[] = {
	{"v1.2.3", "1.2.3", NULL},
	{"v1.2.3-rc.1", "1.2.3-rc.1", NULL},
	{"v0.1.0", "0.1.0", NULL},
	{"refs/tags/v0.1.0", "0.1.0", NULL},
	{"refs/tags/v0.2.0-rc.1+build.7", "0.2.0-rc.1+build.7", NULL},
	{"1.2.3", NULL, "'1.2.3' is not a release tag: release tags are 'v' and a version, such as v1.2.3 or v1.2.3-rc.1"},
	{"V1.2.3", NULL, "'V1.2.3' is not a release tag: release tags are 'v' and a version, such as v1.2.3 or v1.2.3-rc.1"},
	{"refs/tags/1.0.0", NULL, "'refs/tags/1.0.0' is not a release tag: release tags are 'v' and a version, such as v1.2.3 or v1.2.3-rc.1"},
	{"refs/heads/v1.0.0", NULL, "'refs/heads/v1.0.0' is not a release tag: release tags are 'v' and a version, such as v1.2.3 or v1.2.3-rc.1"},
	{"release-1", NULL, "'release-1' is not a release tag: release tags are 'v' and a version, such as v1.2.3 or v1.2.3-rc.1"},
	{"v1.2", NULL, "invalid release tag 'v1.2': expected '.' and the patch version at column 5"},
	{"vv1.2.3", NULL, "invalid release tag 'vv1.2.3': unexpected 'v' at column 2"},
	{"v01.0.0", NULL, "invalid release tag 'v01.0.0': the major version '01' has a leading zero at column 2"},
	{"refs/tags/v1.0.0-", NULL, "invalid release tag 'refs/tags/v1.0.0-': empty pre-release identifier at column 18"},
	{"v1.0.0^{}", NULL, "invalid release tag 'v1.0.0^{}': unexpected '^' at column 7"},
};

static void test_parse_tag(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
		sluice_semver v;
		int rc = sluice_semver_parse_tag(&v, tags[i].tag);
		if (tags[i].version) {
			if (rc < 0)
				fail_msg("tag '%s' should parse: %s", tags[i].tag, sluice_error_last());
			char *text = sluice_semver_format(&v);
			assert_string_equal(text, tags[i].version);
			free(text);
		} else {
			if (rc != SLUICE_EINVAL)
				fail_msg("tag '%s' should be refused", tags[i].tag);
			assert_string_equal(sluice_error_last(), tags[i].msg);
		}
		sluice_semver_clear(&v);
	}
}

/* ---- ordering ---------------------------------------------------------- */

/* semver.org item 11: each precedes the next */
static const char *const spec_chain[] = {
	"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
	"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
	"2.0.0", "2.1.0", "2.1.1", /* item 11.2 */
};

/* node-semver comparisons.js: the first is greater than the second */
static const char *const greater[][2] = {
	{"0.0.0", "0.0.0-foo"},
	{"0.0.1", "0.0.0"},
	{"1.0.0", "0.9.9"},
	{"0.10.0", "0.9.0"},
	{"0.99.0", "0.10.0"},
	{"2.0.0", "1.2.3"},
	{"1.2.3", "1.2.3-asdf"},
	{"1.2.3", "1.2.3-4"},
	{"1.2.3", "1.2.3-4-foo"},
	{"1.2.3-5-foo", "1.2.3-5"},
	{"1.2.3-5", "1.2.3-4"},
	{"1.2.3-5-foo", "1.2.3-5-Foo"},
	{"3.0.0", "2.7.2+asdf"},
	{"1.2.3-a.10", "1.2.3-a.5"},
	{"1.2.3-a.b", "1.2.3-a.5"},
	{"1.2.3-a.b", "1.2.3-a"},
	{"1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"},
	{"1.2.3-r2", "1.2.3-r100"},
	{"1.2.3-r100", "1.2.3-R2"},
	/* sluice: numeric identifiers beyond 64 bits still compare as numbers */
	{"1.0.0-100000000000000000000000", "1.0.0-99999999999999999999999"},
	{"18446744073709551615.0.0", "18446744073709551614.99.99"},
};

/* node-semver equality.js: build metadata does not count */
static const char *const equal[][2] = {
	{"1.2.3-beta+build", "1.2.3-beta+otherbuild"},
	{"1.2.3+build", "1.2.3+otherbuild"},
	{"1.2.3", "1.2.3+build.5"},
};

static int cmp_text(const char *a, const char *b)
{
	sluice_semver va = ver(a), vb = ver(b);
	int c = sluice_semver_cmp(&va, &vb);
	sluice_semver_clear(&va);
	sluice_semver_clear(&vb);
	return c;
}

static void test_ordering(void **state)
{
	(void)state;
	size_t n = sizeof spec_chain / sizeof *spec_chain;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int want = i < j ? -1 : i > j ? 1 : 0;
			int got = cmp_text(spec_chain[i], spec_chain[j]);
			if ((got > 0) - (got < 0) != want)
				fail_msg("cmp(%s, %s) = %d, want %d", spec_chain[i], spec_chain[j], got, want);
		}
	for (size_t i = 0; i < sizeof greater / sizeof *greater; i++) {
		if (cmp_text(greater[i][0], greater[i][1]) <= 0)
			fail_msg("%s should be greater than %s", greater[i][0], greater[i][1]);
		if (cmp_text(greater[i][1], greater[i][0]) >= 0)
			fail_msg("%s should be less than %s", greater[i][1], greater[i][0]);
	}
	for (size_t i = 0; i < sizeof equal / sizeof *equal; i++)
		if (cmp_text(equal[i][0], equal[i][1]) != 0)
			fail_msg("%s should equal %s", equal[i][0], equal[i][1]);
}

/* ---- ranges ------------------------------------------------------------ */

static const struct {
	const char *range, *version;
	bool in;
} satisfies[] = {
	/* node-semver range-include.js */
	{"1.0.0 - 2.0.0", "1.2.3", true},
	{"^1.2.3+build", "1.2.3", true},
	{"^1.2.3+build", "1.3.0", true},
	{"1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3", true},
	{"1.2.3-pre+asdf - 2.4.3-pre+asdf", "1.2.3-pre.2", true},
	{"1.2.3-pre+asdf - 2.4.3-pre+asdf", "2.4.3-alpha", true},
	{"1.2.3+asdf - 2.4.3+asdf", "1.2.3", true},
	{"1.0.0", "1.0.0", true},
	{">=*", "0.2.4", true},
	{"", "1.0.0", true},
	{"*", "1.2.3", true},
	{">=1.0.0", "1.0.0", true},
	{">=1.0.0", "1.0.1", true},
	{">=1.0.0", "1.1.0", true},
	{">1.0.0", "1.0.1", true},
	{">1.0.0", "1.1.0", true},
	{"<=2.0.0", "2.0.0", true},
	{"<=2.0.0", "1.9999.9999", true},
	{"<=2.0.0", "0.2.9", true},
	{"<2.0.0", "1.9999.9999", true},
	{"<2.0.0", "0.2.9", true},
	{">= 1.0.0", "1.0.0", true},
	{">=  1.0.0", "1.0.1", true},
	{">=   1.0.0", "1.1.0", true},
	{"> 1.0.0", "1.0.1", true},
	{">  1.0.0", "1.1.0", true},
	{"<=   2.0.0", "2.0.0", true},
	{"<= 2.0.0", "1.9999.9999", true},
	{"<=  2.0.0", "0.2.9", true},
	{"<    2.0.0", "1.9999.9999", true},
	{"<\t2.0.0", "0.2.9", true},
	{">=0.1.97", "0.1.97", true},
	{"0.1.20 || 1.2.4", "1.2.4", true},
	{">=0.2.3 || <0.0.1", "0.0.0", true},
	{">=0.2.3 || <0.0.1", "0.2.3", true},
	{">=0.2.3 || <0.0.1", "0.2.4", true},
	{"2.x.x", "2.1.3", true},
	{"1.2.x", "1.2.3", true},
	{"1.2.x || 2.x", "2.1.3", true},
	{"1.2.x || 2.x", "1.2.3", true},
	{"x", "1.2.3", true},
	{"2.*.*", "2.1.3", true},
	{"1.2.*", "1.2.3", true},
	{"1.2.* || 2.*", "2.1.3", true},
	{"1.2.* || 2.*", "1.2.3", true},
	{"2", "2.1.2", true},
	{"2.3", "2.3.1", true},
	{"~0.0.1", "0.0.1", true},
	{"~0.0.1", "0.0.2", true},
	{"~x", "0.0.9", true},
	{"~2", "2.0.9", true},
	{"~2.4", "2.4.0", true},
	{"~2.4", "2.4.5", true},
	{"~>3.2.1", "3.2.2", true},
	{"~1", "1.2.3", true},
	{"~>1", "1.2.3", true},
	{"~> 1", "1.2.3", true},
	{"~1.0", "1.0.2", true},
	{"~ 1.0", "1.0.2", true},
	{"~ 1.0.3", "1.0.12", true},
	{">=1", "1.0.0", true},
	{">= 1", "1.0.0", true},
	{"<1.2", "1.1.1", true},
	{"< 1.2", "1.1.1", true},
	{"~v0.5.4-pre", "0.5.5", true},
	{"~v0.5.4-pre", "0.5.4", true},
	{"=0.7.x", "0.7.2", true},
	{"<=0.7.x", "0.7.2", true},
	{">=0.7.x", "0.7.2", true},
	{"<=0.7.x", "0.6.2", true},
	{"~1.2.1 >=1.2.3", "1.2.3", true},
	{"~1.2.1 =1.2.3", "1.2.3", true},
	{"~1.2.1 1.2.3", "1.2.3", true},
	{"~1.2.1 >=1.2.3 1.2.3", "1.2.3", true},
	{"~1.2.1 1.2.3 >=1.2.3", "1.2.3", true},
	{">=1.2.1 1.2.3", "1.2.3", true},
	{"1.2.3 >=1.2.1", "1.2.3", true},
	{">=1.2.3 >=1.2.1", "1.2.3", true},
	{">=1.2.1 >=1.2.3", "1.2.3", true},
	{">=1.2", "1.2.8", true},
	{"^1.2.3", "1.8.1", true},
	{"^0.1.2", "0.1.2", true},
	{"^0.1", "0.1.2", true},
	{"^0.0.1", "0.0.1", true},
	{"^1.2", "1.4.2", true},
	{"^1.2 ^1", "1.4.2", true},
	{"^1.2.3-alpha", "1.2.3-pre", true},
	{"^1.2.0-alpha", "1.2.0-pre", true},
	{"^0.0.1-alpha", "0.0.1-beta", true},
	{"^0.0.1-alpha", "0.0.1", true},
	{"^0.1.1-alpha", "0.1.1-beta", true},
	{"^x", "1.2.3", true},
	{"x - 1.0.0", "0.9.7", true},
	{"x - 1.x", "0.9.7", true},
	{"1.0.0 - x", "1.9.7", true},
	{"1.x - x", "1.9.7", true},
	{"<=7.x", "7.9.9", true},
	/* node-semver range-exclude.js */
	{"1.0.0 - 2.0.0", "2.2.3", false},
	{"1.2.3+asdf - 2.4.3+asdf", "1.2.3-pre.2", false},
	{"1.2.3+asdf - 2.4.3+asdf", "2.4.3-alpha", false},
	{"^1.2.3+build", "2.0.0", false},
	{"^1.2.3+build", "1.2.0", false},
	{"^1.2.3", "1.2.3-pre", false},
	{"^1.2", "1.2.0-pre", false},
	{">1.2", "1.3.0-beta", false},
	{"<=1.2.3", "1.2.3-beta", false},
	{"^1.2.3", "1.2.3-beta", false},
	{"=0.7.x", "0.7.0-asdf", false},
	{">=0.7.x", "0.7.0-asdf", false},
	{"1.0.0", "1.0.1", false},
	{">=1.0.0", "0.0.0", false},
	{">=1.0.0", "0.0.1", false},
	{">=1.0.0", "0.1.0", false},
	{">1.0.0", "0.0.1", false},
	{">1.0.0", "0.1.0", false},
	{"<=2.0.0", "3.0.0", false},
	{"<=2.0.0", "2.9999.9999", false},
	{"<=2.0.0", "2.2.9", false},
	{"<2.0.0", "2.9999.9999", false},
	{"<2.0.0", "2.2.9", false},
	{">=0.1.97", "0.1.93", false},
	{"0.1.20 || 1.2.4", "1.2.3", false},
	{">=0.2.3 || <0.0.1", "0.0.3", false},
	{">=0.2.3 || <0.0.1", "0.2.2", false},
	{"2.x.x", "1.1.3", false},
	{"2.x.x", "3.1.3", false},
	{"1.2.x", "1.3.3", false},
	{"1.2.x || 2.x", "3.1.3", false},
	{"1.2.x || 2.x", "1.1.3", false},
	{"2.*.*", "1.1.3", false},
	{"2.*.*", "3.1.3", false},
	{"1.2.*", "1.3.3", false},
	{"1.2.* || 2.*", "3.1.3", false},
	{"1.2.* || 2.*", "1.1.3", false},
	{"2", "1.1.2", false},
	{"2.3", "2.4.1", false},
	{"~0.0.1", "0.1.0-alpha", false},
	{"~0.0.1", "0.1.0", false},
	{"~2.4", "2.5.0", false},
	{"~2.4", "2.3.9", false},
	{"~>3.2.1", "3.3.2", false},
	{"~>3.2.1", "3.2.0", false},
	{"~1", "0.2.3", false},
	{"~>1", "2.2.3", false},
	{"~1.0", "1.1.0", false},
	{"<1", "1.0.0", false},
	{">=1.2", "1.1.1", false},
	{"~v0.5.4-beta", "0.5.4-alpha", false},
	{"=0.7.x", "0.8.2", false},
	{">=0.7.x", "0.6.2", false},
	{"<0.7.x", "0.7.2", false},
	{"<1.2.3", "1.2.3-beta", false},
	{"=1.2.3", "1.2.3-beta", false},
	{">1.2", "1.2.8", false},
	{"^0.0.1", "0.0.2-alpha", false},
	{"^0.0.1", "0.0.2", false},
	{"^1.2.3", "2.0.0-alpha", false},
	{"^1.2.3", "1.2.2", false},
	{"^1.2", "1.1.9", false},
	{"^1.0.0", "2.0.0-rc1", false},
	{"*", "1.2.3-foo", false},
	/* node-semver README, "Prerelease Tags" */
	{">1.2.3-alpha.3", "1.2.3-alpha.7", true},
	{">1.2.3-alpha.3", "3.4.5-alpha.9", false},
	{">1.2.3-alpha.3", "3.4.5", true},
	{">1.2.3-alpha.3", "1.2.3-alpha.3", false},
	/* node-semver README caret/tilde/x-range tables, upper bounds */
	{"^0.2.3", "0.2.9", true},
	{"^0.2.3", "0.3.0", false},
	{"^0.0.3", "0.0.3", true},
	{"^0.0.3", "0.0.4", false},
	{"^1.2.x", "1.9.0", true},
	{"^1.2.x", "2.0.0", false},
	{"^0.0.x", "0.0.9", true},
	{"^0.0.x", "0.1.0", false},
	{"^0.0", "0.0.9", true},
	{"^0.0", "0.1.0", false},
	{"^0.x", "0.9.9", true},
	{"^0.x", "1.0.0", false},
	{"~1.2.3", "1.2.9", true},
	{"~1.2.3", "1.3.0", false},
	{"1.2.3 - 2.3", "2.3.9", true},
	{"1.2.3 - 2.3", "2.4.0", false},
	{"1.2.3 - 2", "2.9.9", true},
	{"1.2.3 - 2", "3.0.0", false},
	{"1.2 - 2.3.4", "1.2.0", true},
	{"1.2 - 2.3.4", "2.3.5", false},
	{"^1.2.3-beta.2", "1.2.3-beta.4", true},
	{"^1.2.3-beta.2", "1.9.0", true},
	{"^1.2.3-beta.2", "1.2.4-beta.1", false},
	/* sluice: the examples of docs/versions.md */
	{"1.2.3 - 2.3.4", "2.3.4", true},
	{"1.2.3 - 2.3.4", "2.3.5", false},
	{"1.2 - 2.3", "2.3.9", true},
	{"1.2 - 2.3", "2.4.0", false},
	{"*", "5.0.0", true},
	{"*", "1.0.0-rc.1", false},
	{">1.2", "1.3.0", true},
	{"<=1.2", "1.2.9", true},
	{"<=1.2", "1.3.0", false},
	{"1.x", "1.9.0", true},
	{"1.x", "2.0.0", false},
	{"1.2", "1.2.9", true},
	{"1.2", "1.3.0", false},
	{"^v1.2.3", "1.8.1", true},
	{">=0.2.0-rc.1 <1.0.0", "0.2.0-rc.1", true},
	/* sluice: the example workspace's range and a pinned version */
	{">=0.1.0 <1.0.0", "0.1.0", true},
	{">=0.1.0 <1.0.0", "0.9.17", true},
	{">=0.1.0 <1.0.0", "0.0.9", false},
	{">=0.1.0 <1.0.0", "1.0.0", false},
	{">=0.1.0 <1.0.0", "0.2.0-rc.1", false},
	{">=0.1.0 <1.0.0", "1.0.0-rc.1", false},
	{"0.1.0", "0.1.0", true},
	{"0.1.0", "0.1.0+build.7", true},
	{"0.1.0", "0.1.1", false},
	{"0.1.0", "0.1.0-rc.1", false},
	{"=v0.1.0", "0.1.0", true},
	{"0.2.0-rc.1", "0.2.0-rc.1", true},
	{"0.2.0-rc.1", "0.2.0-rc.2", false},
	{">=0.2.0-rc.1 <1.0.0", "0.2.0-rc.2", true},
	{">=0.2.0-rc.1 <1.0.0", "0.3.0-rc.1", false},
	{">=0.2.0-rc.1 <1.0.0", "0.3.0", true},
};

static void test_satisfies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof satisfies / sizeof *satisfies; i++) {
		sluice_range *r;
		char err[256];
		if (sluice_range_parse(&r, satisfies[i].range, err, sizeof err) < 0)
			fail_msg("range '%s' should parse: %s", satisfies[i].range, err);
		sluice_semver v = ver(satisfies[i].version);
		if (sluice_range_satisfies(r, &v) != satisfies[i].in)
			fail_msg("'%s' %s satisfy '%s'", satisfies[i].version,
				 satisfies[i].in ? "should" : "should not", satisfies[i].range);
		sluice_semver_clear(&v);
		sluice_range_free(r);
	}
}

/* node-semver range-parse.js: the comparators each range means */
static const char *const canonical[][2] = {
	{"1.0.0 - 2.0.0", ">=1.0.0 <=2.0.0"},
	{"1 - 2", ">=1.0.0 <3.0.0-0"},
	{"1.0 - 2.0", ">=1.0.0 <2.1.0-0"},
	{"1.0.0", "1.0.0"},
	{">=*", "*"},
	{"", "*"},
	{"*", "*"},
	{">=1.0.0", ">=1.0.0"},
	{">1.0.0", ">1.0.0"},
	{"<=2.0.0", "<=2.0.0"},
	{"1", ">=1.0.0 <2.0.0-0"},
	{"<2.0.0", "<2.0.0"},
	{">= 1.0.0", ">=1.0.0"},
	{">=  1.0.0", ">=1.0.0"},
	{"> 1.0.0", ">1.0.0"},
	{"<    2.0.0", "<2.0.0"},
	{"<\t2.0.0", "<2.0.0"},
	{">=0.1.97", ">=0.1.97"},
	{"0.1.20 || 1.2.4", "0.1.20||1.2.4"},
	{">=0.2.3 || <0.0.1", ">=0.2.3||<0.0.1"},
	{"2.x.x", ">=2.0.0 <3.0.0-0"},
	{"1.2.x", ">=1.2.0 <1.3.0-0"},
	{"1.2.x || 2.x", ">=1.2.0 <1.3.0-0||>=2.0.0 <3.0.0-0"},
	{"x", "*"},
	{"2.*.*", ">=2.0.0 <3.0.0-0"},
	{"1.2.*", ">=1.2.0 <1.3.0-0"},
	{"1.2.* || 2.*", ">=1.2.0 <1.3.0-0||>=2.0.0 <3.0.0-0"},
	{"2", ">=2.0.0 <3.0.0-0"},
	{"2.3", ">=2.3.0 <2.4.0-0"},
	{"~2.4", ">=2.4.0 <2.5.0-0"},
	{"~>3.2.1", ">=3.2.1 <3.3.0-0"},
	{"~1", ">=1.0.0 <2.0.0-0"},
	{"~>1", ">=1.0.0 <2.0.0-0"},
	{"~> 1", ">=1.0.0 <2.0.0-0"},
	{"~1.0", ">=1.0.0 <1.1.0-0"},
	{"~ 1.0", ">=1.0.0 <1.1.0-0"},
	{"~>1.2", ">=1.2.0 <1.3.0-0"},
	{"^0", "<1.0.0-0"},
	{"^ 1", ">=1.0.0 <2.0.0-0"},
	{"^0.1", ">=0.1.0 <0.2.0-0"},
	{"^1.0", ">=1.0.0 <2.0.0-0"},
	{"^1.2", ">=1.2.0 <2.0.0-0"},
	{"^0.0.1", ">=0.0.1 <0.0.2-0"},
	{"^0.0.1-beta", ">=0.0.1-beta <0.0.2-0"},
	{"^0.1.2", ">=0.1.2 <0.2.0-0"},
	{"^1.2.3", ">=1.2.3 <2.0.0-0"},
	{"^1.2.3-beta.4", ">=1.2.3-beta.4 <2.0.0-0"},
	{"<1", "<1.0.0-0"},
	{"< 1", "<1.0.0-0"},
	{">=1", ">=1.0.0"},
	{">= 1", ">=1.0.0"},
	{"<1.2", "<1.2.0-0"},
	{"< 1.2", "<1.2.0-0"},
	{"^ 1.2 ^ 1", ">=1.2.0 <2.0.0-0 >=1.0.0"},
	{"1.2 - 3.4.5", ">=1.2.0 <=3.4.5"},
	{"1.2.3 - 3.4", ">=1.2.3 <3.5.0-0"},
	{"1.2 - 3.4", ">=1.2.0 <3.5.0-0"},
	{">1", ">=2.0.0"},
	{">1.2", ">=1.3.0"},
	{">X", "<0.0.0-0"},
	{"<X", "<0.0.0-0"},
	{"<x <* || >* 2.x", "<0.0.0-0"},
	{">x 2.x || * || <x", "*"},
	/* sluice: the workspace examples */
	{">=0.1.0 <1.0.0", ">=0.1.0 <1.0.0"},
	{"0.1.0", "0.1.0"},
	{"v0.1.0", "0.1.0"},
};

static void test_canonical(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof canonical / sizeof *canonical; i++) {
		sluice_range *r;
		char err[256];
		if (sluice_range_parse(&r, canonical[i][0], err, sizeof err) < 0)
			fail_msg("range '%s' should parse: %s", canonical[i][0], err);
		char *text = sluice_range_format(r);
		if (strcmp(text, canonical[i][1]) != 0)
			fail_msg("range '%s' means '%s', want '%s'", canonical[i][0], text,
				 canonical[i][1]);
		assert_string_equal(sluice_range_text(r), canonical[i][0]);
		free(text);
		sluice_range_free(r);
	}
}

/* sluice: what a user sees for a bad range (node-semver refuses each too) */
static const char *const invalid_ranges[][2] = {
	{">=1.0 !2", "unexpected '!' at column 7 in range '>=1.0 !2'"},
	{">01.02.03", "the major version '01' has a leading zero at column 2 in range '>01.02.03'"},
	{"~1.2.3beta", "unexpected 'b' at column 7 in range '~1.2.3beta'"},
	{">=", "expected a version after '>=' at column 3 in range '>='"},
	{"~", "expected a version after '~' at column 2 in range '~'"},
	{"^ || 1.0.0", "expected a version after '^' at column 3 in range '^ || 1.0.0'"},
	{"||", "empty alternative around '||' (it would admit every version; write '*' if that is meant) at column 1 in range '||'"},
	{">=0.1.0 <1.0.0 ||", "empty alternative around '||' (it would admit every version; write '*' if that is meant) at column 18 in range '>=0.1.0 <1.0.0 ||'"},
	{"|| 1.0.0", "empty alternative around '||' (it would admit every version; write '*' if that is meant) at column 1 in range '|| 1.0.0'"},
	{"1.0 | 2.0", "unexpected '|' (alternatives are separated by '||') at column 5 in range '1.0 | 2.0'"},
	{"1.0.0 ||| 2", "unexpected '|' (alternatives are separated by '||') at column 9 in range '1.0.0 ||| 2'"},
	{"1.2-beta", "unexpected '-': a pre-release needs a full major.minor.patch version at column 4 in range '1.2-beta'"},
	{"1.2.x-beta", "a version with a wildcard cannot have a pre-release at column 6 in range '1.2.x-beta'"},
	{"^1.2.3-", "empty pre-release identifier at column 8 in range '^1.2.3-'"},
	{"^1.2.3-01", "the numeric pre-release identifier '01' has a leading zero at column 8 in range '^1.2.3-01'"},
	{"1.2.3.4", "unexpected '.' at column 6 in range '1.2.3.4'"},
	{"latest", "unexpected 'l' at column 1 in range 'latest'"},
	{"1.0.0 -", "a hyphen range needs a version on both sides of ' - ' at column 7 in range '1.0.0 -'"},
	{" - 2.0.0", "a hyphen range needs a version on both sides of ' - ' at column 2 in range ' - 2.0.0'"},
	{"1.0.0 -2.0.0", "unexpected '-' at column 7 in range '1.0.0 -2.0.0'"},
	{">=1.0.0 - 2.0.0", "a hyphen range cannot use '>=' at column 1 in range '>=1.0.0 - 2.0.0'"},
	{"1 - ^2", "a hyphen range cannot use '^' at column 5 in range '1 - ^2'"},
	{"1 - 2 - 3", "a second ' - ' in one hyphen range at column 7 in range '1 - 2 - 3'"},
	{"1 - 2 3", "a hyphen range cannot be combined with other comparators (use '||' between alternatives) at column 7 in range '1 - 2 3'"},
	{"<1.0.0,>0.1.0", "unexpected ',' at column 7 in range '<1.0.0,>0.1.0'"},
	{"18446744073709551615", "the major version '18446744073709551615' is too large (at most 18446744073709551614) at column 1 in range '18446744073709551615'"},
};

static void test_invalid_ranges(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof invalid_ranges / sizeof *invalid_ranges; i++) {
		sluice_range *r = (sluice_range *)1;
		char err[256];
		int rc = sluice_range_parse(&r, invalid_ranges[i][0], err, sizeof err);
		if (rc != SLUICE_EINVAL)
			fail_msg("range '%s' should be refused", invalid_ranges[i][0]);
		assert_null(r);
		assert_string_equal(err, invalid_ranges[i][1]);
		assert_string_equal(sluice_error_last(), invalid_ranges[i][1]);
	}
	/* a short buffer gets a truncated message, never an overflow */
	sluice_range *r;
	char small[8];
	assert_int_equal(sluice_range_parse(&r, "latest", small, sizeof small), SLUICE_EINVAL);
	assert_string_equal(small, "unexpec");
	assert_int_equal(sluice_range_parse(&r, NULL, NULL, 0), SLUICE_EINVAL);
	assert_string_equal(sluice_error_last(), "no version range given");
	sluice_range_free(NULL);
}

static void test_max_satisfying(void **state)
{
	(void)state;
	static const char *const list[] = {
		"0.1.0", "0.1.1", "0.2.0-rc.1", "1.0.0", "0.1.1+b2", "0.0.9",
	};
	static const struct {
		const char *range;
		ptrdiff_t want;
	} cases[] = {
		{">=0.1.0 <1.0.0", 1}, /* 0.1.1; the first of two equal ones */
		{"0.1.0", 0},
		{"*", 3},
		{"^2", -1},
		{">=0.2.0-rc.0 <1.0.0", 2},
		{"~0.0.1 || 0.1.0", 0},
		{"<0.1.0", 5},
	};
	size_t n = sizeof list / sizeof *list;
	sluice_semver versions[sizeof list / sizeof *list];
	for (size_t i = 0; i < n; i++)
		versions[i] = ver(list[i]);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		sluice_range *r;
		assert_int_equal(sluice_range_parse(&r, cases[i].range, NULL, 0), 0);
		ptrdiff_t got = sluice_range_max_satisfying(r, versions, n);
		if (got != cases[i].want)
			fail_msg("max satisfying '%s' = %td, want %td", cases[i].range, got,
				 cases[i].want);
		assert_int_equal(sluice_range_max_satisfying(r, versions, 0), -1);
		sluice_range_free(r);
	}
	for (size_t i = 0; i < n; i++)
		sluice_semver_clear(&versions[i]);
}

static void test_copy(void **state)
{
	(void)state;
	sluice_semver a = ver("1.2.3-rc.1+b.5"), b = SLUICE_SEMVER_INIT;
	sluice_semver_copy(&b, &a);
	sluice_semver_clear(&a);
	char *text = sluice_semver_format(&b);
	assert_string_equal(text, "1.2.3-rc.1+b.5");
	free(text);
	sluice_semver_clear(&b);
}

/* sluice: build metadata has no precedence, so a tag that differs from a
 * recorded one only after '+' is the same version (docs/versions.md) */
static void test_build_variant(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		bool same;
	} rows[] = {
		{"0.1.0", "0.1.0+build.2", true},
		{"0.1.0+build.2", "0.1.0", true},
		{"0.1.0+a", "0.1.0+b", true},
		{"1.0.0-rc.1", "1.0.0-rc.1+exp.sha.5114f85", true},
		{"0.1.0", "0.1.0", false},       /* the same text: the same release */
		{"0.1.0+a", "0.1.0+a", false},
		{"0.1.0", "0.1.1+build.2", false},
		{"1.0.0-rc.1", "1.0.0+rc.1", false}, /* a pre-release is older */
		{"1.0.0-rc.1", "1.0.0-rc.2+b", false},
		{"0.1.0", "v0.1.0+b", false},    /* not a version */
		{"0.1.0", "0.1+b", false},
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (sluice_semver_build_variant(rows[i].a, rows[i].b) != rows[i].same) {
			print_error("row %zu: '%s' and '%s': expected %s\n", i, rows[i].a,
				    rows[i].b, rows[i].same ? "same version" : "different");
			bad++;
		}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_tag),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_satisfies),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_invalid_ranges),
		cmocka_unit_test(test_max_satisfying),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_build_variant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
