/* The command-line front end: global flags, the command table with each
 * command's properties (what the dispatcher sets up before it runs), and
 * the per-command option tables that also print `-h`. */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/engine.h"
#include "sluice/rollout.h"

/* What a command (and every CLI helper) returns, tmux's enum cmd_retval.
 * main() turns it into the process's exit status in one place,
 * cli_exit_status(); nothing else returns a number to the shell. */
typedef enum {
	CLI_OK = 0,  /* done; for a helper: go on */
	CLI_FAILED,  /* something failed: I/O, the database, a publisher */
	CLI_INVALID, /* invalid configuration or input: an unknown plugin,
		      * version, stage or user */
	CLI_REFUSED, /* refused by policy (printed, and audited where the
		      * command acts) */
	CLI_USAGE,   /* the command line is wrong */
} cli_retval;

/* The exit statuses of docs/commands.md; only cli_exit_status uses them. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_INVALID = 2,
	EXIT_REFUSED = 3,
	EXIT_USAGE = 129,
};

/* The exit status for rc. */
int cli_exit_status(cli_retval rc);

/* The cli_retval for a library result (0 or a negative SLUICE_E* code):
 * EINVAL and ELIMIT are invalid input, EREFUSED a refusal, EAMBIGUOUS a
 * usage error (a choice left open on the command line), anything else a
 * failure. */
cli_retval cli_retval_of(int code);

typedef struct {
	const char *name;  /* long name without the dashes */
	char short_name;   /* 0 for none */
	const char *arg;   /* metavariable, NULL for a flag */
	const char *help;
	bool repeat;       /* may be given more than once */
} cli_opt;

/* The option every command that reads a workspace takes. */
#define CLI_OPT_WORKSPACE \
	{"workspace", 'w', "NAME", "the workspace (default: the only one in workspaces/)", false}

struct cli;

/* Command properties (git's RUN_SETUP | NEED_WORK_TREE): the dispatcher
 * (cli_dispatch, cli-admin.c) does this setup, in this order, so that a
 * command's run() starts with everything it needs and only parses, calls
 * and prints. */
enum {
	/* Open the engine (c->e) with the global flags and -w; refuse a
	 * --now the identity mode does not allow and a clock earlier than
	 * the newest recorded event (not for CLI_VIEW). */
	CLI_ENGINE = 1 << 0,
	/* A read-only view: changes nothing and audits nothing; the engine
	 * opens read-only; no role is checked; takes --now under every
	 * identity mode. */
	CLI_VIEW = 1 << 1,
	/* An admin acts: the actor (c->actor) is resolved and must hold one
	 * of .roles (any admin's name when 0); a refusal is audited. */
	CLI_ACTOR = 1 << 2,
	/* Check and record in one store transaction, begun after the
	 * actor's check: committed when run() returns CLI_OK (or by run()
	 * itself before it prints what it did), rolled back otherwise, by
	 * the dispatcher and nowhere else. */
	CLI_TRANSACTION = 1 << 3,
	/* Load the planner's input (c->in) of the plugin named (c->p, and
	 * c->r for PLUGIN@VERSION), or of every plugin. */
	CLI_INPUT = 1 << 4,
	/* Publish the effective state after run() succeeded: what the
	 * command changed reaches users now, not at the next reconcile. */
	CLI_PUBLISH = 1 << 5,
	/* Print the configuration's warnings (else only when it cannot
	 * open). */
	CLI_WARNINGS = 1 << 6,
	/* A view that works before the first reconcile: a database that
	 * does not exist yet reads as empty. */
	CLI_EMPTY_OK = 1 << 7,
};

/* How args[0] names what the command acts on (parsed before anything is
 * opened, so a malformed one is a usage error). */
typedef enum {
	CLI_REF_NONE = 0,
	CLI_REF_RELEASE, /* PLUGIN@VERSION: with CLI_INPUT, a recorded release */
	CLI_REF_ANY,     /* PLUGIN or PLUGIN@VERSION */
	CLI_REF_PLUGIN,  /* PLUGIN alone */
} cli_ref;

typedef struct {
	const char *name;
	cli_retval (*run)(struct cli *cli);
	const char *usage;   /* after "sluice ", e.g. "validate [--plugin DIR]" */
	const char *summary; /* one line for `sluice -h` */
	const cli_opt *opts; /* terminated by an entry with name NULL */
	unsigned min_args, max_args; /* positional arguments */
	unsigned flags;      /* CLI_* above */
	unsigned roles;      /* CLI_ACTOR: SLUICE_ROLE_* bits, one of them needed */
	cli_ref ref;         /* what args[0] is */
	/* Checks the command line before anything is opened (a missing
	 * --reason is a usage error whoever runs it); may be NULL. */
	cli_retval (*check)(struct cli *cli);
	/* CLI_ACTOR: the roles needed when they depend on the arguments or
	 * the rollout policy (attest); replaces .roles; may be NULL. */
	unsigned (*roles_for)(const struct cli *cli);
} cli_cmd;

typedef struct {
	const char *name;
	const char *value; /* NULL for flags */
} cli_optval;

typedef enum { CLI_OUT_TEXT, CLI_OUT_JSON } cli_output;

struct cli {
	/* global flags */
	const char *root;
	char *db;      /* resolved: --db or sluice_engine_default_db_path */
	char *cache;   /* resolved: --cache or sluice_engine_default_cache_dir */
	const char *now_arg;
	int64_t now;   /* seconds since the epoch: --now or the clock */
	const char *as;
	cli_output output;
	bool quiet;
	int verbose;
	/* the command and its options */
	const cli_cmd *cmd;
	cli_optval *opts;
	size_t nopts;
	char **args;
	size_t nargs;

	/* what the dispatcher set up from the command's properties */
	sluice_engine *e;                 /* CLI_ENGINE */
	char *actor;                      /* CLI_ACTOR */
	char *plugin, *version;           /* .ref; version may be NULL; plugin
					   * becomes the id with CLI_INPUT */
	sluice_engine_input *in;          /* CLI_INPUT */
	const sluice_rollout_plugin *p;   /* CLI_INPUT and a plugin named */
	const sluice_rollout_release *r;  /* CLI_INPUT and a version named */
	char *refusal;    /* what cli_refuse printed, audited once the
			   * transaction is rolled back */
	bool refusal_ok;  /* the refusal could be audited */
};

/* The last value of option `name`, or NULL. `name` must be in the
 * command's option table (a misspelt name aborts, naming the command:
 * every command runs in the tests). */
const char *cli_get(const struct cli *c, const char *name);
/* Whether flag `name` was given. */
bool cli_has(const struct cli *c, const char *name);
/* The n-th value of a repeatable option (NULL past the end). */
const char *cli_get_nth(const struct cli *c, const char *name, size_t n);

/* Prints `error: ...` (lowercase message, says what to do) on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line on stdout (the newline is added) with its control characters
 * escaped: for lines that quote what a repository or remote said. */
void cli_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the library's last error and returns cli_retval_of(code). */
cli_retval cli_fail(int code);

/* Runs c->cmd: the setup its properties ask for, run(), then the commit
 * or rollback, the audit of a refusal, and the publish. */
cli_retval cli_dispatch(struct cli *c);

/* Frees what the dispatcher set up in c. */
void cli_clear(struct cli *c);

/* Opens the engine with the global flags and the command's -w option,
 * printing diagnostics (all of them with CLI_WARNINGS in `flags`, else
 * only when it cannot open) and the error. `flags` are CLI_*: CLI_VIEW
 * opens read-only, CLI_EMPTY_OK reads a missing database as empty. For
 * the commands that open it themselves (audit prune); the dispatcher uses
 * it for CLI_ENGINE. */
cli_retval cli_engine_open(struct cli *c, sluice_engine **out, unsigned flags);

/* Loads the workspace alone - no rollout policy, no store - for the
 * commands that only read repositories (fetch, tags); problems are
 * printed. Returns CLI_OK and *out (sluice_workspace_free), or
 * CLI_INVALID for an invalid workspace. */
cli_retval cli_workspace_load(sluice_workspace **out, struct cli *c);

/* Whether --now may be given to c->cmd under ws's identity mode: under
 * os-user and ssh-signed only the read-only views take it (the clock of
 * an action by a person is the system's). Returns CLI_OK, or CLI_USAGE
 * with the reason printed. */
cli_retval cli_check_now(const struct cli *c, const sluice_workspace *ws);

/* Commands (one cmd-*.c each, or one per pair of inverse commands). */
extern const cli_cmd cmd_accept_tag_move;
extern const cli_cmd cmd_audit;
extern const cli_cmd cmd_backup;
extern const cli_cmd cmd_feedback;
extern const cli_cmd cmd_fetch;
extern const cli_cmd cmd_tags;
extern const cli_cmd cmd_telemetry;
extern const cli_cmd cmd_validate;
extern const cli_cmd cmd_init;
extern const cli_cmd cmd_outbox;
extern const cli_cmd cmd_plan;
extern const cli_cmd cmd_reconcile;
extern const cli_cmd cmd_secrets;
extern const cli_cmd cmd_status;
extern const cli_cmd cmd_approve;
extern const cli_cmd cmd_attest;
extern const cli_cmd cmd_checklist;
extern const cli_cmd cmd_disable;
extern const cli_cmd cmd_enable;
extern const cli_cmd cmd_export;
extern const cli_cmd cmd_freeze;
extern const cli_cmd cmd_history;
extern const cli_cmd cmd_pause;
extern const cli_cmd cmd_promote;
extern const cli_cmd cmd_reject;
extern const cli_cmd cmd_resolve;
extern const cli_cmd cmd_restore;
extern const cli_cmd cmd_restore_backup;
extern const cli_cmd cmd_resume;
extern const cli_cmd cmd_rollback;
extern const cli_cmd cmd_run;
extern const cli_cmd cmd_unfreeze;
extern const cli_cmd cmd_withdraw;
extern const cli_cmd cmd_version;

#endif
