/* Buffers, allocation, files, strings and time. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sluice/error.h"
#include "sluice/util.h"

static void oom(void)
{
	fputs("sluice: out of memory\n", stderr);
	abort();
}

void *sluice_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *sluice_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *sluice_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *sluice_xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p)
		oom();
	return p;
}

char *sluice_xstrndup(const char *s, size_t n)
{
	char *p = sluice_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *sluice_xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	return s;
}

char *sluice_xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = sluice_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

char *sluice_str_escape_controls(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	sluice_buf b = SLUICE_BUF_INIT;

	if (!s)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		/* C0 controls and DEL, and the C1 controls U+0080..U+009F in
		 * their UTF-8 form (0xC2 0x80..0x9F): a terminal acts on both */
		bool c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
		if (*p < 0x20 || *p == 0x7f || c1) {
			for (int k = 0; k < (c1 ? 2 : 1); k++) {
				char esc[4] = {'\\', 'x', hex[p[k] >> 4], hex[p[k] & 15]};
				sluice_buf_put(&b, esc, 4);
			}
			p += c1;
		} else
			sluice_buf_put(&b, p, 1);
	}
	if (!b.ptr)
		return sluice_xstrdup("");
	return sluice_buf_detach(&b);
}

int sluice_buf_grow(sluice_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->ptr = sluice_xrealloc(b->ptr, cap);
	b->cap = cap;
	return 0;
}

int sluice_buf_put(sluice_buf *b, const void *data, size_t len)
{
	sluice_buf_grow(b, len);
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int sluice_buf_puts(sluice_buf *b, const char *s) { return sluice_buf_put(b, s, strlen(s)); }

int sluice_buf_printf(sluice_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SLUICE_ERROR;
	sluice_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *sluice_buf_detach(sluice_buf *b)
{
	char *p = b->ptr ? b->ptr : sluice_xstrdup("");
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void sluice_buf_clear(sluice_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

int sluice_file_read(char **out, size_t *out_len, const char *path, size_t max)
{
	int fd = -1, rc = 0;
	struct stat st;
	sluice_buf b = SLUICE_BUF_INIT;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = sluice_error_set(errno == ENOENT ? SLUICE_ENOTFOUND : SLUICE_EIO,
				      "%s: %s", path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = sluice_error_set(SLUICE_EIO, "%s: not a regular file", path);
		goto done;
	}
	if ((size_t)st.st_size > max) {
		rc = sluice_error_set(SLUICE_ELIMIT,
				      "%s: file is %lld bytes, over the limit of %zu bytes",
				      path, (long long)st.st_size, max);
		goto done;
	}
	sluice_buf_grow(&b, (size_t)st.st_size);
	for (;;) {
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = sluice_error_set(SLUICE_EIO, "%s: %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		/* the file may grow while we read it: the limit still holds */
		if (b.len + (size_t)n > max) {
			rc = sluice_error_set(SLUICE_ELIMIT,
					      "%s: file is over the limit of %zu bytes", path, max);
			goto done;
		}
		sluice_buf_put(&b, chunk, (size_t)n);
	}
	if (out_len)
		*out_len = b.len;
	*out = sluice_buf_detach(&b);
done:
	sluice_buf_clear(&b);
	if (fd >= 0)
		close(fd);
	return rc;
}

int sluice_mkdir_p(const char *path, int mode)
{
	char *p = sluice_xstrdup(path);
	int rc = 0;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			rc = sluice_error_set(SLUICE_EIO, "cannot create %s: %s", p, strerror(errno));
			goto done;
		}
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
		rc = sluice_error_set(SLUICE_EIO, "cannot create %s: %s", p, strerror(errno));
done:
	free(p);
	return rc;
}

/* The one atomic write: temporary file PATH.tmp.PID, fsync, rename, fsync
 * of the directory. exact: the file gets `mode` whatever the umask and the
 * temporary name is never followed through a link; else 0644 less the
 * umask, as files a person's tools write. */
static int write_atomic(const char *path, const void *data, size_t len, bool exact,
			unsigned mode)
{
	char *tmp = sluice_xasprintf("%s.tmp.%ld", path, (long)getpid());
	char *dir = sluice_xstrdup(path);
	char *slash = strrchr(dir, '/');
	int fd = -1, rc = 0;
	const char *p = data;

	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = exact ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)
		   : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto done;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = sluice_error_set(SLUICE_EIO, "cannot write %s: %s", tmp, strerror(errno));
			goto done;
		}
		p += n;
		len -= (size_t)n;
	}
	if (exact && fchmod(fd, (mode_t)mode) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot write %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (fsync(fd) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot sync %s: %s", tmp, strerror(errno));
		goto done;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot rename %s to %s: %s", tmp, path,
				      strerror(errno));
		goto done;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		fsync(fd);
done:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	free(tmp);
	free(dir);
	return rc;
}

int sluice_file_write_atomic(const char *path, const void *data, size_t len)
{
	return write_atomic(path, data, len, false, 0);
}

int sluice_file_write_atomic_mode(const char *path, const void *data, size_t len, unsigned mode)
{
	return write_atomic(path, data, len, true, mode);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int sluice_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0
				       : sluice_error_set(SLUICE_EIO, "cannot remove %s: %s", path,
							  strerror(errno));
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return sluice_error_set(SLUICE_EIO, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

char *sluice_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	if (la == 0)
		return sluice_xstrdup(b);
	return sluice_xasprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

char *sluice_path_under_root(const char *root, const char *rel)
{
	if (!rel)
		return NULL;
	if (rel[0] == '/' || !root || strcmp(root, ".") == 0)
		return sluice_xstrdup(rel);
	return sluice_path_join(root, rel);
}

size_t sluice_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	size_t prev[65], cur[65];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

const char *sluice_did_you_mean(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t wl = strlen(word);
	/* a typo: at most a third of the word wrong, and never more than 3 */
	size_t cap = wl / 3 + 1;
	if (cap > 3)
		cap = 3;
	for (const char *const *c = candidates; c && *c; c++) {
		size_t d = sluice_edit_distance(word, *c, cap);
		if (d <= cap && d < best_d) {
			best = *c;
			best_d = d;
		}
	}
	return best;
}

bool sluice_utf8_valid(const char *s, size_t len, size_t *bad_off)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		size_t n;
		unsigned min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			min = 0x80;
			c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			min = 0x800;
			c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			min = 0x10000;
			c &= 0x07;
		} else
			goto bad;
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				goto bad;
			c = (c << 6) | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			goto bad;
		i += n + 1;
	}
	return true;
bad:
	if (bad_off)
		*bad_off = i;
	return false;
}

bool sluice_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int parse_digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return -1;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

int sluice_time_parse(int64_t *out, const char *s)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	const char *p = s;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (parse_digits(&p, 4, &y) || *p++ != '-' || parse_digits(&p, 2, &mo) ||
	    *p++ != '-' || parse_digits(&p, 2, &d))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		goto bad;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		goto bad;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			goto bad;
		p++;
		if (parse_digits(&p, 2, &h) || *p++ != ':' || parse_digits(&p, 2, &mi) ||
		    *p++ != ':' || parse_digits(&p, 2, &sec))
			goto bad;
		if (h > 23 || mi > 59 || sec > 60)
			goto bad;
		if (*p == '.') {
			p++;
			if (*p < '0' || *p > '9')
				goto bad;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (parse_digits(&p, 2, &oh) || *p++ != ':' || parse_digits(&p, 2, &om) ||
			    oh > 23 || om > 59)
				goto bad;
			off = sign * (oh * 3600 + om * 60);
		} else
			goto bad;
		if (*p)
			goto bad;
	}
	/* days from civil (Howard Hinnant's algorithm) */
	{
		int64_t yy = y - (mo <= 2);
		int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
		int64_t yoe = yy - era * 400;
		int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		int64_t days = era * 146097 + doe - 719468;
		*out = days * 86400 + h * 3600 + mi * 60 + sec - off;
	}
	return 0;
bad:
	return sluice_error_set(SLUICE_EINVAL, "'%s' is not an RFC 3339 time", s);
}

char *sluice_time_format(char *buf, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, SLUICE_TIME_BUFSZ, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

int64_t sluice_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
