/* sluice feedback PLUGIN[@VERSION] --rating up|down|1-5 [--comment TEXT]:
 * a person's rating of a plugin, stored as a feedback event exactly like
 * an ingested one (docs/telemetry.md): the actor is kept only as the
 * workspace's keyed hash. Without @VERSION it rates the release the
 * actor's group has; --group names the group when the actor is in none
 * (an admin trying a release). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "cli-admin.h"
#include "sluice/error.h"
#include "sluice/ingest.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"rating", 0, "RATING", "up, down, or 1 to 5 (4, 5 and up count as positive)", false},
	{"comment", 0, "TEXT", "what worked or did not", false},
	{"group", 0, "NAME", "the group rated from (default: the actor's)", false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static cli_retval run(struct cli *c)
{
	const char *rating = sluice_rating_canonical(cli_get(c, "rating"));
	const char *comment = cli_get(c, "comment"), *group = cli_get(c, "group");
	const sluice_rollout_plugin *p = c->p;
	sluice_engine *e = c->e;
	sluice_store *st = sluice_engine_store(e);
	const char *wsname = sluice_engine_workspace_name(e);
	const char **groups = NULL;
	size_t ngroups = 0;
	char id[40], when[SLUICE_TIME_BUFSZ], **plugins = NULL, **versions = NULL;
	const char *version = NULL;
	sluice_ingest_ctx ctx = {0};
	sluice_event ev = {0};
	unsigned char rnd[12];
	size_t nrel = 0;
	bool added = false;
	int rc;

	if (!rating) {
		cli_error("--rating must be up, down or 1 to 5 (got '%s')",
			  cli_get(c, "rating") ? cli_get(c, "rating") : "nothing");
		return CLI_USAGE;
	}
	if (comment && strlen(comment) > SLUICE_EVENT_MAX_COMMENT) {
		cli_error("--comment is longer than %d bytes; shorten it", SLUICE_EVENT_MAX_COMMENT);
		return CLI_USAGE;
	}
	if ((rc = cli_user_groups(&groups, &ngroups, c, c->actor)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	if (group && !sluice_workspace_group(sluice_engine_workspace(e), group)) {
		cli_error("no group '%s' in workspace '%s'", group, wsname);
		rc = CLI_INVALID;
		goto done;
	}
	/* the release the group has, when no version is named */
	for (size_t g = 0; !group && g < ngroups; g++) {
		ptrdiff_t k = sluice_rollout_assigned(p, groups[g]);
		if (k >= 0 && (!c->version || !strcmp(p->releases[k].version, c->version)))
			group = groups[g];
	}
	if (!group) {
		cli_error("%s is in no group that has %s%s%s; name the group with --group", c->actor,
			  c->plugin, c->version ? "@" : "", c->version ? c->version : "");
		rc = CLI_INVALID;
		goto done;
	}
	version = c->version;
	if (!version) {
		ptrdiff_t k = sluice_rollout_assigned(p, group);
		if (k < 0) {
			cli_error("group %s has no release of %s; name one as %s@VERSION", group,
				  c->plugin, c->plugin);
			rc = CLI_INVALID;
			goto done;
		}
		version = p->releases[k].version;
	}
	if ((rc = sluice_store_release_versions(&plugins, &versions, &nrel, st,
						wsname)) < 0 ||
	    (rc = sluice_store_telemetry_key(ctx.key, st, wsname, c->now)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	ctx.workspace = wsname;
	ctx.plugins = (const char *const *)plugins;
	ctx.versions = (const char *const *)versions;
	ctx.nreleases = nrel;
	ctx.groups = &group;
	ctx.ngroups = 1;
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		cli_error("cannot make an event id: no randomness");
		rc = CLI_FAILED;
		goto done;
	}
	strcpy(id, "feedback-");
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(id + 9 + 2 * i, 3, "%02x", rnd[i]);
	ev.id = id;
	ev.type = SLUICE_EVENT_FEEDBACK;
	ev.time = c->now;
	ev.workspace = wsname;
	ev.plugin = c->plugin;
	ev.version = version;
	ev.group = group;
	ev.user = c->actor;
	ev.rating = rating;
	ev.comment = comment;
	ev.latency_ms = -1;
	if ((rc = sluice_ingest_event(&added, st, &ctx, &ev)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	rc = CLI_OK;
	if (c->output == CLI_OUT_JSON)
		rc = cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s}", "id", id,
					      "plugin", c->plugin, "version", version, "group", group,
					      "rating", rating, "comment", comment, "at",
					      sluice_time_format(when, c->now)));
	else if (!c->quiet)
		printf("recorded feedback %s for %s@%s from group %s%s%s\n", rating, c->plugin,
		       version, group, comment ? ": " : "", comment ? comment : "");
done:
	for (size_t i = 0; i < nrel; i++) {
		free(plugins[i]);
		free(versions[i]);
	}
	free(plugins);
	free(versions);
	free(groups);
	return rc;
}

const cli_cmd cmd_feedback = {
	.name = "feedback",
	.run = run,
	.usage = "feedback PLUGIN[@VERSION] --rating up|down|1-5 [--comment TEXT] [--group NAME]",
	.summary = "rate a plugin (stored as a feedback event; the actor only as a keyed hash)",
	.opts = opts,
	.min_args = 1,
	.max_args = 1,
	/* any admin, in one transaction with its audit row; the plugin's input */
	.flags = CLI_ENGINE | CLI_ACTOR | CLI_TRANSACTION | CLI_INPUT,
	.roles = 0,
	.ref = CLI_REF_ANY,
};
