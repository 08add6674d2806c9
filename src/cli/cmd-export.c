/* sluice export --format html|json|csv: the audit-review dashboard and the
 * same sections for other tools (docs/export.md). Read-only: it needs no
 * role and reads the database even when the workspace does not validate.
 *
 * The file goes to standard output, or with --out FILE to FILE (written
 * beside it and renamed, so a reader never sees half a dashboard). Not
 * -o FILE: -o is the global output format of every command (-o json),
 * and here it keeps that meaning for the summary line. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/error.h"
#include "sluice/export.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"format", 0, "FORMAT", "html (default), json or csv", false},
	{"since", 0, "DATE", "only what happened from this day (or RFC 3339 time) on", false},
	{"until", 0, "DATE", "only what happened up to this day, inclusive (or before this time)",
	 false},
	{"plugin", 0, "ID", "only this plugin (default: every plugin)", false},
	{"out", 0, "FILE", "write to FILE instead of standard output", false},
	{NULL, 0, NULL, NULL, false},
};

/* A date alone (2026-12-01) or an RFC 3339 time; `until` of a date means
 * the end of that day. */
static cli_retval parse_bound(int64_t *out, const char *opt, const char *val, bool until)
{
	if (sluice_time_parse(out, val) < 0) {
		cli_error("--%s '%s' is not a date; write it as 2026-12-01 or 2026-12-01T09:00:00Z",
			  opt, val);
		return CLI_USAGE;
	}
	if (until && strlen(val) == 10)
		*out += 86400;
	return CLI_OK;
}

static cli_retval run(struct cli *c)
{
	const char *format = cli_get(c, "format"), *since = cli_get(c, "since");
	const char *until = cli_get(c, "until"), *out = cli_get(c, "out");
	sluice_export_options o = {SLUICE_EXPORT_HTML, cli_get(c, "plugin"), 0, 0, c->now};
	sluice_export_result res;
	sluice_store *s = NULL;
	char *tmp = NULL;
	FILE *to = stdout;
	int rc;

	if (format && sluice_export_format_parse(&o.format, format) < 0) {
		cli_error("--format: %s", sluice_error_last());
		return CLI_USAGE;
	}
	if ((since && (rc = parse_bound(&o.since, "since", since, false)) != CLI_OK) ||
	    (until && (rc = parse_bound(&o.until, "until", until, true)) != CLI_OK))
		return rc;
	if (o.since && o.until && o.until <= o.since) {
		cli_error("--until %s is not after --since %s; nothing would be exported", until,
			  since);
		return CLI_USAGE;
	}
	if ((rc = sluice_store_open(&s, c->db, SLUICE_STORE_READONLY)) < 0)
		return cli_fail(rc);
	if (out) {
		tmp = sluice_xasprintf("%s.tmp.%ld", out, (long)getpid());
		if (!(to = fopen(tmp, "w"))) {
			cli_error("cannot write %s: %s; check the directory exists and is writable",
				  tmp, strerror(errno));
			rc = CLI_FAILED;
			goto done;
		}
	}
	rc = sluice_export_write(&res, to, s, &o);
	if (out) {
		if (fclose(to) != 0 && rc == 0)
			rc = sluice_error_set(SLUICE_EIO, "cannot write %s: %s", tmp, strerror(errno));
		to = NULL;
		if (rc == 0 && rename(tmp, out) != 0)
			rc = sluice_error_set(SLUICE_EIO, "cannot rename %s to %s: %s", tmp, out,
					      strerror(errno));
		if (rc < 0)
			unlink(tmp);
	}
	if (rc < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	rc = CLI_OK;
	if (!out || c->quiet)
		goto done;
	if (c->output == CLI_OUT_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:b, s:s}", "file", out, "format",
				      format ? format : "html", "plugins", (json_int_t)res.plugins,
				      "rows", (json_int_t)res.rows, "audit_verified",
				      res.audit_verified, "audit_head", "");
		char head[128];
		snprintf(head, sizeof head, "%" PRId64 ":%s", res.head_id, res.head_hash);
		json_object_set_new(j, "audit_head", json_string(head));
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
		json_decref(j);
		goto done;
	}
	cli_out("wrote %s: %" PRId64 " plugins, %" PRId64 " rows; audit chain %s, head %" PRId64
		":%s",
		out, res.plugins, res.rows, res.audit_verified ? "verified" : "DOES NOT VERIFY",
		res.head_id, res.head_hash);
done:
	sluice_store_free(s);
	free(tmp);
	return rc;
}

const cli_cmd cmd_export = {
	.name = "export",
	.run = run,
	.usage = "export [--format html|json|csv] [--since DATE] [--until DATE] [--plugin ID] "
		 "[--out FILE]",
	.summary = "the audit-review dashboard (one offline HTML file), or its data as JSON or CSV",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
};
