/* Reconcile: one pass over a workspace - fetch, record tags, validate new
 * releases, plan, apply, publish, in that order (docs/operations.md). Built
 * on the engine's context; the tags and the network go through watched.h,
 * the effective state through publish.h. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice/error.h"
#include "sluice/ingest.h"
#include "sluice/publish.h"
#include "sluice/reconcile.h"
#include "sluice/secrets.h"
#include "sluice/release-snapshot.h"
#include "sluice/semver.h"
#include "sluice/source.h"
#include "sluice/util.h"
#include "sluice/validate.h"
#include "sluice/watched.h"

#define RECONCILE_LEASE "reconcile"
#define RECONCILE_LEASE_TTL 600 /* seconds of real time; renewed per plugin */

static void note(sluice_reconcile_item *it, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(sluice_reconcile_item *it, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	/* notes quote tag names and messages from repositories: escaped once
	 * here, so no printer of a note has to */
	va_start(ap, fmt);
	char *raw = sluice_xvasprintf(fmt, ap);
	va_end(ap);
	char *msg = sluice_str_escape_controls(raw);
	free(raw);
	while (it->notes && it->notes[n])
		n++;
	it->notes = sluice_xrealloc(it->notes, (n + 2) * sizeof(char *));
	it->notes[n] = msg;
	it->notes[n + 1] = NULL;
}

static bool in_strv(char **v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

static char *refusal_text(const sluice_diags *d, const char *extra)
{
	sluice_buf b = SLUICE_BUF_INIT;
	size_t shown = 0;

	if (extra)
		sluice_buf_printf(&b, "%s", extra);
	for (size_t i = 0; i < d->count; i++) {
		const sluice_diag *g = &d->items[i];
		if (g->severity != SLUICE_SEV_ERROR)
			continue;
		if (shown == 5) {
			sluice_buf_printf(&b, "; and %zu more (run 'sluice validate --repo ... --tag ...')",
					  d->errors - shown);
			break;
		}
		sluice_buf_printf(&b, "%s%s:%u:%u: %s", b.len ? "; " : "", g->file ? g->file : "?",
				  g->line, g->col, g->message);
		shown++;
	}
	return sluice_buf_detach(&b);
}

/* Reads, validates and records the release at `t` (first seen now). */
static int record_release(sluice_engine *e, sluice_reconcile_item *it, const sluice_watched *w,
			  const sluice_tag *t, const char *commit, bool id_known)
{
	sluice_tree *tree = NULL;
	sluice_plugin *pl = NULL;
	sluice_diags d;
	char *snapshot = NULL, *why = NULL, *extra = NULL;
	const char *version = t->name + 1;
	int rc;

	sluice_diags_init(&d);
	rc = sluice_source_open_tree(&tree, e->cache_dir, w->key, t->name, commit);
	if (rc < 0)
		extra = sluice_xasprintf("cannot read tag %s: %s", t->name, sluice_error_last());
	else if (sluice_plugin_load(&pl, tree, e->ws->max_file_bytes, &d) == 0 && pl) {
		sluice_validate_plugin(pl, e->ws, e->policy, e->root, t->name, &d);
		snapshot = sluice_release_snapshot_encode(pl);
		if (id_known && pl->manifest.id.s && strcmp(pl->manifest.id.s, it->plugin) != 0)
			extra = sluice_xasprintf("plugin.yaml id '%s' is not '%s', the plugin this "
						 "repository was first seen with",
						 pl->manifest.id.s, it->plugin);
	}
	if (!extra && e->ws->require_signed_tags.set && e->ws->require_signed_tags.v) {
		char *signers = sluice_engine_path(e, e->ws->allowed_signers.s);
		if (!signers || sluice_source_verify_tag(e->cache_dir, w->key, t->name, signers) < 0)
			extra = sluice_xasprintf("tag %s is not signed by an allowed signer: %s",
						 t->name, signers ? sluice_error_last()
								  : "policy.allowed_signers is not set");
		free(signers);
	}
	sluice_release_record rec = {
		.workspace = e->workspace,
		.plugin = it->plugin,
		.version = version,
		.tag = t->name,
		.commit = commit,
		.tagger_email = sluice_tag_email(t),
		.deploy_snapshot = snapshot,
		.seen_at = e->now,
	};
	if ((rc = sluice_store_release_record(e->store, &rec, NULL, NULL)) < 0)
		goto done;
	if (extra || d.errors) {
		sluice_diags_sort(&d);
		why = refusal_text(&d, extra);
		if ((rc = sluice_store_release_set_refused(e->store, e->workspace, it->plugin, version,
							   why, e->now)) < 0)
			goto done;
		note(it, "refused release %s: %s", version, why);
	} else
		note(it, "recorded release %s (%s, commit %.12s)", version, t->name, commit);
	rc = 0;
done:
	sluice_diags_clear(&d);
	sluice_plugin_free(pl);
	sluice_tree_free(tree);
	free(snapshot);
	free(why);
	free(extra);
	return rc;
}

/* Whether the mirror of `w` is as the store last saw it, so listing and
 * observing its tags would change nothing (docs/sources.md: a pass that finds
 * nothing new does no work per repository beyond comparing refs). The
 * fingerprint is written in the same transaction as the tags it was
 * observed with (fetch, or a reconcile that fetched), so equal means every
 * tag, move and deletion in the mirror is already in the store. What the
 * store cannot tell - a release tag this workspace has not recorded yet, for
 * instance one the `versions` range admits since it was edited - sends the
 * repository through the full listing. */
static bool mirror_unchanged(sluice_engine *e, const sluice_watched *w, const char *known_fp,
			     const sluice_tag_filter *f)
{
	sluice_tag_refs refs;
	bool same;

	if (!known_fp || sluice_source_tag_refs(&refs, e->cache_dir, w->key) < 0) {
		sluice_error_clear();
		return false;
	}
	same = strcmp(refs.fingerprint, known_fp) == 0;
	for (size_t i = 0; same && i < refs.count; i++) {
		bool in_range, recorded;
		sluice_tag_filter_wants(f, refs.names[i], &in_range, &recorded);
		same = !in_range || recorded;
	}
	sluice_tag_refs_clear(&refs);
	return same;
}

/* What pass_plugin hands the tag observation. */
typedef struct {
	sluice_engine *e;
	sluice_reconcile_item *it;
	const sluice_watched *w;
	const sluice_fetch_result *fr;
	bool id_known;
} tag_pass;

/* A recorded tag: a move is reported, a new release in range recorded
 * (from the commit the tag had when first seen). */
static int on_tag(void *ctx, const sluice_observed_tag *o)
{
	tag_pass *tp = ctx;
	const sluice_tag *t = o->tag;

	if (o->obs.status == SLUICE_TAG_MOVED) {
		if (in_strv(tp->fr ? tp->fr->moved_tags : NULL, t->name) || !o->recorded)
			note(tp->it, "tag %s moved from %.12s to %.12s: its release is frozen "
				     "until an operator runs 'sluice accept-tag-move'",
			     t->name, o->obs.commit, t->commit);
		if (o->recorded)
			return 0;
	}
	if (!o->recorded && o->in_range)
		return record_release(tp->e, tp->it, tp->w, t, o->obs.commit, tp->id_known);
	return 0;
}

static void on_deleted(void *ctx, const char *tag)
{
	tag_pass *tp = ctx;
	note(tp->it, "tag %s was deleted upstream; its release is kept", tag);
}

/* Tags, new releases, the plan and its application for one repository: the
 * body of its transaction. */
static int pass_plugin(sluice_engine *e, sluice_reconcile_item *it, const sluice_watched *w,
		       const sluice_fetch_result *fr, bool fetched)
{
	sluice_store_plugin_state *st = NULL;
	sluice_engine_input *in = NULL;
	sluice_range *range = NULL;
	sluice_plan *plan = NULL;
	sluice_source_row row;
	tag_pass tp = {e, it, w, fr, false};
	sluice_observe_opts oo = {.observed = on_tag, .deleted = on_deleted, .ctx = &tp};
	bool id_known = false;
	char *known_fp = NULL;
	int rc;

	/* the id: the store's, else the manifest's at the newest tag */
	if (sluice_store_source_get(&row, e->store, w->key) == 0 && row.plugin) {
		it->plugin = sluice_xstrdup(row.plugin);
		id_known = true;
		known_fp = row.refs_fingerprint;
		row.refs_fingerprint = NULL;
	}
	sluice_source_row_clear(&row);
	if (!it->plugin && sluice_watched_mirror_id(&it->plugin, e->cache_dir, w->key) == 0)
		id_known = true;
	if (!it->plugin)
		it->plugin = sluice_xstrdup(w->key);
	sluice_error_clear();

	if (fetched) {
		char *shown = w->url ? sluice_source_redact_url(w->url) : sluice_xstrdup("");
		rc = sluice_store_source_checked(e->store, w->key, shown, id_known ? it->plugin : NULL,
						 e->now, it->fetch_error ? NULL : fr->fingerprint,
						 it->fetch_error);
		free(shown);
		if (rc < 0)
			goto done;
	}

	if (w->ws_plugin->versions.s &&
	    sluice_range_parse(&range, w->ws_plugin->versions.s, NULL, 0) < 0)
		range = NULL;
	if ((rc = sluice_store_load_plugin_state(&st, e->store, e->workspace, it->plugin)) < 0)
		goto done;
	tp.id_known = id_known;
	oo.filter = (sluice_tag_filter){.releases_only = true, .range = range, .recorded = &st->plugin};
	if (mirror_unchanged(e, w, known_fp, &oo.filter))
		goto plan;
	rc = sluice_watched_observe_tags(e->store, e->cache_dir, w->key, it->plugin, e->now, &oo);
	if (rc == SLUICE_ENOTFOUND) {
		sluice_error_clear();
		if (!it->fetch_error)
			note(it, "no mirror yet; run 'sluice reconcile' without --no-fetch");
		rc = 0;
	} else if (rc < 0)
		goto done;

plan:
	/* secrets a stage needs are checked before planning (docs/secrets.md) */
	if ((rc = sluice_secrets_refresh(e, w->key, it->plugin, false, NULL)) < 0)
		goto done;
	if ((rc = sluice_engine_input_load(&in, e, w->key)) < 0 ||
	    (rc = sluice_rollout_plan(&plan, &in->in)) < 0)
		goto done;
	if (plan->nactions) {
		if ((rc = sluice_store_apply_actions(e->store, e->workspace, plan, in->ids[0], false,
						     e->now)) < 0)
			goto done;
		it->applied = plan;
		plan = NULL;
	}
	rc = 0;
done:
	sluice_rollout_plan_free(plan);
	sluice_engine_input_free(in);
	sluice_store_plugin_state_free(st);
	sluice_range_free(range);
	free(known_fp);
	return rc;
}

static int take_lease(sluice_engine *e, sluice_reconcile_report *r, int64_t wait_ms)
{
	sluice_lease_info who;
	int64_t waited = 0;
	int rc;

	for (;;) {
		rc = sluice_store_lease_acquire(e->store, RECONCILE_LEASE, RECONCILE_LEASE_TTL, &who);
		if (rc != SLUICE_EBUSY)
			return rc;
		if (waited >= wait_ms) {
			r->lease_holder = sluice_xstrdup(who.holder);
			return SLUICE_EBUSY;
		}
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		waited += 100;
	}
}

/* Publishes the effective state: the planner's input of every plugin and
 * the workspace's publish settings, handed to the publisher. */
static int publish(bool *changed, sluice_engine *e)
{
	sluice_engine_input *in = NULL;
	sluice_publish_plugin *plugins = NULL;
	sluice_secret_row *secrets = NULL;
	const char **groups = NULL;
	int rc;

	*changed = false;
	if (!e->ws->publish_type.s)
		return 0;
	if ((rc = sluice_engine_input_load(&in, e, NULL)) < 0)
		return rc;
	plugins = sluice_xcalloc(in->in.nplugins + 1, sizeof *plugins);
	for (size_t p = 0; p < in->in.nplugins; p++)
		plugins[p] = (sluice_publish_plugin){in->ids[p], in->watched[p]->key,
						     &in->watched[p]->ws_plugin->environment,
						     &in->in.plugins[p]};
	groups = sluice_xcalloc(e->ws->ngroups + 1, sizeof *groups);
	for (size_t g = 0; g < e->ws->ngroups; g++)
		groups[g] = e->ws->groups[g].name.s;
	sluice_publish_ctx c = {
		.workspace = e->workspace,
		.root = e->root,
		.cache_dir = e->cache_dir,
		.publish_type = e->ws->publish_type.s,
		.publish_path = e->ws->publish_path.s,
		.max_file_bytes = e->ws->max_file_bytes,
		.groups = groups,
		.ngroups = e->ws->ngroups,
		.plugins = plugins,
		.nplugins = in->in.nplugins,
		.now = e->now,
	};
	if ((rc = sluice_store_secret_rows(&secrets, &c.nsecrets, e->store, e->workspace, NULL,
					   NULL)) == 0) {
		c.secrets = secrets;
		rc = sluice_publish_run(changed, &c, false);
	}
	sluice_secret_rows_free(secrets, c.nsecrets);
	free(groups);
	free(plugins);
	sluice_engine_input_free(in);
	return rc;
}

int sluice_reconcile_run(sluice_reconcile_report *report, sluice_engine *e,
			 const sluice_reconcile_opts *opts)
{
	sluice_reconcile_opts none = {0};
	sluice_fetch_result *fr = NULL;
	int64_t renewed;
	int rc;

	memset(report, 0, sizeof *report);
	if (!opts)
		opts = &none;
	if (e->flags & SLUICE_ENGINE_READONLY)
		return sluice_error_set(SLUICE_EINVAL, "reconcile needs a writable engine");
	rc = take_lease(e, report, opts->lease_wait_ms ? opts->lease_wait_ms : 30000);
	if (rc == SLUICE_EBUSY)
		return 0;
	if (rc < 0)
		return rc;
	renewed = (int64_t)time(NULL);
	if ((rc = sluice_watched_set_ca_bundle(e->ws, e->root)) < 0)
		goto done;

	report->items = sluice_xcalloc(e->nwatched + 1, sizeof *report->items);
	report->nitems = e->nwatched;
	fr = sluice_xcalloc(e->nwatched + 1, sizeof *fr);
	/* the network first, outside any transaction: a slow remote never
	 * holds the database */
	for (size_t i = 0; i < e->nwatched; i++) {
		const sluice_watched *w = &e->watched[i];
		sluice_reconcile_item *it = &report->items[i];
		sluice_fetch_result_init(&fr[i]);
		it->watched = w;
		if (opts->no_fetch)
			continue;
		if (sluice_watched_fetch(&fr[i], w, e->root, e->cache_dir, NULL, NULL) < 0)
			it->fetch_error = sluice_xstrdup(sluice_error_last());
		for (char **n = fr[i].notes; n && *n; n++)
			note(it, "%s", *n);
	}
	for (size_t i = 0; i < e->nwatched; i++) {
		sluice_reconcile_item *it = &report->items[i];
		if ((int64_t)time(NULL) - renewed > RECONCILE_LEASE_TTL / 4) {
			if ((rc = sluice_store_lease_acquire(e->store, RECONCILE_LEASE,
							     RECONCILE_LEASE_TTL, NULL)) < 0)
				goto done; /* lost it: another pass took over */
			renewed = (int64_t)time(NULL);
		}
		if ((rc = sluice_store_begin(e->store)) < 0 ||
		    (rc = pass_plugin(e, it, &e->watched[i], &fr[i], !opts->no_fetch)) < 0 ||
		    (rc = sluice_store_commit(e->store)) < 0) {
			sluice_store_rollback(e->store);
			free(it->error);
			it->error = sluice_xstrdup(sluice_error_last());
			sluice_rollout_plan_free(it->applied);
			it->applied = NULL;
		}
		if (it->fetch_error) {
			sluice_source_row row;
			char when[SLUICE_TIME_BUFSZ] = "never";
			if (sluice_store_source_get(&row, e->store, e->watched[i].key) == 0 &&
			    row.last_ok_at)
				sluice_time_format(when, row.last_ok_at);
			sluice_source_row_clear(&row);
			note(it, "source unreachable, using what was fetched before (last reached %s): %s",
			     when, it->fetch_error);
		}
	}
	rc = 0;
	{ /* raw telemetry past retention, once a day (docs/telemetry.md) */
		char *msg = NULL;
		sluice_telemetry_prune_daily(&msg, e);
		if (msg && report->nitems)
			note(&report->items[0], "%s", msg);
		free(msg);
	}
	if (!opts->no_publish && publish(&report->published, e) < 0)
		report->publish_error = sluice_xstrdup(sluice_error_last());
done:
	for (size_t i = 0; fr && i < e->nwatched; i++)
		sluice_fetch_result_clear(&fr[i]);
	free(fr);
	sluice_store_lease_release(e->store, RECONCILE_LEASE);
	return rc;
}

void sluice_reconcile_report_clear(sluice_reconcile_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nitems; i++) {
		sluice_reconcile_item *it = &r->items[i];
		free(it->plugin);
		free(it->fetch_error);
		sluice_strv_free(it->notes);
		sluice_rollout_plan_free(it->applied);
		free(it->error);
	}
	free(r->items);
	free(r->publish_error);
	free(r->lease_holder);
	memset(r, 0, sizeof *r);
}
