/* sluice status: each plugin's stable version and rollout, what blocks it,
 * and what needs an operator's eye (stale sources, moved tags, refused
 * releases, overdue reviews). `-o json` is the contract of docs/commands.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "sluice/audit.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/identity.h"
#include "sluice/publish.h"
#include "sluice/secrets.h"
#include "sluice/util.h"

static const cli_opt opts[] = {
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static json_t *time_json(int64_t t)
{
	char buf[SLUICE_TIME_BUFSZ];
	return t ? json_string(sluice_time_format(buf, t)) : json_null();
}

static char *day(char *buf, int64_t t)
{
	sluice_time_format(buf, t);
	buf[10] = '\0';
	return buf;
}

/* "3d 4h" */
static void age(char *buf, size_t n, int64_t secs)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		snprintf(buf, n, "%lldd %lldh", (long long)(secs / 86400),
			 (long long)(secs % 86400 / 3600));
	else if (secs >= 3600)
		snprintf(buf, n, "%lldh %lldm", (long long)(secs / 3600), (long long)(secs % 3600 / 60));
	else
		snprintf(buf, n, "%lldm", (long long)(secs / 60));
}

/* The release status reports as `rollout` (sluice_rollout_current). */
static const sluice_rollout_release *shown_release(const sluice_rollout_plugin *p, ptrdiff_t stable)
{
	(void)stable;
	ptrdiff_t i = sluice_rollout_current(p);
	return i >= 0 ? &p->releases[i] : NULL;
}

static const char *risk_name(int risk)
{
	return risk >= 2 ? "high" : risk == 1 ? "moderate" : "low";
}

static const char *stage_name(const sluice_rollout_release *r)
{
	return r->stage_index >= 0 && (size_t)r->stage_index < r->nstages
		       ? r->stages[r->stage_index].name
		       : NULL;
}

static bool in_freeze_window(const sluice_engine *e, const char **reason, int64_t *until)
{
	const sluice_rollout_rules *rules = sluice_engine_rules(e);
	int64_t now = sluice_engine_now(e);

	for (size_t i = 0; i < rules->nfreeze; i++)
		if (now >= rules->freeze[i].from && now < rules->freeze[i].to) {
			*reason = rules->freeze[i].reason;
			*until = rules->freeze[i].to;
			return true;
		}
	return false;
}

/* The JSON of a release that is rolling out: the `rollout` of docs/commands.md. */
static json_t *release_json(const char *id, const sluice_rollout_release *r, const sluice_plan *plan)
{
	json_t *blocked = json_array();
	for (size_t k = 0; k < plan->nblocked; k++) {
		const sluice_rollout_block *b = &plan->blocked[k];
		if (!b->plugin || strcmp(b->plugin, id) != 0 || !b->version ||
		    strcmp(b->version, r->version) != 0)
			continue;
		json_array_append_new(blocked, json_pack("{s:s, s:s?, s:o}", "kind",
							 sluice_rollout_block_name(b->kind), "message",
							 b->message, "opens_at", time_json(b->opens_at)));
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "version", r->version, "commit",
			 r->commit, "state", sluice_release_state_name(r->state), "stage",
			 stage_name(r) ? json_string(stage_name(r)) : json_null(), "stage_index",
			 r->stage_index >= 0 ? json_integer(r->stage_index) : json_null(),
			 "stage_started_at",
			 r->stage_index >= 0 ? time_json(r->stage_started_at) : json_null(),
			 "blocked_by", blocked, "gates",
			 sluice_rollout_gates_json(plan, id, r->version));
}

/* x is in flight (started, not finished) and is neither the release shown
 * as `rollout` nor the stable one. */
static bool also_in_flight(const sluice_rollout_plugin *p, ptrdiff_t stable,
			   const sluice_rollout_release *shown, const sluice_rollout_release *x)
{
	if (x == shown || (stable >= 0 && x == &p->releases[stable]))
		return false;
	return sluice_release_in_flight(x);
}

/* What is not blocking but needs an operator's eye: secrets older than
 * their provider's max_age_days, for the releases `secrets check` shows. */
static json_t *warnings_json(sluice_engine *e, const sluice_rollout_plugin *p, const char *id)
{
	json_t *out = json_array();
	sluice_secret_row *rows = NULL;
	size_t n = 0;

	if (sluice_store_secret_rows(&rows, &n, sluice_engine_store(e), sluice_engine_workspace_name(e), id, NULL) < 0)
		sluice_error_clear();
	for (size_t j = 0; j < n; j++)
		for (size_t k = 0; k < p->nreleases; k++) {
			const sluice_rollout_release *r = &p->releases[k];
			const sluice_secret_provider *sp = NULL;
			if (strcmp(rows[j].version, r->version) != 0 || r->refused ||
			    (r->state != SLUICE_RELEASE_COMPLETE &&
			     !sluice_secrets_needed((int)r->state, r->stage_index, r->nstages)))
				continue;
			for (size_t i = 0; i < sluice_engine_workspace(e)->nproviders && !sp; i++)
				if (strcmp(sluice_engine_workspace(e)->providers[i].name.s, rows[j].provider) == 0)
					sp = &sluice_engine_workspace(e)->providers[i];
			char *w = sluice_secret_age_warning(sp, rows[j].present, rows[j].updated_at,
							    sluice_engine_now(e));
			if (w)
				json_array_append_new(out, json_sprintf("secret %s of %s: %s", rows[j].var,
									r->version, w));
			free(w);
		}
	sluice_secret_rows_free(rows, n);
	return out;
}

static json_t *plugin_json(sluice_engine *e, const sluice_engine_input *in, size_t i,
			   const sluice_plan *plan)
{
	const sluice_rollout_plugin *p = &in->in.plugins[i];
	ptrdiff_t stable = sluice_rollout_stable(p);
	const sluice_rollout_release *r = shown_release(p, stable);
	json_t *o = json_object(), *refused = json_array(), *moved = json_array(),
	       *queued = json_array();
	sluice_source_row row;
	bool overdue;
	int64_t due = sluice_rollout_review_due(p, sluice_engine_now(e), &overdue);

	json_object_set_new(o, "id", json_string(in->ids[i]));
	json_object_set_new(o, "repository", json_string(in->watched[i]->key));
	json_object_set_new(o, "stable_version",
			    stable >= 0 ? json_string(p->releases[stable].version) : json_null());
	json_object_set_new(o, "rollout", r ? release_json(in->ids[i], r, plan) : json_null());
	/* a release still rolling out besides the one shown (a newer one is
	 * queued behind it): operators must see both */
	json_t *also = json_array();
	for (size_t k = 0; k < p->nreleases; k++)
		if (also_in_flight(p, stable, r, &p->releases[k]))
			json_array_append_new(also, release_json(in->ids[i], &p->releases[k], plan));
	json_object_set_new(o, "also_in_flight", also);
	for (size_t k = 0; k < p->nreleases; k++) {
		const sluice_rollout_release *x = &p->releases[k];
		if (x->refused)
			json_array_append_new(refused, json_pack("{s:s, s:s, s:s?}", "version",
								 x->version, "tag", x->tag, "reason",
								 x->refused_reason));
		if (sluice_rollout_queued(p, k))
			json_array_append_new(queued, json_pack("{s:s}", "version", x->version));
		if (x->tag_moved)
			json_array_append_new(moved, json_pack("{s:s, s:s, s:s?}", "tag", x->tag,
							       "commit", x->commit, "moved_to",
							       x->moved_to_commit));
	}
	json_object_set_new(o, "refused", refused);
	json_object_set_new(o, "queued", queued);
	/* the risk of what users get or are about to: the rollout, else the
	 * stable release */
	const sluice_rollout_release *rr = r ? r : stable >= 0 ? &p->releases[stable] : NULL;
	json_object_set_new(o, "risk", rr ? json_string(risk_name(rr->risk)) : json_null());
	json_object_set_new(o, "moved_tags", moved);
	json_t *src = json_null();
	if (sluice_store_source_get(&row, sluice_engine_store(e), in->watched[i]->key) == 0) {
		src = json_pack("{s:o, s:o, s:s?, s:b}", "last_checked_at",
				time_json(row.last_checked_at), "last_ok_at", time_json(row.last_ok_at),
				"error", row.last_error, "stale", row.last_error != NULL);
	}
	sluice_source_row_clear(&row);
	sluice_error_clear();
	json_object_set_new(o, "source", src);
	json_object_set_new(o, "review_due_at", time_json(due));
	json_object_set_new(o, "review_overdue", json_boolean(overdue));
	json_object_set_new(o, "withdrawn", json_boolean(p->withdrawn));
	json_object_set_new(o, "warnings", warnings_json(e, p, in->ids[i]));
	return o;
}

/* "publish": every publisher's outcome as one (docs/publishing.md), and
 * "publishers": each one's. */
static int publish_json(json_t *doc, sluice_engine *e)
{
	const sluice_workspace *ws = sluice_engine_workspace(e);
	sluice_publish_state *each = NULL, all;
	json_t *list;
	int rc;

	if ((rc = sluice_publish_state_load(&all, &each, sluice_engine_store(e),
					    sluice_engine_workspace_name(e), ws)) < 0)
		return rc;
	list = json_array();
	for (size_t i = 0; i < ws->npublishers; i++) {
		const sluice_publish_conf *pc = &ws->publishers[i];
		/* never published: ok, at and error are null */
		json_t *o = json_pack("{s:s, s:s?, s:s?, s:o, s:o, s:s?}", "type", pc->type.s, "path",
				      pc->path.s, "url", pc->url.s, "ok",
				      each[i].known ? json_boolean(each[i].ok) : json_null(), "at",
				      each[i].known ? time_json(each[i].at) : json_null(), "error",
				      each[i].error);
		json_array_append_new(list, o);
	}
	json_object_set_new(doc, "publish",
			    all.known ? json_pack("{s:b, s:o, s:s?}", "ok", all.ok, "at",
						  time_json(all.at), "error", all.error)
				      : json_null());
	json_object_set_new(doc, "publishers", list);
	sluice_publish_states_free(each, ws->npublishers);
	sluice_publish_state_clear(&all);
	return 0;
}

static void print_waits(const sluice_plan *plan, const char *id, const char *version,
			const char *indent)
{
	char *lines = sluice_rollout_explain_release(plan, id, version);
	for (char *l = lines ? strtok(lines, "\n") : NULL; l; l = strtok(NULL, "\n"))
		printf("%s  waits: %s\n", indent, l);
	free(lines);
	lines = sluice_rollout_explain_gates(plan, id, version);
	for (char *l = lines ? strtok(lines, "\n") : NULL; l; l = strtok(NULL, "\n"))
		printf("%s  gate %s\n", indent, l);
	free(lines);
}

/* The publish outcome: one line per publisher when there are several, else
 * a line only when the publish failed. */
static void print_publish(json_t *doc)
{
	json_t *pub = json_object_get(doc, "publish"), *pubs = json_object_get(doc, "publishers"), *x;
	size_t i;

	if (json_array_size(pubs) <= 1) {
		if (json_is_false(json_object_get(pub, "ok")))
			printf("publish failed at %s: %s; users still get what was published before; "
			       "fix it and run 'sluice reconcile'\n",
			       json_string_value(json_object_get(pub, "at")),
			       json_string_value(json_object_get(pub, "error")));
		return;
	}
	json_array_foreach (pubs, i, x) {
		const char *path = json_string_value(json_object_get(x, "path"));
		const char *at = json_string_value(json_object_get(x, "at"));
		char *label = sluice_publish_label(json_string_value(json_object_get(x, "type")),
						   path ? path
							: json_string_value(json_object_get(x, "url")));
		if (json_is_null(json_object_get(x, "ok")))
			printf("%s: not published yet; run 'sluice reconcile'\n", label);
		else if (json_is_true(json_object_get(x, "ok")))
			printf("%s: published at %s\n", label, at);
		else
			printf("%s: failed at %s: %s; what it published before stays; fix it and run "
			       "'sluice reconcile'\n",
			       label, at, json_string_value(json_object_get(x, "error")));
		free(label);
	}
}

static void print_text(sluice_engine *e, const sluice_engine_input *in, const sluice_plan *plan,
		       json_t *doc)
{
	char d1[SLUICE_TIME_BUFSZ], d2[SLUICE_TIME_BUFSZ], a[32];
	const char *wreason = NULL;
	int64_t until = 0;

	printf("workspace %s\n", sluice_engine_workspace_name(e));
	print_publish(doc);
	if (sluice_engine_store_is_new(e))
		printf("nothing recorded yet: 'sluice reconcile' fetches the plugins and records "
		       "their releases\n");
	if (sluice_identity_mode_of(sluice_engine_workspace(e)) == SLUICE_IDENTITY_ASSERTED)
		printf("identity: asserted - actors named by --as or $SLUICE_ACTOR are trusted, "
		       "not checked\n");
	if (in->in.rules.frozen)
		printf("frozen by an operator%s%s%s\n", in->frozen_reason ? " (" : "",
		       in->frozen_reason ? in->frozen_reason : "", in->frozen_reason ? ")" : "");
	else if (in_freeze_window(e, &wreason, &until))
		printf("freeze window%s%s%s until %s: no stage starts\n", wreason ? " (" : "",
		       wreason ? wreason : "", wreason ? ")" : "", day(d1, until));
	if (!in->in.nplugins)
		printf("no plugins watched\n");
	for (size_t i = 0; i < in->in.nplugins; i++) {
		json_t *pj = json_array_get(json_object_get(doc, "plugins"), i);
		const sluice_rollout_plugin *p = &in->in.plugins[i];
		ptrdiff_t stable = sluice_rollout_stable(p);
		const sluice_rollout_release *r = shown_release(p, stable);
		putchar('\n');
		cli_out("%s: stable %s%s", in->ids[i],
			stable >= 0 ? p->releases[stable].version : "none",
			p->withdrawn ? " (withdrawn: delivered to no group)" : "");
		if (r) {
			printf("  rollout %s (commit %.12s): %s", r->version, r->commit,
			       sluice_release_state_name(r->state));
			if (r->stage_index >= 0)
				printf(", stage %s (%d of %zu) since %s", stage_name(r) ? stage_name(r) : "?",
				       r->stage_index + 1, r->nstages, day(d1, r->stage_started_at));
			printf("\n");
			print_waits(plan, in->ids[i], r->version, "");
		}
		for (size_t k = 0; k < p->nreleases; k++) {
			const sluice_rollout_release *x = &p->releases[k];
			if (!also_in_flight(p, stable, r, x))
				continue;
			printf("  also in flight %s (commit %.12s): %s", x->version, x->commit,
			       sluice_release_state_name(x->state));
			if (x->stage_index >= 0)
				printf(", stage %s (%d of %zu) since %s", stage_name(x) ? stage_name(x) : "?",
				       x->stage_index + 1, x->nstages, day(d1, x->stage_started_at));
			printf("\n");
			print_waits(plan, in->ids[i], x->version, "  ");
		}
		for (size_t k = 0; k < p->nreleases; k++) {
			const sluice_rollout_release *x = &p->releases[k];
			if (!sluice_rollout_queued(p, k))
				continue;
			printf("  queued %s (commit %.12s): %s\n", x->version, x->commit,
			       sluice_release_state_name(x->state));
			print_waits(plan, in->ids[i], x->version, "  ");
		}
		for (size_t k = 0; k < p->nreleases; k++) {
			const sluice_rollout_release *x = &p->releases[k];
			if (x->refused)
				cli_out("  refused %s: %s", x->version,
					x->refused_reason ? x->refused_reason : "?");
			if (x->tag_moved)
				cli_out("  tag %s moved from %.12s to %.12s: %s is frozen until an operator "
					"runs 'sluice accept-tag-move %s@%s'",
				       x->tag, x->commit, x->moved_to_commit ? x->moved_to_commit : "?",
				       x->version, in->ids[i], x->version);
		}
		json_t *src = json_object_get(pj, "source");
		if (json_is_true(json_object_get(src, "stale"))) {
			int64_t ok = 0;
			sluice_source_row row;
			if (sluice_store_source_get(&row, sluice_engine_store(e), in->watched[i]->key) ==
			    0)
				ok = row.last_ok_at;
			sluice_source_row_clear(&row);
			if (ok) {
				age(a, sizeof a, sluice_engine_now(e) - ok);
				cli_out("  source %s is stale: not reached for %s (since %s): %s",
				       in->watched[i]->key, a, day(d2, ok),
				       json_string_value(json_object_get(src, "error")));
			} else
				cli_out("  source %s has never been reached: %s", in->watched[i]->key,
				       json_string_value(json_object_get(src, "error")));
		}
		bool overdue;
		int64_t due = sluice_rollout_review_due(p, sluice_engine_now(e), &overdue);
		sluice_rollout_lifecycle lc;
		sluice_rollout_lifecycle_of(&lc, p);
		if (overdue)
			printf("  review overdue since %s (lifecycle.review_every_days: %lld)\n",
			       day(d1, due), (long long)lc.review_every_days);
		size_t k;
		json_t *w;
		json_array_foreach (json_object_get(pj, "warnings"), k, w)
			cli_out("  warning: %s", json_string_value(w));
	}
}

static cli_retval run(struct cli *c)
{
	sluice_engine *e = c->e;
	const sluice_engine_input *in = c->in;
	const sluice_workspace *ws = sluice_engine_workspace(e);
	const char *admin_commit = sluice_engine_admin_commit(e);
	sluice_plan *plan = NULL;
	json_t *doc = NULL, *plugins;
	const char *wr;
	int64_t until;
	cli_retval rc = CLI_OK;
	int lrc;

	if ((lrc = sluice_rollout_plan(&plan, &in->in)) < 0) {
		rc = cli_fail(lrc);
		goto done;
	}
	plugins = json_array();
	for (size_t i = 0; i < in->in.nplugins; i++)
		json_array_append_new(plugins, plugin_json(e, in, i, plan));
	doc = json_pack("{s:s, s:b, s:o, s:s, s:o}", "workspace", sluice_engine_workspace_name(e),
			"frozen", in->in.rules.frozen || in_freeze_window(e, &wr, &until), "plugins",
			plugins, "identity", sluice_identity_mode_name(sluice_identity_mode_of(ws)),
			"admin_commit", admin_commit ? json_string(admin_commit) : json_null());
	if ((lrc = publish_json(doc, e)) < 0) {
		rc = cli_fail(lrc);
		goto done;
	}
	/* the audit log's head, to keep a copy of outside the database
	 * (sluice audit verify --head) */
	int64_t head_id = 0;
	char head_hash[SLUICE_AUDIT_HASH_SZ];
	if ((lrc = sluice_audit_head(sluice_engine_store(e), &head_id, head_hash)) < 0) {
		rc = cli_fail(lrc);
		goto done;
	}
	json_object_set_new(doc, "audit_head",
			    json_pack("{s:I, s:s}", "id", (json_int_t)head_id, "hash", head_hash));
	if (c->output == CLI_OUT_JSON) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else
		print_text(e, in, plan, doc);
done:
	json_decref(doc);
	sluice_rollout_plan_free(plan);
	return rc;
}

const cli_cmd cmd_status = {
	.name = "status",
	.run = run,
	.usage = "status [-w NAME] [-o json]",
	.summary = "each plugin's stable version, rollout and what blocks it",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
	/* before the first reconcile it shows the workspace with nothing
	 * recorded, not an error */
	.flags = CLI_ENGINE | CLI_VIEW | CLI_INPUT | CLI_WARNINGS | CLI_EMPTY_OK,
};
