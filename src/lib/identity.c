/* Identity modes and role checks (docs/concepts.md, roles and identity). */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/util.h"

static const unsigned role_bits[] = {SLUICE_ROLE_APPROVER, SLUICE_ROLE_OPERATOR,
				     SLUICE_ROLE_AUDITOR, SLUICE_ROLE_CI};
static const char *const role_names[] = {"approver", "operator", "auditor", "ci"};

sluice_identity_mode sluice_identity_mode_of(const sluice_workspace *ws)
{
	const char *m = ws ? ws->identity.s : NULL;
	if (m && strcmp(m, "asserted") == 0)
		return SLUICE_IDENTITY_ASSERTED;
	if (m && strcmp(m, "ssh-signed") == 0)
		return SLUICE_IDENTITY_SSH_SIGNED;
	return SLUICE_IDENTITY_OS_USER;
}

const char *sluice_identity_mode_name(sluice_identity_mode m)
{
	switch (m) {
	case SLUICE_IDENTITY_ASSERTED:
		return "asserted";
	case SLUICE_IDENTITY_SSH_SIGNED:
		return "ssh-signed";
	default:
		return "os-user";
	}
}

const char *sluice_role_name(unsigned role)
{
	for (size_t i = 0; i < sizeof role_bits / sizeof role_bits[0]; i++)
		if (role == role_bits[i])
			return role_names[i];
	return "?";
}

/* "approver or ci" */
static void put_roles(sluice_buf *b, unsigned roles)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof role_bits / sizeof role_bits[0]; i++)
		if (roles & role_bits[i])
			sluice_buf_printf(b, "%s'%s'", n++ ? " or " : "", role_names[i]);
}

int sluice_identity_actor(char **out, const sluice_workspace *ws, const char *as_flag,
			  const char *env_actor)
{
	sluice_identity_mode mode = sluice_identity_mode_of(ws);
	const char *claimed = as_flag && *as_flag ? as_flag : env_actor && *env_actor ? env_actor : NULL;
	const char *how = as_flag && *as_flag ? "--as" : "$SLUICE_ACTOR";

	*out = NULL;
	switch (mode) {
	case SLUICE_IDENTITY_ASSERTED:
		if (!claimed)
			return sluice_error_set(SLUICE_EREFUSED,
						"policy.identity is 'asserted': say who is acting with "
						"--as ID or $SLUICE_ACTOR");
		*out = sluice_xstrdup(claimed);
		return 0;
	case SLUICE_IDENTITY_SSH_SIGNED:
		return sluice_error_set(SLUICE_EINVAL,
					"policy.identity 'ssh-signed' is not supported yet; use "
					"'os-user' or 'asserted'");
	default:
		break;
	}
	/* getpwuid, not getlogin or $USER: it works under cron and without a
	 * terminal, and the environment cannot fake it. */
	struct passwd *pw = getpwuid(geteuid());
	if (!pw || !pw->pw_name || !*pw->pw_name)
		return sluice_error_set(SLUICE_EREFUSED,
					"cannot tell who is acting: user id %ld has no entry in the "
					"password database",
					(long)geteuid());
	if (claimed && strcmp(claimed, pw->pw_name) != 0)
		return sluice_error_set(SLUICE_EREFUSED,
					"%s names '%s' but you are '%s' (policy.identity is os-user); "
					"drop %s or run as that user",
					how, claimed, pw->pw_name, how);
	*out = sluice_xstrdup(pw->pw_name);
	return 0;
}

int sluice_identity_require_role(const sluice_workspace *ws, const char *actor,
				 unsigned roles, const char *command)
{
	sluice_buf need = SLUICE_BUF_INIT, who = SLUICE_BUF_INIT;
	const sluice_admin *a;
	size_t n = 0;
	int rc;

	if (!roles)
		return 0;
	a = sluice_workspace_admin(ws, actor);
	if (a && (a->roles & roles))
		return 0;
	put_roles(&need, roles);
	for (size_t i = 0; i < ws->nadmins; i++)
		if (ws->admins[i].id.s && (ws->admins[i].roles & roles))
			sluice_buf_printf(&who, "%s%s", n++ ? ", " : "", ws->admins[i].id.s);
	if (!a)
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "'%s' is not an admin of workspace '%s'; '%s' needs the %s "
				      "role (held by: %s)",
				      actor, ws->name.s ? ws->name.s : "?", command, need.ptr,
				      n ? who.ptr : "nobody");
	else
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "'%s' lacks the %s role that '%s' needs (held by: %s)", actor,
				      need.ptr, command, n ? who.ptr : "nobody");
	sluice_buf_clear(&need);
	sluice_buf_clear(&who);
	return rc;
}
