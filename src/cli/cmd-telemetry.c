/* sluice telemetry ingest [FILE|-] | ingest --spool DIR | prune: take
 * telemetry events (JSON lines, docs/telemetry.md) into the store, from a
 * file, standard input or a spool directory producers write to, and
 * delete raw events past each plugin's audit.retention_days (the daily
 * rollups stay). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/error.h"
#include "sluice/ingest.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"spool", 0, "DIR", "ingest: every complete file in DIR (not *.tmp)", false},
	{"rejects", 0, "FILE", "ingest: append rejected lines and reasons to FILE", false},
	{"workspace", 'w', "NAME", "the workspace (default: the only one in workspaces/)", false},
	{NULL, 0, NULL, NULL, false},
};

typedef struct {
	FILE *rejects;
	const char *rejects_path;
	bool quiet;
} reject_sink;

static void on_reject(void *arg, const char *source, int64_t line, const char *reason,
		      const char *text, size_t len)
{
	reject_sink *r = arg;

	fprintf(stderr, "%s:%" PRId64 ": error: %s\n", source, line, reason);
	if (r->rejects)
		sluice_ingest_reject_write(r->rejects, source, line, reason, text, len);
}

static int ingest(struct cli *c)
{
	const char *spool = cli_get(c, "spool"), *file = c->nargs > 1 ? c->args[1] : NULL;
	sluice_ingest_ctx ctx = {0};
	sluice_ingest_stats total = {0};
	reject_sink sink = {0};
	sluice_engine *e = NULL;
	char *rejects = NULL;
	size_t nfiles = 0;
	int rc;

	if (spool && file) {
		cli_error("give a FILE or --spool DIR, not both");
		return CLI_USAGE;
	}
	if ((rc = cli_engine_open(c, &e, 0)) != CLI_OK)
		goto done;
	if ((rc = sluice_ingest_ctx_load(&ctx, e, c->now)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	ctx.on_reject = on_reject;
	ctx.arg = &sink;

	if (cli_get(c, "rejects")) {
		rejects = sluice_xstrdup(cli_get(c, "rejects"));
	} else {
		rejects = sluice_ingest_rejects_default(c->db);
	}
	sink.rejects_path = rejects;

	if (spool) {
		if (!(sink.rejects = sluice_ingest_rejects_open(rejects))) {
			rc = cli_fail(sluice_error_code());
			goto done;
		}
		if ((rc = sluice_ingest_spool(&total, &nfiles, sluice_engine_store(e), &ctx, spool)) < 0)
			rc = cli_fail(rc);
	} else {
		bool stdin_in = !file || strcmp(file, "-") == 0;
		FILE *in = stdin_in ? stdin : fopen(file, "r");
		if (!in) {
			cli_error("cannot open %s: %s", file, strerror(errno));
			rc = CLI_INVALID;
			goto done;
		}
		if (!(sink.rejects = sluice_ingest_rejects_open(rejects))) {
			rc = cli_fail(sluice_error_code());
			if (!stdin_in)
				fclose(in);
			goto done;
		}
		rc = sluice_ingest_stream(&total, sluice_engine_store(e), &ctx, in, stdin_in ? "-" : file);
		if (!stdin_in)
			fclose(in);
		rc = rc < 0 ? cli_fail(rc) : CLI_OK;
		nfiles = 1;
	}
	if (rc != CLI_OK)
		goto done;
	if (c->output == CLI_OUT_JSON) {
		json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "files", (json_int_t)nfiles,
				      "lines", (json_int_t)total.lines, "added",
				      (json_int_t)total.added, "duplicates",
				      (json_int_t)total.duplicates, "rejected",
				      (json_int_t)total.rejected, "unknown_fields",
				      (json_int_t)total.unknown_fields, "rejects_file", rejects);
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else if (!c->quiet) {
		printf("ingested %" PRId64 " events from %zu %s (%" PRId64 " already stored, %" PRId64
		       " rejected, %" PRId64 " unknown fields ignored)\n",
		       total.added, nfiles, nfiles == 1 ? "source" : "sources", total.duplicates,
		       total.rejected, total.unknown_fields);
	}
	if (total.rejected) {
		cli_error("%" PRId64 " line%s rejected; see the reasons above and in %s", total.rejected,
			  total.rejected == 1 ? "" : "s", rejects);
		rc = CLI_INVALID;
	}
done:
	if (sink.rejects)
		fclose(sink.rejects);
	sluice_ingest_ctx_clear(&ctx);
	free(rejects);
	sluice_engine_free(e);
	return rc;
}

static int prune(struct cli *c)
{
	sluice_engine *e = NULL;
	sluice_prune_item *items = NULL;
	json_t *out = json_array();
	int64_t sum = 0;
	size_t n = 0;
	int rc;

	if (c->nargs > 1 || cli_has(c, "spool") || cli_has(c, "rejects")) {
		cli_error("'sluice telemetry prune' takes no file, --spool or --rejects");
		rc = CLI_USAGE;
		goto done;
	}
	if ((rc = cli_engine_open(c, &e, 0)) != CLI_OK)
		goto done;
	if ((rc = sluice_telemetry_prune(&items, &n, e, c->now)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const sluice_prune_item *it = &items[i];
		sum += it->deleted;
		json_array_append_new(out, json_pack("{s:s, s:I, s:I}", "plugin", it->plugin,
						     "retention_days", (json_int_t)it->retention_days,
						     "deleted", (json_int_t)it->deleted));
		if (c->output == CLI_OUT_TEXT && !c->quiet) {
			if (it->retention_days > 0)
				printf("%s: deleted %" PRId64 " raw events older than %" PRId64
				       " days (daily rollups kept)\n", it->plugin, it->deleted,
				       it->retention_days);
			else
				printf("%s: kept every event: its manifest sets no "
				       "audit.retention_days\n", it->plugin);
		}
	}
	if (c->output == CLI_OUT_JSON) {
		json_t *j = json_pack("{s:O, s:I}", "plugins", out, "deleted", (json_int_t)sum);
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	}
	rc = CLI_OK;
done:
	sluice_prune_items_free(items, n);
	json_decref(out);
	sluice_engine_free(e);
	return rc;
}

static cli_retval run(struct cli *c)
{
	const char *sub = c->args[0];
	if (strcmp(sub, "ingest") == 0)
		return ingest(c);
	if (strcmp(sub, "prune") == 0)
		return prune(c);
	cli_error("unknown telemetry command '%s'; use 'sluice telemetry ingest' or "
		  "'sluice telemetry prune'", sub);
	return CLI_USAGE;
}

const cli_cmd cmd_telemetry = {
	.name = "telemetry",
	.run = run,
	.usage = "telemetry ingest [FILE|-] | telemetry ingest --spool DIR | telemetry prune",
	.summary = "ingest telemetry events (JSON lines) or prune raw events past retention",
	.opts = opts,
	.min_args = 1,
	.max_args = 2,
};
