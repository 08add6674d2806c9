/* sluice audit verify | head | prune: check the audit log (its hash chain,
 * its end, a head kept elsewhere, and that every recorded decision has its
 * row), print its head, and apply retention (the one way audit rows
 * leave; docs/database.md). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/audit.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"head", 0, "ID:HASH", "verify: prove the log still holds this head unchanged", false},
	{"older-than-days", 0, "N",
	 "prune: delete rows older than N days (at least policy.audit_retention_days)", false},
	{"workspace", 'w', "NAME", "prune: the workspace (default: the only one in workspaces/)",
	 false},
	{NULL, 0, NULL, NULL, false},
};

static int print_json(json_t *j)
{
	int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? EXIT_OK : EXIT_FAIL;
	fputc('\n', stdout);
	json_decref(j);
	return rc;
}

/* Options of one subcommand given to another are usage errors. */
static int only(struct cli *c, const char *sub, const char *const *allowed)
{
	for (const cli_opt *o = opts; o->name; o++) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok = ok || strcmp(*a, o->name) == 0;
		if (!ok && cli_has(c, o->name)) {
			cli_error("--%s does not belong to 'sluice audit %s'", o->name, sub);
			return EXIT_USAGE;
		}
	}
	return -1;
}

static int verify(struct cli *c)
{
	static const char *const allowed[] = {"head", NULL};
	const char *head = cli_get(c, "head");
	char head_hash[SLUICE_AUDIT_HASH_SZ] = "";
	sluice_store *s = NULL;
	sluice_audit_report r;
	int64_t head_id = 0;
	int rc;

	if ((rc = only(c, "verify", allowed)) >= 0)
		return rc;
	if (head && sluice_audit_head_parse(&head_id, head_hash, head) < 0) {
		cli_error("--head: %s", sluice_error_last());
		return EXIT_USAGE;
	}
	if ((rc = sluice_store_open(&s, c->db, SLUICE_STORE_READONLY)) < 0)
		return cli_fail(rc);
	rc = head ? sluice_audit_verify_head(s, head_id, head_hash, &r) : sluice_audit_verify(s, &r);
	sluice_store_free(s);
	if (rc < 0)
		return cli_fail(rc);
	if (c->output == CLI_OUT_JSON) {
		json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:s?}", "ok", r.ok, "rows",
				      (json_int_t)r.rows, "first_id", (json_int_t)r.first_id,
				      "last_id", (json_int_t)r.last_id, "head_hash",
				      r.head_hash[0] ? r.head_hash : NULL);
		if (head)
			json_object_set_new(j, "head", json_pack("{s:I, s:s}", "id",
								 (json_int_t)head_id, "hash",
								 head_hash));
		if (!r.ok) {
			json_object_set_new(j, "bad_id", json_integer(r.bad_id));
			json_object_set_new(j, "problem", json_string(r.problem));
		}
		rc = print_json(j);
		return rc == EXIT_OK && r.ok ? EXIT_OK : EXIT_FAIL;
	}
	if (!r.ok) {
		if (r.bad_id)
			cli_error("audit log does not verify at row %" PRId64 ": %s", r.bad_id,
				  r.problem);
		else
			cli_error("audit log does not verify: %s", r.problem);
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
	if (head)
		printf("it still holds row %" PRId64 " of the given head unchanged\n", head_id);
	return EXIT_OK;
}

static int head(struct cli *c)
{
	static const char *const allowed[] = {NULL};
	char hash[SLUICE_AUDIT_HASH_SZ];
	sluice_store *s = NULL;
	int64_t id = 0;
	int rc;

	if ((rc = only(c, "head", allowed)) >= 0)
		return rc;
	if ((rc = sluice_store_open(&s, c->db, SLUICE_STORE_READONLY)) < 0)
		return cli_fail(rc);
	rc = sluice_audit_head(s, &id, hash);
	sluice_store_free(s);
	if (rc < 0)
		return cli_fail(rc);
	if (c->output == CLI_OUT_JSON)
		return print_json(json_pack("{s:I, s:s}", "id", (json_int_t)id, "hash", hash));
	printf("%" PRId64 ":%s\n", id, hash);
	return EXIT_OK;
}

/* A prune the policy refuses: printed, audited (audit.prune.refused) and
 * exit 3, with nothing deleted. */
static int refuse(sluice_engine *e, const char *why)
{
	json_t *d = json_pack("{s:s, s:s}", "command", "audit prune", "reason", why);
	sluice_audit_entry ent = {(int64_t)time(NULL), NULL, "audit.prune.refused", NULL, NULL, d};
	int rc = EXIT_REFUSED;

	cli_error("%s", why);
	if (sluice_audit_append(e->store, &ent, NULL) < 0) {
		cli_error("cannot audit the refusal: %s", sluice_error_last());
		rc = EXIT_FAIL;
	}
	json_decref(d);
	return rc;
}

static int prune(struct cli *c)
{
	static const char *const allowed[] = {"older-than-days", "workspace", NULL};
	const char *arg = cli_get(c, "older-than-days");
	sluice_audit_prune_result res;
	sluice_engine *e = NULL;
	int retention = SLUICE_AUDIT_RETENTION_DEFAULT_DAYS;
	char *end = NULL;
	long days = 0;
	int rc;

	if ((rc = only(c, "prune", allowed)) >= 0)
		return rc;
	/* retention is counted from the real date: a rollout clock moved
	 * forward must not age rows into deletion */
	if (c->now_arg) {
		cli_error("'sluice audit prune' uses the system clock; leave out --now");
		return EXIT_USAGE;
	}
	if (arg) {
		errno = 0;
		days = strtol(arg, &end, 10);
		if (errno || end == arg || *end || days < 0 || days > INT_MAX / 86400) {
			cli_error("--older-than-days '%s' is not a number of days; give a whole "
				  "number such as 400",
				  arg);
			return EXIT_USAGE;
		}
	}
	if ((rc = cli_engine_open(c, &e, CLI_ENGINE_NO_WARNINGS)) != EXIT_OK)
		goto done;
	rc = sluice_engine_authorize(NULL, e, c->as, SLUICE_ROLE_AUDITOR | SLUICE_ROLE_OPERATOR,
				     "audit prune", NULL, NULL);
	if (rc < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	if (e->ws->audit_retention_days.set)
		retention = (int)e->ws->audit_retention_days.v;
	if (!arg)
		days = retention;
	rc = sluice_audit_prune(e->store, (int64_t)time(NULL), (int)days, retention, &res);
	if (rc == SLUICE_EREFUSED) {
		char *why = sluice_xstrdup(sluice_error_last());
		rc = refuse(e, why);
		free(why);
		goto done;
	}
	if (rc < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	if (c->output == CLI_OUT_JSON) {
		rc = print_json(json_pack("{s:I, s:I, s:I, s:i, s:i}", "deleted",
					  (json_int_t)res.deleted, "checkpoint_id",
					  (json_int_t)res.checkpoint_id, "first_kept_id",
					  (json_int_t)res.first_kept_id, "older_than_days", (int)days,
					  "retention_days", retention));
		goto done;
	}
	rc = EXIT_OK;
	if (c->quiet)
		goto done;
	if (res.deleted == 0)
		printf("nothing to prune: no audit row is older than %ld days\n", days);
	else
		printf("pruned %" PRId64 " audit rows older than %ld days; checkpoint row %" PRId64
		       " continues the chain from row %" PRId64 "\n",
		       res.deleted, days, res.checkpoint_id, res.first_kept_id);
done:
	sluice_engine_free(e);
	return rc;
}

static int run(struct cli *c)
{
	const char *sub = c->args[0];

	if (strcmp(sub, "verify") == 0)
		return verify(c);
	if (strcmp(sub, "head") == 0)
		return head(c);
	if (strcmp(sub, "prune") == 0)
		return prune(c);
	cli_error("unknown audit command '%s'; use 'sluice audit verify', 'sluice audit head' "
		  "or 'sluice audit prune'",
		  sub);
	return EXIT_USAGE;
}

const cli_cmd cmd_audit = {
	.name = "audit",
	.run = run,
	.usage = "audit verify [--head ID:HASH] | audit head | audit prune [--older-than-days N]",
	.summary = "verify the audit log, print its head, or prune rows past retention",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
};
