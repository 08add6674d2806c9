/* The command-line front end: global flags, the command table and the
 * per-command option tables that also print `-h`. */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/engine.h"

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_INVALID = 2,
	EXIT_REFUSED = 3,
	EXIT_USAGE = 129,
};

typedef struct {
	const char *name;  /* long name without the dashes */
	char short_name;   /* 0 for none */
	const char *arg;   /* metavariable, NULL for a flag */
	const char *help;
	bool repeat;       /* may be given more than once */
} cli_opt;

struct cli;

typedef struct {
	const char *name;
	int (*run)(struct cli *cli);
	const char *usage;   /* after "sluice ", e.g. "validate [--plugin DIR]" */
	const char *summary; /* one line for `sluice -h` */
	const cli_opt *opts; /* terminated by an entry with name NULL */
	unsigned min_args, max_args; /* positional arguments */
} cli_cmd;

typedef struct {
	const char *name;
	const char *value; /* NULL for flags */
} cli_optval;

typedef enum { CLI_OUT_TEXT, CLI_OUT_JSON } cli_output;

struct cli {
	/* global flags */
	const char *root;
	char *db;      /* resolved: --db or <root>/.sluice/sluice.db */
	char *cache;   /* resolved: --cache or <root>/.sluice/cache */
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
};

/* The last value of option `name`, or NULL. */
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
/* Maps a library return code to an exit status, printing the last error. */
int cli_fail(int code);

/* Opens the engine with the global flags and the command's -w/--workspace
 * option (when it has one), printing diagnostics and the error. `flags`
 * are SLUICE_ENGINE_* and CLI_ENGINE_NO_WARNINGS. Returns EXIT_OK and
 * *out, or the exit status (2 for an invalid workspace). */
int cli_engine_open(struct cli *c, sluice_engine **out, int flags);
/* cli_engine_open: print the configuration's diagnostics only when the
 * engine cannot open (the administrators' commands print their action
 * alone). */
#define CLI_ENGINE_NO_WARNINGS (1 << 16)
/* Loads the workspace alone - no rollout policy, no store - for the
 * commands that only read repositories (fetch, tags); problems are
 * printed. Returns EXIT_OK and *out (sluice_workspace_free), or the exit
 * status (2 for an invalid workspace). */
int cli_workspace_load(sluice_workspace **out, struct cli *c);
/* Resolves the actor and checks that they hold one of `roles`; a refusal
 * is printed, audited and returned as EXIT_REFUSED. plugin/version may be
 * NULL. */
int cli_engine_authorize(struct cli *c, sluice_engine *e, unsigned roles, const char *plugin,
			 const char *version);

/* Commands (one cmd-*.c each). */
extern const cli_cmd cmd_accept_tag_move;
extern const cli_cmd cmd_audit;
extern const cli_cmd cmd_feedback;
extern const cli_cmd cmd_fetch;
extern const cli_cmd cmd_tags;
extern const cli_cmd cmd_telemetry;
extern const cli_cmd cmd_validate;
extern const cli_cmd cmd_init;
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
extern const cli_cmd cmd_resume;
extern const cli_cmd cmd_rollback;
extern const cli_cmd cmd_unfreeze;
extern const cli_cmd cmd_withdraw;
extern const cli_cmd cmd_version;

#endif
