/* Internals shared by the planner's source files (rollout*.c); not a
 * public header. */
#ifndef SLUICE_ROLLOUT_INTERNAL_H
#define SLUICE_ROLLOUT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The role bits of config.h the planner looks at; it takes plain bits so
 * that it depends on no configuration type. */
enum { SLUICE__ROLE_APPROVER = 1, SLUICE__ROLE_CI = 8 };

static inline bool sluice__streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* "YYYY-MM-DD" of a UTC time into buf; returns buf. */
char *sluice__rollout_day(char buf[16], int64_t t);

#endif
