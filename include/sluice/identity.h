/* Who is acting (docs/concepts.md, roles and identity): the identity modes of policy.identity
 * and the role checks of the administrators' commands. Every command gets
 * its actor through sluice_identity_actor, so a new mode (ssh-signed) is a
 * change here only. */
#ifndef SLUICE_IDENTITY_H
#define SLUICE_IDENTITY_H

#include "sluice/config.h"

typedef enum {
	SLUICE_IDENTITY_OS_USER = 0, /* the default */
	SLUICE_IDENTITY_ASSERTED,
	SLUICE_IDENTITY_SSH_SIGNED,
} sluice_identity_mode;

/* The workspace's mode (policy.identity; os-user when unset). */
sluice_identity_mode sluice_identity_mode_of(const sluice_workspace *ws);
const char *sluice_identity_mode_name(sluice_identity_mode m);

/* The acting admin. os-user: the password database entry of the effective
 * user (works under cron, without a terminal); an `as_flag` or `env_actor`
 * ($SLUICE_ACTOR) that names someone else is refused, naming both.
 * asserted: as_flag, else env_actor; one is required. ssh-signed: not
 * supported yet. Returns 0 and a malloc'd *out (caller frees), or
 * SLUICE_EREFUSED / SLUICE_EINVAL with the message set. */
int sluice_identity_actor(char **out, const sluice_workspace *ws, const char *as_flag,
			  const char *env_actor);

/* "approver", "operator", "approver or ci"... for messages; static text
 * for single roles, "?" for an empty mask. */
const char *sluice_role_name(unsigned role);

/* Whether `actor` is an admin holding any of `roles` (SLUICE_ROLE_* bits).
 * Returns 0, or SLUICE_EREFUSED with a message naming the actor, the
 * missing role, `command` and the admins who hold it. */
int sluice_identity_require_role(const sluice_workspace *ws, const char *actor,
				 unsigned roles, const char *command);

#endif
