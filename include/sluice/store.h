/* The SQLite store: Sluice's whole state in one file.
 *
 * All SQL of the project lives behind this header (src/lib/store*.c,
 * src/lib/audit.c). Every function that changes state also appends its
 * audit row (see audit.h) in the same transaction: when the caller has a
 * transaction open (sluice_store_begin), the function joins it; otherwise
 * it opens and commits its own. Times are seconds since the epoch; 0 in a
 * time field means "never" (NULL in the database). The schema and the
 * dashboard views are documented in docs/database.md. */
#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sluice/rollout.h"
#include "sluice/telemetry.h"

typedef struct sluice_store sluice_store;

/* The schema version this build creates and understands. */
#define SLUICE_STORE_SCHEMA_VERSION 11

/* Longest object id kept (hex SHA-256) plus the NUL. */
#define SLUICE_STORE_OID_SZ 65

enum {
	/* Open an existing database read-only: no create, no migration (a
	 * database that needs one is refused with "run 'sluice reconcile'"). */
	SLUICE_STORE_READONLY = 1 << 0,
};

/* Opens (creating the file 0600 and its parent directory 0700 on first use,
 * whatever the umask, unless READONLY) and migrates the database at `path`.
 * WAL journal, foreign keys on. A statement waits at most 30 s of real time
 * ($SLUICE_BUSY_TIMEOUT_MS milliseconds when set lower) for a lock another
 * connection holds, then fails with SLUICE_ESTORE saying the database is
 * locked by another program. A database from a newer sluice is refused with
 * SLUICE_ESTORE. Returns 0 and *out (free with sluice_store_free), or a
 * negative SLUICE_E* code with the error set. */
int sluice_store_open(sluice_store **out, const char *path, int flags);

/* Closes the database (rolling back an open transaction). NULL-safe. */
void sluice_store_free(sluice_store *s);

/* The schema version of the open database. */
int sluice_store_schema_version(const sluice_store *s);

/* The path the store was opened with (borrowed). */
const char *sluice_store_path(const sluice_store *s);

/* Who and what later audit rows name: the acting admin ("controller" by
 * default) and the administrators' repository commit the configuration was
 * read from (NULL when --root is not a git work tree). Copied. */
void sluice_store_set_actor(sluice_store *s, const char *actor);
void sluice_store_set_admin_commit(sluice_store *s, const char *commit);
const char *sluice_store_actor(const sluice_store *s);

/* The daemon process ("PID@HOST", as the lease names it) that writes
 * through this store: every later audit row carries it as details.daemon,
 * so the log itself shows which daemon made each decision
 * (docs/operations.md, "The daemon lease"). NULL: none (a command). */
void sluice_store_set_process(sluice_store *s, const char *process);

/* Transactions. begin takes the write lock at once (BEGIN IMMEDIATE), so two
 * writers serialise instead of failing at their first write; it waits up to
 * the busy timeout and then fails with SLUICE_ESTORE. Nesting is an error.
 * rollback is safe to call with no transaction open. */
int sluice_store_begin(sluice_store *s);
int sluice_store_commit(sluice_store *s);
int sluice_store_rollback(sluice_store *s);
bool sluice_store_in_transaction(const sluice_store *s);

/* Runs PRAGMA integrity_check; 0 when "ok", SLUICE_ESTORE with the first
 * problem otherwise. */
int sluice_store_integrity_check(sluice_store *s);

/* ---- backup and restore (docs/operations.md) ---------------------------- */

typedef struct {
	int schema_version;   /* the file's, before any migration */
	int64_t audit_rows;   /* audit rows verified in the copy */
	int64_t head_id;      /* the copy's audit head (0 for an empty log) */
	char head_hash[65];   /* 64 hex digits (zeros for an empty log) */
} sluice_store_backup_info;

/* Writes a consistent copy of the database to `path` with SQLite's online
 * backup API while others go on writing (one read snapshot, copied in
 * chunks; writers are not held up in WAL mode): into path.tmp (0600,
 * rollback journal, so the copy is one self-contained file), fsync, then
 * the copy is opened and must pass integrity_check and audit verify, then
 * renamed to `path` and its directory fsynced. `path` naming the database
 * itself is SLUICE_EINVAL. Returns 0 with *info filled, or a negative
 * SLUICE_E* code with nothing left at path.tmp and `path` untouched. */
int sluice_store_backup(sluice_store_backup_info *info, sluice_store *s, const char *path);

/* Replaces the whole open database `s` with the backup at `path`. The
 * backup is checked first on a private copy next to the database: it must
 * be a sluice database (application id), of a schema no newer than this
 * build (older ones are migrated), sound (integrity_check), with an audit
 * chain that verifies and the schema this build makes (the append-only
 * triggers in place); otherwise SLUICE_EINVAL saying why, and nothing is
 * changed. Unless `force`, every lease in the database is taken first
 * (a live daemon or reconcile holding one is SLUICE_EBUSY naming it,
 * nothing changed). The contents are then replaced in one write
 * transaction (SQLite's backup API into the live file, so readers and a
 * crash see the old or the new database whole), the backup's leases are
 * dropped and a database.restored row is appended to the restored audit
 * log (its chain goes on from the backup's head). *info describes the
 * backup. Returns 0 or a negative SLUICE_E* code. */
int sluice_store_backup_restore(sluice_store_backup_info *info, sluice_store *s,
				const char *path, bool force, int64_t now);

/* ---- leases: one holder at a time, in real time ------------------------ */

typedef struct {
	char holder[300]; /* "PID@HOST" */
	int64_t pid;
	int64_t acquired_at, expires_at; /* real time */
} sluice_lease_info;

/* Takes (or renews) lease `name` for this process ("PID@HOST") for
 * ttl_seconds of real time. A lease that expired, or whose holder on this
 * host is no longer running, is taken over. Returns 0, or SLUICE_EBUSY
 * with the current holder in *holder (may be NULL) and the message set.
 * On success *holder names the holder taken over from (holder[0] is '\0'
 * when the lease was free or already ours). */
int sluice_store_lease_acquire(sluice_store *s, const char *name, int64_t ttl_seconds,
			       sluice_lease_info *holder);

/* Gives lease `name` back if this process holds it. */
int sluice_store_lease_release(sluice_store *s, const char *name);

/* ---- what the daemon's metrics count (store-metrics.c) ----------------- */

typedef struct {
	char *state;   /* "pending", "in_progress", ... as stored */
	int64_t count;
} sluice_state_count;

/* How many releases of `workspace` are in each state, sorted by state;
 * states with none are absent. Returns 0 and *out (n of them; free with
 * sluice_state_counts_free, NULL-safe) or a negative code. */
int sluice_store_release_state_counts(sluice_state_count **out, size_t *n, sluice_store *s,
				      const char *workspace);
void sluice_state_counts_free(sluice_state_count *c, size_t n);

/* ---- sources: one row per watched repository ------------------------ */

typedef struct {
	char *repository;       /* owner/name, or the URL when given directly */
	char *plugin;           /* what its tags and releases are recorded
				 * under: the plugin id it owns (fixed by its
				 * first release that validated), until then
				 * the repository itself */
	char *url;
	int64_t last_checked_at;
	int64_t last_ok_at;
	char *last_error;       /* NULL when the last check succeeded */
	char *refs_fingerprint; /* opaque; NULL before the first good listing */
} sluice_source_row;

void sluice_source_row_clear(sluice_source_row *r);

/* Fills *out for `repository`; SLUICE_ENOTFOUND when never checked.
 * Clear with sluice_source_row_clear. */
int sluice_store_source_get(sluice_source_row *out, sluice_store *s,
			    const char *repository);

/* Records one check of a remote. On success pass error NULL: last_ok_at and
 * (when not NULL) refs_fingerprint are updated. On failure pass the message:
 * the fingerprint and last_ok_at stay. `plugin` (may be NULL) only names
 * the plugin in the audit rows: the id a repository owns is set by
 * sluice_store_source_claim alone. The first failure after success and the
 * first success after a failure are audited (source.unreachable,
 * source.recovered). */
int sluice_store_source_checked(sluice_store *s, const char *repository,
				const char *url, const char *plugin, int64_t now,
				const char *refs_fingerprint, const char *error);

/* Gives `repository` the plugin id `plugin` for good (docs/sources.md,
 * plugin ids): called when its first release validated. The tags and
 * releases recorded under the repository until then move to the id;
 * audited as source.claimed. Claiming the id it owns already is 0.
 * SLUICE_EREFUSED, with the reason, when the id is not
 * [a-z0-9][a-z0-9._-]{0,62}, when another repository owns it (the message
 * names that one) or when the repository owns another id. */
int sluice_store_source_claim(sluice_store *s, const char *repository, const char *plugin,
			      int64_t now);

/* ---- tags: the first-seen commit of every tag ----------------------- */

typedef enum {
	SLUICE_TAG_NEW = 0,  /* first time seen: recorded now */
	SLUICE_TAG_SAME,     /* points where it pointed when first recorded */
	SLUICE_TAG_MOVED,    /* points elsewhere (or did, and is not accepted) */
} sluice_tag_status;

typedef struct {
	sluice_tag_status status;
	char commit[SLUICE_STORE_OID_SZ];     /* the recorded (trusted) commit */
	char tag_object[SLUICE_STORE_OID_SZ]; /* recorded tag object, "" if light */
	char moved_to[SLUICE_STORE_OID_SZ];   /* "" unless MOVED */
	int64_t first_seen_at;
	bool was_deleted; /* it had been marked deleted and is back now */
} sluice_tag_observation;

/* Records that `tag` of `plugin` points at `commit` (tag_object is the
 * annotated tag's object id or NULL for a lightweight tag; tagger_email may
 * be NULL). The first observation is recorded and audited (tag.recorded).
 * A later one at another commit marks the tag moved (audited as tag.moved
 * with both ids, once per new target) and reports MOVED with the recorded
 * commit in result->commit; the recorded commit never changes except
 * through sluice_store_tag_accept_move. A tag marked deleted that is seen
 * again is undeleted (tag.restored). `result` may be NULL. */
int sluice_store_tag_observe(sluice_store *s, const char *plugin, const char *tag,
			     const char *commit, const char *tag_object,
			     const char *tagger_email, int64_t now,
			     sluice_tag_observation *result);

/* Marks a recorded tag as gone from the remote (audited as tag.deleted, once).
 * Its releases stay. SLUICE_ENOTFOUND if never recorded. */
int sluice_store_tag_mark_deleted(sluice_store *s, const char *plugin,
				  const char *tag, int64_t now);

/* Accepts a moved tag (`sluice accept-tag-move`, once the new commit has
 * been validated: sluice_reconcile_accept_tag_move): the recorded commit
 * becomes the one it moved to, the release at that tag takes the new
 * commit and `deploy_snapshot` (NULL: keeps its own; given, any refusal is
 * cleared), all its approvals are voided and its attestations, bound to
 * the old commit, stop counting; audited as tag.move_accepted by the
 * store's actor. SLUICE_ENOTFOUND when the tag is unknown, SLUICE_EINVAL
 * when it has not moved. */
int sluice_store_tag_accept_move(sluice_store *s, const char *plugin,
				 const char *tag, const char *deploy_snapshot, int64_t now);

typedef struct {
	char *plugin;
	char *tag;
	char commit[SLUICE_STORE_OID_SZ];
	char tag_object[SLUICE_STORE_OID_SZ];
	char moved_to[SLUICE_STORE_OID_SZ];
	char *tagger_email;     /* NULL when unknown */
	int64_t first_seen_at;
	int64_t deleted_at;
	int64_t moved_at;
	int64_t move_accepted_at;
} sluice_stored_tag;

typedef struct {
	sluice_stored_tag *items;
	size_t count;
} sluice_stored_tag_list;

/* Fills *out with one recorded tag; SLUICE_ENOTFOUND when never seen.
 * Clear with sluice_stored_tag_clear. */
int sluice_store_tag_get(sluice_stored_tag *out, sluice_store *s, const char *plugin,
			 const char *tag);
void sluice_stored_tag_clear(sluice_stored_tag *r);

/* All recorded tags of `plugin`, ordered by tag name. Free with
 * sluice_stored_tag_list_clear. */
int sluice_store_tag_list(sluice_stored_tag_list *out, sluice_store *s, const char *plugin);
void sluice_stored_tag_list_clear(sluice_stored_tag_list *l);

/* ---- releases and the rollout state -------------------------------- */

/* A release as first recorded. deploy_snapshot is the JSON the planner's
 * input is rebuilt from (docs/database.md, "deploy snapshot"):
 *   {"stages": [{"name", "groups": [..], "duration_days", "requires_approval"}],
 *    "controls": {"require_admin_approval", "allow_user_disable", ...},
 *    "risk": 0|1|2, "lifecycle": {"review_every_days", "deprecated_at",
 *    "sunset_at"}}   (times as seconds; every key optional) */
typedef struct {
	const char *workspace, *plugin, *version, *tag, *commit;
	const char *tagger_email;    /* may be NULL */
	const char *deploy_snapshot; /* JSON object text, may be NULL */
	int64_t seen_at;
} sluice_release_record;

/* Records a release the first time it is seen (state pending; audited as
 * release.recorded). Seen again: nothing changes. *out_id (may be NULL) is
 * the release's id, *created (may be NULL) whether it was new. */
int sluice_store_release_record(sluice_store *s, const sluice_release_record *r,
				int64_t *out_id, bool *created);

/* Marks a release refused by validation or policy (reason non-NULL), or
 * clears the refusal (NULL). Audited when it changes. */
int sluice_store_release_set_refused(sluice_store *s, const char *workspace,
				     const char *plugin, const char *version,
				     const char *reason, int64_t now);

/* An approval (`sluice approve`), bound to workspace, plugin, version,
 * commit and stage. Audited as approval.given by the store's actor, who is
 * the approver. The same live approval twice: SLUICE_EINVAL, unless `renew`
 * (the caller found the live one expired): then it is voided ("expired;
 * renewed") in the same transaction. */
typedef struct {
	const char *workspace, *plugin, *version, *commit, *stage;
	const char *comment;   /* may be NULL */
	const char *signature; /* ssh-signed identity; may be NULL */
	bool renew;
} sluice_approval_record;
int sluice_store_approval_add(sluice_store *s, const sluice_approval_record *a, int64_t now);

/* The workspace freeze (`sluice freeze` / `unfreeze`), audited as
 * workspace.frozen / workspace.unfrozen by the store's actor. */
int sluice_store_workspace_freeze(sluice_store *s, const char *workspace, bool frozen,
				  const char *reason, int64_t now);
/* *frozen and *reason (malloc'd or NULL; caller frees) for `workspace`;
 * never frozen: false. */
int sluice_store_workspace_frozen(bool *frozen, char **reason, sluice_store *s,
				  const char *workspace);

/* One plugin's stored state as the planner's input: every recorded release
 * (rank from SemVer order, stages and controls from its deploy snapshot,
 * tag_moved from the tag record, checklist_done from attestations, refusal)
 * and the plugin's approvals (voided ones included, marked). The caller
 * still sets what the store does not know: out_of_range and
 * secret_problem of each release. All strings are owned by the state. */
typedef struct {
	sluice_rollout_plugin plugin;
	sluice_rollout_approval *approvals;
	size_t napprovals;
	void *priv; /* owned storage */
} sluice_store_plugin_state;

/* Returns 0 and *out (free with sluice_store_plugin_state_free); a plugin
 * with nothing recorded gives zero releases. Load, plan and apply inside
 * one sluice_store_begin/commit so that a concurrent reconcile plans from
 * the state this one leaves. */
int sluice_store_load_plugin_state(sluice_store_plugin_state **out, sluice_store *s,
				   const char *workspace, const char *plugin);
void sluice_store_plugin_state_free(sluice_store_plugin_state *st);

/* Applies the actions of `plan` for `plugin` (every plugin when NULL), each
 * with its audit row, all in ONE transaction (or the caller's): when any
 * fails, none is applied. A START_STAGE that no longer follows the stored
 * stage (another process started it) fails with SLUICE_EBUSY. `promote`
 * marks started stages as started by `sluice promote` (actor and reason
 * recorded) rather than the controller. An action without a time takes
 * `now`. */
int sluice_store_apply_actions(sluice_store *s, const char *workspace, const sluice_plan *plan,
			       const char *plugin, bool promote, int64_t now);

/* Records, for each approval block of `plan` (plugin's only, unless
 * NULL), an `approval.needed` audit row - and so its notification - the
 * first time that release's stage waits for approval; later passes add
 * nothing. One transaction (or the caller's). Returns 0 or a negative
 * code. */
int sluice_store_note_approvals_needed(sluice_store *s, const char *workspace,
				       const sluice_plan *plan, const char *plugin, int64_t now);

/* ---- telemetry (store-telemetry.c; docs/telemetry.md) ----------------- */

/* The workspace's key for hashing user ids, made (random) and stored on
 * first use. Returns 0 and the key. */
int sluice_store_telemetry_key(unsigned char key[SLUICE_TELEMETRY_KEY_SZ], sluice_store *s,
			       const char *workspace, int64_t now);

/* An ingest: events added inside one unit of work (joining the caller's
 * transaction); the daily rollups and latency histograms of the events
 * actually inserted are written when it ends, in the same unit. */
typedef struct sluice_store_ingest sluice_store_ingest;

int sluice_store_ingest_begin(sluice_store_ingest **out, sluice_store *s, const char *workspace);
/* Stores ev (already checked) with the user's keyed hash (may be NULL).
 * *added is false when an event with the same id is stored already:
 * ingesting twice changes nothing. */
int sluice_store_ingest_add(sluice_store_ingest *g, const sluice_event *ev, const char *user_hash,
			    bool *added);
/* rc >= 0: writes the rollups and commits; rc < 0: rolls everything back.
 * Frees g (NULL-safe) and returns rc or the commit's error. */
int sluice_store_ingest_end(sluice_store_ingest *g, int rc);

/* Every recorded (plugin, version) of the workspace, sorted; caller frees
 * each string and both arrays. */
int sluice_store_release_versions(char ***plugins, char ***versions, size_t *n, sluice_store *s,
				  const char *workspace);

/* A release's telemetry over the UTC days from since's day to until, read
 * from the rollups. p95_latency_ms is the upper bound of the histogram
 * bucket holding the 95th percentile (0 without latency samples). */
typedef struct {
	int64_t calls, errors, refusals, escalations;
	int64_t latency_samples, p95_latency_ms;
	int64_t feedback_total, feedback_positive;
} sluice_telemetry_summary;

int sluice_store_telemetry_summary(sluice_telemetry_summary *out, sluice_store *s,
				   const char *workspace, const char *plugin, const char *version,
				   int64_t since, int64_t until);

/* Deletes plugin's raw events older than `before`; rollups stay. */
int sluice_store_telemetry_prune(int64_t *deleted, sluice_store *s, const char *workspace,
				 const char *plugin, int64_t before);
/* The audit.retention_days of plugin's newest recorded release that sets
 * it, or 0 in *days when none does (its events are then kept). */
int sluice_store_telemetry_retention(int64_t *days, sluice_store *s, const char *workspace,
				     const char *plugin);
int sluice_store_telemetry_count(int64_t *events, sluice_store *s, const char *workspace);
/* When raw telemetry of `workspace` was last pruned (0: never), and
 * recording a prune at `at`. */
int sluice_store_telemetry_pruned_at(int64_t *at, sluice_store *s, const char *workspace);
int sluice_store_telemetry_set_pruned_at(sluice_store *s, const char *workspace, int64_t at);

/* ---- the administrators' actions (store-ops.c) ----------------------- */
/* Each checks its precondition and writes its audit row in one unit of
 * work (joining the caller's transaction), acting as the store's actor.
 * A precondition that does not hold is SLUICE_EREFUSED with the reason;
 * a release that was never recorded is SLUICE_ENOTFOUND. */

/* Stops plugin@version for good: a rejections row and state 'rejected'
 * (audited as release.rejected). SLUICE_EREFUSED when already rejected. */
int sluice_store_release_reject(sluice_store *s, const char *workspace, const char *plugin,
				const char *version, const char *commit, const char *comment,
				int64_t now);

/* in_progress -> paused (paused_at = now); audited as rollout.paused. */
int sluice_store_release_pause(sluice_store *s, const char *workspace, const char *plugin,
			       const char *version, const char *reason, int64_t now);
/* paused -> in_progress, adding the pause to paused_seconds so the soak
 * does not count it; audited as rollout.resumed. */
int sluice_store_release_resume(sluice_store *s, const char *workspace, const char *plugin,
				const char *version, const char *reason, int64_t now);
/* Marks plugin@version rolled back (never applied again automatically);
 * audited as rollout.rolled_back naming target_version (NULL: removed). */
int sluice_store_release_rollback(sluice_store *s, const char *workspace, const char *plugin,
				  const char *version, const char *target_version,
				  const char *reason, int64_t now);

/* The kill switch. version NULL withdraws the whole plugin from every
 * group (plugin.withdrawn); a version marks that release withdrawn
 * (release.withdrawn). SLUICE_EREFUSED when already withdrawn. */
int sluice_store_withdraw(sluice_store *s, const char *workspace, const char *plugin,
			  const char *version, const char *reason, int64_t now);
/* Undoes a withdrawal (plugin.restored / release.restored). For a version,
 * `new_state` is the state the release takes again ("paused" sets
 * paused_at = now). SLUICE_EREFUSED when not withdrawn. */
int sluice_store_restore(sluice_store *s, const char *workspace, const char *plugin,
			 const char *version, const char *new_state, const char *reason,
			 int64_t now);
/* Whether plugin (version NULL) or plugin@version has a live withdrawal. */
int sluice_store_withdrawn(bool *out, sluice_store *s, const char *workspace,
			   const char *plugin, const char *version);

/* A user's opt-out of a plugin (user.disabled / user.enabled). Nothing is
 * written when it is already so; *changed (may be NULL) says which. The
 * caller checks allow_user_disable and who may act. */
int sluice_store_optout_set(sluice_store *s, const char *workspace, const char *plugin,
			    const char *user, bool disabled, int64_t now, bool *changed);

/* The plugins `user` opted out of, sorted: a NULL-terminated malloc'd
 * array of malloc'd ids (free with sluice_strv_free or by hand), *n its
 * length. */
int sluice_store_optout_list(char ***out, size_t *n, sluice_store *s, const char *workspace,
			     const char *user);

/* Records a checklist attestation (checklist.attested), bound to the
 * release's commit as recorded now: once an accepted tag move changes the
 * commit, it no longer counts. */
int sluice_store_attest(sluice_store *s, const char *workspace, const char *plugin,
			const char *version, const char *item, const char *evidence, int64_t now);

typedef struct {
	char *item, *actor, *evidence; /* evidence may be NULL */
	int64_t at;
} sluice_attestation;

typedef struct {
	sluice_attestation *items;
	size_t count;
} sluice_attestation_list;

/* The attestations of plugin@version that count (made for its current
 * commit), oldest first; clear with
 * sluice_attestation_list_clear. */
int sluice_store_attestation_list(sluice_attestation_list *out, sluice_store *s,
				  const char *workspace, const char *plugin,
				  const char *version);
void sluice_attestation_list_clear(sluice_attestation_list *l);

/* ---- secret checks (store-secrets.c) ---------------------------------- */

/* The last check of one secret a release binds: metadata only. */
typedef struct {
	char *plugin, *version; /* the release */
	char *var, *provider, *name;
	bool present;
	char *problem;        /* why not present (missing, or the provider's error) */
	char *secret_version; /* the provider's version; NULL none */
	int64_t updated_at;   /* when the secret last changed; 0 unknown */
	int64_t checked_at;
} sluice_secret_row;

void sluice_secret_row_clear(sluice_secret_row *r);
void sluice_secret_rows_free(sluice_secret_row *rows, size_t n);

/* The checks of `workspace`, of one plugin (NULL: all) and one version
 * (NULL: all), ordered by plugin, version, variable. *out is freed with
 * sluice_secret_rows_free. */
int sluice_store_secret_rows(sluice_secret_row **out, size_t *n, sluice_store *s,
			     const char *workspace, const char *plugin, const char *version);

/* Records a check. When the secret's state (present, or why not) differs
 * from the last check, audits secret.present or secret.missing (once per
 * change, not once per pass). */
int sluice_store_secret_put(sluice_store *s, const char *workspace, const sluice_secret_row *r);

/* ---- publishing (store-publish.c) ---------------------------------------- */

/* The outcome of the last publish of one publisher of a workspace, or of
 * all of them (sluice_publish_state_combine); docs/publishing.md. */
typedef struct {
	bool known;         /* false: nothing was ever published (the rest is empty) */
	bool ok;            /* the last publish succeeded */
	int64_t at;         /* when it ran (rollout clock) */
	char *error;        /* why it failed; NULL when ok */
	int64_t last_ok_at; /* the last success; 0: never */
} sluice_publish_state;

/* Records the outcome of a publish by the publisher `type` at `target`
 * (sluice_publish_target): ok, or the error that stopped it. Joins the
 * caller's transaction or runs in its own. */
int sluice_store_publish_state_set(sluice_store *s, const char *workspace, const char *type,
				   const char *target, bool ok, int64_t at, const char *error);

/* The outcome of that publisher's last publish; out->known is false when
 * none was recorded. A database from before publishers were kept apart has
 * one outcome for the workspace: it is every publisher's until that one
 * records its own. Clear with sluice_publish_state_clear. */
int sluice_store_publish_state_get(sluice_publish_state *out, sluice_store *s,
				   const char *workspace, const char *type, const char *target);

/* Deletes the outcomes of the workspace's publishers that are not among
 * the n (types[i], targets[i]) - publishers removed from `publish` - and,
 * once each of the n has its own, the outcome kept from before publishers
 * were kept apart. */
int sluice_store_publish_state_keep(sluice_store *s, const char *workspace,
				    const char *const *types, const char *const *targets, size_t n);
void sluice_publish_state_clear(sluice_publish_state *st);

/* The users who opted out of `plugin`, sorted: a NULL-terminated malloc'd
 * array (free with sluice_strv_free), *n its length. Whether each may is
 * the caller's to decide (allow_user_disable of the release). */
int sluice_store_optout_users(char ***out, size_t *n, sluice_store *s, const char *workspace,
			      const char *plugin);

/* ---- the outbox (store-outbox.c; docs/notifications.md) ------------------ */

/* A webhook endpoint that later audit rows are routed to. */
typedef struct {
	const char *url;            /* the endpoint; the outbox rows' key */
	const char *const *events;  /* the kinds it receives, NULL-terminated;
				     * "all" for every one */
} sluice_outbox_route;

/* From now on every audit row whose action has an event kind
 * (sluice_outbox_kind) also writes, in its own transaction, one outbox row
 * per route that receives that kind, for `workspace`. Copied; n = 0 stops
 * routing. */
void sluice_store_outbox_routes_set(sluice_store *s, const char *workspace,
				    const sluice_outbox_route *routes, size_t n);

/* The event kind of an audit row with `action` and `details` (its JSON
 * text, may be NULL), or NULL when it notifies nobody. *also (may be NULL)
 * gets a second kind the row counts as (a paused rollout whose gate
 * breached is gate_breached and also paused), or NULL. Static strings. */
const char *sluice_outbox_kind(const char *action, const char *details, const char **also);

/* Writes one event to `endpoint` outside the audit routing (the http
 * publisher's effective_state): `body` gets its "id" (a new random event
 * id, copied to *event_id when not NULL, free()) and is stored as it is
 * then. Joins the caller's transaction. */
int sluice_store_outbox_enqueue(char **event_id, sluice_store *s, const char *workspace,
				const char *endpoint, const char *kind, json_t *body);

/* The body of the newest outbox row of `workspace` with `kind` to
 * `endpoint`, whatever its state: *body (free()), NULL when there is none. */
int sluice_store_outbox_newest_body(char **body, sluice_store *s, const char *workspace,
				    const char *endpoint, const char *kind);

typedef struct {
	int64_t id;
	char *event_id, *workspace, *endpoint, *kind, *body, *state, *last_error;
	int64_t audit_id, created_at, attempts, next_attempt_at, delivered_at;
} sluice_outbox_row;

/* The id of the newest outbox row (0 when there is none): a command
 * reads it before its change, to deliver only what the change wrote. */
int sluice_store_outbox_last_id(sluice_store *s, int64_t *id);

/* The outbox rows of `workspace` in the state `state` (pending, delivered,
 * dead; NULL: all), oldest first; due_at > 0 keeps only pending rows whose
 * next attempt is at or before it; only rows after the id after_id (0:
 * all); limit 0 is all. *out is freed with sluice_outbox_rows_free. */
int sluice_store_outbox_list(sluice_outbox_row **out, size_t *n, sluice_store *s,
			     const char *workspace, const char *state, int64_t due_at,
			     int64_t after_id, size_t limit);
void sluice_outbox_rows_free(sluice_outbox_row *rows, size_t n);

/* One delivery's outcome, each in its own small transaction:
 * delivered; failed (attempts counted, the next attempt at `next_at`,
 * dead when `dead`); or held (the row stays pending without an attempt
 * counted: a missing signing key). */
int sluice_store_outbox_delivered(sluice_store *s, int64_t id, int64_t now);
int sluice_store_outbox_failed(sluice_store *s, int64_t id, int64_t attempts, int64_t next_at,
			       bool dead, const char *error);
int sluice_store_outbox_held(sluice_store *s, int64_t id, const char *error);

/* Operator actions, audited (outbox.retried, outbox.dropped): retry makes
 * row `id` (0: every dead row) of `workspace` pending again with its
 * attempts reset, *n the rows changed; drop deletes row `id`. A row that
 * is not there (or, for retry, delivered) is SLUICE_ENOTFOUND /
 * SLUICE_EREFUSED. */
int sluice_store_outbox_retry(int64_t *n, sluice_store *s, const char *workspace, int64_t id,
			      int64_t now);
int sluice_store_outbox_drop(sluice_store *s, const char *workspace, int64_t id, int64_t now);

/* The backlog for metrics: pending rows of `workspace` and when the oldest
 * was written (0: none). */
int sluice_store_outbox_backlog(int64_t *count, int64_t *oldest_created_at, sluice_store *s,
				const char *workspace);

#endif
