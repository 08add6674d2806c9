/* sluice audit verify | prune: check the audit log's hash chain, and apply
 * retention (the one way audit rows leave). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/store.h"

static const cli_opt opts[] = {
	{"older-than-days", 0, "N", "prune: delete rows older than N days (N >= 0)", false},
	{NULL, 0, NULL, NULL, false},
};

static int print_json(json_t *j)
{
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? EXIT_OK : EXIT_FAIL;
	fputc('\n', stdout);
	json_decref(j);
	return rc;
}

static int verify(struct cli *c)
{
	sluice_store *s = NULL;
	sluice_audit_report r;
	int rc;

	if (cli_has(c, "older-than-days")) {
		cli_error("--older-than-days belongs to 'sluice audit prune'");
		return EXIT_USAGE;
	}
	if ((rc = sluice_store_open(&s, c->db, SLUICE_STORE_READONLY)) < 0)
		return cli_fail(rc);
	rc = sluice_audit_verify(s, &r);
	sluice_store_free(s);
	if (rc < 0)
		return cli_fail(rc);
	if (c->output == CLI_OUT_JSON) {
		json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:s?}", "ok", r.ok, "rows",
				      (json_int_t)r.rows, "first_id", (json_int_t)r.first_id,
				      "last_id", (json_int_t)r.last_id, "head_hash",
				      r.head_hash[0] ? r.head_hash : NULL);
		if (!r.ok) {
			json_object_set_new(j, "bad_id", json_integer(r.bad_id));
			json_object_set_new(j, "problem", json_string(r.problem));
		}
		rc = print_json(j);
		return rc == EXIT_OK && r.ok ? EXIT_OK : EXIT_FAIL;
	}
	if (!r.ok) {
		cli_error("audit log does not verify at row %" PRId64 ": %s", r.bad_id, r.problem);
		return EXIT_FAIL;
	}
	if (c->quiet)
		return EXIT_OK;
	if (r.rows == 0)
		printf("audit log verified: empty\n");
	else
		printf("audit log verified: %" PRId64 " rows (%" PRId64 " to %" PRId64
		       "), head hash %s\n",
		       r.rows, r.first_id, r.last_id, r.head_hash);
	return EXIT_OK;
}

static int prune(struct cli *c)
{
	const char *arg = cli_get(c, "older-than-days");
	sluice_audit_prune_result res;
	sluice_store *s = NULL;
	char *end = NULL;
	long days;
	int rc;

	if (!arg) {
		cli_error("'sluice audit prune' needs --older-than-days N (the retention, e.g. 90)");
		return EXIT_USAGE;
	}
	errno = 0;
	days = strtol(arg, &end, 10);
	if (errno || end == arg || *end || days < 0 || days > INT_MAX / 86400) {
		cli_error("--older-than-days '%s' is not a number of days; give a whole number such as 90",
			  arg);
		return EXIT_USAGE;
	}
	if ((rc = sluice_store_open(&s, c->db, 0)) < 0)
		return cli_fail(rc);
	/* TODO(identity): check the operator role once the identity module
	 * lands; until then the actor is --as or $SLUICE_ACTOR. */
	if (c->as)
		sluice_store_set_actor(s, c->as);
	else if (getenv("SLUICE_ACTOR") && *getenv("SLUICE_ACTOR"))
		sluice_store_set_actor(s, getenv("SLUICE_ACTOR"));
	rc = sluice_audit_prune(s, c->now, (int)days, &res);
	sluice_store_free(s);
	if (rc < 0)
		return cli_fail(rc);
	if (c->output == CLI_OUT_JSON)
		return print_json(json_pack("{s:I, s:I, s:I}", "deleted", (json_int_t)res.deleted,
					    "checkpoint_id", (json_int_t)res.checkpoint_id,
					    "first_kept_id", (json_int_t)res.first_kept_id));
	if (c->quiet)
		return EXIT_OK;
	if (res.deleted == 0)
		printf("nothing to prune: no audit row is older than %ld days\n", days);
	else
		printf("pruned %" PRId64 " audit rows older than %ld days; checkpoint row %" PRId64
		       " continues the chain from row %" PRId64 "\n",
		       res.deleted, days, res.checkpoint_id, res.first_kept_id);
	return EXIT_OK;
}

static int run(struct cli *c)
{
	const char *sub = c->args[0];

	if (strcmp(sub, "verify") == 0)
		return verify(c);
	if (strcmp(sub, "prune") == 0)
		return prune(c);
	cli_error("unknown audit command '%s'; use 'sluice audit verify' or 'sluice audit prune'",
		  sub);
	return EXIT_USAGE;
}

const cli_cmd cmd_audit = {
	.name = "audit",
	.run = run,
	.usage = "audit verify | audit prune --older-than-days N",
	.summary = "verify the audit log's hash chain, or prune rows past retention",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
