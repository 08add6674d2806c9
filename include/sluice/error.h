/* Error codes and the thread-local last-error message. */
#ifndef SLUICE_ERROR_H
#define SLUICE_ERROR_H

enum {
	SLUICE_OK = 0,
	SLUICE_ERROR = -1,     /* generic failure */
	SLUICE_ENOMEM = -2,    /* out of memory */
	SLUICE_EIO = -3,       /* file or network I/O failed */
	SLUICE_EINVAL = -4,    /* invalid configuration or input (exit 2) */
	SLUICE_ENOTFOUND = -5, /* the named thing does not exist */
	SLUICE_ELIMIT = -6,    /* a size, depth or count limit was exceeded */
	SLUICE_EREFUSED = -7,  /* refused by policy (exit 3) */
	SLUICE_EGIT = -8,      /* libgit2 failure */
	SLUICE_ESTORE = -9,    /* SQLite failure */
	SLUICE_EBUSY = -10,    /* a lock or lease is held elsewhere */
	SLUICE_EAMBIGUOUS = -11, /* a choice the caller must make was left open
				  * (several workspaces and none named) */
};

/* Sets the calling thread's last error message (printf-style) and returns
 * `code`, so callers can write `return sluice_error_set(SLUICE_EIO, ...)`.
 * The message is formatted before the buffer is written, so an argument
 * may be sluice_error_last() itself; to add context to the previous
 * message, use sluice_error_wrap. */
int sluice_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Puts context in front of the previous message: sets the last error to
 * "<fmt ...>: <previous message>" (only "<fmt ...>" when there was none)
 * and returns `code`. Use it instead of passing sluice_error_last() to
 * sluice_error_set:
 *     return sluice_error_wrap(rc, "cannot load %s@%s", plugin, version); */
int sluice_error_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The calling thread's last error message; never NULL (empty when none).
 * Valid until the next sluice_error_set on this thread. */
const char *sluice_error_last(void);

/* The last error code set on this thread (SLUICE_OK when none). */
int sluice_error_code(void);

void sluice_error_clear(void);

#endif
