/* The dispatcher and what the commands built on the engine share (see
 * cli-admin.h and the command properties in cli.h): the one place the
 * engine is opened, the actor checked, a transaction rolled back, a
 * refusal audited and the effective state published after an action. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli-admin.h"
#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/notify.h"
#include "sluice/reconcile.h"
#include "sluice/semver.h"
#include "sluice/store.h"
#include "sluice/tree.h"
#include "sluice/util.h"

/* ---- opening ----------------------------------------------------------- */

cli_retval cli_engine_open(struct cli *c, sluice_engine **out, unsigned flags)
{
	int eflags = (flags & CLI_VIEW ? SLUICE_ENGINE_READONLY : 0) |
		     (flags & CLI_EMPTY_OK ? SLUICE_ENGINE_EMPTY_OK : 0);
	sluice_diags d;
	int rc;

	sluice_diags_init(&d);
	rc = sluice_engine_open(out, c->root, c->db, c->cache, cli_get(c, "workspace"), c->now,
				eflags, &d);
	if (d.count && (rc < 0 || (flags & CLI_WARNINGS)))
		sluice_diags_print_text(&d, stderr);
	sluice_diags_clear(&d);
	return rc < 0 ? cli_fail(rc) : CLI_OK;
}

cli_retval cli_workspace_load(sluice_workspace **out, struct cli *c)
{
	sluice_diags diags;
	char *path = sluice_workspace_find(c->root, cli_get(c, "workspace"));
	cli_retval rc;

	*out = NULL;
	if (!path)
		return cli_fail(sluice_error_code() ? sluice_error_code() : SLUICE_ENOTFOUND);
	sluice_diags_init(&diags);
	if (sluice_workspace_load(out, path, &diags) < 0 || diags.errors) {
		sluice_diags_sort(&diags);
		sluice_diags_print_text(&diags, stderr);
		cli_error("the workspace '%s' is not valid; run 'sluice validate' for details",
			  path);
		rc = CLI_INVALID;
	} else
		rc = cli_check_now(c, *out);
	if (rc != CLI_OK) {
		sluice_workspace_free(*out);
		*out = NULL;
	}
	sluice_diags_clear(&diags);
	free(path);
	return rc;
}

cli_retval cli_check_now(const struct cli *c, const sluice_workspace *ws)
{
	sluice_identity_mode mode = sluice_identity_mode_of(ws);

	if (!c->now_arg || (c->cmd->flags & CLI_VIEW) || mode == SLUICE_IDENTITY_ASSERTED)
		return CLI_OK;
	cli_error("--now is only for read-only views under identity: %s; 'sluice %s' is an "
		  "action and runs on the system clock (leave out --now)",
		  sluice_identity_mode_name(mode), c->cmd->name);
	return CLI_USAGE;
}

/* An action never goes back in time: a clock (--now or the system's)
 * earlier than an event already recorded would date approvals, stage
 * starts and audit rows out of order. */
static cli_retval check_clock(struct cli *c)
{
	char now[SLUICE_TIME_BUFSZ], at[SLUICE_TIME_BUFSZ];
	int64_t later = 0;
	int rc = sluice_audit_newest_at(sluice_engine_store(c->e), &later);

	if (rc < 0)
		return cli_fail(rc);
	if (later <= c->now)
		return CLI_OK;
	sluice_time_format(now, c->now);
	sluice_time_format(at, later);
	if (c->now_arg)
		cli_error("--now %s is earlier than an event already recorded at %s; sluice "
			  "records events in time order: give a later --now",
			  now, at);
	else
		cli_error("the system clock (%s) is behind an event already recorded at %s; "
			  "sluice records events in time order: fix the clock and try again",
			  now, at);
	return CLI_REFUSED;
}

/* ---- the command's argument ---------------------------------------------- */

static cli_retval parse_ref(struct cli *c, const char *arg, cli_ref ref)
{
	const char *at = strrchr(arg, '@');
	sluice_semver v = SLUICE_SEMVER_INIT;
	const char *ver;

	if (at == arg || (at && !at[1]) || (!at && ref == CLI_REF_RELEASE)) {
		cli_error("'%s' is not PLUGIN@VERSION; write it as backend-pr-reviewer@0.1.0", arg);
		return CLI_USAGE;
	}
	c->plugin = at ? sluice_xstrndup(arg, (size_t)(at - arg)) : sluice_xstrdup(arg);
	if (!at)
		return CLI_OK;
	if (ref == CLI_REF_PLUGIN) {
		cli_error("%s works on the whole plugin, not one version; give just %s",
			  c->cmd->name, c->plugin);
		return CLI_USAGE;
	}
	ver = at[1] == 'v' ? at + 2 : at + 1;
	if (sluice_semver_parse(&v, ver) < 0) {
		cli_error("'%s' is not a version: %s", at + 1, sluice_error_last());
		return CLI_USAGE;
	}
	sluice_semver_clear(&v);
	c->version = sluice_xstrdup(ver);
	return CLI_OK;
}

/* The command as a verb in messages: "cannot roll back", not "cannot rollback". */
static const char *verb(const struct cli *c)
{
	return strcmp(c->cmd->name, "rollback") == 0 ? "roll back" : c->cmd->name;
}

cli_retval cli_authorize(struct cli *c, unsigned roles, const char *command)
{
	const sluice_workspace *ws = sluice_engine_workspace(c->e);
	const char *env = getenv("SLUICE_ACTOR");
	int rc;

	/* not saying who acts is a mistake on the command line, not a
	 * decision of policy */
	if (sluice_identity_mode_of(ws) == SLUICE_IDENTITY_ASSERTED && !(c->as && *c->as) &&
	    !(env && *env)) {
		cli_error("policy.identity is 'asserted': say who is acting with --as ID or "
			  "$SLUICE_ACTOR");
		return CLI_USAGE;
	}
	free(c->actor);
	c->actor = NULL;
	rc = sluice_engine_authorize(&c->actor, c->e, c->as, roles, command, c->plugin,
				     c->version);
	return rc < 0 ? cli_fail(rc) : CLI_OK;
}

static cli_retval load(struct cli *c)
{
	const char *ws = sluice_engine_workspace_name(c->e);
	int rc = sluice_engine_input_load(&c->in, c->e, c->plugin);

	if (rc == SLUICE_ENOTFOUND && c->plugin)
		return cli_invalid(c, "no plugin '%s' is watched by workspace '%s'; 'sluice status' "
				      "lists the plugins",
				   c->plugin, ws);
	if (rc < 0)
		return cli_fail(rc);
	if (!c->plugin)
		return CLI_OK;
	/* the plugin's id, however it was named */
	if (c->in->in.nplugins == 1 && c->in->in.plugins[0].id &&
	    strcmp(c->plugin, c->in->in.plugins[0].id) != 0) {
		free(c->plugin);
		c->plugin = sluice_xstrdup(c->in->in.plugins[0].id);
	}
	if (!(c->p = cli_plugin(c, c->plugin)))
		return cli_invalid(c, "cannot %s %s: no plugin '%s' is watched by workspace '%s'",
				   verb(c), c->plugin, c->plugin, ws);
	if (!c->version || (c->r = cli_release(c->p, c->version)))
		return CLI_OK;
	if (c->cmd->flags & CLI_VIEW)
		return cli_invalid(c, "no release %s@%s has been recorded; 'sluice status' lists "
				      "the releases",
				   c->plugin, c->version);
	/* a command that needs the version points to where versions are listed */
	return cli_invalid(c, "cannot %s %s@%s: no such release has been recorded%s", verb(c),
			   c->plugin, c->version,
			   c->cmd->ref == CLI_REF_ANY ? "" : "; 'sluice status' lists the releases");
}

/* ---- refusals ------------------------------------------------------------ */

static void keep_refusal(struct cli *c, const char *fmt, va_list ap)
{
	va_list again;
	int len;

	va_copy(again, ap);
	len = vsnprintf(NULL, 0, fmt, ap);
	free(c->refusal);
	c->refusal = sluice_xmalloc((size_t)(len < 0 ? 0 : len) + 1);
	vsnprintf(c->refusal, (size_t)(len < 0 ? 0 : len) + 1, fmt, again);
	va_end(again);
	cli_error("%s", c->refusal);
}

cli_retval cli_refuse(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keep_refusal(c, fmt, ap);
	va_end(ap);
	return CLI_REFUSED;
}

cli_retval cli_invalid(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keep_refusal(c, fmt, ap);
	va_end(ap);
	return CLI_INVALID;
}

cli_retval cli_fail_action(struct cli *c, int rc)
{
	if (rc == SLUICE_EREFUSED)
		return cli_refuse(c, "%s", sluice_error_last());
	return cli_fail(rc);
}

/* The row of a refusal: in the audit log on its own, after the unit of
 * work it came from was rolled back. Read-only views audit nothing. */
static cli_retval audit_refusal(struct cli *c)
{
	char *action = sluice_xasprintf("%s.refused", c->cmd->name);
	const char *claimed = c->as ? c->as : getenv("SLUICE_ACTOR");
	sluice_audit_entry ent = {
		.at = c->now,
		.actor = c->actor ? c->actor : claimed && *claimed ? claimed : "unknown",
		.action = action,
		.plugin = c->plugin,
		.version = c->version,
		.details = json_pack("{s:s, s:s}", "command", c->cmd->name, "reason", c->refusal),
	};
	cli_retval rc = CLI_OK;

	if (!c->e || (c->cmd->flags & CLI_VIEW))
		goto done;
	if (sluice_audit_append(sluice_engine_store(c->e), &ent, NULL) < 0) {
		cli_error("cannot audit the refusal: %s", sluice_error_last());
		rc = CLI_FAILED;
	}
done:
	json_decref(ent.details);
	free(action);
	return rc;
}

/* ---- the dispatcher -------------------------------------------------------- */

static cli_retval publish(struct cli *c)
{
	bool changed = false;

	if (sluice_reconcile_publish(&changed, c->e) < 0) {
		cli_error("%s was applied but publishing failed: %s; 'sluice reconcile' publishes "
			  "it again",
			  c->cmd->name, sluice_error_last());
		return CLI_FAILED;
	}
	if (changed && c->verbose && !c->quiet && c->output == CLI_OUT_TEXT)
		printf("published the effective state\n");
	return CLI_OK;
}

/* An operator's action tells its receivers at once, as it publishes at
 * once (docs/notifications.md): the events it wrote (the outbox rows
 * after `before`) are delivered now; older ones keep their backoff. A
 * receiver that is down is a warning, never the action's failure: the
 * rows stay pending for the next pass. */
static void notify_now(struct cli *c, int64_t before)
{
	sluice_notify_stats st = {0};

	if (sluice_notify_deliver_after(&st, c->e, (int64_t)time(NULL), 0, before) < 0) {
		if (!c->quiet)
			fprintf(stderr, "warning: cannot deliver notifications: %s; 'sluice outbox "
				"deliver' tries again\n", sluice_error_last());
		sluice_error_clear();
	} else if (st.failed && !c->quiet) {
		fprintf(stderr, "warning: %d of %d notifications not delivered yet (%s); they are "
			"retried by the next reconcile or 'sluice outbox deliver'\n",
			st.failed, st.attempted, st.error ? st.error : "?");
	}
	sluice_notify_stats_clear(&st);
}

cli_retval cli_dispatch(struct cli *c)
{
	const cli_cmd *cmd = c->cmd;
	sluice_store *s = NULL;
	int64_t outbox_before = 0;
	cli_retval rc;

	if (cmd->check && (rc = cmd->check(c)) != CLI_OK)
		return rc;
	if (cmd->ref != CLI_REF_NONE && (rc = parse_ref(c, c->args[0], cmd->ref)) != CLI_OK)
		return rc;
	if (!(cmd->flags & CLI_ENGINE))
		return cmd->run(c);
	if ((rc = cli_engine_open(c, &c->e, cmd->flags)) != CLI_OK)
		return rc;
	s = sluice_engine_store(c->e);
	if ((rc = cli_check_now(c, sluice_engine_workspace(c->e))) != CLI_OK ||
	    (!(cmd->flags & CLI_VIEW) && (rc = check_clock(c)) != CLI_OK))
		goto done;
	if ((cmd->flags & CLI_ACTOR) &&
	    (rc = cli_authorize(c, cmd->roles_for ? cmd->roles_for(c) : cmd->roles,
				cmd->name)) != CLI_OK)
		goto done;
	if ((cmd->flags & CLI_PUBLISH) && sluice_store_outbox_last_id(s, &outbox_before) < 0) {
		rc = cli_fail(sluice_error_code());
		goto done;
	}
	if ((cmd->flags & CLI_TRANSACTION) && sluice_store_begin(s) < 0) {
		rc = cli_fail(sluice_error_code());
		goto done;
	}
	if ((cmd->flags & CLI_INPUT) && (rc = load(c)) != CLI_OK)
		goto done;
	rc = cmd->run(c);
	if (rc == CLI_OK && sluice_store_in_transaction(s) && sluice_store_commit(s) < 0)
		rc = cli_fail(sluice_error_code());
done:
	/* the one place a transaction is rolled back: a refusal, a failure,
	 * or a command that returned early */
	if (sluice_store_in_transaction(s))
		sluice_store_rollback(s);
	if (c->refusal && audit_refusal(c) != CLI_OK)
		rc = CLI_FAILED;
	if (rc == CLI_OK && (cmd->flags & CLI_PUBLISH)) {
		rc = publish(c);
		notify_now(c, outbox_before); /* also after a failed publish: publish_failed is news */
	}
	return rc;
}

void cli_clear(struct cli *c)
{
	if (c->in)
		sluice_engine_input_free(c->in);
	c->in = NULL;
	sluice_engine_free(c->e);
	c->e = NULL;
	free(c->actor);
	free(c->plugin);
	free(c->version);
	free(c->refusal);
	c->actor = c->plugin = c->version = c->refusal = NULL;
	c->p = NULL;
	c->r = NULL;
}

/* ---- lookups and printing ------------------------------------------------ */

bool cli_one_of(const char *const *v, const char *s)
{
	for (; *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

const sluice_rollout_plugin *cli_plugin(const struct cli *c, const char *id)
{
	for (size_t i = 0; c->in && i < c->in->in.nplugins; i++)
		if (c->in->in.plugins[i].id && strcmp(c->in->in.plugins[i].id, id) == 0)
			return &c->in->in.plugins[i];
	return NULL;
}

const sluice_rollout_release *cli_release(const sluice_rollout_plugin *p, const char *version)
{
	for (size_t i = 0; p && version && i < p->nreleases; i++)
		if (p->releases[i].version && strcmp(p->releases[i].version, version) == 0)
			return &p->releases[i];
	return NULL;
}

cli_retval cli_print_json(json_t *j)
{
	cli_retval rc = j && json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0
				? CLI_OK
				: CLI_FAILED;
	fputc('\n', stdout);
	json_decref(j);
	return rc;
}

const char *cli_time(char *buf, int64_t t)
{
	if (!t)
		return "-";
	return sluice_time_format(buf, t);
}

int cli_user_groups(const char ***out, size_t *n, const struct cli *c, const char *user)
{
	const sluice_workspace *ws = sluice_engine_workspace(c->e);
	const char **v = sluice_xcalloc(ws->ngroups + 1, sizeof *v);
	size_t count = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < ws->ngroups; i++) {
		char **members = NULL;
		bool in = false;
		int rc = sluice_group_members(&members, ws, &ws->groups[i], sluice_engine_root(c->e));
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
