/* The daemon's log (docs/operations.md, "Logs"): one event a line on
 * stderr, JSON for collectors or text for people. Only what the daemon
 * decides to say goes here: never a secret's value (the secrets module
 * hands out names and states only). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "daemon-internal.h"
#include "sluice/util.h"

/* RFC 3339 in UTC with milliseconds: 2026-12-02T07:00:00.123Z */
static void now_rfc3339(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char day[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%s.%03dZ", day, (int)(ts.tv_nsec / 1000000) % 1000);
}

static void text_field(sluice_buf *b, const char *key, const char *v)
{
	char *shown;

	if (!v)
		return;
	shown = sluice_str_escape_controls(v);
	sluice_buf_printf(b, strpbrk(shown, " \"") ? " %s=\"%s\"" : " %s=%s", key, shown);
	free(shown);
}

static void json_field(json_t *o, const char *key, const char *v)
{
	json_t *j;
	char *shown;

	if (!v)
		return;
	shown = sluice_str_escape_controls(v);
	if (!(j = json_string(shown))) {
		/* text from a repository need not be UTF-8: its other bytes
		 * become '?', so the line stays JSON */
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		j = json_string(shown);
	}
	free(shown);
	json_object_set_new(o, key, j);
}

void sluice__log_event(const sluice__log *l, const char *level, const sluice__log_fields *f,
		       const char *fmt, ...)
{
	char when[80], *raw, *msg;
	va_list ap;
	FILE *to = l->to ? l->to : stderr;

	if (strcmp(level, "debug") == 0 && l->verbose <= 0)
		return;
	now_rfc3339(when, sizeof when);
	va_start(ap, fmt);
	raw = sluice_xvasprintf(fmt, ap);
	va_end(ap);
	/* messages quote tag names and what remotes said: a terminal that
	 * shows the journal gets no escape sequence from either format */
	msg = sluice_str_escape_controls(raw);
	free(raw);
	if (l->format == SLUICE_LOG_TEXT) {
		sluice_buf b = SLUICE_BUF_INIT;
		sluice_buf_printf(&b, "%s %-5s %s", when, level, msg);
		text_field(&b, "plugin", f->plugin);
		text_field(&b, "version", f->version);
		text_field(&b, "stage", f->stage);
		if (f->duration_ms >= 0)
			sluice_buf_printf(&b, " duration_ms=%lld", (long long)f->duration_ms);
		text_field(&b, "holder", f->holder);
		text_field(&b, "error", f->error);
		fprintf(to, "%s\n", b.ptr);
		sluice_buf_clear(&b);
	} else {
		json_t *o = json_object();
		char *line;
		json_object_set_new(o, "time", json_string(when));
		json_object_set_new(o, "level", json_string(level));
		json_field(o, "msg", msg);
		json_field(o, "plugin", f->plugin);
		json_field(o, "version", f->version);
		json_field(o, "stage", f->stage);
		if (f->duration_ms >= 0)
			json_object_set_new(o, "duration_ms", json_integer(f->duration_ms));
		json_field(o, "holder", f->holder);
		json_field(o, "error", f->error);
		line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
		if (line)
			fprintf(to, "%s\n", line);
		free(line);
		json_decref(o);
	}
	fflush(to);
	free(msg);
}
