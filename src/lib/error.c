/* The thread-local last error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sluice/error.h"

#define ERROR_MSG_SZ 1024

static _Thread_local char last_msg[ERROR_MSG_SZ];
static _Thread_local int last_code;

/* Formats into a local buffer first and copies it in afterwards, so an
 * argument that points into last_msg (sluice_error_last()) is read whole
 * before the buffer is written: vsnprintf with overlapping source and
 * destination is undefined behaviour. */
static void set_msg(const char *fmt, va_list ap)
{
	char tmp[ERROR_MSG_SZ];

	vsnprintf(tmp, sizeof tmp, fmt, ap);
	memcpy(last_msg, tmp, sizeof last_msg);
}

int sluice_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_msg(fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

int sluice_error_wrap(int code, const char *fmt, ...)
{
	char prev[ERROR_MSG_SZ], head[ERROR_MSG_SZ];
	va_list ap;

	memcpy(prev, last_msg, sizeof prev);
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	if (prev[0])
		sluice_error_set(code, "%s: %s", head, prev);
	else
		sluice_error_set(code, "%s", head);
	return code;
}

const char *sluice_error_last(void) { return last_msg; }

int sluice_error_code(void) { return last_code; }

void sluice_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = 0;
}
