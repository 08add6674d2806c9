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

#include "engine-internal.h"
#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/ingest.h"
#include "sluice/notify.h"
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
#define RECONCILE_LEASE_TTL 600 /* seconds of real time, by default; renewed every third */

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

int sluice_reconcile_validate_release(sluice_release_check *out, sluice_engine *e,
				      const sluice_watched *w, const char *tag, const char *commit,
				      const char *plugin)
{
	sluice_tree *tree = NULL;
	sluice_plugin *pl = NULL;
	sluice_diags d;
	char *extra = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	sluice_diags_init(&d);
	rc = sluice_source_open_tree(&tree, e->cache_dir, w->key, tag, commit);
	if (rc < 0)
		extra = sluice_xasprintf("cannot read tag %s at commit %.12s: %s", tag, commit,
					 sluice_error_last());
	else if (sluice_plugin_load(&pl, tree, e->ws->max_file_bytes, &d) == 0 && pl) {
		sluice_validate_plugin(pl, e->ws, e->policy, e->root, tag, &d);
		out->snapshot = sluice_release_snapshot_encode(pl);
		if (pl->manifest.id.s)
			out->id = sluice_xstrdup(pl->manifest.id.s);
		if (plugin && pl->manifest.id.s && strcmp(pl->manifest.id.s, plugin) != 0)
			extra = sluice_xasprintf("plugin.yaml id '%s' is not '%s', the plugin this "
						 "repository was first seen with",
						 pl->manifest.id.s, plugin);
	}
	if (!extra && e->ws->require_signed_tags.set && e->ws->require_signed_tags.v) {
		char *signers = sluice_engine_path(e, e->ws->allowed_signers.s);
		if (!signers || sluice_source_verify_tag(e->cache_dir, w->key, tag, signers) < 0)
			extra = sluice_xasprintf("tag %s is not signed by an allowed signer: %s", tag,
						 signers ? sluice_error_last()
							 : "policy.allowed_signers is not set");
		free(signers);
	}
	if (extra || d.errors) {
		sluice_diags_sort(&d);
		out->refused = refusal_text(&d, extra);
	}
	sluice_error_clear();
	sluice_diags_clear(&d);
	sluice_plugin_free(pl);
	sluice_tree_free(tree);
	free(extra);
	return 0;
}

void sluice_release_check_clear(sluice_release_check *c)
{
	if (!c)
		return;
	free(c->refused);
	free(c->snapshot);
	free(c->id);
	memset(c, 0, sizeof *c);
}

/* What pass_plugin hands the tag observation. */
typedef struct {
	sluice_engine *e;
	sluice_reconcile_item *it;
	const sluice_watched *w;
	const sluice_fetch_result *fr;
	bool id_known; /* the repository owns it->plugin */
} tag_pass;

/* Reads, validates and records the release at `t` (first seen now). A
 * repository that owns no plugin id yet takes the id of its first release
 * that validates, unless another repository owns it: then that release is
 * refused, naming the owner, and recorded under the repository itself
 * (docs/sources.md, plugin ids). Returns 1 when the id was just taken, so
 * that the remaining tags are observed under it. */
static int record_release(tag_pass *tp, const sluice_tag *t, const char *commit)
{
	sluice_engine *e = tp->e;
	sluice_reconcile_item *it = tp->it;
	sluice_release_check chk;
	const char *version = t->name + 1;
	bool claimed = false;
	int rc;

	sluice_reconcile_validate_release(&chk, e, tp->w, t->name, commit,
					  tp->id_known ? it->plugin : NULL);
	if (!tp->id_known && !chk.refused) {
		rc = chk.id ? sluice_store_source_claim(e->store, tp->w->key, chk.id, e->now)
			    : sluice_error_set(SLUICE_EREFUSED, "plugin.yaml has no id");
		if (rc == SLUICE_EREFUSED) {
			chk.refused = sluice_xstrdup(sluice_error_last());
			sluice_error_clear();
		} else if (rc < 0)
			goto done;
		else {
			free(it->plugin);
			it->plugin = sluice_xstrdup(chk.id);
			tp->id_known = claimed = true;
			note(it, "repository %s owns plugin id '%s' from release %s on", tp->w->key,
			     chk.id, version);
		}
	}
	sluice_release_record rec = {
		.workspace = e->workspace,
		.plugin = it->plugin,
		.version = version,
		.tag = t->name,
		.commit = commit,
		.tagger_email = sluice_tag_email(t),
		.deploy_snapshot = chk.snapshot,
		.seen_at = e->now,
	};
	if ((rc = sluice_store_release_record(e->store, &rec, NULL, NULL)) < 0)
		goto done;
	if (chk.refused) {
		if ((rc = sluice_store_release_set_refused(e->store, e->workspace, it->plugin, version,
							   chk.refused, e->now)) < 0)
			goto done;
		note(it, "refused release %s: %s", version, chk.refused);
	} else
		note(it, "recorded release %s (%s, commit %.12s)", version, t->name, commit);
	rc = claimed ? 1 : 0;
done:
	sluice_release_check_clear(&chk);
	return rc;
}

int sluice_reconcile_accept_tag_move(sluice_engine *e, const char *plugin, const char *tag)
{
	sluice_stored_tag row;
	sluice_release_check chk;
	const sluice_watched *w;
	bool owned, own_tx = !sluice_store_in_transaction(e->store);
	int rc;

	memset(&chk, 0, sizeof chk);
	memset(&row, 0, sizeof row);
	/* one unit: the id taken, the move accepted - or the refusal audited */
	if (own_tx && (rc = sluice_store_begin(e->store)) < 0)
		return rc;
	if ((rc = sluice_store_tag_get(&row, e->store, plugin, tag)) < 0)
		goto done;
	if (!row.moved_to[0]) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "tag %s of %s has not moved (it points at %s as first recorded); "
				      "nothing to accept",
				      tag, plugin, row.commit);
		goto done;
	}
	if (!(w = sluice_engine_find(e, plugin))) {
		rc = SLUICE_ENOTFOUND;
		goto done;
	}
	/* the id is checked once the repository owns one; one that owns none
	 * yet takes it from this commit, as from a first release */
	owned = strcmp(plugin, w->key) != 0;
	sluice_reconcile_validate_release(&chk, e, w, tag, row.moved_to, owned ? plugin : NULL);
	if (!chk.refused && !owned) {
		rc = chk.id ? sluice_store_source_claim(e->store, w->key, chk.id, e->now)
			    : sluice_error_set(SLUICE_EREFUSED, "plugin.yaml has no id");
		if (rc == SLUICE_EREFUSED)
			chk.refused = sluice_xstrdup(sluice_error_last());
		else if (rc < 0)
			goto done;
		else
			plugin = chk.id;
		sluice_error_clear();
	}
	if (chk.refused) {
		if ((rc = sluice_audit_appendf(e->store, e->now, "tag.move_refused", plugin, tag + 1,
					       "{s:s, s:s, s:s, s:s}", "tag", tag, "recorded_commit",
					       row.commit, "commit", row.moved_to, "reason",
					       chk.refused)) < 0)
			goto done;
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "cannot accept the move of tag %s of '%s' to %s: %s; the release "
				      "stays frozen at %s until a commit that passes is accepted",
				      tag, plugin, row.moved_to, chk.refused, row.commit);
		goto done;
	}
	rc = sluice_store_tag_accept_move(e->store, plugin, tag, chk.snapshot, e->now);
done:
	if (own_tx) {
		int crc = 0;
		if (rc == 0 || rc == SLUICE_EREFUSED) {
			char *why = rc ? sluice_xstrdup(sluice_error_last()) : NULL;
			if ((crc = sluice_store_commit(e->store)) == 0 && why)
				sluice_error_set(rc, "%s", why);
			free(why);
		}
		if (crc < 0 || (rc < 0 && rc != SLUICE_EREFUSED)) {
			sluice_store_rollback(e->store);
			rc = crc < 0 ? crc : rc;
		}
	}
	sluice_release_check_clear(&chk);
	sluice_stored_tag_clear(&row);
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
		return record_release(tp, t, o->obs.commit);
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
	char *known_fp = NULL;
	int rc;

	/* the id the repository owns, else the repository itself: never an id
	 * read from a manifest that has not validated */
	it->plugin = sluice_watched_tracking_id(e->store, w->key);
	tp.id_known = strcmp(it->plugin, w->key) != 0;
	if (sluice_store_source_get(&row, e->store, w->key) == 0) {
		known_fp = row.refs_fingerprint;
		row.refs_fingerprint = NULL;
	}
	sluice_source_row_clear(&row);
	sluice_error_clear();

	if (fetched) {
		char *shown = w->url ? sluice_source_redact_url(w->url) : sluice_xstrdup("");
		rc = sluice_store_source_checked(e->store, w->key, shown,
						 tp.id_known ? it->plugin : NULL, e->now,
						 it->fetch_error ? NULL : fr->fingerprint,
						 it->fetch_error);
		free(shown);
		if (rc < 0)
			goto done;
	}

	if (w->ws_plugin->versions.s &&
	    sluice_range_parse(&range, w->ws_plugin->versions.s, NULL, 0) < 0)
		range = NULL;
	/* twice at most: a first release that validates gives the repository
	 * its id, and the rest of its tags are observed under that id */
	for (int round = 0; round < 2; round++) {
		sluice_store_plugin_state_free(st);
		st = NULL;
		if ((rc = sluice_store_load_plugin_state(&st, e->store, e->workspace,
							 it->plugin)) < 0)
			goto done;
		oo.filter = (sluice_tag_filter){.releases_only = true, .range = range,
						.recorded = &st->plugin};
		if (round == 0 && mirror_unchanged(e, w, known_fp, &oo.filter))
			break;
		rc = sluice_watched_observe_tags(e->store, e->cache_dir, w->key, it->plugin, e->now,
						 &oo);
		if (rc > 0)
			continue;
		if (rc == SLUICE_ENOTFOUND) {
			sluice_error_clear();
			if (!it->fetch_error)
				note(it, "no mirror yet; run 'sluice reconcile' without --no-fetch");
			rc = 0;
		} else if (rc < 0)
			goto done;
		break;
	}

	/* secrets a stage needs are checked before planning (docs/secrets.md) */
	if ((rc = sluice_secrets_refresh(e, w->key, it->plugin, false, &it->secrets)) < 0)
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
	/* a stage that waits for approval asks for it once (docs/notifications.md) */
	if ((rc = sluice_store_note_approvals_needed(e->store, e->workspace,
						     it->applied ? it->applied : plan, in->ids[0],
						     e->now)) < 0)
		goto done;
	rc = 0;
done:
	sluice_rollout_plan_free(plan);
	sluice_engine_input_free(in);
	sluice_store_plugin_state_free(st);
	sluice_range_free(range);
	free(known_fp);
	return rc;
}

static bool proceed(const sluice_reconcile_opts *o, sluice_reconcile_report *r)
{
	if (r->stopped || (o->proceed && !o->proceed(o->proceed_arg)))
		r->stopped = true;
	return !r->stopped;
}

static int64_t lease_ttl(const sluice_reconcile_opts *o)
{
	return o->lease_ttl_s > 0 ? o->lease_ttl_s : RECONCILE_LEASE_TTL;
}

/* The pass's hold on the reconcile lease, renewed every third of its
 * period from the thread that holds the store. */
typedef struct {
	sluice_engine *e;
	const sluice_reconcile_opts *o;
	sluice_reconcile_report *r;
	int64_t renewed; /* real time */
	bool lost;
} lease_hold;

/* 0, or negative when the lease is another pass's now (or the store
 * failed): the pass stops before its next transaction. */
static int renew_if_due(lease_hold *h)
{
	int64_t now = (int64_t)time(NULL), ttl = lease_ttl(h->o);

	if (h->lost)
		return sluice_error_set(SLUICE_EBUSY, "the reconcile lease was lost while this pass "
					"ran (another pass took it over); this pass stops here");
	if (now - h->renewed < (ttl / 3 > 0 ? ttl / 3 : 1))
		return 0;
	if (sluice_store_lease_acquire(h->e->store, RECONCILE_LEASE, ttl, NULL) < 0) {
		h->lost = true;
		return sluice_error_code();
	}
	h->renewed = now;
	return 0;
}

/* While the remotes are fetched: the lease, and the caller's proceed. */
static bool fetch_heartbeat(void *arg)
{
	lease_hold *h = arg;
	if (renew_if_due(h) < 0) {
		sluice_error_clear(); /* said again before the first transaction */
		return false;
	}
	return proceed(h->o, h->r);
}

static int take_lease(sluice_engine *e, sluice_reconcile_report *r, int64_t wait_ms,
		      const sluice_reconcile_opts *o)
{
	sluice_lease_info who;
	int64_t waited = 0;
	int rc;

	for (;;) {
		rc = sluice_store_lease_acquire(e->store, RECONCILE_LEASE, lease_ttl(o), &who);
		if (rc != SLUICE_EBUSY)
			return rc;
		if (waited >= wait_ms || !proceed(o, r)) {
			r->lease_holder = sluice_xstrdup(who.holder);
			return SLUICE_EBUSY;
		}
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		waited += 100;
	}
}

/* Records one publisher's outcome: a failure, or a success when it wrote
 * or when its last outcome was not known good. */
static int record_outcome(sluice_engine *e, const sluice_publish_conf *pc, bool ok, bool changed,
			  const char *error)
{
	const char *type = pc->type.s, *target = sluice_publish_target(pc);
	sluice_publish_state was;
	int rc;

	if (!ok)
		return sluice_store_publish_state_set(e->store, e->workspace, type, target, false,
						      e->now, error);
	/* a pass that had nothing to write records nothing, unless the
	 * published state was not known good: then it is again */
	if (!changed) {
		if ((rc = sluice_store_publish_state_get(&was, e->store, e->workspace, type,
							 target)) < 0)
			return rc;
		bool good = was.known && was.ok;
		sluice_publish_state_clear(&was);
		if (good)
			return 0;
	}
	return sluice_store_publish_state_set(e->store, e->workspace, type, target, true, e->now,
					      NULL);
}

/* The http publisher's way into the outbox (publish.h). */
static int enqueue_effective(void *arg, const char *endpoint, const char *kind, json_t *body)
{
	sluice_engine *e = arg;
	return sluice_store_outbox_enqueue(NULL, e->store, e->workspace, endpoint, kind, body);
}

/* The signature of the document the http publisher last enqueued for
 * endpoint: *out (free()), NULL when none. */
static int enqueued_signature(void *arg, const char *endpoint, char **out)
{
	sluice_engine *e = arg;
	char *body = NULL;
	json_t *j;
	int rc;

	*out = NULL;
	if (!endpoint)
		return 0;
	if ((rc = sluice_store_outbox_newest_body(&body, e->store, e->workspace, endpoint,
						  "effective_state")) < 0 || !body)
		return rc;
	if ((j = json_loads(body, 0, NULL))) {
		const char *sig = json_string_value(json_object_get(j, "signature"));
		*out = sig ? sluice_xstrdup(sig) : NULL;
		json_decref(j);
	}
	free(body);
	return rc;
}

/* Publishes the effective state: the planner's input of every plugin, the
 * users' opt-outs, the audit log's head and the workspace's publish
 * settings, handed to every publisher; then records each one's outcome in
 * the store (a failure shows in `status` until that publisher succeeds).
 * reconcile.h. */
int sluice_reconcile_publish(bool *changed, sluice_engine *e)
{
	const sluice_workspace *ws = e->ws;
	sluice_engine_input *in = NULL;
	sluice_publish_plugin *plugins = NULL;
	sluice_publish_outcome *outcomes = NULL;
	sluice_secret_row *secrets = NULL;
	size_t nsecrets = 0;
	const char **groups = NULL, **types = NULL, **targets = NULL;
	char ***optouts = NULL, hash[SLUICE_AUDIT_HASH_SZ], *failed = NULL;
	int64_t head = 0;
	bool ran = false;
	int rc;

	*changed = false;
	if (!ws->npublishers)
		return 0;
	if ((rc = sluice_engine_input_load(&in, e, NULL)) < 0)
		goto record;
	plugins = sluice_xcalloc(in->in.nplugins + 1, sizeof *plugins);
	optouts = sluice_xcalloc(in->in.nplugins + 1, sizeof *optouts);
	for (size_t p = 0; p < in->in.nplugins; p++) {
		size_t n = 0;
		if ((rc = sluice_store_optout_users(&optouts[p], &n, e->store, e->workspace,
						    in->ids[p])) < 0)
			goto record;
		plugins[p] = (sluice_publish_plugin){in->ids[p], in->watched[p]->key,
						     &in->watched[p]->ws_plugin->environment,
						     &in->in.plugins[p],
						     (const char *const *)optouts[p], n};
	}
	if ((rc = sluice_audit_head(e->store, &head, hash)) < 0)
		goto record;
	groups = sluice_xcalloc(ws->ngroups + 1, sizeof *groups);
	for (size_t g = 0; g < ws->ngroups; g++)
		groups[g] = ws->groups[g].name.s;
	sluice_publish_ctx c = {
		.workspace = e->workspace,
		.root = e->root,
		.cache_dir = e->cache_dir,
		.max_file_bytes = ws->max_file_bytes,
		.groups = groups,
		.ngroups = ws->ngroups,
		.plugins = plugins,
		.nplugins = in->in.nplugins,
		.now = e->now,
		.audit_head_id = head,
		.audit_head_hash = hash,
		.enqueue = enqueue_effective,
		.enqueued = enqueued_signature,
		.enqueue_arg = e,
	};
	if ((rc = sluice_store_secret_rows(&secrets, &nsecrets, e->store, e->workspace, NULL,
					   NULL)) == 0) {
		c.secrets = secrets;
		c.nsecrets = nsecrets;
		outcomes = sluice_xcalloc(ws->npublishers, sizeof *outcomes);
		rc = sluice_publish_run_all(outcomes, &c, ws->publishers, ws->npublishers, false);
		ran = true;
	}
record:
	if (rc < 0)
		failed = sluice_xstrdup(sluice_error_last());
	/* each publisher's own outcome; when the state could not even be
	 * read, every publisher failed with that */
	types = sluice_xcalloc(ws->npublishers, sizeof *types);
	targets = sluice_xcalloc(ws->npublishers, sizeof *targets);
	for (size_t i = 0; i < ws->npublishers; i++) {
		const sluice_publish_outcome *o = ran ? &outcomes[i] : NULL;
		bool ok = o ? o->rc == 0 : false;
		types[i] = ws->publishers[i].type.s;
		targets[i] = sluice_publish_target(&ws->publishers[i]);
		*changed = *changed || (o && o->changed);
		if (record_outcome(e, &ws->publishers[i], ok, o && o->changed,
				   o ? o->error : failed) < 0 && rc == 0)
			rc = SLUICE_ESTORE;
	}
	/* publishers no longer configured have no outcome to show */
	if (sluice_store_publish_state_keep(e->store, e->workspace, types, targets,
					    ws->npublishers) < 0 && rc == 0)
		rc = SLUICE_ESTORE;
	if (failed)
		sluice_error_set(rc, "%s", failed); /* the publish's own error is the one to report */
	free(failed);
	free(types);
	free(targets);
	sluice_publish_outcomes_clear(outcomes, ran ? ws->npublishers : 0);
	free(outcomes);
	for (size_t p = 0; optouts && in && p < in->in.nplugins; p++)
		sluice_strv_free(optouts[p]);
	free(optouts);
	sluice_secret_rows_free(secrets, nsecrets);
	free(groups);
	free(plugins);
	sluice_engine_input_free(in);
	return rc;
}

int sluice_reconcile_run(sluice_reconcile_report *report, sluice_engine *e,
			 const sluice_reconcile_opts *opts)
{
	sluice_reconcile_opts none = {0};
	sluice_watched_fetch_item *fr = NULL;
	lease_hold hold;
	int rc;

	memset(report, 0, sizeof *report);
	if (!opts)
		opts = &none;
	if (e->flags & SLUICE_ENGINE_READONLY)
		return sluice_error_set(SLUICE_EINVAL, "reconcile needs a writable engine");
	rc = take_lease(e, report, opts->lease_wait_ms ? opts->lease_wait_ms : 30000, opts);
	if (rc == SLUICE_EBUSY)
		return 0;
	if (rc < 0)
		return rc;
	hold = (lease_hold){e, opts, report, (int64_t)time(NULL), false};
	if ((rc = sluice_watched_set_ca_bundle(e->ws, e->root)) < 0)
		goto done;

	report->items = sluice_xcalloc(e->nwatched + 1, sizeof *report->items);
	report->nitems = e->nwatched;
	fr = sluice_xcalloc(e->nwatched + 1, sizeof *fr);
	for (size_t i = 0; i < e->nwatched; i++) {
		fr[i].w = &e->watched[i];
		report->items[i].watched = &e->watched[i];
	}
	/* the network first, outside any transaction: a slow remote never
	 * holds the database; the remotes are compared concurrently */
	if (!opts->no_fetch && proceed(opts, report) &&
	    (rc = sluice_watched_fetch_all(fr, e->nwatched, e->ws, e->root, e->cache_dir, NULL,
					   NULL, fetch_heartbeat, &hold, &report->fetch)) < 0)
		goto done;
	for (size_t i = 0; i < e->nwatched && !opts->no_fetch; i++) {
		sluice_reconcile_item *it = &report->items[i];
		it->fetch_error = fr[i].error;
		fr[i].error = NULL;
		for (char **n = fr[i].r.notes; n && *n; n++)
			note(it, "%s", *n);
	}
	for (size_t i = 0; i < e->nwatched; i++) {
		sluice_reconcile_item *it = &report->items[i];
		if (!proceed(opts, report))
			break;
		if ((rc = renew_if_due(&hold)) < 0)
			goto done; /* lost it: another pass took over */
		if ((rc = sluice_store_begin(e->store)) < 0 ||
		    (rc = pass_plugin(e, it, &e->watched[i], &fr[i].r, !opts->no_fetch)) < 0 ||
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
	if (!opts->no_publish && !report->stopped && sluice_reconcile_publish(&report->published, e) < 0)
		report->publish_error = sluice_xstrdup(sluice_error_last());
	/* notifications go out in real time, whatever the rollout clock */
	if (!opts->no_publish && !opts->no_deliver &&
	    sluice_notify_deliver(&report->notified, e, (int64_t)time(NULL), 0) < 0 &&
	    !report->notified.error) {
		report->notified.error = sluice_xstrdup(sluice_error_last());
		report->notified.failed++;
	}
done:
	for (size_t i = 0; fr && i < e->nwatched; i++)
		sluice_watched_fetch_item_clear(&fr[i]);
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
	sluice_notify_stats_clear(&r->notified);
	memset(r, 0, sizeof *r);
}
