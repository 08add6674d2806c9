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

#include "ops.h"
#include "sluice/error.h"
#include "sluice/ingest.h"
#include "sluice/store.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	{"rating", 0, "RATING", "up, down, or 1 to 5 (4, 5 and up count as positive)", false},
	{"comment", 0, "TEXT", "what worked or did not", false},
	{"group", 0, "NAME", "the group rated from (default: the actor's)", false},
	OPS_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static int run(struct cli *c)
{
	const char *rating = sluice_rating_canonical(cli_get(c, "rating"));
	const char *comment = cli_get(c, "comment"), *group = cli_get(c, "group");
	const sluice_rollout_plugin *p = NULL;
	const char **groups = NULL;
	size_t ngroups = 0;
	char id[40], when[SLUICE_TIME_BUFSZ], **plugins = NULL, **versions = NULL;
	const char *version = NULL;
	sluice_ingest_ctx ctx = {0};
	sluice_event ev = {0};
	unsigned char rnd[12];
	size_t nrel = 0;
	bool added = false;
	ops_ctx o = {0};
	int rc;

	if (!rating) {
		cli_error("--rating must be up, down or 1 to 5 (got '%s')",
			  cli_get(c, "rating") ? cli_get(c, "rating") : "nothing");
		return EXIT_USAGE;
	}
	if (comment && strlen(comment) > SLUICE_EVENT_MAX_COMMENT) {
		cli_error("--comment is longer than %d bytes; shorten it", SLUICE_EVENT_MAX_COMMENT);
		return EXIT_USAGE;
	}
	if ((rc = ops_begin(&o, c, "feedback", 0, OPS_ANY_VERSION, &p, NULL)) >= 0)
		goto done;
	if ((rc = ops_user_groups(&groups, &ngroups, &o, o.actor)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	if (group && !sluice_workspace_group(o.e->ws, group)) {
		cli_error("no group '%s' in workspace '%s'", group, o.e->workspace);
		rc = EXIT_INVALID;
		goto done;
	}
	/* the release the group has, when no version is named */
	for (size_t g = 0; !group && g < ngroups; g++) {
		ptrdiff_t k = sluice_rollout_assigned(p, groups[g]);
		if (k >= 0 && (!o.version || !strcmp(p->releases[k].version, o.version)))
			group = groups[g];
	}
	if (!group) {
		cli_error("%s is in no group that has %s%s%s; name the group with --group", o.actor,
			  o.plugin, o.version ? "@" : "", o.version ? o.version : "");
		rc = EXIT_INVALID;
		goto done;
	}
	version = o.version;
	if (!version) {
		ptrdiff_t k = sluice_rollout_assigned(p, group);
		if (k < 0) {
			cli_error("group %s has no release of %s; name one as %s@VERSION", group,
				  o.plugin, o.plugin);
			rc = EXIT_INVALID;
			goto done;
		}
		version = p->releases[k].version;
	}
	if ((rc = sluice_store_release_versions(&plugins, &versions, &nrel, o.e->store,
						o.e->workspace)) < 0 ||
	    (rc = sluice_store_telemetry_key(ctx.key, o.e->store, o.e->workspace, c->now)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	ctx.workspace = o.e->workspace;
	ctx.plugins = (const char *const *)plugins;
	ctx.versions = (const char *const *)versions;
	ctx.nreleases = nrel;
	ctx.groups = &group;
	ctx.ngroups = 1;
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		cli_error("cannot make an event id: no randomness");
		rc = EXIT_FAIL;
		goto done;
	}
	strcpy(id, "feedback-");
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(id + 9 + 2 * i, 3, "%02x", rnd[i]);
	ev.id = id;
	ev.type = SLUICE_EVENT_FEEDBACK;
	ev.time = c->now;
	ev.workspace = o.e->workspace;
	ev.plugin = o.plugin;
	ev.version = version;
	ev.group = group;
	ev.user = o.actor;
	ev.rating = rating;
	ev.comment = comment;
	ev.latency_ms = -1;
	if ((rc = sluice_ingest_event(&added, o.e->store, &ctx, &ev)) < 0) {
		rc = cli_fail(rc);
		goto done;
	}
	rc = EXIT_OK;
	if (c->output == CLI_OUT_JSON)
		rc = ops_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s}", "id", id,
					      "plugin", o.plugin, "version", version, "group", group,
					      "rating", rating, "comment", comment, "at",
					      sluice_time_format(when, c->now)));
	else if (!c->quiet)
		printf("recorded feedback %s for %s@%s from group %s%s%s\n", rating, o.plugin,
		       version, group, comment ? ": " : "", comment ? comment : "");
done:
	for (size_t i = 0; i < nrel; i++) {
		free(plugins[i]);
		free(versions[i]);
	}
	free(plugins);
	free(versions);
	free(groups);
	ops_close(&o);
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
};
