/* What the administrators' commands (approve, reject, pause, resume,
 * promote, rollback, withdraw, restore, freeze, unfreeze, disable, enable,
 * attest, checklist, resolve, history) share: opening the engine, the
 * actor and role check, PLUGIN@VERSION arguments, finding releases in the
 * planner's input, and refusals that are printed, audited and exit 3. */
#ifndef SLUICE_CLI_OPS_H
#define SLUICE_CLI_OPS_H

#include <stdbool.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/engine.h"
#include "sluice/rollout.h"

/* The option every command of this family takes. */
#define OPS_OPT_WORKSPACE \
	{"workspace", 'w', "NAME", "the workspace (default: the only one in workspaces/)", false}

typedef struct {
	struct cli *cli;
	const char *command;
	sluice_engine *e;
	char *actor;               /* after ops_authorize */
	sluice_engine_input *in;   /* after ops_load */
	char *plugin, *version;    /* from ops_parse_ref; version may be NULL */
} ops_ctx;

/* Opens the engine for `command` into a zeroed ops_ctx (READONLY for the read-only views).
 * Returns -1 to go on, or the exit status to return (the problem printed). */
int ops_open(ops_ctx *o, struct cli *c, const char *command, bool readonly);
void ops_close(ops_ctx *o);

/* How ops_begin takes the command's PLUGIN@VERSION argument. */
enum {
	OPS_ANY_VERSION = 1 << 0, /* PLUGIN[@VERSION]: the version may be left out */
	OPS_TRANSACTION = 1 << 1, /* check and record in one transaction, begun here */
	OPS_READONLY = 1 << 2,    /* a read-only view: no role; a wrong name is bad input */
};

/* What a command on one plugin or release does first: parses c->args[0]
 * (PLUGIN@VERSION, or PLUGIN too with OPS_ANY_VERSION), opens the engine
 * for `command`, checks the actor holds one of `roles` (not for
 * OPS_READONLY), begins the store's transaction (OPS_TRANSACTION), loads
 * the planner's input, and sets *p to the plugin and, when a version was
 * named, *r to its release (else NULL); p and r may be NULL. A release
 * that was never recorded is refused (printed and audited; for
 * OPS_READONLY printed, exit 2) in words that name the command ("cannot
 * approve ..."). Returns -1 to go on, or the exit status; ops_close
 * cleans up in both cases. */
int ops_begin(ops_ctx *o, struct cli *c, const char *command, unsigned roles, unsigned flags,
	      const sluice_rollout_plugin **p, const sluice_rollout_release **r);

/* The actor, who must hold one of `roles` (0: anyone). A refusal is
 * printed and audited by the engine. Returns -1 to go on, or the exit
 * status. */
int ops_authorize(ops_ctx *o, unsigned roles);

/* Parses PLUGIN@VERSION ("0.1.1" or "v0.1.1") or, when version_optional,
 * plain PLUGIN, into o->plugin and o->version. Returns -1 to go on, or
 * EXIT_USAGE with the problem printed. */
int ops_parse_ref(ops_ctx *o, const char *arg, bool version_optional);

/* Loads the planner's input (releases, approvals, freeze, withdrawals) of
 * o->plugin (every plugin when NULL). A plugin the workspace does not watch
 * is refused (audited). o->plugin becomes the plugin's id when it named
 * the repository. Returns -1 to go on, or the exit status. */
int ops_load(ops_ctx *o);

/* Whether `s` is in the NULL-terminated list v (sluice_checklist_items). */
bool ops_one_of(const char *const *v, const char *s);

/* The plugin of the input with id `id`, or NULL. */
const sluice_rollout_plugin *ops_plugin(const ops_ctx *o, const char *id);
/* Its release `version`, or NULL. */
const sluice_rollout_release *ops_release(const sluice_rollout_plugin *p, const char *version);

/* The workspace groups `user` belongs to, in workspace order: *out is a
 * malloc'd array of borrowed names (free() it), *n its length. Returns 0
 * or a negative code (a members file that cannot be read). */
int ops_user_groups(const char ***out, size_t *n, const ops_ctx *o, const char *user);

/* Prints "error: MESSAGE" and audits it as "<command>.refused" with the
 * message, under the actor (or "unknown"), naming o->plugin/o->version.
 * Returns EXIT_REFUSED (or EXIT_FAIL when the audit row cannot be
 * written). */
int ops_refuse(ops_ctx *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Maps a library failure to an exit status: SLUICE_EREFUSED goes through
 * ops_refuse with the library's message; others print it. */
int ops_fail(ops_ctx *o, int rc);

/* Prints a JSON document (indented, keys in insertion order) and a
 * newline; steals the reference. */
int ops_print_json(json_t *j);

/* "2026-12-01T09:00:00Z" into buf (SLUICE_TIME_BUFSZ), "-" for 0. */
const char *ops_time(char *buf, int64_t t);

#endif
