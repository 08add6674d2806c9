/* Diagnostics: collected, sorted, printed as text or JSON. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sluice/diag.h"
#include "sluice/util.h"

void sluice_diags_init(sluice_diags *d) { memset(d, 0, sizeof *d); }

void sluice_diags_clear(sluice_diags *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->items[i].file);
		free(d->items[i].code);
		free(d->items[i].message);
	}
	free(d->items);
	memset(d, 0, sizeof *d);
}

void sluice_diag_add(sluice_diags *d, sluice_severity sev, sluice_pos pos, const char *code,
		     const char *fmt, ...)
{
	va_list ap;
	sluice_buf b = SLUICE_BUF_INIT;
	char tmp[512];

	if (d->count == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->items = sluice_xrealloc(d->items, d->cap * sizeof *d->items);
	}
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	sluice_buf_puts(&b, tmp);
	sluice_diag *x = &d->items[d->count++];
	x->file = sluice_xstrdup(pos.file ? pos.file : "");
	x->line = pos.line;
	x->col = pos.col;
	x->severity = sev;
	x->code = sluice_xstrdup(code);
	x->message = sluice_buf_detach(&b);
	if (sev == SLUICE_SEV_ERROR)
		d->errors++;
	else
		d->warnings++;
}

static int cmp(const void *pa, const void *pb)
{
	const sluice_diag *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return 0;
}

void sluice_diags_sort(sluice_diags *d)
{
	/* stable: insertion sort keeps the order checks found equal positions in */
	for (size_t i = 1; i < d->count; i++) {
		sluice_diag x = d->items[i];
		size_t j = i;
		while (j > 0 && cmp(&d->items[j - 1], &x) > 0) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = x;
	}
}

static const char *sev_name(sluice_severity s)
{
	return s == SLUICE_SEV_ERROR ? "error" : "warning";
}

void sluice_diags_print_text(const sluice_diags *d, FILE *out)
{
	for (size_t i = 0; i < d->count; i++) {
		const sluice_diag *x = &d->items[i];
		if (x->line)
			fprintf(out, "%s:%u:%u: %s: %s\n", x->file, x->line, x->col ? x->col : 1,
				sev_name(x->severity), x->message);
		else
			fprintf(out, "%s: %s: %s\n", x->file, sev_name(x->severity), x->message);
	}
}

void sluice_diags_print_json(const sluice_diags *d, FILE *out)
{
	json_t *root = json_object(), *arr = json_array();
	json_object_set_new(root, "ok", json_boolean(d->errors == 0));
	for (size_t i = 0; i < d->count; i++) {
		const sluice_diag *x = &d->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "file", json_string(x->file));
		json_object_set_new(o, "line", json_integer(x->line));
		json_object_set_new(o, "column", json_integer(x->col));
		json_object_set_new(o, "severity", json_string(sev_name(x->severity)));
		json_object_set_new(o, "code", json_string(x->code));
		json_object_set_new(o, "message", json_string(x->message));
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "diagnostics", arr);
	json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
}
