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

#include "cli-admin.h"
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

static cli_retval print_json(json_t *j)
{
	cli_retval rc =
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? CLI_OK : CLI_FAILED;
	fputc('\n', stdout);
	json_decref(j);
	return rc;
}

/* Options of one subcommand given to another are usage errors. */
static cli_retval only(struct cli *c, const char *sub, const char *const *allowed)
{
	for (const cli_opt *o = opts; o->name; o++) {
		bool ok = false;
		for (const char *const *a = allowed; *a; a++)
			ok = ok || strcmp(*a, o->name) == 0;
		if (!ok && cli_has(c, o->name)) {
			cli_error("--%s does not belong to 'sluice audit %s'", o->name, sub);
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

static cli_retval verify(struct cli *c)
{
	static const char *const allowed[] = {"head", NULL};
	const char *head = cli_get(c, "head");
	char head_hash[SLUICE_AUDIT_HASH_SZ] = "";
	sluice_store *s = NULL;
	sluice_audit_report r;
	int64_t head_id = 0;
	cli_retval rc;
	int lrc;

	if ((rc = only(c, "verify", allowed)) != CLI_OK)
		return rc;
	if (head && sluice_audit_head_parse(&head_id, head_hash, head) < 0) {
		cli_error("--head: %s", sluice_error_last());
		return CLI_USAGE;
	}
	if ((lrc = sluice_store_open(&s, c->db, SLUICE_STORE_READONLY)) < 0)
		return cli_fail(lrc);
	lrc = head ? sluice_audit_verify_head(s, head_id, head_hash, &r) : sluice_audit_verify(s, &r);
	sluice_store_free(s);
	if (lrc < 0)
		return cli_fail(lrc);
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
		return rc == CLI_OK && r.ok ? CLI_OK : CLI_FAILED;
	}
	if (!r.ok) {
		if (r.bad_id)
			cli_error("audit log does not verify at row %" PRId64 ": %s", r.bad_id,
				  r.problem);
		else
			cli_error("audit log does not verify: %s", r.problem);
		return CLI_FAILED;
	}
	if (c->quiet)
		return CLI_OK;
	if (r.rows == 0)
		printf("audit log verified: empty\n");
	else
		printf("audit log verified: %" PRId64 " rows (%" PRId64 " to %" PRId64
		       "), head hash %s\n",
		       r.rows, r.first_id, r.last_id, r.head_hash);
	if (head)
		printf("it still holds row %" PRId64 " of the given head unchanged\n", head_id);
	return CLI_OK;
}

static cli_retval head(struct cli *c)
{
	static const char *const allowed[] = {NULL};
	char hash[SLUICE_AUDIT_HASH_SZ];
	sluice_store *s = NULL;
	int64_t id = 0;
	cli_retval rc;
	int lrc;

	if ((rc = only(c, "head", allowed)) != CLI_OK)
		return rc;
	if ((lrc = sluice_store_open(&s, c->db, SLUICE_STORE_READONLY)) < 0)
		return cli_fail(lrc);
	lrc = sluice_audit_head(s, &id, hash);
	sluice_store_free(s);
	if (lrc < 0)
		return cli_fail(lrc);
	if (c->output == CLI_OUT_JSON)
		return print_json(json_pack("{s:I, s:s}", "id", (json_int_t)id, "hash", hash));
	printf("%" PRId64 ":%s\n", id, hash);
	return CLI_OK;
}

/* A prune the policy refuses: printed, audited (audit.prune.refused) and
 * exit 3, with nothing deleted. */
static cli_retval refuse(sluice_engine *e, const char *why)
{
	json_t *d = json_pack("{s:s, s:s}", "command", "audit prune", "reason", why);
	sluice_audit_entry ent = {(int64_t)time(NULL), NULL, "audit.prune.refused", NULL, NULL, d};
	cli_retval rc = CLI_REFUSED;

	cli_error("%s", why);
	if (sluice_audit_append(sluice_engine_store(e), &ent, NULL) < 0) {
		cli_error("cannot audit the refusal: %s", sluice_error_last());
		rc = CLI_FAILED;
	}
	json_decref(d);
	return rc;
}

static cli_retval prune(struct cli *c)
{
	static const char *const allowed[] = {"older-than-days", "workspace", NULL};
	const char *arg = cli_get(c, "older-than-days");
	sluice_audit_prune_result res;
	const sluice_workspace *ws;
	int retention = SLUICE_AUDIT_RETENTION_DEFAULT_DAYS;
	char *end = NULL;
	long days = 0;
	cli_retval rc;
	int lrc;

	if ((rc = only(c, "prune", allowed)) != CLI_OK)
		return rc;
	/* retention is counted from the real date: a rollout clock moved
	 * forward must not age rows into deletion */
	if (c->now_arg) {
		cli_error("'sluice audit prune' uses the system clock; leave out --now");
		return CLI_USAGE;
	}
	if (arg) {
		errno = 0;
		days = strtol(arg, &end, 10);
		if (errno || end == arg || *end || days < 0 || days > INT_MAX / 86400) {
			cli_error("--older-than-days '%s' is not a number of days; give a whole "
				  "number such as 400",
				  arg);
			return CLI_USAGE;
		}
	}
	/* c->e: freed with the rest of what the dispatcher keeps */
	if ((rc = cli_engine_open(c, &c->e, 0)) != CLI_OK ||
	    (rc = cli_authorize(c, SLUICE_ROLE_AUDITOR | SLUICE_ROLE_OPERATOR, "audit prune")) !=
		    CLI_OK)
		return rc;
	ws = sluice_engine_workspace(c->e);
	if (ws->audit_retention_days.set)
		retention = (int)ws->audit_retention_days.v;
	if (!arg)
		days = retention;
	lrc = sluice_audit_prune(sluice_engine_store(c->e), (int64_t)time(NULL), (int)days,
				 retention, &res);
	if (lrc == SLUICE_EREFUSED) {
		char *why = sluice_xstrdup(sluice_error_last());
		rc = refuse(c->e, why);
		free(why);
		return rc;
	}
	if (lrc < 0)
		return cli_fail(lrc);
	if (c->output == CLI_OUT_JSON)
		return print_json(json_pack("{s:I, s:I, s:I, s:i, s:i}", "deleted",
					    (json_int_t)res.deleted, "checkpoint_id",
					    (json_int_t)res.checkpoint_id, "first_kept_id",
					    (json_int_t)res.first_kept_id, "older_than_days", (int)days,
					    "retention_days", retention));
	if (c->quiet)
		return CLI_OK;
	if (res.deleted == 0)
		printf("nothing to prune: no audit row is older than %ld days\n", days);
	else
		printf("pruned %" PRId64 " audit rows older than %ld days; checkpoint row %" PRId64
		       " continues the chain from row %" PRId64 "\n",
		       res.deleted, days, res.checkpoint_id, res.first_kept_id);
	return CLI_OK;
}

static cli_retval run(struct cli *c)
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
	return CLI_USAGE;
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
