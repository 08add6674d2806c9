/* Shared by the administrators' commands: see ops.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/semver.h"
#include "sluice/store.h"
#include "sluice/tree.h"
#include "sluice/util.h"

int ops_open(ops_ctx *o, struct cli *c, const char *command, bool readonly)
{
	int flags = CLI_ENGINE_NO_WARNINGS | (readonly ? SLUICE_ENGINE_READONLY : 0);
	int rc;

	o->cli = c;
	o->command = command;
	rc = cli_engine_open(c, &o->e, flags);
	return rc == EXIT_OK ? -1 : rc;
}

void ops_close(ops_ctx *o)
{
	if (o->in)
		sluice_engine_input_free(o->in);
	sluice_engine_free(o->e);
	free(o->actor);
	free(o->plugin);
	free(o->version);
	memset(o, 0, sizeof *o);
}

int ops_authorize(ops_ctx *o, unsigned roles)
{
	int rc = sluice_engine_authorize(&o->actor, o->e, o->cli->as, roles, o->command,
					 o->plugin, o->version);
	return rc < 0 ? cli_fail(rc) : -1;
}

int ops_parse_ref(ops_ctx *o, const char *arg, bool version_optional)
{
	const char *at = strrchr(arg, '@');
	sluice_semver v = SLUICE_SEMVER_INIT;
	const char *ver;

	if (at == arg || (at && !at[1]) || (!at && !version_optional)) {
		cli_error("'%s' is not PLUGIN@VERSION; write it as backend-pr-reviewer@0.1.0", arg);
		return EXIT_USAGE;
	}
	o->plugin = at ? sluice_xstrndup(arg, (size_t)(at - arg)) : sluice_xstrdup(arg);
	if (!at)
		return -1;
	ver = at[1] == 'v' ? at + 2 : at + 1;
	if (sluice_semver_parse(&v, ver) < 0) {
		cli_error("'%s' is not a version: %s", at + 1, sluice_error_last());
		return EXIT_USAGE;
	}
	sluice_semver_clear(&v);
	o->version = sluice_xstrdup(ver);
	return -1;
}

int ops_load(ops_ctx *o)
{
	int rc = sluice_engine_input_load(&o->in, o->e, o->plugin);

	if (rc == SLUICE_ENOTFOUND && o->plugin && (o->e->flags & SLUICE_ENGINE_READONLY)) {
		/* a read-only view: a wrong name is bad input, not an action */
		cli_error("no plugin '%s' is watched by workspace '%s'; 'sluice status' lists "
			  "the plugins",
			  o->plugin, o->e->workspace);
		return EXIT_INVALID;
	}
	if (rc == SLUICE_ENOTFOUND && o->plugin)
		return ops_refuse(o, "no plugin '%s' is watched by workspace '%s'; "
				     "'sluice status' lists the plugins",
				  o->plugin, o->e->workspace);
	if (rc < 0)
		return cli_fail(rc);
	if (o->plugin && o->in->in.nplugins == 1 && o->in->in.plugins[0].id &&
	    strcmp(o->plugin, o->in->in.plugins[0].id) != 0) {
		free(o->plugin);
		o->plugin = sluice_xstrdup(o->in->in.plugins[0].id);
	}
	return -1;
}

bool ops_one_of(const char *const *v, const char *s)
{
	for (; *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

const sluice_rollout_plugin *ops_plugin(const ops_ctx *o, const char *id)
{
	for (size_t i = 0; o->in && i < o->in->in.nplugins; i++)
		if (o->in->in.plugins[i].id && strcmp(o->in->in.plugins[i].id, id) == 0)
			return &o->in->in.plugins[i];
	return NULL;
}

const sluice_rollout_release *ops_release(const sluice_rollout_plugin *p, const char *version)
{
	for (size_t i = 0; p && version && i < p->nreleases; i++)
		if (p->releases[i].version && strcmp(p->releases[i].version, version) == 0)
			return &p->releases[i];
	return NULL;
}

/* The command as a verb in messages: "cannot roll back", not "cannot rollback". */
static const char *verb(const ops_ctx *o)
{
	return strcmp(o->command, "rollback") == 0 ? "roll back" : o->command;
}

int ops_begin(ops_ctx *o, struct cli *c, const char *command, unsigned roles, unsigned flags,
	      const sluice_rollout_plugin **p, const sluice_rollout_release **r)
{
	bool readonly = flags & OPS_READONLY;
	const sluice_rollout_plugin *plugin;
	const sluice_rollout_release *release = NULL;
	int rc;

	if (p)
		*p = NULL;
	if (r)
		*r = NULL;
	if ((rc = ops_parse_ref(o, c->args[0], flags & OPS_ANY_VERSION)) >= 0 ||
	    (rc = ops_open(o, c, command, readonly)) >= 0 ||
	    (!readonly && (rc = ops_authorize(o, roles)) >= 0))
		return rc;
	if ((flags & OPS_TRANSACTION) && (rc = sluice_store_begin(o->e->store)) < 0)
		return cli_fail(rc);
	if ((rc = ops_load(o)) >= 0)
		return rc;
	/* ops_load refused a plugin the workspace does not watch: this is a guard */
	if (!(plugin = ops_plugin(o, o->plugin)) && !readonly)
		return ops_refuse(o, "cannot %s %s: no plugin '%s' is watched by workspace '%s'",
				  verb(o), o->plugin, o->plugin, o->e->workspace);
	if (r && o->version && !(release = ops_release(plugin, o->version))) {
		if (readonly) {
			cli_error("no release %s@%s has been recorded; 'sluice status' lists the "
				  "releases",
				  o->plugin, o->version);
			return EXIT_INVALID;
		}
		/* a command that needs the version points to where versions are listed */
		return ops_refuse(o, "cannot %s %s@%s: no such release has been recorded%s",
				  verb(o), o->plugin, o->version,
				  flags & OPS_ANY_VERSION ? ""
							  : "; 'sluice status' lists the releases");
	}
	if (p)
		*p = plugin;
	if (r)
		*r = release;
	return -1;
}

static int refuse(ops_ctx *o, const char *msg)
{
	char *action = sluice_xasprintf("%s.refused", o->command);
	const char *claimed = o->cli->as ? o->cli->as : getenv("SLUICE_ACTOR");
	sluice_audit_entry ent = {
		.at = o->cli->now,
		.actor = o->actor ? o->actor : claimed && *claimed ? claimed : "unknown",
		.action = action,
		.plugin = o->plugin,
		.version = o->version,
		.details = json_pack("{s:s, s:s}", "command", o->command, "reason", msg),
	};
	int rc = EXIT_REFUSED;

	cli_error("%s", msg);
	/* A refusal may come from a unit of work that was rolled back; the
	 * audit row goes in on its own. */
	if (sluice_store_in_transaction(o->e->store))
		sluice_store_rollback(o->e->store);
	/* read-only views change nothing and audit nothing */
	if (!(o->e->flags & SLUICE_ENGINE_READONLY) &&
	    sluice_audit_append(o->e->store, &ent, NULL) < 0) {
		cli_error("cannot audit the refusal: %s", sluice_error_last());
		rc = EXIT_FAIL;
	}
	json_decref(ent.details);
	free(action);
	return rc;
}

int ops_refuse(ops_ctx *o, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int rc, len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = sluice_xmalloc((size_t)(len < 0 ? 0 : len) + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)(len < 0 ? 0 : len) + 1, fmt, ap);
	va_end(ap);
	rc = refuse(o, msg);
	free(msg);
	return rc;
}

int ops_fail(ops_ctx *o, int rc)
{
	if (rc == SLUICE_EREFUSED) {
		char *msg = sluice_xstrdup(sluice_error_last());
		int out = refuse(o, msg);
		free(msg);
		return out;
	}
	return cli_fail(rc);
}

int ops_print_json(json_t *j)
{
	int rc = j && json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0
			 ? EXIT_OK
			 : EXIT_FAIL;
	fputc('\n', stdout);
	json_decref(j);
	return rc;
}

const char *ops_time(char *buf, int64_t t)
{
	if (!t)
		return "-";
	return sluice_time_format(buf, t);
}

int ops_user_groups(const char ***out, size_t *n, const ops_ctx *o, const char *user)
{
	const sluice_workspace *ws = o->e->ws;
	const char **v = sluice_xcalloc(ws->ngroups + 1, sizeof *v);
	size_t count = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < ws->ngroups; i++) {
		char **members = NULL;
		bool in = false;
		int rc = sluice_group_members(&members, ws, &ws->groups[i], o->e->root);
		if (rc < 0) {
			free(v);
			return rc;
		}
		for (size_t k = 0; members && members[k] && !in; k++)
			in = strcmp(members[k], user) == 0;
		sluice_strv_free(members);
		if (in)
			v[count++] = ws->groups[i].name.s;
	}
	*out = v;
	*n = count;
	return 0;
}
