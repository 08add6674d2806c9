/* The thread-local last error. */
#include <stdarg.h>
#include <stdio.h>

#include "sluice/error.h"

static _Thread_local char last_msg[1024];
static _Thread_local int last_code;

int sluice_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof last_msg, fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

const char *sluice_error_last(void) { return last_msg; }

int sluice_error_code(void) { return last_code; }

void sluice_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = 0;
}

int sluice_error_exit_status(int code)
{
	switch (code) {
	case SLUICE_OK:
		return 0;
	case SLUICE_EINVAL:
	case SLUICE_ELIMIT:
		return 2;
	case SLUICE_EREFUSED:
		return 3;
	case SLUICE_EUSAGE:
		return 129;
	default:
		return 1;
	}
}
