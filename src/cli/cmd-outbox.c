/* sluice outbox list | retry | drop | deliver: the notifications waiting
 * to be delivered, delivered, or dead after too many attempts; an
 * operator retries or drops a row, and anyone who may run reconcile may
 * deliver now (docs/notifications.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/notify.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"state", 0, "STATE", "list: only rows that are pending, delivered or dead", false},
	{"dead", 0, NULL, "retry: every dead row", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static const char *const k_states[] = {"pending", "delivered", "dead", NULL};

/* Options of one subcommand given to another are usage errors. */
static cli_retval only(struct cli *c, const char *sub, const char *const *allowed)
{
	for (const cli_opt *o = opts; o->name; o++) {
		bool ok = strcmp(o->name, "workspace") == 0;
		for (const char *const *a = allowed; *a; a++)
			ok = ok || strcmp(*a, o->name) == 0;
		if (!ok && cli_has(c, o->name)) {
			cli_error("--%s does not belong to 'sluice outbox %s'", o->name, sub);
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

static cli_retval want_args(struct cli *c, const char *sub, size_t n)
{
	if (c->nargs - 1 == n)
		return CLI_OK;
	if (n == 0)
		cli_error("'sluice outbox %s' takes no argument", sub);
	else
		cli_error("'sluice outbox %s' needs the row's ID ('sluice outbox list' shows it)",
			  sub);
	return CLI_USAGE;
}

static cli_retval parse_id(int64_t *out, const char *arg)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v <= 0) {
		cli_error("'%s' is not an outbox row id; give the number 'sluice outbox list' "
			  "shows",
			  arg);
		return CLI_USAGE;
	}
	*out = (int64_t)v;
	return CLI_OK;
}

static json_t *row_json(const sluice_outbox_row *r)
{
	char created[SLUICE_TIME_BUFSZ], next[SLUICE_TIME_BUFSZ], done[SLUICE_TIME_BUFSZ];

	sluice_time_format(created, r->created_at);
	sluice_time_format(next, r->next_attempt_at);
	sluice_time_format(done, r->delivered_at);
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:s?, s:s?, s:s?, s:o}", "id",
			 (json_int_t)r->id, "event_id", r->event_id, "endpoint", r->endpoint,
			 "kind", r->kind, "state", r->state, "attempts", (json_int_t)r->attempts,
			 "created_at", created, "next_attempt_at",
			 strcmp(r->state, "pending") == 0 && r->next_attempt_at ? next : NULL,
			 "delivered_at", r->delivered_at ? done : NULL, "last_error",
			 r->last_error, "audit_id",
			 r->audit_id ? json_integer((json_int_t)r->audit_id) : json_null());
}

static cli_retval list(struct cli *c)
{
	static const char *const allowed[] = {"state", NULL};
	const char *state = cli_get(c, "state");
	sluice_outbox_row *rows = NULL;
	size_t n = 0;
	cli_retval rc;
	int lrc;

	if ((rc = only(c, "list", allowed)) != CLI_OK || (rc = want_args(c, "list", 0)) != CLI_OK)
		return rc;
	if (state && !cli_one_of(k_states, state)) {
		cli_error("--state '%s' is not a state of the outbox; use pending, delivered or "
			  "dead",
			  state);
		return CLI_USAGE;
	}
	if ((rc = cli_engine_open(c, &c->e, CLI_VIEW | CLI_EMPTY_OK)) != CLI_OK)
		return rc;
	if ((lrc = sluice_store_outbox_list(&rows, &n, sluice_engine_store(c->e),
					    sluice_engine_workspace_name(c->e), state, 0, 0, 0)) < 0)
		return cli_fail(lrc);
	if (c->output == CLI_OUT_JSON) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, row_json(&rows[i]));
		rc = cli_print_json(json_pack("{s:s, s:o}", "workspace",
					      sluice_engine_workspace_name(c->e), "rows", a));
	} else if (!c->quiet) {
		if (!n)
			printf("the outbox is empty%s%s\n", state ? " of rows " : "",
			       state ? state : "");
		for (size_t i = 0; i < n; i++) {
			const sluice_outbox_row *r = &rows[i];
			char when[SLUICE_TIME_BUFSZ];
			/* two spaces between fields: cli_out escapes a tab */
			cli_out("%" PRId64 "  %s  %s  %s  attempts %" PRId64 "  %s  %s%s%s", r->id,
				r->state, r->kind, r->endpoint, r->attempts, r->event_id,
				cli_time(when, r->created_at), r->last_error ? "  " : "",
				r->last_error ? r->last_error : "");
		}
	}
	sluice_outbox_rows_free(rows, n);
	return rc;
}

/* Opens the engine for a change by an operator: the actor's role and the
 * clock are checked as for every action. */
static cli_retval open_operator(struct cli *c, const char *command)
{
	cli_retval rc;

	if ((rc = cli_engine_open(c, &c->e, 0)) != CLI_OK ||
	    (rc = cli_check_now(c, sluice_engine_workspace(c->e))) != CLI_OK)
		return rc;
	return cli_authorize(c, SLUICE_ROLE_OPERATOR, command);
}

static cli_retval retry(struct cli *c)
{
	static const char *const allowed[] = {"dead", NULL};
	bool dead = cli_has(c, "dead");
	int64_t id = 0, n = 0;
	cli_retval rc;
	int lrc;

	if ((rc = only(c, "retry", allowed)) != CLI_OK)
		return rc;
	if (dead == (c->nargs == 2)) {
		cli_error("'sluice outbox retry' needs one row's ID or --dead, not %s",
			  dead ? "both" : "neither");
		return CLI_USAGE;
	}
	if (!dead && (rc = parse_id(&id, c->args[1])) != CLI_OK)
		return rc;
	if ((rc = open_operator(c, "outbox retry")) != CLI_OK)
		return rc;
	lrc = sluice_store_outbox_retry(&n, sluice_engine_store(c->e),
					sluice_engine_workspace_name(c->e), id,
					sluice_engine_now(c->e));
	if (lrc == SLUICE_ENOTFOUND)
		return cli_invalid(c, "%s", sluice_error_last());
	if (lrc < 0)
		return cli_fail_action(c, lrc);
	if (c->output == CLI_OUT_JSON)
		return cli_print_json(json_pack("{s:I}", "retried", (json_int_t)n));
	if (!c->quiet) {
		if (dead)
			printf("%" PRId64 " dead row%s pending again\n", n, n == 1 ? " is" : "s are");
		else
			printf("outbox row %" PRId64 " is pending again\n", id);
	}
	return CLI_OK;
}

static cli_retval drop(struct cli *c)
{
	static const char *const allowed[] = {NULL};
	int64_t id = 0;
	cli_retval rc;
	int lrc;

	if ((rc = only(c, "drop", allowed)) != CLI_OK || (rc = want_args(c, "drop", 1)) != CLI_OK ||
	    (rc = parse_id(&id, c->args[1])) != CLI_OK)
		return rc;
	if ((rc = open_operator(c, "outbox drop")) != CLI_OK)
		return rc;
	lrc = sluice_store_outbox_drop(sluice_engine_store(c->e),
				       sluice_engine_workspace_name(c->e), id,
				       sluice_engine_now(c->e));
	if (lrc == SLUICE_ENOTFOUND)
		return cli_invalid(c, "%s", sluice_error_last());
	if (lrc < 0)
		return cli_fail_action(c, lrc);
	if (c->output == CLI_OUT_JSON)
		return cli_print_json(json_pack("{s:I}", "dropped", (json_int_t)id));
	if (!c->quiet)
		printf("dropped outbox row %" PRId64 "\n", id);
	return CLI_OK;
}

static cli_retval deliver(struct cli *c)
{
	static const char *const allowed[] = {NULL};
	sluice_notify_stats st;
	cli_retval rc;
	int lrc;

	if ((rc = only(c, "deliver", allowed)) != CLI_OK ||
	    (rc = want_args(c, "deliver", 0)) != CLI_OK)
		return rc;
	if ((rc = cli_engine_open(c, &c->e, 0)) != CLI_OK)
		return rc;
	/* real time: the backoff and the signatures are not on the rollout clock */
	if ((lrc = sluice_notify_deliver(&st, c->e, (int64_t)time(NULL), 0)) < 0) {
		sluice_notify_stats_clear(&st);
		return cli_fail(lrc);
	}
	if (c->output == CLI_OUT_JSON)
		cli_print_json(json_pack("{s:i, s:i, s:i, s:i, s:s?}", "attempted", st.attempted,
					 "delivered", st.delivered, "failed", st.failed, "dead",
					 st.dead, "error", st.error));
	else if (!c->quiet)
		printf("delivered %d of %d notification%s\n", st.delivered, st.attempted,
		       st.attempted == 1 ? "" : "s");
	if (st.failed)
		cli_error("%d not delivered (%d now dead); first: %s; they stay in the outbox",
			  st.failed, st.dead, st.error);
	rc = st.failed ? CLI_FAILED : CLI_OK;
	sluice_notify_stats_clear(&st);
	return rc;
}

static cli_retval run(struct cli *c)
{
	const char *sub = c->args[0];

	if (strcmp(sub, "list") == 0)
		return list(c);
	if (strcmp(sub, "retry") == 0)
		return retry(c);
	if (strcmp(sub, "drop") == 0)
		return drop(c);
	if (strcmp(sub, "deliver") == 0)
		return deliver(c);
	cli_error("unknown outbox command '%s'; use 'sluice outbox list', 'retry', 'drop' or "
		  "'deliver'",
		  sub);
	return CLI_USAGE;
}

const cli_cmd cmd_outbox = {
	.name = "outbox",
	.run = run,
	.usage = "outbox list [--state STATE] | outbox retry ID|--dead | outbox drop ID | "
		 "outbox deliver [-w NAME]",
	.summary = "list, retry, drop or deliver the notifications in the outbox",
	.opts = opts,
	.min_args = 1,
	.max_args = 2,
};
