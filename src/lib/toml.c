/* The TOML writer (include/sluice/toml.h). Only what the codex publisher
 * needs; the rules are TOML 1.0's for basic strings and keys. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/error.h"
#include "sluice/toml.h"

void sluice_toml_init(sluice_toml *t)
{
	memset(t, 0, sizeof *t);
}

void sluice_toml_clear(sluice_toml *t)
{
	sluice_buf_clear(&t->out);
	memset(t, 0, sizeof *t);
}

int sluice_toml_quote(sluice_buf *b, const char *s, size_t len)
{
	size_t bad = 0, start = b->len;

	if (memchr(s, '\0', len))
		return sluice_error_set(SLUICE_EINVAL,
					"a NUL byte at offset %zu cannot be written to TOML",
					(size_t)((const char *)memchr(s, '\0', len) - s));
	if (!sluice_utf8_valid(s, len, &bad))
		return sluice_error_set(SLUICE_EINVAL,
					"invalid UTF-8 at byte %zu cannot be written to TOML", bad);
	sluice_buf_puts(b, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': sluice_buf_puts(b, "\\\""); break;
		case '\\': sluice_buf_puts(b, "\\\\"); break;
		case '\n': sluice_buf_puts(b, "\\n"); break;
		case '\t': sluice_buf_puts(b, "\\t"); break;
		case '\r': sluice_buf_puts(b, "\\r"); break;
		case '\b': sluice_buf_puts(b, "\\b"); break;
		case '\f': sluice_buf_puts(b, "\\f"); break;
		default:
			/* the other controls TOML forbids raw, DEL included */
			if (c < 0x20 || c == 0x7f)
				sluice_buf_printf(b, "\\u%04X", c);
			else
				sluice_buf_put(b, &s[i], 1);
		}
	}
	if (sluice_buf_puts(b, "\"") < 0) {
		b->len = start;
		return SLUICE_ENOMEM;
	}
	return 0;
}

static bool bare_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
			return false;
	return true;
}

int sluice_toml_key(sluice_buf *b, const char *key)
{
	if (bare_key(key))
		return sluice_buf_puts(b, key);
	return sluice_toml_quote(b, key, strlen(key));
}

/* The first error sticks; the message names the key it happened at. */
static int fail(sluice_toml *t, int rc, const char *key)
{
	t->rc = sluice_error_wrap(rc, "cannot write TOML key '%s'", key);
	return t->rc;
}

int sluice_toml_table(sluice_toml *t, const char *const *path, size_t n)
{
	size_t start = t->out.len;
	int rc = 0;

	if (t->rc)
		return t->rc;
	if (t->out.len)
		sluice_buf_puts(&t->out, "\n");
	sluice_buf_puts(&t->out, "[");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i)
			sluice_buf_puts(&t->out, ".");
		rc = sluice_toml_key(&t->out, path[i]);
	}
	if (rc < 0) {
		t->out.len = start;
		t->out.ptr[start] = '\0';
		return fail(t, rc, n ? path[n - 1] : "");
	}
	sluice_buf_puts(&t->out, "]\n");
	return 0;
}

/* `key = ` with the key checked; the caller writes the value. */
static int begin_pair(sluice_toml *t, const char *key, size_t *start)
{
	int rc;
	*start = t->out.len;
	if (t->rc)
		return t->rc;
	if ((rc = sluice_toml_key(&t->out, key)) < 0)
		return fail(t, rc, key);
	sluice_buf_puts(&t->out, " = ");
	return 0;
}

static int end_pair(sluice_toml *t, int rc, const char *key, size_t start)
{
	if (rc < 0) {
		t->out.len = start;
		if (t->out.ptr)
			t->out.ptr[start] = '\0';
		return fail(t, rc, key);
	}
	sluice_buf_puts(&t->out, "\n");
	return 0;
}

int sluice_toml_stringn(sluice_toml *t, const char *key, const char *value, size_t len)
{
	size_t start;
	int rc = begin_pair(t, key, &start);
	if (rc < 0)
		return rc;
	return end_pair(t, sluice_toml_quote(&t->out, value, len), key, start);
}

int sluice_toml_string(sluice_toml *t, const char *key, const char *value)
{
	return sluice_toml_stringn(t, key, value, strlen(value));
}

int sluice_toml_int(sluice_toml *t, const char *key, int64_t value)
{
	size_t start;
	int rc = begin_pair(t, key, &start);
	if (rc < 0)
		return rc;
	sluice_buf_printf(&t->out, "%" PRId64, value);
	return end_pair(t, 0, key, start);
}

int sluice_toml_bool(sluice_toml *t, const char *key, bool value)
{
	size_t start;
	int rc = begin_pair(t, key, &start);
	if (rc < 0)
		return rc;
	sluice_buf_puts(&t->out, value ? "true" : "false");
	return end_pair(t, 0, key, start);
}

int sluice_toml_string_array(sluice_toml *t, const char *key, const char *const *values,
			     size_t n)
{
	size_t start;
	int rc = begin_pair(t, key, &start);
	if (rc < 0)
		return rc;
	sluice_buf_puts(&t->out, "[");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i)
			sluice_buf_puts(&t->out, ", ");
		rc = sluice_toml_quote(&t->out, values[i], strlen(values[i]));
	}
	if (rc == 0)
		sluice_buf_puts(&t->out, "]");
	return end_pair(t, rc, key, start);
}

int sluice_toml_finish(char **out, size_t *len, sluice_toml *t)
{
	int rc = t->rc;

	*out = NULL;
	if (len)
		*len = 0;
	if (rc == 0) {
		if (len)
			*len = t->out.len;
		*out = t->out.ptr ? sluice_buf_detach(&t->out) : sluice_xstrdup("");
	}
	sluice_toml_clear(t);
	return rc;
}
