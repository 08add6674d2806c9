/* What the commands built on the engine share once the dispatcher has set
 * them up (cli.h: the command properties): refusals that are printed and
 * audited, finding plugins and releases in the planner's input, the
 * groups of a user, and printing. The setup itself - opening the engine,
 * the actor and role check, PLUGIN@VERSION arguments, the transaction and
 * the publish afterwards - is cli_dispatch, in cli-admin.c too. */
#ifndef SLUICE_CLI_ADMIN_H
#define SLUICE_CLI_ADMIN_H

#include <stdbool.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/engine.h"
#include "sluice/rollout.h"

/* Resolves the actor into c->actor (the engine c->e must be open) and
 * checks that they hold one of `roles` (0: anyone the identity mode
 * accepts) for `command`. No actor at all under policy.identity asserted
 * is a usage error; a refusal is printed and audited (access.refused) and
 * returned as CLI_REFUSED. The dispatcher does this for CLI_ACTOR; a
 * command whose subcommands differ (audit prune) calls it itself. */
cli_retval cli_authorize(struct cli *c, unsigned roles, const char *command);

/* Prints "error: MESSAGE" and has it audited as "<command>.refused" (with
 * the message, under the actor or the name claimed, naming
 * c->plugin/c->version) once the command's transaction is rolled back.
 * Returns CLI_REFUSED. */
cli_retval cli_refuse(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same for bad input - an unknown plugin, version, stage or user -
 * returning CLI_INVALID (exit 2); a read-only view prints it only. */
cli_retval cli_invalid(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A library failure of the command's action: SLUICE_EREFUSED goes through
 * cli_refuse with the library's message; others print it. */
cli_retval cli_fail_action(struct cli *c, int rc);

/* Whether `s` is in the NULL-terminated list v (sluice_checklist_items). */
bool cli_one_of(const char *const *v, const char *s);

/* The plugin of the input with id `id`, or NULL. */
const sluice_rollout_plugin *cli_plugin(const struct cli *c, const char *id);
/* Its release `version`, or NULL. */
const sluice_rollout_release *cli_release(const sluice_rollout_plugin *p, const char *version);

/* The workspace groups `user` belongs to, in workspace order: *out is a
 * malloc'd array of borrowed names (free() it), *n its length. Returns 0
 * or a negative code (a members file that cannot be read). */
int cli_user_groups(const char ***out, size_t *n, const struct cli *c, const char *user);

/* Prints a JSON document (indented, keys in insertion order) and a
 * newline; steals the reference. */
cli_retval cli_print_json(json_t *j);

/* "2026-12-01T09:00:00Z" into buf (SLUICE_TIME_BUFSZ), "-" for 0. */
const char *cli_time(char *buf, int64_t t);

#endif
