/* The audit-review export (docs/export.md). The sections come from
 * store-export.c one row at a time and are written as they come: JSON (one
 * object per row), CSV (one block per section) or the HTML dashboard, whose
 * SVG charts are drawn from the same rows after one query for their axes.
 * Every string in the HTML is escaped: plugin teams write comments, stage
 * names and reasons. The page references nothing outside itself, and its
 * Content-Security-Policy forbids fetching anything. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "store-export.h"
#include "sluice/error.h"
#include "sluice/export.h"
#include "sluice/util.h"

int sluice_export_format_parse(sluice_export_format *out, const char *name)
{
	if (strcmp(name, "html") == 0)
		*out = SLUICE_EXPORT_HTML;
	else if (strcmp(name, "json") == 0)
		*out = SLUICE_EXPORT_JSON;
	else if (strcmp(name, "csv") == 0)
		*out = SLUICE_EXPORT_CSV;
	else
		return sluice_error_set(SLUICE_EINVAL,
					"unknown export format '%s'; use html, json or csv", name);
	return 0;
}

/* ---- values ------------------------------------------------------------ */

/* Times are seconds in the database; the export shows them as RFC 3339,
 * and rollup days as dates. */
static bool is_day_col(const char *name)
{
	return strcmp(name, "day") == 0 || strcmp(name, "first_day") == 0 ||
	       strcmp(name, "last_day") == 0;
}

static bool is_time_col(const char *name)
{
	size_t n = strlen(name);
	return strcmp(name, "at") == 0 || (n > 3 && strcmp(name + n - 3, "_at") == 0);
}

static bool is_rate_col(const char *name)
{
	size_t n = strlen(name);
	return (n > 5 && strcmp(name + n - 5, "_rate") == 0) ||
	       (n > 6 && strcmp(name + n - 6, "_ratio") == 0);
}

static const char *day_format(char buf[SLUICE_TIME_BUFSZ], int64_t t)
{
	sluice_time_format(buf, t);
	buf[10] = '\0';
	return buf;
}

/* The value as text for CSV and HTML, into buf when it must be formatted;
 * NULL for SQL NULL. */
static const char *value_text(char buf[64], const sluice__export_value *v, const char *name)
{
	switch (v->type) {
	case SLUICE__EXPORT_NULL:
		return NULL;
	case SLUICE__EXPORT_TEXT:
		return v->t;
	case SLUICE__EXPORT_INT:
		if (is_day_col(name))
			return day_format(buf, v->i);
		if (is_time_col(name))
			return sluice_time_format(buf, v->i);
		snprintf(buf, 64, "%" PRId64, v->i);
		return buf;
	case SLUICE__EXPORT_REAL:
		snprintf(buf, 64, "%.6g", v->r);
		return buf;
	}
	return NULL;
}

static json_t *value_json(const sluice__export_value *v, const char *name)
{
	char buf[64];

	switch (v->type) {
	case SLUICE__EXPORT_NULL:
		return json_null();
	case SLUICE__EXPORT_TEXT:
		if (strcmp(name, "details") == 0) {
			json_t *d = json_loads(v->t, JSON_DECODE_ANY, NULL);
			if (d)
				return d;
		}
		return json_string(v->t);
	case SLUICE__EXPORT_INT:
		if (is_day_col(name) || is_time_col(name))
			return json_string(value_text(buf, v, name));
		return json_integer(v->i);
	case SLUICE__EXPORT_REAL:
		return json_real(v->r);
	}
	return json_null();
}

static double value_num(const sluice__export_row *row, const char *name)
{
	int i = sluice__export_col(row, name);
	if (i < 0)
		return 0;
	if (row->v[i].type == SLUICE__EXPORT_INT)
		return (double)row->v[i].i;
	if (row->v[i].type == SLUICE__EXPORT_REAL)
		return row->v[i].r;
	return 0;
}

static int64_t value_int(const sluice__export_row *row, const char *name)
{
	int i = sluice__export_col(row, name);
	return i >= 0 && row->v[i].type == SLUICE__EXPORT_INT ? row->v[i].i : 0;
}

static const char *value_str(const sluice__export_row *row, const char *name)
{
	int i = sluice__export_col(row, name);
	return i >= 0 && row->v[i].type == SLUICE__EXPORT_TEXT ? row->v[i].t : NULL;
}

/* ---- the export's state ---------------------------------------------------- */

typedef struct {
	char *id;
	char *dashboard; /* NULL when the plugin names none */
} plugin_info;

/* A short list that grows with the plugins, versions or stage names, never
 * with the rows. */
typedef struct {
	char **items;
	size_t n, cap;
} strlist;

static size_t strlist_add(strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return i;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = sluice_xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->n] = sluice_xstrdup(s);
	return l->n++;
}

static long strlist_find(const strlist *l, const char *s)
{
	for (size_t i = 0; s && i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return (long)i;
	return -1;
}

static void strlist_clear(strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof *l);
}

typedef struct {
	FILE *to;
	sluice_store *s;
	const sluice_export_options *o;
	sluice__export_filter f;
	sluice_export_result *res;
	sluice_audit_report audit;
	char title[512];
	plugin_info *plugins;
	size_t nplugins;
	int64_t section_rows; /* rows of the section being written */
	bool first;           /* before the section's first row */
	const char *section;  /* CSV: the section's name, first in each row */
	/* HTML */
	const char *const *cols; /* the table's columns, NULL-terminated */
	strlist versions;        /* the plugin's releases: lanes and colours */
	strlist stages;          /* stage names seen: the timeline's colours */
	strlist seen;            /* versions drawn in the current chart */
	const char *metric;      /* the chart's column */
	double ymax;
	int64_t x0, x1;          /* the axis, seconds */
	char prev_version[128];
	double prev_x, prev_y;
	int64_t prev_day;
} writer;

static const char *const palette[] = {"#1f6feb", "#d4761c", "#2da44e", "#8250df",
				      "#bf3989", "#0a7d8c", "#6e7781", "#9a6700"};
#define NPALETTE (sizeof palette / sizeof palette[0])

/* ---- HTML helpers ---------------------------------------------------------- */

static void esc(FILE *to, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", to); break;
		case '<': fputs("&lt;", to); break;
		case '>': fputs("&gt;", to); break;
		case '"': fputs("&quot;", to); break;
		case '\'': fputs("&#39;", to); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc(' ', to);
			else
				fputc(*s, to);
		}
	}
}

static void header_name(FILE *to, const char *name)
{
	for (const char *p = name; *p; p++)
		fputc(*p == '_' ? ' ' : *p, to);
}

/* ---- JSON ------------------------------------------------------------------ */

static int json_row(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	json_t *j = json_object();

	for (size_t i = 0; i < row->ncols; i++)
		json_object_set_new(j, row->names[i], value_json(&row->v[i], row->names[i]));
	fputs(w->first ? "\n    " : ",\n    ", w->to);
	w->first = false;
	json_dumpf(j, w->to, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	w->section_rows++;
	return 0;
}

static void json_str(FILE *to, const char *s)
{
	json_t *j = s ? json_string(s) : json_null();
	json_dumpf(j ? j : json_null(), to, JSON_ENCODE_ANY);
	json_decref(j);
}

static int write_json(writer *w)
{
	char when[SLUICE_TIME_BUFSZ];
	int rc = 0;

	fputs("{\n  \"format\": \"sluice-export/1\",\n  \"title\": ", w->to);
	json_str(w->to, w->title);
	fprintf(w->to, ",\n  \"generated_at\": \"%s\",\n  \"filter\": {\"plugin\": ",
		sluice_time_format(when, w->o->now));
	json_str(w->to, w->o->plugin);
	fputs(", \"since\": ", w->to);
	json_str(w->to, w->o->since ? sluice_time_format(when, w->o->since) : NULL);
	fputs(", \"until\": ", w->to);
	json_str(w->to, w->o->until ? sluice_time_format(when, w->o->until) : NULL);
	fprintf(w->to, "},\n  \"audit\": {\"verified\": %s, \"rows\": %" PRId64
		       ", \"head\": \"%" PRId64 ":%s\", \"problem\": ",
		w->audit.ok ? "true" : "false", w->audit.rows, w->res->head_id, w->res->head_hash);
	json_str(w->to, w->audit.ok ? NULL : w->audit.problem);
	fprintf(w->to, ", \"bad_id\": %" PRId64 "}", w->audit.ok ? 0 : w->audit.bad_id);
	for (int sec = 0; sec < SLUICE__EXPORT_NSECTIONS; sec++) {
		fprintf(w->to, ",\n  \"%s\": [", sluice__export_section_name(sec));
		w->first = true;
		w->section_rows = 0;
		if ((rc = sluice__store_export_rows(w->s, sec, &w->f, json_row, w)) < 0)
			return rc;
		w->res->rows += w->section_rows;
		fputs(w->section_rows ? "\n  ]" : "]", w->to);
	}
	fputs("\n}\n", w->to);
	return 0;
}

/* ---- CSV ------------------------------------------------------------------- */

/* RFC 4180 quoting. A text cell that a spreadsheet would run as a formula
 * (=, +, -, @ first) gets a leading apostrophe: plugin teams write the
 * comments an auditor opens. */
static void csv_cell(FILE *to, const char *s, bool text)
{
	fputc(',', to);
	if (!s)
		return;
	bool formula = text && strchr("=+-@\t\r", *s) && *s;
	if (!formula && !strpbrk(s, ",\"\r\n")) {
		fputs(s, to);
		return;
	}
	fputc('"', to);
	if (formula)
		fputc('\'', to);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', to);
		fputc(*s, to);
	}
	fputc('"', to);
}

static int csv_row(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	char buf[64];

	if (w->first) {
		fputs("section", w->to);
		for (size_t i = 0; i < row->ncols; i++)
			csv_cell(w->to, row->names[i], false);
		fputs("\r\n", w->to);
		w->first = false;
	}
	fputs(w->section, w->to);
	for (size_t i = 0; i < row->ncols; i++)
		csv_cell(w->to, value_text(buf, &row->v[i], row->names[i]),
			 row->v[i].type == SLUICE__EXPORT_TEXT);
	fputs("\r\n", w->to);
	w->section_rows++;
	return 0;
}

static int write_csv(writer *w)
{
	char when[SLUICE_TIME_BUFSZ], head[128];
	int rc = 0;

	fputs("section,key,value\r\nexport,format,sluice-export/1\r\nexport,title", w->to);
	csv_cell(w->to, w->title, true);
	fprintf(w->to, "\r\nexport,generated_at,%s\r\n", sluice_time_format(when, w->o->now));
	fputs("export,plugin", w->to);
	csv_cell(w->to, w->o->plugin, true);
	fprintf(w->to, "\r\nexport,since,%s\r\n",
		w->o->since ? sluice_time_format(when, w->o->since) : "");
	fprintf(w->to, "export,until,%s\r\n", w->o->until ? sluice_time_format(when, w->o->until) : "");
	snprintf(head, sizeof head, "%" PRId64 ":%s", w->res->head_id, w->res->head_hash);
	fprintf(w->to, "audit,verified,%s\r\naudit,rows,%" PRId64 "\r\naudit,head,%s\r\n",
		w->audit.ok ? "true" : "false", w->audit.rows, head);
	if (!w->audit.ok) {
		fputs("audit,problem", w->to);
		csv_cell(w->to, w->audit.problem, true);
		fprintf(w->to, "\r\naudit,bad_id,%" PRId64 "\r\n", w->audit.bad_id);
	}
	for (int sec = 0; sec < SLUICE__EXPORT_NSECTIONS; sec++) {
		fputs("\r\n", w->to);
		w->section = sluice__export_section_name(sec);
		w->first = true;
		w->section_rows = 0;
		if ((rc = sluice__store_export_rows(w->s, sec, &w->f, csv_row, w)) < 0)
			return rc;
		if (w->first) /* no rows: the header alone says the section is empty */
			fprintf(w->to, "section\r\n");
		w->res->rows += w->section_rows;
	}
	return 0;
}

/* ---- HTML: tables ------------------------------------------------------------ */

static int html_row(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	char buf[64];

	if (w->first) {
		fputs("<table>\n<thead><tr>", w->to);
		for (const char *const *c = w->cols; *c; c++) {
			fputs("<th>", w->to);
			header_name(w->to, *c);
			fputs("</th>", w->to);
		}
		fputs("</tr></thead>\n<tbody>\n", w->to);
		w->first = false;
	}
	fputs("<tr>", w->to);
	for (const char *const *c = w->cols; *c; c++) {
		int i = sluice__export_col(row, *c);
		const sluice__export_value *v = i >= 0 ? &row->v[i] : NULL;
		const char *cls = "";
		if (strcmp(*c, "outcome") == 0 && v && v->type == SLUICE__EXPORT_TEXT)
			cls = strcmp(v->t, "breach") == 0 ? " class=\"breach\"" :
			      strcmp(v->t, "waiting") == 0 ? " class=\"waiting\"" : " class=\"pass\"";
		fprintf(w->to, "<td%s>", cls);
		if (!v || v->type == SLUICE__EXPORT_NULL)
			fputs("<span class=\"none\">-</span>", w->to);
		else if (is_rate_col(*c) && v->type == SLUICE__EXPORT_REAL)
			fprintf(w->to, "%.1f%%", v->r * 100);
		else if (strcmp(*c, "details") == 0 || strcmp(*c, "hash") == 0 ||
			 strcmp(*c, "commit_id") == 0) {
			fputs("<code>", w->to);
			esc(w->to, value_text(buf, v, *c));
			fputs("</code>", w->to);
		} else
			esc(w->to, value_text(buf, v, *c));
		fputs("</td>", w->to);
	}
	fputs("</tr>\n", w->to);
	w->section_rows++;
	return 0;
}

static int html_table(writer *w, sluice__export_section sec, const char *const *cols,
		      const char *empty)
{
	int rc;

	w->cols = cols;
	w->first = true;
	w->section_rows = 0;
	if ((rc = sluice__store_export_rows(w->s, sec, &w->f, html_row, w)) < 0)
		return rc;
	if (w->first)
		fprintf(w->to, "<p class=\"empty\">%s</p>\n", empty);
	else
		fputs("</tbody>\n</table>\n", w->to);
	w->res->rows += w->section_rows;
	return 0;
}

/* ---- HTML: the timeline ------------------------------------------------------ */

enum { TL_W = 1100, TL_ML = 120, TL_MR = 20, TL_MT = 24, TL_LANE = 30, TL_MB = 40 };
enum { CH_W = 540, CH_H = 260, CH_ML = 64, CH_MR = 16, CH_MT = 30, CH_MB = 44 };

static double tl_x(const writer *w, int64_t t)
{
	if (t < w->x0)
		t = w->x0;
	if (t > w->x1)
		t = w->x1;
	return TL_ML + (double)(t - w->x0) * (TL_W - TL_ML - TL_MR) / (double)(w->x1 - w->x0);
}

static int collect_version(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	const char *v = value_str(row, "version");
	if (v)
		strlist_add(&w->versions, v);
	return 0;
}

static int tl_range(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	w->x0 = value_int(row, "first_at");
	w->x1 = value_int(row, "last_at");
	return 0;
}

static int tl_stage(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	long lane = strlist_find(&w->versions, value_str(row, "version"));
	const char *stage = value_str(row, "stage");
	int64_t start = value_int(row, "started_at"), end = value_int(row, "ended_at");
	char a[SLUICE_TIME_BUFSZ], b[SLUICE_TIME_BUFSZ];
	double x0, x1, y;
	size_t color;

	if (lane < 0 || !stage)
		return 0;
	color = strlist_add(&w->stages, stage) % NPALETTE;
	x0 = tl_x(w, start);
	x1 = tl_x(w, end ? end : w->x1);
	if (x1 - x0 < 2)
		x1 = x0 + 2;
	y = TL_MT + lane * TL_LANE + 4;
	fprintf(w->to, "<g class=\"bar\"><title>");
	esc(w->to, value_str(row, "version"));
	fputs(" ", w->to);
	esc(w->to, stage);
	fprintf(w->to, ": %s to %s</title>", sluice_time_format(a, start),
		end ? sluice_time_format(b, end) : "now (running)");
	fprintf(w->to, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"%s/>",
		x0, y, x1 - x0, TL_LANE - 8, palette[color], end ? "" : " class=\"open\"");
	if (x1 - x0 > 8 * (double)strlen(stage) + 8) {
		fprintf(w->to, "<text x=\"%.1f\" y=\"%.1f\" class=\"barlabel\">", x0 + 4, y + 15);
		esc(w->to, stage);
		fputs("</text>", w->to);
	}
	fputs("</g>\n", w->to);
	w->section_rows++;
	return 0;
}

/* An approval (diamond) or rejection (cross) on its release's lane. */
static int tl_approval(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	long lane = strlist_find(&w->versions, value_str(row, "version"));
	const char *kind = value_str(row, "kind");
	char a[SLUICE_TIME_BUFSZ];
	double x, y;

	if (lane < 0 || !kind)
		return 0;
	x = tl_x(w, value_int(row, "at"));
	y = TL_MT + lane * TL_LANE + 4;
	fputs("<g class=\"mark\"><title>", w->to);
	esc(w->to, kind);
	fputs(" by ", w->to);
	esc(w->to, value_str(row, "approver"));
	if (value_str(row, "stage")) {
		fputs(" for ", w->to);
		esc(w->to, value_str(row, "stage"));
	}
	fprintf(w->to, " at %s</title>", sluice_time_format(a, value_int(row, "at")));
	if (strcmp(kind, "approval") == 0)
		fprintf(w->to, "<path class=\"approval\" d=\"M%.1f %.1fl6 6l-6 6l-6 -6z\"/>", x,
			y - 3);
	else
		fprintf(w->to, "<path class=\"rejection\" d=\"M%.1f %.1fl10 10m0 -10l-10 10\"/>",
			x - 5, y - 2);
	fputs("</g>\n", w->to);
	return 0;
}

/* A gate breach (red triangle) or wait flag (amber circle) below the bar. */
static int tl_gate(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	long lane = strlist_find(&w->versions, value_str(row, "version"));
	const char *outcome = value_str(row, "outcome");
	double x, y;

	if (lane < 0 || !outcome || strcmp(outcome, "pass") == 0)
		return 0;
	x = tl_x(w, value_int(row, "at"));
	y = TL_MT + (lane + 1) * TL_LANE - 4;
	fputs("<g class=\"mark\"><title>gate ", w->to);
	esc(w->to, outcome);
	fputs(": ", w->to);
	esc(w->to, value_str(row, "reason"));
	fputs("</title>", w->to);
	if (strcmp(outcome, "breach") == 0)
		fprintf(w->to, "<path class=\"breach\" d=\"M%.1f %.1fl7 -12l7 12z\"/>", x - 7, y + 2);
	else
		fprintf(w->to, "<circle class=\"waiting\" cx=\"%.1f\" cy=\"%.1f\" r=\"6\"/>", x, y - 4);
	fputs("</g>\n", w->to);
	return 0;
}

/* Day ticks along an axis from x0 to x1 at most `most` of them. */
static int64_t tick_step(int64_t x0, int64_t x1, int most)
{
	int64_t days = (x1 - x0) / 86400 + 1, step = 1;
	static const int64_t steps[] = {1, 2, 7, 14, 28, 56, 91, 182, 364};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		step = steps[i];
		if (days / step <= most)
			break;
	}
	return step * 86400;
}

static int html_timeline(writer *w)
{
	int64_t end = w->o->until ? w->o->until : w->o->now;
	char day[SLUICE_TIME_BUFSZ];
	int rc, h;

	w->x0 = w->x1 = 0;
	if ((rc = sluice__store_export_rows(w->s, SLUICE__EXPORT_TIMELINE_RANGE, &w->f, tl_range,
					    w)) < 0)
		return rc;
	if (!w->x0 || w->versions.n == 0) {
		fputs("<p class=\"empty\">No stage started in this period.</p>\n", w->to);
		return 0;
	}
	if (w->o->since && w->x0 < w->o->since)
		w->x0 = w->o->since;
	if (end > w->x1)
		w->x1 = end;
	/* whole UTC days, with the last one complete */
	w->x0 -= w->x0 % 86400;
	w->x1 += 86400 - w->x1 % 86400;
	h = TL_MT + (int)w->versions.n * TL_LANE + TL_MB;
	fprintf(w->to,
		"<svg class=\"timeline\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\">\n"
		"<title>Rollout timeline: stages per release over days</title>\n",
		TL_W, h, TL_W, h);
	/* day grid and axis */
	int64_t step = tick_step(w->x0, w->x1, 16);
	for (int64_t t = w->x0; t <= w->x1; t += step) {
		double x = tl_x(w, t);
		fprintf(w->to,
			"<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			"<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, TL_MT, x, h - TL_MB + 4, x, h - TL_MB + 18, day_format(day, t) + 5);
	}
	fprintf(w->to,
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n"
		"<text class=\"axistitle\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">day (UTC, "
		"%s to ",
		TL_ML, h - TL_MB + 4, TL_W - TL_MR, h - TL_MB + 4, (TL_ML + TL_W - TL_MR) / 2,
		h - 4, day_format(day, w->x0));
	fprintf(w->to, "%s)</text>\n", day_format(day, w->x1 - 86400));
	if (end > w->x0 && end < w->x1) {
		double x = tl_x(w, end);
		fprintf(w->to,
			"<line class=\"now\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			"<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, TL_MT - 6, x, h - TL_MB + 4, x, TL_MT - 10,
			w->o->until ? "end of period" : "export time");
	}
	for (size_t i = 0; i < w->versions.n; i++) {
		fprintf(w->to, "<text class=\"lane\" x=\"%d\" y=\"%d\" text-anchor=\"end\">",
			TL_ML - 8, TL_MT + (int)i * TL_LANE + 20);
		esc(w->to, w->versions.items[i]);
		fputs("</text>\n", w->to);
	}
	w->section_rows = 0;
	if ((rc = sluice__store_export_rows(w->s, SLUICE__EXPORT_STAGES, &w->f, tl_stage, w)) < 0 ||
	    (rc = sluice__store_export_rows(w->s, SLUICE__EXPORT_APPROVALS, &w->f, tl_approval,
					    w)) < 0 ||
	    (rc = sluice__store_export_rows(w->s, SLUICE__EXPORT_GATES, &w->f, tl_gate, w)) < 0)
		return rc;
	fputs("</svg>\n<ul class=\"legend\">", w->to);
	for (size_t i = 0; i < w->stages.n; i++) {
		fprintf(w->to, "<li><span class=\"swatch\" style=\"background:%s\"></span>",
			palette[i % NPALETTE]);
		esc(w->to, w->stages.items[i]);
		fputs("</li>", w->to);
	}
	fputs("<li><svg width=\"14\" height=\"14\"><path class=\"approval\" d=\"M7 1l6 6l-6 6l-6 "
	      "-6z\"/></svg>approval</li>"
	      "<li><svg width=\"14\" height=\"14\"><path class=\"rejection\" d=\"M2 2l10 10m0 "
	      "-10l-10 10\"/></svg>rejection</li>"
	      "<li><svg width=\"14\" height=\"14\"><path class=\"breach\" d=\"M0 13l7 -12l7 "
	      "12z\"/></svg>gate breach</li>"
	      "<li><svg width=\"14\" height=\"14\"><circle class=\"waiting\" cx=\"7\" cy=\"7\" "
	      "r=\"6\"/></svg>waiting for data (flagged)</li>"
	      "<li><span class=\"swatch open\"></span>stage still running</li></ul>\n",
	      w->to);
	return 0;
}

/* ---- HTML: charts ------------------------------------------------------------- */

static double ch_x(const writer *w, int64_t day)
{
	return CH_ML + (double)(day + 43200 - w->x0) * (CH_W - CH_ML - CH_MR) /
			       (double)(w->x1 - w->x0);
}

static double ch_y(const writer *w, double v)
{
	return CH_MT + (1 - v / w->ymax) * (CH_H - CH_MT - CH_MB);
}

static int ch_point(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	const char *version = value_str(row, "version");
	int i = sluice__export_col(row, w->metric);
	char day[SLUICE_TIME_BUFSZ];
	double x, y;
	size_t color;

	if (!version || i < 0 || row->v[i].type == SLUICE__EXPORT_NULL)
		return 0;
	long lane = strlist_find(&w->versions, version);
	color = (size_t)(lane >= 0 ? lane : (long)strlist_add(&w->seen, version)) % NPALETTE;
	strlist_add(&w->seen, version);
	x = ch_x(w, value_int(row, "day"));
	y = ch_y(w, value_num(row, w->metric));
	/* a day without data is a gap, not a line: nothing was measured */
	if (strcmp(w->prev_version, version) == 0 && value_int(row, "day") - w->prev_day == 86400)
		fprintf(w->to,
			"<line class=\"series\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"%s\"/>\n",
			w->prev_x, w->prev_y, x, y, palette[color]);
	fprintf(w->to, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", x, y,
		palette[color]);
	esc(w->to, version);
	fprintf(w->to, " %s: %.1f%%", day_format(day, value_int(row, "day")),
		value_num(row, w->metric) * 100);
	if (strcmp(w->metric, "positive_ratio") == 0)
		fprintf(w->to, " (%" PRId64 " of %" PRId64 " ratings positive)",
			value_int(row, "positive"), value_int(row, "ratings"));
	else
		fprintf(w->to, " of %" PRId64 " calls", value_int(row, "calls"));
	fputs("</title></circle>\n", w->to);
	snprintf(w->prev_version, sizeof w->prev_version, "%s", version);
	w->prev_x = x;
	w->prev_y = y;
	w->prev_day = value_int(row, "day");
	return 0;
}

typedef struct {
	int64_t first_day, last_day;
	double max[4];
	bool any;
} tel_range;

static int ch_range(const sluice__export_row *row, void *ctx)
{
	tel_range *r = ctx;
	r->any = sluice__export_col(row, "first_day") >= 0 &&
		 row->v[sluice__export_col(row, "first_day")].type == SLUICE__EXPORT_INT;
	r->first_day = value_int(row, "first_day");
	r->last_day = value_int(row, "last_day");
	r->max[0] = value_num(row, "max_error_rate");
	r->max[1] = value_num(row, "max_refusal_rate");
	r->max[2] = value_num(row, "max_escalation_rate");
	r->max[3] = 1;
	return 0;
}

/* The smallest of a few round limits above v, so the axis reads easily. */
static double nice_max(double v)
{
	static const double limits[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1};
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
		if (v * 1.1 <= limits[i])
			return limits[i];
	return 1;
}

/* A round step for the rate axis: at most 5 intervals up to ymax. */
static double y_step(double ymax)
{
	static const double steps[] = {0.001, 0.002, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (ymax / steps[i] <= 5.0001)
			return steps[i];
	return 0.25;
}

static int html_chart(writer *w, const tel_range *r, sluice__export_section sec,
		      const char *metric, const char *title, double ymax)
{
	char day[SLUICE_TIME_BUFSZ];
	int rc;

	w->metric = metric;
	w->ymax = ymax;
	w->x0 = r->first_day;
	w->x1 = r->last_day + 86400;
	w->prev_version[0] = '\0';
	strlist_clear(&w->seen);
	fprintf(w->to,
		"<figure class=\"chart\"><svg role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		"height=\"%d\" data-metric=\"%s\">\n"
		"<title>%s per version per day</title>\n"
		"<text class=\"charttitle\" x=\"%d\" y=\"18\">%s per version per day</text>\n",
		CH_W, CH_H, CH_W, CH_H, metric, title, CH_ML, title);
	double ystep = y_step(ymax);
	for (int i = 0; i * ystep <= ymax * 1.0001; i++) {
		double v = i * ystep, y = ch_y(w, v);
		fprintf(w->to,
			"<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g%%</text>\n",
			CH_ML, y, CH_W - CH_MR, y, CH_ML - 6, y + 4, v * 100);
	}
	int64_t step = tick_step(w->x0, w->x1 - 86400, 8);
	for (int64_t t = r->first_day; t <= r->last_day; t += step)
		fprintf(w->to,
			"<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			ch_x(w, t), CH_H - CH_MB + 16, day_format(day, t) + 5);
	fprintf(w->to,
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		"<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n"
		"<text class=\"axistitle\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">day (UTC)</text>\n"
		"<text class=\"axistitle\" transform=\"translate(12 %d) rotate(-90)\" "
		"text-anchor=\"middle\">%s</text>\n",
		CH_ML, CH_H - CH_MB, CH_W - CH_MR, CH_H - CH_MB, CH_ML, CH_MT, CH_ML, CH_H - CH_MB,
		(CH_ML + CH_W - CH_MR) / 2, CH_H - 8, (CH_MT + CH_H - CH_MB) / 2, title);
	if ((rc = sluice__store_export_rows(w->s, sec, &w->f, ch_point, w)) < 0)
		return rc;
	/* the legend: the versions drawn, top right */
	for (size_t i = 0; i < w->seen.n; i++) {
		long lane = strlist_find(&w->versions, w->seen.items[i]);
		const char *color = palette[(size_t)(lane >= 0 ? lane : (long)i) % NPALETTE];
		int y = CH_MT + 4 + (int)i * 16;
		fprintf(w->to,
			"<g class=\"legend\"><rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" "
			"fill=\"%s\"/><text x=\"%d\" y=\"%d\">",
			CH_W - CH_MR - 90, y, color, CH_W - CH_MR - 76, y + 9);
		esc(w->to, w->seen.items[i]);
		fputs("</text></g>\n", w->to);
	}
	if (w->seen.n == 0)
		fprintf(w->to, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">no "
			       "data in this period</text>\n",
			(CH_ML + CH_W - CH_MR) / 2, (CH_MT + CH_H - CH_MB) / 2);
	fputs("</svg></figure>\n", w->to);
	return 0;
}

static int html_charts(writer *w)
{
	tel_range r = {0};
	int rc;

	if ((rc = sluice__store_export_rows(w->s, SLUICE__EXPORT_TELEMETRY_RANGE, &w->f, ch_range,
					    &r)) < 0)
		return rc;
	if (!r.any) {
		fputs("<p class=\"empty\">No telemetry or feedback in this period.</p>\n", w->to);
		return 0;
	}
	fputs("<div class=\"charts\">\n", w->to);
	if ((rc = html_chart(w, &r, SLUICE__EXPORT_TELEMETRY, "error_rate", "Tool error rate",
			     nice_max(r.max[0]))) < 0 ||
	    (rc = html_chart(w, &r, SLUICE__EXPORT_TELEMETRY, "refusal_rate", "Refusal rate",
			     nice_max(r.max[1]))) < 0 ||
	    (rc = html_chart(w, &r, SLUICE__EXPORT_TELEMETRY, "escalation_rate",
			     "Escalation rate", nice_max(r.max[2]))) < 0 ||
	    (rc = html_chart(w, &r, SLUICE__EXPORT_FEEDBACK, "positive_ratio",
			     "Positive feedback", 1)) < 0)
		return rc;
	fputs("</div>\n", w->to);
	return 0;
}

/* ---- HTML: the page ----------------------------------------------------------- */

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;"
	"margin:0 auto;max-width:1160px;padding:16px 24px 48px}"
	"h1{font-size:26px;margin:8px 0 4px}h2{font-size:21px;margin:36px 0 8px;"
	"border-bottom:2px solid #d0d7de;padding-bottom:4px}h3{font-size:16px;margin:22px 0 6px}"
	".meta{color:#57606a;margin:0 0 12px}"
	".banner{padding:12px 16px;border-radius:6px;margin:12px 0;font-size:15px}"
	".banner.ok{background:#dafbe1;border:1px solid #2da44e}"
	".banner.bad{background:#ffebe9;border:2px solid #cf222e}"
	".banner code{font-size:13px;word-break:break-all}"
	"table{border-collapse:collapse;width:100%;margin:4px 0 8px;font-size:13px}"
	"th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}"
	"th{background:#f6f8fa;text-transform:capitalize}tbody tr:nth-child(even){background:#fbfcfd}"
	"td code{font-size:12px;word-break:break-all}"
	"td.breach{color:#cf222e;font-weight:600}td.waiting{color:#9a6700;font-weight:600}"
	"td.pass{color:#1a7f37}.none{color:#8c959f}.empty{color:#57606a;font-style:italic}"
	"svg text{font:12px system-ui,sans-serif;fill:#1f2328}"
	".grid{stroke:#eaeef2}.axis{stroke:#57606a}.tick{fill:#57606a}"
	".axistitle{fill:#57606a;font-size:12px}.charttitle{font-weight:600;font-size:14px}"
	".lane{font-weight:600}.barlabel{fill:#fff;font-size:12px}"
	"rect.open{stroke:#1f2328;stroke-dasharray:4 3}"
	".approval{fill:#2da44e;stroke:#fff}.rejection{stroke:#1f2328;stroke-width:2.5;fill:none}"
	".breach{fill:#cf222e;stroke:#fff}.waiting{fill:#d4a72c;stroke:#fff}"
	".series{stroke-width:2}.now{stroke:#57606a;stroke-dasharray:3 3}"
	".legend{list-style:none;padding:0;margin:4px 0 8px;display:flex;flex-wrap:wrap;gap:4px 18px}"
	".legend li{display:flex;align-items:center;gap:6px}"
	".swatch{display:inline-block;width:14px;height:14px;border-radius:2px}"
	".swatch.open{border:1px dashed #1f2328}"
	".charts{display:grid;grid-template-columns:repeat(2,1fr);gap:8px}"
	"figure{margin:0}.chart svg{max-width:100%;height:auto}"
	"nav ul{margin:4px 0}";

static const char *const cols_rollouts[] = {"version", "workspace", "tag", "commit_id",
					   "state", "stage", "state_reason", "seen_at",
					   "stage_started_at", "updated_at", NULL};
static const char *const cols_stages[] = {"version", "stage_index", "stage", "started_at",
					 "ended_at", "started_by", "actor", "reason", NULL};
static const char *const cols_approvals[] = {"version", "kind", "stage", "approver", "at",
					    "commit_id", "comment", "live", "void_reason", NULL};
static const char *const cols_telemetry[] = {"version", "day", "calls", "errors",
					    "error_rate", "refusals", "refusal_rate",
					    "escalations", "escalation_rate", "avg_latency_ms",
					    NULL};
static const char *const cols_feedback[] = {"version", "day", "ratings", "positive",
					   "negative", "positive_ratio", NULL};
static const char *const cols_gates[] = {"version", "at", "stage", "outcome", "effect",
					"reason", "audit_id", NULL};
static const char *const cols_audit[] = {"id", "at", "actor", "action", "plugin", "version",
					"details", "hash", NULL};

static int html_plugin(writer *w, const plugin_info *p)
{
	int rc;

	w->f.plugin = p->id;
	strlist_clear(&w->versions);
	strlist_clear(&w->stages);
	fputs("<section class=\"plugin\">\n<h2 id=\"plugin-", w->to);
	esc(w->to, p->id);
	fputs("\">", w->to);
	esc(w->to, p->id);
	if (p->dashboard) {
		fputs(" <small>(", w->to);
		esc(w->to, p->dashboard);
		fputs(")</small>", w->to);
	}
	fputs("</h2>\n", w->to);
	if ((rc = sluice__store_export_rows(w->s, SLUICE__EXPORT_ROLLOUTS, &w->f, collect_version,
					    w)) < 0)
		return rc;
	fputs("<h3>Rollout timeline</h3>\n", w->to);
	if ((rc = html_timeline(w)) < 0)
		return rc;
	fputs("<h3>Releases</h3>\n", w->to);
	if ((rc = html_table(w, SLUICE__EXPORT_ROLLOUTS, cols_rollouts,
			     "No release in this period.")) < 0)
		return rc;
	fputs("<h3>Stages</h3>\n", w->to);
	if ((rc = html_table(w, SLUICE__EXPORT_STAGES, cols_stages,
			     "No stage started in this period.")) < 0)
		return rc;
	fputs("<h3>Approvals and rejections</h3>\n", w->to);
	if ((rc = html_table(w, SLUICE__EXPORT_APPROVALS, cols_approvals,
			     "No approval or rejection in this period.")) < 0)
		return rc;
	fputs("<h3>Tool health and feedback</h3>\n", w->to);
	if ((rc = html_charts(w)) < 0)
		return rc;
	fputs("<h3>Daily tool calls</h3>\n", w->to);
	if ((rc = html_table(w, SLUICE__EXPORT_TELEMETRY, cols_telemetry,
			     "No tool calls in this period.")) < 0)
		return rc;
	fputs("<h3>Daily feedback</h3>\n", w->to);
	if ((rc = html_table(w, SLUICE__EXPORT_FEEDBACK, cols_feedback,
			     "No feedback in this period.")) < 0)
		return rc;
	fputs("<h3>Gate evaluations</h3>\n", w->to);
	if ((rc = html_table(w, SLUICE__EXPORT_GATES, cols_gates,
			     "No gate evaluation was audited in this period.")) < 0)
		return rc;
	fputs("</section>\n", w->to);
	return 0;
}

static int write_html(writer *w)
{
	char when[SLUICE_TIME_BUFSZ];
	int rc = 0;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"sluice export\">\n<title>",
	      w->to);
	esc(w->to, w->title);
	fprintf(w->to, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", css);
	esc(w->to, w->title);
	fprintf(w->to, "</h1>\n<p class=\"meta\">Generated by sluice export at %s",
		sluice_time_format(when, w->o->now));
	fputs(" &middot; plugins: ", w->to);
	esc(w->to, w->o->plugin ? w->o->plugin : "all");
	fprintf(w->to, " &middot; period: %s", w->o->since ? sluice_time_format(when, w->o->since)
							    : "from the start");
	fprintf(w->to, " to %s (UTC)</p>\n",
		w->o->until ? sluice_time_format(when, w->o->until) : "now");
	if (w->audit.ok)
		fprintf(w->to,
			"<div class=\"banner ok\" id=\"audit-status\"><strong>Audit chain "
			"verified</strong>: %" PRId64 " rows",
			w->audit.rows);
	else {
		fputs("<div class=\"banner bad\" id=\"audit-status\"><strong>Audit chain does NOT "
		      "verify</strong>",
		      w->to);
		if (w->audit.bad_id)
			fprintf(w->to, " at row %" PRId64, w->audit.bad_id);
		fputs(": ", w->to);
		esc(w->to, w->audit.problem);
		fputs(". The rows below may have been altered", w->to);
	}
	fprintf(w->to,
		". Head <code>%" PRId64 ":%s</code>. Compare it with the head kept elsewhere: "
		"<code>sluice audit verify --head %" PRId64 ":%s</code></div>\n",
		w->res->head_id, w->res->head_hash, w->res->head_id, w->res->head_hash);
	if (w->nplugins == 0)
		fputs("<p class=\"empty\">No plugin has a recorded release.</p>\n", w->to);
	else if (w->nplugins > 1) {
		fputs("<nav><ul>", w->to);
		for (size_t i = 0; i < w->nplugins; i++) {
			fputs("<li><a href=\"#plugin-", w->to);
			esc(w->to, w->plugins[i].id);
			fputs("\">", w->to);
			esc(w->to, w->plugins[i].id);
			fputs("</a></li>", w->to);
		}
		fputs("<li><a href=\"#audit-trail\">Audit trail</a></li></ul></nav>\n", w->to);
	}
	for (size_t i = 0; i < w->nplugins; i++)
		if ((rc = html_plugin(w, &w->plugins[i])) < 0)
			return rc;
	w->f.plugin = w->o->plugin;
	fputs("<section>\n<h2 id=\"audit-trail\">Audit trail</h2>\n", w->to);
	if ((rc = html_table(w, SLUICE__EXPORT_AUDIT, cols_audit,
			     "No audit row in this period.")) < 0)
		return rc;
	fputs("</section>\n</body>\n</html>\n", w->to);
	return 0;
}

/* ---- the export ------------------------------------------------------------ */

static int collect_plugin(const sluice__export_row *row, void *ctx)
{
	writer *w = ctx;
	const char *id = value_str(row, "plugin"), *dash = value_str(row, "audit_dashboard");

	if (!id)
		return 0;
	w->plugins = sluice_xrealloc(w->plugins, (w->nplugins + 1) * sizeof *w->plugins);
	w->plugins[w->nplugins].id = sluice_xstrdup(id);
	w->plugins[w->nplugins].dashboard = dash && *dash ? sluice_xstrdup(dash) : NULL;
	w->nplugins++;
	return 0;
}

/* The plugins' controls.audit_dashboard when they all name the same one;
 * the default title otherwise. */
static void choose_title(writer *w)
{
	const char *t = NULL;
	for (size_t i = 0; i < w->nplugins; i++) {
		const char *d = w->plugins[i].dashboard;
		if (!d || (t && strcmp(t, d) != 0)) {
			t = NULL;
			break;
		}
		t = d;
	}
	snprintf(w->title, sizeof w->title, "%s", t ? t : SLUICE_EXPORT_DEFAULT_TITLE);
}

int sluice_export_write(sluice_export_result *result, FILE *to, sluice_store *s,
			const sluice_export_options *o)
{
	sluice_export_result local;
	writer w;
	int rc;

	memset(&w, 0, sizeof w);
	memset(&local, 0, sizeof local);
	w.to = to;
	w.s = s;
	w.o = o;
	w.res = result ? result : &local;
	memset(w.res, 0, sizeof *w.res);
	w.f.plugin = o->plugin;
	w.f.since = o->since;
	w.f.until = o->until;
	w.f.now = o->now;

	if ((rc = sluice_audit_verify(s, &w.audit)) < 0 ||
	    (rc = sluice_audit_head(s, &w.res->head_id, w.res->head_hash)) < 0)
		goto done;
	w.res->audit_verified = w.audit.ok;
	if ((rc = sluice__store_export_rows(s, SLUICE__EXPORT_PLUGINS, &w.f, collect_plugin, &w)) <
	    0)
		goto done;
	if (o->plugin && w.nplugins == 0) {
		rc = sluice_error_set(SLUICE_ENOTFOUND,
				      "no release of plugin '%s' is recorded; run 'sluice status' "
				      "for the plugins",
				      o->plugin);
		goto done;
	}
	w.res->plugins = (int64_t)w.nplugins;
	choose_title(&w);
	switch (o->format) {
	case SLUICE_EXPORT_HTML: rc = write_html(&w); break;
	case SLUICE_EXPORT_JSON: rc = write_json(&w); break;
	case SLUICE_EXPORT_CSV: rc = write_csv(&w); break;
	}
	if (rc == 0 && (fflush(to) != 0 || ferror(to)))
		rc = sluice_error_set(SLUICE_EIO, "cannot write the export: %s", strerror(errno));
done:
	for (size_t i = 0; i < w.nplugins; i++) {
		free(w.plugins[i].id);
		free(w.plugins[i].dashboard);
	}
	free(w.plugins);
	strlist_clear(&w.versions);
	strlist_clear(&w.stages);
	strlist_clear(&w.seen);
	return rc;
}
