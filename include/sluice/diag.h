/* Diagnostics: the `file:line:col: error|warning: message` list that
 * validation produces and `validate` prints (text or JSON). */
#ifndef SLUICE_DIAG_H
#define SLUICE_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef enum { SLUICE_SEV_WARNING = 1, SLUICE_SEV_ERROR = 2 } sluice_severity;

/* A position in a file. line and column count from 1; 0 means unknown
 * (a whole-file problem). `file` is borrowed from whoever loaded it. */
typedef struct {
	const char *file;
	unsigned line;
	unsigned col;
} sluice_pos;

typedef struct {
	char *file;
	unsigned line;
	unsigned col;
	sluice_severity severity;
	char *code;    /* stable machine-readable code, e.g. "unknown-key" */
	char *message; /* lowercase, names the thing, says what to do */
} sluice_diag;

typedef struct {
	sluice_diag *items;
	size_t count;
	size_t cap;
	size_t errors;
	size_t warnings;
} sluice_diags;

void sluice_diags_init(sluice_diags *d);
void sluice_diags_clear(sluice_diags *d);

/* Appends one diagnostic; the message is printf-formatted. */
void sluice_diag_add(sluice_diags *d, sluice_severity sev, sluice_pos pos,
		     const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#define sluice_diag_error(d, pos, code, ...) \
	sluice_diag_add((d), SLUICE_SEV_ERROR, (pos), (code), __VA_ARGS__)
#define sluice_diag_warning(d, pos, code, ...) \
	sluice_diag_add((d), SLUICE_SEV_WARNING, (pos), (code), __VA_ARGS__)

/* Sorts by file, line, column (stable for equal positions). */
void sluice_diags_sort(sluice_diags *d);

/* Prints `file:line:col: severity: message` lines. */
void sluice_diags_print_text(const sluice_diags *d, FILE *out);

/* Prints {"ok": .., "diagnostics": [..]} (docs/commands.md). */
void sluice_diags_print_json(const sluice_diags *d, FILE *out);

#endif
