/* Small helpers shared by every module: growable buffers, strings, files. */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* A growable byte buffer; always NUL-terminated after any append. */
typedef struct {
	char *ptr;
	size_t len;
	size_t cap;
} sluice_buf;

#define SLUICE_BUF_INIT {NULL, 0, 0}

int sluice_buf_grow(sluice_buf *b, size_t extra);
int sluice_buf_put(sluice_buf *b, const void *data, size_t len);
int sluice_buf_puts(sluice_buf *b, const char *s);
int sluice_buf_printf(sluice_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the buffer's memory to the caller (free with free()); resets b. */
char *sluice_buf_detach(sluice_buf *b);
void sluice_buf_clear(sluice_buf *b);

/* Allocation helpers that abort on out-of-memory: Sluice is a CLI and a
 * failed small allocation cannot be handled better than by stopping. */
void *sluice_xmalloc(size_t n);
void *sluice_xcalloc(size_t n, size_t size);
void *sluice_xrealloc(void *p, size_t n);
char *sluice_xstrdup(const char *s);
char *sluice_xstrndup(const char *s, size_t n);
char *sluice_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sluice_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* A copy of `s` fit to print on a terminal: control characters (bytes below
 * 0x20, DEL, and the UTF-8 C1 controls U+0080..U+009F) written as \xHH, so
 * text from a repository (tag names, ref names, plugin ids, a remote's
 * error messages) can neither move the cursor nor recolour the screen.
 * Everything else, invalid UTF-8 included, is kept. NULL for NULL; caller
 * frees. */
char *sluice_str_escape_controls(const char *s);

/* Reads a whole regular file of at most `max` bytes. Returns 0 and a
 * malloc'd NUL-terminated buffer (caller frees), SLUICE_ENOTFOUND,
 * SLUICE_ELIMIT (too big) or SLUICE_EIO. */
int sluice_file_read(char **out, size_t *out_len, const char *path, size_t max);

/* Writes `data` to `path` atomically: temporary file in the same directory,
 * fsync, rename, fsync of the directory. */
int sluice_file_write_atomic(const char *path, const void *data, size_t len);
/* The same with the file's mode exactly `mode` whatever the umask, and a
 * temporary name that is never followed through a symbolic link (the
 * publishers' files). */
int sluice_file_write_atomic_mode(const char *path, const void *data, size_t len,
				  unsigned mode);

/* rm -rf without following links: 0 also when path does not exist, else
 * SLUICE_EIO with the error set. */
int sluice_rm_rf(const char *path);

/* mkdir -p; 0 on success or if it exists. */
int sluice_mkdir_p(const char *path, int mode);

/* Joins two path parts with one '/'; caller frees. */
char *sluice_path_join(const char *a, const char *b);

/* A path from the administrators' files resolved against --root: an
 * absolute path stays, a relative one is joined to root ("." adds
 * nothing, so messages show the path as written). NULL for NULL; caller
 * frees. */
char *sluice_path_under_root(const char *root, const char *rel);

/* Levenshtein distance, capped: returns cap+1 when larger. */
size_t sluice_edit_distance(const char *a, const char *b, size_t cap);

/* The closest of `candidates` (NULL-terminated) to `word`, or NULL when
 * none is close enough to be a plausible typo. */
const char *sluice_did_you_mean(const char *word, const char *const *candidates);

/* Checks UTF-8 validity; on failure stores the byte offset of the first
 * bad sequence in *bad_off and returns false. */
bool sluice_utf8_valid(const char *s, size_t len, size_t *bad_off);

bool sluice_str_has_prefix(const char *s, const char *prefix);



/* Parses an RFC 3339 timestamp ("2026-12-01T09:00:00Z", an offset such as
 * "+02:00", or a plain date "2026-12-01" meaning midnight UTC) into seconds
 * since the epoch. Returns 0 or SLUICE_EINVAL. */
int sluice_time_parse(int64_t *out, const char *s);

/* Milliseconds of the monotonic clock: for timeouts and intervals, never
 * for dates. */
int64_t sluice_mono_ms(void);
/* Formats seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" into buf
 * (at least 21 bytes); returns buf. */
char *sluice_time_format(char *buf, int64_t t);
#define SLUICE_TIME_BUFSZ 32
#endif
