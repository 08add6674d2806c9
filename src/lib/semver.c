/* SemVer 2.0 versions and node-semver style ranges (docs/versions.md).
 *
 * Ranges are desugared at parse time into sets of plain comparators exactly
 * as node-semver does (its includePrerelease=false mode), so that
 * satisfaction, max_satisfying and the canonical text all agree with what
 * npm users expect. The parser is a hand-written scanner rather than a copy
 * of node's regular expressions so that every error can name a column. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/error.h"
#include "sluice/semver.h"
#include "sluice/util.h"

#define QUOTE_MAX 120 /* longest input quoted back in a message */

/* ---- scanning ---------------------------------------------------------- */

struct scan {
	const char *s;
	size_t pos;
	size_t err_pos;
	char why[200];
};

/* A version whose parts may be wildcards: "1", "1.2", "1.x", "*", "1.2.3-rc.1". */
struct partial {
	unsigned nparts; /* numeric parts before the first wildcard or the end */
	unsigned count;  /* parts written, wildcards included */
	uint64_t num[3];
	char *pre;
	char *build;
};

static const char *const part_names[3] = {"major", "minor", "patch"};

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_ident_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_wild(char c) { return c == 'x' || c == 'X' || c == '*'; }

static int scan_fail(struct scan *sc, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int scan_fail(struct scan *sc, size_t pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sc->why, sizeof sc->why, fmt, ap);
	va_end(ap);
	sc->err_pos = pos;
	return SLUICE_EINVAL;
}

/* "unexpected '!'" or "unexpected byte 0x07" for the character at pos. */
static int scan_unexpected(struct scan *sc, size_t pos)
{
	unsigned char c = (unsigned char)sc->s[pos];
	if (c == '\0')
		return scan_fail(sc, pos, "unexpected end of text");
	if (c < 0x20 || c >= 0x7f)
		return scan_fail(sc, pos, "unexpected byte 0x%02x", c);
	return scan_fail(sc, pos, "unexpected '%c'", c);
}

static int scan_number(struct scan *sc, uint64_t *out, const char *name, uint64_t max)
{
	size_t start = sc->pos;
	uint64_t v = 0;
	bool overflow = false;

	while (is_digit(sc->s[sc->pos])) {
		unsigned d = (unsigned)(sc->s[sc->pos] - '0');
		if (v > (max - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
		sc->pos++;
	}
	int len = (int)(sc->pos - start);
	if (len > 1 && sc->s[start] == '0')
		return scan_fail(sc, start, "the %s version '%.*s' has a leading zero", name,
				 len > 24 ? 24 : len, sc->s + start);
	if (overflow)
		return scan_fail(sc, start, "the %s version '%.*s%s' is too large (at most %llu)",
				 name, len > 24 ? 24 : len, sc->s + start, len > 24 ? "..." : "",
				 (unsigned long long)max);
	*out = v;
	return 0;
}

/* Dot-separated identifiers after '-' (pre-release) or '+' (build). */
static int scan_idents(struct scan *sc, char **out, bool pre)
{
	const char *what = pre ? "pre-release" : "build metadata";
	size_t start = sc->pos;

	for (;;) {
		size_t id = sc->pos;
		bool numeric = true;
		while (is_ident_char(sc->s[sc->pos])) {
			if (!is_digit(sc->s[sc->pos]))
				numeric = false;
			sc->pos++;
		}
		size_t len = sc->pos - id;
		if (len == 0) {
			char c = sc->s[sc->pos];
			if (c == '\0' || c == '.' || c == '+' || is_space(c) || c == '|')
				return scan_fail(sc, id, "empty %s identifier", what);
			return scan_unexpected(sc, id);
		}
		/* SemVer 2.0 item 9: numeric identifiers must not have leading
		 * zeros (build metadata may, item 10) */
		if (pre && numeric && len > 1 && sc->s[id] == '0')
			return scan_fail(sc, id, "the numeric pre-release identifier '%.*s' has a leading zero",
					 (int)(len > 24 ? 24 : len), sc->s + id);
		if (sc->s[sc->pos] != '.')
			break;
		sc->pos++;
	}
	*out = sluice_xstrndup(sc->s + start, sc->pos - start);
	return 0;
}

static void partial_clear(struct partial *p)
{
	free(p->pre);
	free(p->build);
	memset(p, 0, sizeof *p);
}

/* Scans a version at sc->pos. With `wild`, parts may be missing or wildcards (x, X, star)
 * (ranges); without, all three numbers are required (versions, tags).
 * Stops at the first character that cannot continue the version. */
static int scan_partial(struct scan *sc, struct partial *p, bool wild, uint64_t max)
{
	bool seen_x = false;
	int rc = 0;

	memset(p, 0, sizeof *p);
	for (unsigned i = 0; i < 3; i++) {
		if (i > 0) {
			if (sc->s[sc->pos] != '.') {
				if (wild)
					break;
				if (sc->s[sc->pos] == '\0')
					return scan_fail(sc, sc->pos, "expected '.' and the %s version",
							 part_names[i]);
				return scan_unexpected(sc, sc->pos);
			}
			sc->pos++;
		}
		char c = sc->s[sc->pos];
		if (wild && is_wild(c)) {
			sc->pos++;
			seen_x = true;
		} else if (is_digit(c)) {
			uint64_t v = 0;
			if ((rc = scan_number(sc, &v, part_names[i], max)) < 0)
				return rc;
			/* node ignores numbers after a wildcard: 1.x.3 is 1.x */
			if (!seen_x)
				p->num[p->nparts++] = v;
		} else if (c == '\0' && i == 0) {
			return scan_fail(sc, sc->pos, "expected a version");
		} else if (c == '\0') {
			return scan_fail(sc, sc->pos, "expected the %s version after '.'",
					 part_names[i]);
		} else {
			return scan_unexpected(sc, sc->pos);
		}
		p->count++;
	}
	char c = sc->s[sc->pos];
	if ((c == '-' || c == '+') && p->count < 3)
		return scan_fail(sc, sc->pos, "unexpected '%c': a %s needs a full major.minor.patch version",
				 c, c == '-' ? "pre-release" : "build");
	if (c == '-') {
		if (seen_x)
			return scan_fail(sc, sc->pos, "a version with a wildcard cannot have a pre-release");
		sc->pos++;
		if ((rc = scan_idents(sc, &p->pre, true)) < 0)
			goto fail;
	}
	if (sc->s[sc->pos] == '+') {
		sc->pos++;
		if ((rc = scan_idents(sc, &p->build, false)) < 0)
			goto fail;
	}
	return 0;
fail:
	partial_clear(p);
	return rc;
}

/* "'text'" or "'first 120 bytes...'" for messages. */
static int quote_len(const char *s) { return (int)(strlen(s) > QUOTE_MAX ? QUOTE_MAX : strlen(s)); }
static const char *quote_more(const char *s) { return strlen(s) > QUOTE_MAX ? "..." : ""; }

/* ---- versions ---------------------------------------------------------- */

void sluice_semver_init(sluice_semver *v) { memset(v, 0, sizeof *v); }

void sluice_semver_clear(sluice_semver *v)
{
	if (!v)
		return;
	free(v->pre);
	free(v->build);
	memset(v, 0, sizeof *v);
}

void sluice_semver_copy(sluice_semver *dst, const sluice_semver *src)
{
	dst->major = src->major;
	dst->minor = src->minor;
	dst->patch = src->patch;
	dst->pre = src->pre ? sluice_xstrdup(src->pre) : NULL;
	dst->build = src->build ? sluice_xstrdup(src->build) : NULL;
}

/* Parses text[start..] as a whole strict version; `what` names the input
 * in messages ("version", "release tag"). */
static int parse_strict(sluice_semver *out, const char *text, size_t start, const char *what)
{
	struct scan sc = {.s = text, .pos = start};
	struct partial p;
	int rc;

	if ((rc = scan_partial(&sc, &p, false, UINT64_MAX)) < 0)
		goto fail;
	if (text[sc.pos] != '\0') {
		partial_clear(&p);
		rc = scan_unexpected(&sc, sc.pos);
		goto fail;
	}
	out->major = p.num[0];
	out->minor = p.num[1];
	out->patch = p.num[2];
	out->pre = p.pre;
	out->build = p.build;
	return 0;
fail:
	return sluice_error_set(rc, "invalid %s '%.*s%s': %s at column %zu", what,
				quote_len(text), text, quote_more(text), sc.why, sc.err_pos + 1);
}

int sluice_semver_parse(sluice_semver *out, const char *s)
{
	sluice_semver_init(out);
	if (!s)
		return sluice_error_set(SLUICE_EINVAL, "invalid version: none given");
	if (s[0] == 'v' || s[0] == 'V')
		return sluice_error_set(SLUICE_EINVAL,
					"invalid version '%.*s%s': a version starts with a digit; drop the leading '%c'",
					quote_len(s), s, quote_more(s), s[0]);
	return parse_strict(out, s, 0, "version");
}

int sluice_semver_parse_tag(sluice_semver *out, const char *tag)
{
	size_t start = 0;

	sluice_semver_init(out);
	if (!tag)
		return sluice_error_set(SLUICE_EINVAL, "invalid release tag: none given");
	if (sluice_str_has_prefix(tag, "refs/tags/"))
		start = strlen("refs/tags/");
	if (tag[start] != 'v')
		return sluice_error_set(SLUICE_EINVAL,
					"'%.*s%s' is not a release tag: release tags are 'v' and a version, such as v1.2.3 or v1.2.3-rc.1",
					quote_len(tag), tag, quote_more(tag));
	return parse_strict(out, tag, start + 1, "release tag");
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return n > 0;
}

/* SemVer 2.0 item 11.4: numeric identifiers compare as numbers and sort
 * before alphanumeric ones; alphanumeric ones compare in ASCII order; a
 * shorter list that is a prefix of a longer one sorts first. */
static int cmp_pre(const char *a, const char *b)
{
	for (;;) {
		size_t na = strcspn(a, "."), nb = strcspn(b, ".");
		bool da = all_digits(a, na), db = all_digits(b, nb);
		int c;

		if (da && db) {
			/* no leading zeros (parse refuses them), so a longer digit
			 * string is a larger number, whatever its size */
			while (na > 1 && *a == '0')
				a++, na--;
			while (nb > 1 && *b == '0')
				b++, nb--;
			c = na != nb ? (na < nb ? -1 : 1) : memcmp(a, b, na);
		} else if (da != db) {
			c = da ? -1 : 1;
		} else {
			c = memcmp(a, b, na < nb ? na : nb);
			if (c == 0 && na != nb)
				c = na < nb ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
		a += na;
		b += nb;
		if (!*a || !*b)
			return *a ? 1 : *b ? -1 : 0;
		a++;
		b++;
	}
}

static int cmp_u64(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

int sluice_semver_cmp(const sluice_semver *a, const sluice_semver *b)
{
	int c;
	if ((c = cmp_u64(a->major, b->major)) || (c = cmp_u64(a->minor, b->minor)) ||
	    (c = cmp_u64(a->patch, b->patch)))
		return c;
	/* item 11.3: a pre-release sorts before the release itself */
	if (!a->pre || !b->pre)
		return a->pre ? -1 : b->pre ? 1 : 0;
	return cmp_pre(a->pre, b->pre);
}

bool sluice_semver_build_variant(const char *a, const char *b)
{
	sluice_semver va = SLUICE_SEMVER_INIT, vb = SLUICE_SEMVER_INIT;
	bool same = false;

	if (strcmp(a, b) != 0 && sluice_semver_parse(&va, a) == 0 &&
	    sluice_semver_parse(&vb, b) == 0)
		same = sluice_semver_cmp(&va, &vb) == 0;
	sluice_semver_clear(&va);
	sluice_semver_clear(&vb);
	return same;
}

static void put_version(sluice_buf *b, const sluice_semver *v, bool build)
{
	sluice_buf_printf(b, "%llu.%llu.%llu", (unsigned long long)v->major,
			  (unsigned long long)v->minor, (unsigned long long)v->patch);
	if (v->pre)
		sluice_buf_printf(b, "-%s", v->pre);
	if (build && v->build)
		sluice_buf_printf(b, "+%s", v->build);
}

char *sluice_semver_format(const sluice_semver *v)
{
	sluice_buf b = SLUICE_BUF_INIT;
	put_version(&b, v, true);
	return sluice_buf_detach(&b);
}

/* ---- ranges ------------------------------------------------------------ */

enum op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ };

static const char *const op_text[] = {"<", "<=", ">", ">=", ""};

struct comparator {
	enum op op;
	sluice_semver v;
};

struct cset {
	struct comparator *c; /* none: any version */
	size_t n, cap;
};

struct sluice_range {
	struct cset *sets;
	size_t n, cap;
	char *text;
};

static void cset_clear(struct cset *s)
{
	for (size_t i = 0; i < s->n; i++)
		sluice_semver_clear(&s->c[i].v);
	free(s->c);
	memset(s, 0, sizeof *s);
}

void sluice_range_free(sluice_range *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		cset_clear(&r->sets[i]);
	free(r->sets);
	free(r->text);
	free(r);
}

const char *sluice_range_text(const sluice_range *r) { return r->text; }

static bool is_null_comparator(const struct comparator *c)
{
	return c->op == OP_LT && c->v.major == 0 && c->v.minor == 0 && c->v.patch == 0 &&
	       c->v.pre && strcmp(c->v.pre, "0") == 0;
}

/* Adds "op M.m.p[-pre]" to s, skipping duplicates and ">=0.0.0" (which
 * admits everything, as node's replaceGTE0 says). */
static void add_cmp(struct cset *s, enum op op, uint64_t M, uint64_t m, uint64_t p,
		    const char *pre)
{
	sluice_semver v = {M, m, p, (char *)pre, NULL};

	if (op == OP_GE && M == 0 && m == 0 && p == 0 && !pre)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->c[i].op == op && sluice_semver_cmp(&s->c[i].v, &v) == 0)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4;
		s->c = sluice_xrealloc(s->c, s->cap * sizeof *s->c);
	}
	s->c[s->n].op = op;
	s->c[s->n].v = (sluice_semver){M, m, p, pre ? sluice_xstrdup(pre) : NULL, NULL};
	s->n++;
}

enum kind { K_NONE = 5, K_TILDE, K_CARET, K_HYPHEN }; /* after enum op */

struct item {
	int kind; /* enum op or enum kind */
	size_t pos;
	struct partial p;
};

static const char *kind_text(int kind)
{
	switch (kind) {
	case OP_EQ: return "=";
	case K_TILDE: return "~";
	case K_CARET: return "^";
	default: return kind < K_NONE ? op_text[kind] : "";
	}
}

/* The nothing-admits comparator node writes as "<0.0.0-0". */
static void add_null(struct cset *s) { add_cmp(s, OP_LT, 0, 0, 0, "0"); }

/* x-ranges with an operator: ">1.2" is ">=1.3.0", "<=1.x" is "<2.0.0-0". */
static void expand_x(struct cset *s, int op, const struct partial *p)
{
	uint64_t M = p->num[0], m = p->nparts >= 2 ? p->num[1] : 0;

	if (op == K_NONE)
		op = OP_EQ;
	if (p->nparts == 0) {
		if (op == OP_LT || op == OP_GT)
			add_null(s);
		return; /* any version */
	}
	if (op == OP_EQ) {
		if (p->nparts == 1) {
			add_cmp(s, OP_GE, M, 0, 0, NULL);
			add_cmp(s, OP_LT, M + 1, 0, 0, "0");
		} else {
			add_cmp(s, OP_GE, M, m, 0, NULL);
			add_cmp(s, OP_LT, M, m + 1, 0, "0");
		}
		return;
	}
	if (op == OP_GT || op == OP_LE) {
		/* everything in the named major (or minor) is excluded (">") or
		 * included ("<="): move to the next one */
		if (p->nparts == 1)
			M++, m = 0;
		else
			m++;
		op = op == OP_GT ? OP_GE : OP_LT;
	}
	add_cmp(s, (enum op)op, M, m, 0, op == OP_LT ? "0" : NULL);
}

static void expand_item(struct cset *s, const struct item *it)
{
	const struct partial *p = &it->p;
	uint64_t M = p->num[0], m = p->num[1], pt = p->num[2];

	switch (it->kind) {
	case K_TILDE:
		if (p->nparts == 0)
			break;
		if (p->nparts == 1) {
			add_cmp(s, OP_GE, M, 0, 0, NULL);
			add_cmp(s, OP_LT, M + 1, 0, 0, "0");
		} else {
			add_cmp(s, OP_GE, M, m, p->nparts == 3 ? pt : 0, p->pre);
			add_cmp(s, OP_LT, M, m + 1, 0, "0");
		}
		break;
	case K_CARET:
		/* the upper bound bumps the leftmost non-zero part given */
		if (p->nparts == 0)
			break;
		if (p->nparts == 1) {
			add_cmp(s, OP_GE, M, 0, 0, NULL);
			add_cmp(s, OP_LT, M + 1, 0, 0, "0");
		} else if (p->nparts == 2) {
			add_cmp(s, OP_GE, M, m, 0, NULL);
			if (M == 0)
				add_cmp(s, OP_LT, 0, m + 1, 0, "0");
			else
				add_cmp(s, OP_LT, M + 1, 0, 0, "0");
		} else {
			add_cmp(s, OP_GE, M, m, pt, p->pre);
			if (M == 0 && m == 0)
				add_cmp(s, OP_LT, 0, 0, pt + 1, "0");
			else if (M == 0)
				add_cmp(s, OP_LT, 0, m + 1, 0, "0");
			else
				add_cmp(s, OP_LT, M + 1, 0, 0, "0");
		}
		break;
	default:
		if (p->nparts < 3)
			expand_x(s, it->kind, p);
		else
			add_cmp(s, it->kind == K_NONE ? OP_EQ : (enum op)it->kind, M, m, pt, p->pre);
	}
}

/* "1.2 - 2.3.4": partial ends widen as in node-semver. */
static void expand_hyphen(struct cset *s, const struct partial *from, const struct partial *to)
{
	uint64_t M = from->num[0], m = from->num[1], p = from->num[2];
	if (from->nparts == 1)
		add_cmp(s, OP_GE, M, 0, 0, NULL);
	else if (from->nparts == 2)
		add_cmp(s, OP_GE, M, m, 0, NULL);
	else if (from->nparts == 3)
		add_cmp(s, OP_GE, M, m, p, from->pre);

	M = to->num[0], m = to->num[1], p = to->num[2];
	if (to->nparts == 1)
		add_cmp(s, OP_LT, M + 1, 0, 0, "0");
	else if (to->nparts == 2)
		add_cmp(s, OP_LT, M, m + 1, 0, "0");
	else if (to->nparts == 3)
		add_cmp(s, OP_LE, M, m, p, to->pre);
}

/* Node keeps only "<0.0.0-0" in a set that contains it. */
static void cset_normalize(struct cset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!is_null_comparator(&s->c[i]))
			continue;
		cset_clear(s);
		add_null(s);
		return;
	}
}

static void items_clear(struct item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		partial_clear(&items[i].p);
}

/* Reads one "||"-separated set at sc->pos into items. */
static int scan_set(struct scan *sc, struct item **items, size_t *n, size_t *cap)
{
	const char *s = sc->s;
	int rc;

	*n = 0;
	for (;;) {
		while (is_space(s[sc->pos]))
			sc->pos++;
		char c = s[sc->pos];
		if (c == '\0' || (c == '|' && s[sc->pos + 1] == '|'))
			return 0;
		if (c == '|')
			return scan_fail(sc, sc->pos, "unexpected '|' (alternatives are separated by '||')");
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 8;
			*items = sluice_xrealloc(*items, *cap * sizeof **items);
		}
		struct item *it = &(*items)[*n];
		memset(it, 0, sizeof *it);
		it->pos = sc->pos;
		/* node: a hyphen range is "\s+-\s+" between two versions; a
		 * lone '-' at the end is a hyphen range missing its end */
		if (c == '-' && sc->pos > 0 && is_space(s[sc->pos - 1]) &&
		    (is_space(s[sc->pos + 1]) || s[sc->pos + 1] == '\0' || s[sc->pos + 1] == '|')) {
			it->kind = K_HYPHEN;
			sc->pos++;
			(*n)++;
			continue;
		}
		switch (c) {
		case '<': it->kind = s[sc->pos + 1] == '=' ? OP_LE : OP_LT; break;
		case '>': it->kind = s[sc->pos + 1] == '=' ? OP_GE : OP_GT; break;
		case '=': it->kind = OP_EQ; break;
		case '~': it->kind = K_TILDE; break;
		case '^': it->kind = K_CARET; break;
		default: it->kind = K_NONE; break;
		}
		if (it->kind != K_NONE) {
			sc->pos += (it->kind == OP_LE || it->kind == OP_GE) ? 2 : 1;
			/* "~>1.2" is the Ruby spelling node also accepts */
			if (it->kind == K_TILDE && s[sc->pos] == '>')
				sc->pos++;
			while (is_space(s[sc->pos]))
				sc->pos++;
			if (s[sc->pos] == '\0' || s[sc->pos] == '|')
				return scan_fail(sc, sc->pos, "expected a version after '%s'",
						 kind_text(it->kind));
		}
		if (s[sc->pos] == 'v')
			sc->pos++;
		if ((rc = scan_partial(sc, &it->p, true, UINT64_MAX - 1)) < 0)
			return rc;
		(*n)++;
		c = s[sc->pos];
		if (c != '\0' && c != '|' && !is_space(c))
			return scan_unexpected(sc, sc->pos);
	}
}

static int build_set(struct scan *sc, struct cset *set, const struct item *items, size_t n)
{
	size_t hyphen = n;

	for (size_t i = 0; i < n; i++) {
		if (items[i].kind != K_HYPHEN)
			continue;
		if (hyphen != n)
			return scan_fail(sc, items[i].pos, "a second ' - ' in one hyphen range");
		hyphen = i;
	}
	if (hyphen == n) {
		for (size_t i = 0; i < n; i++)
			expand_item(set, &items[i]);
		return 0;
	}
	if (hyphen == 0 || hyphen + 1 == n)
		return scan_fail(sc, items[hyphen].pos, "a hyphen range needs a version on both sides of ' - '");
	if (n > 3)
		return scan_fail(sc, items[hyphen == 1 ? 3 : 0].pos,
				 "a hyphen range cannot be combined with other comparators (use '||' between alternatives)");
	for (size_t i = 0; i < n; i += 2)
		if (items[i].kind != K_NONE && items[i].kind != OP_EQ)
			return scan_fail(sc, items[i].pos, "a hyphen range cannot use '%s'",
					 kind_text(items[i].kind));
	expand_hyphen(set, &items[0].p, &items[2].p);
	return 0;
}

/* Node's range-level rules: drop null sets when others exist, and a set
 * that admits everything makes the whole range just that set. */
static void range_normalize(sluice_range *r)
{
	if (r->n < 2)
		return;
	size_t keep = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (r->sets[i].n == 1 && is_null_comparator(&r->sets[i].c[0]))
			cset_clear(&r->sets[i]);
		else
			r->sets[keep++] = r->sets[i];
	}
	if (keep == 0) {
		add_null(&r->sets[0]);
		keep = 1;
	}
	r->n = keep;
	for (size_t i = 0; i < r->n; i++) {
		if (r->sets[i].n != 0)
			continue;
		for (size_t j = 0; j < r->n; j++)
			if (j != i)
				cset_clear(&r->sets[j]);
		r->sets[0] = r->sets[i];
		r->n = 1;
		break;
	}
}

int sluice_range_parse(sluice_range **out, const char *text, char *err, size_t errlen)
{
	struct scan sc = {.s = text ? text : ""};
	struct item *items = NULL;
	size_t nitems = 0, cap = 0;
	sluice_range *r = NULL;
	int rc = 0;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!text) {
		rc = sluice_error_set(SLUICE_EINVAL, "no version range given");
		goto done;
	}
	r = sluice_xcalloc(1, sizeof *r);
	r->text = sluice_xstrdup(text);
	for (;;) {
		size_t set_start = sc.pos;
		if ((rc = scan_set(&sc, &items, &nitems, &cap)) < 0)
			goto fail;
		/* npm reads an empty alternative as "any version": in a rollout
		 * tool a stray "||" must not admit every release, so refuse it */
		if (nitems == 0 && (r->n > 0 || text[sc.pos] != '\0')) {
			rc = scan_fail(&sc, set_start, "empty alternative around '||' (it would admit "
				       "every version; write '*' if that is meant)");
			goto fail;
		}
		if (r->n == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 2;
			r->sets = sluice_xrealloc(r->sets, r->cap * sizeof *r->sets);
		}
		struct cset *set = &r->sets[r->n++];
		memset(set, 0, sizeof *set);
		if ((rc = build_set(&sc, set, items, nitems)) < 0)
			goto fail;
		cset_normalize(set);
		items_clear(items, nitems);
		nitems = 0;
		if (text[sc.pos] == '\0')
			break;
		sc.pos += 2; /* "||" */
	}
	range_normalize(r);
	*out = r;
	r = NULL;
	goto done;
fail:
	rc = sluice_error_set(rc, "%s at column %zu in range '%.*s%s'", sc.why, sc.err_pos + 1,
			      quote_len(text), text, quote_more(text));
done:
	if (rc < 0 && err && errlen)
		snprintf(err, errlen, "%s", sluice_error_last());
	items_clear(items, nitems);
	free(items);
	sluice_range_free(r);
	return rc;
}

static bool cmp_test(const struct comparator *c, const sluice_semver *v)
{
	int d = sluice_semver_cmp(v, &c->v);
	switch (c->op) {
	case OP_LT: return d < 0;
	case OP_LE: return d <= 0;
	case OP_GT: return d > 0;
	case OP_GE: return d >= 0;
	default: return d == 0;
	}
}

static bool set_test(const struct cset *s, const sluice_semver *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (!cmp_test(&s->c[i], v))
			return false;
	if (!v->pre)
		return true;
	/* ^1.2.3-rc.1 admits 1.2.3-rc.2 but not 1.2.4-alpha: a pre-release
	 * passes only when the set names one of the same major.minor.patch */
	for (size_t i = 0; i < s->n; i++) {
		const sluice_semver *a = &s->c[i].v;
		if (a->pre && a->major == v->major && a->minor == v->minor && a->patch == v->patch)
			return true;
	}
	return false;
}

bool sluice_range_satisfies(const sluice_range *r, const sluice_semver *v)
{
	for (size_t i = 0; i < r->n; i++)
		if (set_test(&r->sets[i], v))
			return true;
	return false;
}

ptrdiff_t sluice_range_max_satisfying(const sluice_range *r, const sluice_semver *versions,
				      size_t n)
{
	ptrdiff_t best = -1;
	for (size_t i = 0; i < n; i++) {
		if (!sluice_range_satisfies(r, &versions[i]))
			continue;
		if (best < 0 || sluice_semver_cmp(&versions[best], &versions[i]) < 0)
			best = (ptrdiff_t)i;
	}
	return best;
}

char *sluice_range_format(const sluice_range *r)
{
	sluice_buf b = SLUICE_BUF_INIT;

	for (size_t i = 0; i < r->n; i++) {
		if (i)
			sluice_buf_puts(&b, "||");
		for (size_t j = 0; j < r->sets[i].n; j++) {
			if (j)
				sluice_buf_puts(&b, " ");
			sluice_buf_puts(&b, op_text[r->sets[i].c[j].op]);
			put_version(&b, &r->sets[i].c[j].v, false);
		}
	}
	if (b.len == 0)
		sluice_buf_puts(&b, "*");
	return sluice_buf_detach(&b);
}
