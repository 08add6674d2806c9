/* Reconcile: one pass over a workspace, built on an opened engine -
 * fetch, record tags, validate new releases, plan, apply, publish, in that
 * order (docs/operations.md). */
#ifndef SLUICE_RECONCILE_H
#define SLUICE_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/engine.h"
#include "sluice/notify.h"
#include "sluice/rollout.h"
#include "sluice/secrets.h"
#include "sluice/watched.h"

/* What one pass did for one watched repository. */
typedef struct {
	const sluice_watched *watched;
	char *plugin;        /* id */
	char *fetch_error;   /* the remote could not be reached (audited) */
	char **notes;        /* NULL-terminated: "recorded release 0.1.0", ... */
	sluice_plan *applied; /* the actions applied (NULL when none) */
	char *error;         /* the plugin's pass failed and was rolled back */
	sluice_secrets_stats secrets; /* what the secret checks did */
} sluice_reconcile_item;

typedef struct {
	sluice_reconcile_item *items;
	size_t nitems;
	bool published;      /* the effective state changed and was written */
	char *publish_error;
	char *lease_holder;  /* set when another reconcile held the lease */
	bool stopped;        /* opts->proceed stopped the pass early */
	/* the outbox delivered after publishing, best effort: a receiver
	 * that is down is reported here and never fails the pass */
	sluice_notify_stats notified;
	sluice_fetch_stats fetch; /* what comparing the remotes cost */
} sluice_reconcile_report;

typedef struct {
	bool no_fetch;         /* read the mirrors as they are (tests, bench) */
	bool no_publish;
	bool no_deliver;       /* the caller delivers the outbox itself (the daemon) */
	int64_t lease_wait_ms; /* how long to wait for another pass; 0: 30 s */
	/* The "reconcile" lease's period in seconds of real time, renewed
	 * every third of it; 0: 600. The daemon gives its own lease's, so a
	 * standby on another host (where the dead holder's liveness cannot
	 * be seen) waits one period, not ten minutes. */
	int64_t lease_ttl_s;
	/* Asked while waiting for the lease, about once a second while the
	 * remotes are fetched, and before each repository's transaction (the
	 * daemon: a stop was asked for, or its own lease is renewed here).
	 * false stops the pass there: the transaction in hand is finished,
	 * the other repositories and the publish wait for the next pass
	 * (report->stopped). NULL: go on. */
	bool (*proceed)(void *arg);
	void *proceed_arg;
} sluice_reconcile_opts;

/* One pass (docs/operations.md): under the "reconcile" lease, fetches
 * every watched repository (an unreachable one is audited and its stored
 * state used), records its tags (a moved tag freezes its release), records
 * and validates each new release in the tracked range (a release with
 * errors is recorded as refused, with its reasons), then plans and applies
 * each plugin in its own transaction, and publishes. Problems of one
 * plugin are in its item, never stop the others. `e` must not be
 * read-only. Returns 0 when the pass ran (report filled; clear with
 * sluice_reconcile_report_clear), 0 with report->lease_holder set when
 * another pass held the lease throughout, or a negative code when the pass
 * could not run. */
int sluice_reconcile_run(sluice_reconcile_report *report, sluice_engine *e,
			 const sluice_reconcile_opts *opts);
void sluice_reconcile_report_clear(sluice_reconcile_report *r);

/* What validation made of one release. */
typedef struct {
	char *refused;  /* NULL: it validated; else the reasons, one line */
	char *snapshot; /* its deploy snapshot (release-snapshot.h); may be NULL */
	char *id;       /* the id in its plugin.yaml; NULL when none */
} sluice_release_check;

/* Checks the release of watched repository w at `tag` exactly as
 * reconcile does for a new tag: reads the tree at `commit` (a tag that
 * now points elsewhere cannot be read), loads and validates the plugin
 * against the workspace and its rollout policy, checks that its id is
 * `plugin` (NULL: the repository's id is not fixed yet) and, under
 * policy.require_signed_tags, verifies the tag's SSH signature against
 * allowed_signers. A release that fails any of these comes back with
 * out->refused set; that is not an error. Returns 0 (clear *out with
 * sluice_release_check_clear). */
int sluice_reconcile_validate_release(sluice_release_check *out, sluice_engine *e,
				      const sluice_watched *w, const char *tag, const char *commit,
				      const char *plugin);
void sluice_release_check_clear(sluice_release_check *c);

/* `accept-tag-move`: the moved tag `tag` of plugin `plugin` (its id as
 * the store records tags) is re-read at the commit it moved to and
 * re-validated and re-verified as for a new tag
 * (sluice_reconcile_validate_release). A commit that fails stays
 * untrusted: the release stays frozen, the refusal is audited
 * (tag.move_refused, with the reasons) and SLUICE_EREFUSED is returned
 * with them in the message. A commit that passes is trusted
 * (sluice_store_tag_accept_move): the release takes it with its deploy
 * snapshot, and its approvals and attestations (bound to the old commit)
 * no longer count. SLUICE_ENOTFOUND when the tag was never recorded or no
 * watched repository has that id, SLUICE_EINVAL when it has not moved. */
int sluice_reconcile_accept_tag_move(sluice_engine *e, const char *plugin, const char *tag);

/* Publishes the effective state as it is stored now - what reconcile's
 * last step does - for the operators' commands that change what users get
 * (withdraw, rollback, freeze, ...) and must not wait for the next pass.
 * Runs every publisher of the workspace's `publish`; one that fails does
 * not stop the others, and each one's outcome is stored. Does nothing when
 * the workspace configures no publisher. *changed says whether anything
 * was written. Returns 0, or a negative code with the error set when any
 * publisher failed (sluice_publish_run_all). */
int sluice_reconcile_publish(bool *changed, sluice_engine *e);

#endif
