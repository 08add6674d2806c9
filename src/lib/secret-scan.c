/* The secret-looking value scanner (secret-scan.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "sluice/secret-scan.h"
#include "sluice/util.h"

/* ---- secret-looking values ---------------------------------------------- */

/* Known token prefixes; a prefix alone is not a token: the tail must be
 * token-sized and token-like (see prefix_token). */
static const char *const token_prefixes[] = {
	"ghp_",	 "gho_",  "ghu_",    "ghs_", "ghr_", "github_pat_", "glpat-", "xoxb-",
	"xoxp-", "xoxa-", "xoxs-",   "sk_live_", "rk_live_", "sk-", "AIza", "hvs.",
	"s.",	 "npm_",  "pypi-",   NULL,
};

/* Words that, written `word=value`, set a credential inline. */
static const char *const secret_words[] = {
	"password", "passwd", "secret", "token", "api_key", "apikey", "access_key",
	"private_key", "client_secret", NULL,
};

static double entropy(const char *s, size_t n)
{
	unsigned counts[256] = {0};
	double h = 0;
	for (size_t i = 0; i < n; i++)
		counts[(unsigned char)s[i]]++;
	for (int c = 0; c < 256; c++)
		if (counts[c])
			h -= (counts[c] / (double)n) * log2(counts[c] / (double)n);
	return h;
}

/* Characters that end a word of text: what surrounds a token in prose,
 * headers, query strings and shell lines. '/' is kept inside (base64),
 * and split off where it matters. */
static bool is_sep(unsigned char c)
{
	return isspace(c) || strchr("\"'`,;()<>[]{}|=:&?#*!@\\", c) != NULL;
}

static bool digit_and_letter(const char *t, size_t n)
{
	bool digit = false, alpha = false;
	for (size_t i = 0; i < n; i++) {
		digit |= isdigit((unsigned char)t[i]) != 0;
		alpha |= isalpha((unsigned char)t[i]) != 0;
	}
	return digit && alpha;
}

static bool tail_like_token(const char *t, size_t n, size_t min)
{
	bool digit = false, alpha = false;
	if (n < min)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (!isalnum(c) && c != '_' && c != '-')
			return false;
		digit |= isdigit(c) != 0;
		alpha |= isalpha(c) != 0;
	}
	return digit && alpha && entropy(t, n) >= 3.0;
}

/* A generated credential: a long unbroken run that mixes upper- and
 * lowercase letters and digits, changing between them at almost every
 * other character, close to random. Names people write lack one of these:
 * dashed and dotted names (ELBSecurityPolicy-TLS13-1-2-2021-06, host names,
 * UUIDs) have short runs, CamelCase changes class once a word,
 * t0805-scenario-approval-binding and hex commit ids have no uppercase. */
static bool random_run(const char *t, size_t n)
{
	bool lower = false, upper = false, digit = false;
	size_t changes = 0;
	int last = -1;
	if (n < 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		int cls = islower(c) ? 0 : isupper(c) ? 1 : isdigit(c) ? 2 : 3;
		lower |= cls == 0;
		upper |= cls == 1;
		digit |= cls == 2;
		changes += last >= 0 && cls != last;
		last = cls;
	}
	return lower && upper && digit && changes * 5 >= n * 2 && entropy(t, n) >= 3.8;
}

static bool random_looking(const char *t, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !strchr("-._/", t[j]))
			j++;
		if (random_run(t + i, j - i))
			return true;
		i = j + 1;
	}
	return false;
}

/* Why one word (no separators in it) looks like a credential, or NULL.
 * `whole`: the word is the whole value, for the older, plainer wording. */
static const char *word_secret(const char *t, size_t n, bool whole)
{
	for (const char *const *p = token_prefixes; *p; p++) {
		size_t pl = strlen(*p);
		if (n > pl && strncmp(t, *p, pl) == 0 && tail_like_token(t + pl, n - pl, 16))
			return whole ? "it starts like an access token"
				     : "it holds what looks like an access token";
	}
	if (n >= 20 && (strncmp(t, "AKIA", 4) == 0 || strncmp(t, "ASIA", 4) == 0)) {
		size_t i = 4;
		while (i < n && (isupper((unsigned char)t[i]) || isdigit((unsigned char)t[i])))
			i++;
		if (i == n && n <= 24)
			return "it holds what looks like a cloud access key";
	}
	if (n > 40 && strncmp(t, "eyJ", 3) == 0) {
		const char *d1 = memchr(t, '.', n);
		const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - t)) : NULL;
		if (d2)
			return "it looks like a JSON web token";
	}
	if (random_looking(t, n))
		return "it is a long random-looking string";
	return NULL;
}

static bool word_is_placeholder(const char *t, size_t n)
{
	return n == 0 || strchr("$<{%", t[0]) != NULL || (n >= 3 && strncmp(t, "...", 3) == 0);
}

/* Looks at one line (n bytes, no newline); sets *col (0-based) to where
 * the secret-looking part starts. */
static const char *line_secret(const char *s, size_t n, bool whole, size_t *col)
{
	const char *hit;

	for (size_t i = 0; i + 10 <= n; i++)
		if (strncmp(s + i, "-----BEGIN", 10) == 0 &&
		    memmem(s + i, n - i, "PRIVATE KEY", 11)) {
			*col = i;
			return "it holds a private key";
		}
	/* a password in a URL: scheme://user:password@host */
	for (const char *p = s; (p = memmem(p, n - (size_t)(p - s), "://", 3)); p += 3) {
		const char *a = p + 3, *end = a;
		while (end < s + n && *end != '/' && !isspace((unsigned char)*end) && *end != '"' &&
		       *end != '\'')
			end++;
		const char *at = memrchr(a, '@', (size_t)(end - a));
		if (at && memchr(a, ':', (size_t)(at - a))) {
			*col = (size_t)(a - s);
			return "it is a URL with a password in it";
		}
	}
	for (size_t i = 0; i < n;) {
		while (i < n && is_sep((unsigned char)s[i]))
			i++;
		size_t j = i;
		while (j < n && !is_sep((unsigned char)s[j]))
			j++;
		if (j == i)
			break;
		const char *w = s + i;
		size_t wl = j - i;
		/* `Bearer TOKEN`, `Basic TOKEN` */
		if ((wl == 6 && strncasecmp(w, "bearer", 6) == 0) ||
		    (wl == 5 && strncasecmp(w, "basic", 5) == 0)) {
			size_t k = j;
			while (k < n && s[k] == ' ')
				k++;
			size_t e = k;
			while (e < n && !isspace((unsigned char)s[e]))
				e++;
			if (k > j && e - k >= 16 && !word_is_placeholder(s + k, e - k) &&
			    digit_and_letter(s + k, e - k)) {
				*col = k;
				return "it holds a bearer or basic credential";
			}
		}
		/* `secret=VALUE`, `password=VALUE` */
		if (j < n && s[j] == '=') {
			for (const char *const *k = secret_words; *k; k++) {
				size_t kl = strlen(*k);
				if (wl >= kl && strncasecmp(w + wl - kl, *k, kl) == 0 &&
				    (wl == kl || !isalnum((unsigned char)w[wl - kl - 1]))) {
					size_t v = j + 1, e = v;
					while (e < n && !isspace((unsigned char)s[e]) && s[e] != '&' &&
					       s[e] != ';' && s[e] != ',' && s[e] != '"' && s[e] != '\'')
						e++;
					if (e - v >= 8 && !word_is_placeholder(s + v, e - v)) {
						*col = v;
						return "it sets a password or secret inline";
					}
				}
			}
		}
		if ((hit = word_secret(w, wl, whole && i == 0 && j == n))) {
			*col = i;
			return hit;
		}
		i = j;
	}
	return NULL;
}

const char *sluice_secret_find(const char *text, size_t len, unsigned *line, unsigned *col)
{
	unsigned ln = 1;
	for (size_t start = 0; start <= len;) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - start, c = 0;
		if (n && text[start + n - 1] == '\r')
			n--;
		const char *why = line_secret(text + start, n, !nl && start == 0, &c);
		if (why) {
			if (line)
				*line = ln;
			if (col) {
				/* columns count characters, as positions do */
				unsigned cc = 1;
				for (size_t k = 0; k < c; k++)
					if (((unsigned char)text[start + k] & 0xc0) != 0x80)
						cc++;
				*col = cc;
			}
			return why;
		}
		if (!nl)
			break;
		start = end + 1;
		ln++;
	}
	return NULL;
}

const char *sluice_secret_looking(const char *v)
{
	return v ? sluice_secret_find(v, strlen(v), NULL, NULL) : NULL;
}
