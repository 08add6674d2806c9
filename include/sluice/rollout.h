/* The rollout planner: a pure function from (configuration, stored state,
 * approvals, telemetry summary, now) to a plan - the actions to take, each
 * with its reason, and for everything blocked, what blocks it and when it
 * may open. It does no I/O and reads no clock (docs/concepts.md).
 *
 * Every input is plain data that can be filled from database rows: strings
 * are borrowed (the planner never keeps or frees them), times are seconds
 * since the epoch, 0 meaning "none". A zero-initialised struct is a valid
 * "nothing set" value for every input type. */
#ifndef SLUICE_ROLLOUT_H
#define SLUICE_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLUICE_DAY_SECONDS 86400

/* ---- inputs ------------------------------------------------------------ */

/* The stored state of a release (docs/commands.md plus `skipped`). */
typedef enum {
	SLUICE_RELEASE_PENDING = 0, /* seen, no stage started yet */
	SLUICE_RELEASE_IN_PROGRESS,
	SLUICE_RELEASE_PAUSED,
	SLUICE_RELEASE_COMPLETE,    /* its last stage started: a stable candidate */
	SLUICE_RELEASE_ROLLED_BACK, /* never applied again automatically */
	SLUICE_RELEASE_REJECTED,    /* stopped for good by an approver */
	SLUICE_RELEASE_SUPERSEDED,  /* stopped for a newer release */
	SLUICE_RELEASE_WITHDRAWN,   /* this version removed by an operator */
	SLUICE_RELEASE_FROZEN,      /* its tag moved; waits for accept-tag-move */
	SLUICE_RELEASE_SKIPPED,     /* a higher new release was chosen */
} sluice_release_state;

/* "pending", "in_progress", ...; "?" for an unknown value. */
const char *sluice_release_state_name(sluice_release_state s);
/* Returns 0 and *out, or SLUICE_EINVAL for an unknown name. */
int sluice_release_state_parse(sluice_release_state *out, const char *name);

/* One stage of a release's deploy file. */
typedef struct {
	const char *name;
	const char *const *groups;
	size_t ngroups;
	int64_t duration_days; /* 0: no soak */
	bool requires_approval;
} sluice_rollout_stage;

/* A release of a plugin as stored, with the deploy settings of its tag. */
typedef struct {
	const char *version; /* "0.1.1", without the 'v' */
	const char *tag;     /* "v0.1.1" */
	const char *commit;  /* the commit recorded when the tag was first seen */
	/* Ordering among the plugin's releases: higher is newer (SemVer
	 * precedence, filled by the caller with sluice_semver_cmp). */
	int64_t rank;
	const char *tagger_email; /* who made it: sluice_tag_email; NULL unknown */
	int64_t seen_at;

	sluice_release_state state;
	int stage_index;          /* last stage started, -1 none */
	int64_t stage_started_at; /* when stage_index started */
	int64_t paused_at;        /* when paused (state PAUSED) */
	int64_t paused_seconds;   /* closed pauses within the current stage */

	bool out_of_range;  /* no longer admitted by the workspace's range */
	bool refused;       /* failed validation or policy: never started */
	const char *refused_reason;
	bool tag_moved;     /* the tag now points elsewhere */
	const char *moved_to_commit;
	const char *secret_problem; /* NULL, or why a secret binding fails */
	/* when "waiting for data" past max_wait_days was flagged (a notice);
	 * it counts for the current stage when >= stage_started_at */
	int64_t gate_wait_notice_at;

	/* from the release's deploy file and manifest */
	const sluice_rollout_stage *stages;
	size_t nstages;
	bool require_admin_approval;
	bool allow_user_disable;
	int risk; /* 0 low, 1 moderate, 2 high (sluice_risk) */
	/* lifecycle from the release's manifest (0 = none); it counts only
	 * while this is the release users have (sluice_rollout_lifecycle) */
	int64_t review_every_days;
	int64_t deprecated_at;
	int64_t sunset_at;
	/* checklist items already satisfied (checked or attested) */
	const char *const *checklist_done;
	size_t nchecklist_done;
} sluice_rollout_release;

/* A watched plugin and all its recorded releases (any order). */
typedef struct {
	const char *id;
	sluice_rollout_release *releases;
	size_t nreleases;
	bool withdrawn; /* the whole plugin withdrawn by an operator or sunset */
	/* lifecycle the workspace sets for the plugin whatever its releases
	 * say (0 = none); a release's own lifecycle is on the release, and
	 * sluice_rollout_lifecycle combines the two */
	int64_t review_every_days;
	int64_t last_reviewed_at; /* last review, or the newest release's seen_at */
	int64_t deprecated_at;
	int64_t sunset_at;
	/* notices already sent, so the planner announces each once */
	int64_t review_notice_at; /* last review-overdue notice */
	int64_t sunset_notice_at; /* the sunset notice */
	/* the sunset date whose withdrawal was applied: the plugin is
	 * withdrawn once per sunset date, so a `restore` after it stands */
	int64_t sunset_withdrawn_for;
} sluice_rollout_plugin;

/* An approval as stored. It counts only for the same plugin, version,
 * commit and stage. */
typedef struct {
	const char *plugin, *version, *commit, *stage;
	const char *approver; /* admin id */
	int64_t at;
	bool voided; /* by accept-tag-move */
} sluice_rollout_approval;

/* Role bits as in config.h (SLUICE_ROLE_APPROVER = 1, ...). */
typedef struct {
	const char *id;
	unsigned roles;
	const char *const *emails;
	size_t nemails;
} sluice_rollout_admin;

typedef struct {
	int64_t from, to; /* [from, to) */
	const char *reason;
} sluice_rollout_freeze;

/* A health gate of the rollout policy. Unset thresholds are not checked. */
typedef struct {
	const char *stage; /* NULL or "*": every stage */
	bool has_max_tool_error_rate, has_max_refusal_rate, has_max_escalation_rate,
		has_min_positive_feedback_ratio;
	double max_tool_error_rate, max_refusal_rate, max_escalation_rate,
		min_positive_feedback_ratio;
	int64_t min_samples;          /* tool calls needed to judge rates */
	int64_t min_feedback_samples; /* ratings needed; 0: min_samples */
	bool rollback_on_breach;      /* on_breach: rollback (else pause) */
	/* p95 latency of the calls with a latency, at most this */
	bool has_max_p95_latency_ms;
	int64_t max_p95_latency_ms;
	/* tool error rate at most this much above the stable release's over
	 * the same days (0.02: two points); judged once both have
	 * min_samples calls; not checked while the plugin has no stable
	 * release (or the release is the stable one) */
	bool has_max_error_rate_increase;
	double max_error_rate_increase;
	/* waiting for data longer than this since the stage started flags the
	 * rollout once (a NOTICE); it stays held. 0: never flagged */
	int64_t max_wait_days;
} sluice_rollout_gate;

/* Telemetry of one release in one stage, counted since the stage started
 * (whole UTC days: the rollups are daily), and of the plugin's stable
 * release over the same days for the relative gate. */
typedef struct {
	const char *plugin, *version;
	int stage_index;
	int64_t calls, errors, refusals, escalations;
	int64_t feedback_positive, feedback_total;
	int64_t latency_samples; /* calls with a latency */
	int64_t p95_latency_ms;  /* of those; 0 when none */
	const char *stable_version; /* NULL: no stable release to compare with */
	int64_t stable_calls, stable_errors;
} sluice_rollout_telemetry;

/* Workspace policy and the rollout policy, flattened. */
typedef struct {
	int min_approvals[3]; /* by risk class; values < 1 count as 1 */
	bool prevent_self_approval;
	int64_t approval_ttl_days; /* 0: approvals do not expire */
	const sluice_rollout_admin *admins;
	size_t nadmins;
	const sluice_rollout_freeze *freeze;
	size_t nfreeze;
	bool frozen; /* `sluice freeze` by an operator */
	const char *frozen_reason;
	bool supersede; /* on_new_release: supersede (default queue) */
	const sluice_rollout_gate *gates;
	size_t ngates;
	const char *const *checklist_required; /* items needed before stage 1 */
	size_t nchecklist_required;
	int64_t sunset_notice_days; /* 0: 14 */
} sluice_rollout_rules;

typedef struct {
	const sluice_rollout_plugin *plugins;
	size_t nplugins;
	const sluice_rollout_approval *approvals;
	size_t napprovals;
	const sluice_rollout_telemetry *telemetry;
	size_t ntelemetry;
	sluice_rollout_rules rules;
	int64_t now;
} sluice_rollout_input;

/* Fills the rank of each release from its version (SemVer precedence:
 * equal versions get equal ranks, build metadata ignored). Returns 0, or
 * SLUICE_EINVAL naming the first version that does not parse. */
int sluice_rollout_rank(sluice_rollout_release *releases, size_t n);

/* ---- the plan ------------------------------------------------------------ */

typedef enum {
	SLUICE_ACTION_START_STAGE = 0, /* stage_index starts at `at` */
	SLUICE_ACTION_COMPLETE,        /* the release is now the stable one */
	SLUICE_ACTION_SUPERSEDE,       /* stop `version` for target_version */
	SLUICE_ACTION_SKIP_RELEASE,    /* record `version` as skipped */
	SLUICE_ACTION_PAUSE,           /* a health gate breached: pause */
	SLUICE_ACTION_ROLLBACK,        /* a gate breached: back to target_version */
	SLUICE_ACTION_WITHDRAW,        /* sunset passed: remove the plugin */
	SLUICE_ACTION_FREEZE_RELEASE,  /* its tag moved: state frozen */
	SLUICE_ACTION_NOTICE,          /* notify only (sunset ahead, review due) */
} sluice_rollout_action_kind;

typedef enum {
	SLUICE_NOTICE_NONE = 0,
	SLUICE_NOTICE_SUNSET,
	SLUICE_NOTICE_REVIEW,
	SLUICE_NOTICE_GATE_WAIT, /* a release waited for data past max_wait_days */
} sluice_rollout_notice_kind;

typedef struct {
	sluice_rollout_action_kind kind;
	sluice_rollout_notice_kind notice; /* for SLUICE_ACTION_NOTICE */
	char *plugin;
	char *version;        /* NULL for plugin-wide actions */
	char *commit;
	int stage_index;      /* START_STAGE: the stage; else the current one */
	char *stage;          /* its name, or NULL */
	char *target_version; /* SUPERSEDE: the newer one; ROLLBACK: the one
				 groups go back to (NULL: the plugin is removed) */
	char *reason;
	int64_t at;
	int64_t sunset_at;    /* WITHDRAW for a sunset: the sunset date */
	/* PAUSE / ROLLBACK for a gate breach: the numbers (metric NULL
	 * otherwise), audited as fields besides the reason */
	const char *gate_metric;
	double gate_value, gate_threshold;
	int64_t gate_samples;
} sluice_rollout_action;

typedef enum {
	SLUICE_BLOCK_APPROVAL = 0,
	SLUICE_BLOCK_SOAK,
	SLUICE_BLOCK_GATE,
	SLUICE_BLOCK_FREEZE,
	SLUICE_BLOCK_SECRET,
	SLUICE_BLOCK_POLICY,
	SLUICE_BLOCK_CHECKLIST,
	SLUICE_BLOCK_TAG_MOVED,
} sluice_rollout_block_kind;

/* One reason a stage cannot start. A blocked stage may have several, in
 * the order they were found; consecutive entries share plugin/version. */
typedef struct {
	char *plugin;
	char *version;
	int stage_index; /* the stage that cannot start; -1 when none applies */
	char *stage;     /* its name, or NULL */
	sluice_rollout_block_kind kind;
	char *message;   /* "needs 1 approval (approvers: admin-ana, admin-ben)" */
	int64_t opens_at; /* when this reason goes away; 0 unknown */
} sluice_rollout_block;

typedef enum {
	SLUICE_GATE_PASS = 0,
	SLUICE_GATE_BREACH,
	SLUICE_GATE_WAITING, /* too few samples: neither a pass nor a breach */
} sluice_gate_result;

/* One metric of a health gate as the planner judged it for a release in
 * its current stage: shown by `status` and `plan` also when it passes. */
typedef struct {
	char *plugin;
	char *version;
	int stage_index;
	char *stage;
	/* "tool_error_rate", "refusal_rate", "escalation_rate",
	 * "error_rate_increase", "p95_latency_ms", "positive_feedback_ratio";
	 * static */
	const char *metric;
	double value;     /* a rate as a fraction, points as a fraction, or ms */
	double threshold; /* the gate's limit, in the same unit */
	int64_t samples, min_samples;
	sluice_gate_result result;
} sluice_rollout_gate_eval;

typedef struct {
	sluice_rollout_action *actions;
	size_t nactions;
	sluice_rollout_block *blocked;
	size_t nblocked;
	/* every gate metric evaluated, in order; one per release, stage and
	 * metric */
	sluice_rollout_gate_eval *gates;
	size_t ngates;
} sluice_plan;

const char *sluice_rollout_action_name(sluice_rollout_action_kind k);
/* "pass", "breach", "waiting". */
const char *sluice_gate_result_name(sluice_gate_result r);
/* "tool error rate 5.0% (5 of 100 calls, at least 50) in devex-dogfood,
 * gate 5.0%: pass". Returns a malloc'd line; caller frees. */
char *sluice_rollout_gate_text(const sluice_rollout_gate_eval *g);
/* One sluice_rollout_gate_text line per gate metric of plugin@version
 * ("" when none); caller frees. */
char *sluice_rollout_explain_gates(const sluice_plan *p, const char *plugin,
				   const char *version);
/* The gate metrics of plugin@version as a JSON array of {"stage",
 * "metric", "value", "threshold", "samples", "min_samples", "result"}
 * (value null while there are no samples). Returns a new reference. */
struct json_t *sluice_rollout_gates_json(const sluice_plan *p, const char *plugin,
					 const char *version);
const char *sluice_rollout_block_name(sluice_rollout_block_kind k);

/* Plans every plugin of `in` at in->now. Actions are in the order to
 * apply them; for one plugin a pass may chain several (a stage with no
 * soak and no gates lets the next start at once). Returns 0 and *out
 * (free with sluice_rollout_plan_free). */
int sluice_rollout_plan(sluice_plan **out, const sluice_rollout_input *in);
void sluice_rollout_plan_free(sluice_plan *p);

/* `plan --at`: what will happen from in->now until `until` if nothing
 * else changes (no new approvals, tags, telemetry or operator actions).
 * Plans at in->now, applies the actions to a private copy of the state,
 * moves to the next moment something opens (a soak or freeze window ends,
 * a lifecycle date), and so on; ends with a plan at `until`. Returns a
 * plan holding every action in order (each with its `at`) and what still
 * blocks at `until`; caller frees *out. The input is not changed. */
int sluice_rollout_simulate(sluice_plan **out, const sluice_rollout_input *in, int64_t until);

/* One line per blocked stage of `plugin` (every plugin when NULL):
 * "backend-general: needs 1 approval (approvers: admin-ana, admin-ben);
 * soak ends 2026-12-21\n". Returns a malloc'd string ("" when nothing is
 * blocked); caller frees. */
char *sluice_rollout_explain(const sluice_plan *p, const char *plugin);
/* The same for one release of `plugin` only (version NULL: the entries
 * about no release): a plugin may have two releases waiting at once (one
 * rolling out, a newer one queued), each to be told under its own name. */
char *sluice_rollout_explain_release(const sluice_plan *p, const char *plugin,
				     const char *version);

/* The earliest known opening of the stage whose reasons start at
 * blocked[i]: the latest opens_at among its reasons, or 0 when any of them
 * has no known end. */
int64_t sluice_rollout_stage_opens_at(const sluice_plan *p, size_t i);

/* ---- operator commands (pure checks) ---------------------------------- */

/* `promote`: start the next stage of `plugin`'s active release now,
 * skipping soak and health gates but never approvals, checklist, secrets
 * or a freeze. `version` (NULL: the active release) must name the active
 * release; `reason` is required. Returns 0 and a plan holding the
 * START_STAGE (and COMPLETE) actions, SLUICE_EINVAL without a reason,
 * SLUICE_ENOTFOUND when there is nothing to promote, or SLUICE_EREFUSED
 * with every missing thing in the message; caller frees *out. */
int sluice_rollout_promote(sluice_plan **out, const sluice_rollout_input *in,
			   const char *plugin, const char *version, const char *reason);

/* The release `plugin` stands on: the newest release whose last stage
 * started and that was not rolled back or withdrawn. Returns its index in
 * p->releases or -1 (none yet). */
ptrdiff_t sluice_rollout_stable(const sluice_rollout_plugin *p);

/* The plugin's current rollout, as `status` shows it (docs/commands.md):
 * the release in flight (in progress, paused, frozen); when none is, the
 * newest release newer than the stable one that may still start (pending)
 * or ended without becoming stable (rolled back, rejected, superseded,
 * withdrawn). A refused or skipped release never is. Returns its index in
 * p->releases or -1 (the stable release is the newest, nothing waits). */
ptrdiff_t sluice_rollout_current(const sluice_rollout_plugin *p);

/* Whether releases[i] is queued behind the current rollout: a pending,
 * valid release newer than the one in flight. */
bool sluice_rollout_queued(const sluice_rollout_plugin *p, size_t i);

/* `rollback` of releases[from]: the newest earlier release (lower rank)
 * that completed and was not rolled back or withdrawn. Returns its index
 * or -1 (the plugin is removed from every group). */
ptrdiff_t sluice_rollout_rollback_target(const sluice_rollout_plugin *p, size_t from);

/* Whether groups may hold release r: one of its stages started and it was
 * not rolled back or withdrawn (complete, in flight, paused, frozen, or
 * stopped by reject or supersede where it already reached). */
bool sluice_rollout_reached(const sluice_rollout_release *r);

/* The release `group` has for plugin `p`: among the stable release (for
 * the groups its stages name) and the releases in flight (in progress,
 * paused, frozen or superseded, for the groups of their started stages,
 * cumulatively), the newest. Returns its index or -1. */
ptrdiff_t sluice_rollout_assigned(const sluice_rollout_plugin *p, const char *group);

/* The lifecycle that counts for plugin p (docs/concepts.md, Lifecycle):
 * that of the release users have - the stable one, or for a plugin with
 * none yet, the newest release groups hold (sluice_rollout_reached) - so
 * that a newer release's lifecycle takes effect only once it is the
 * stable one, and a pending, refused or unapproved tag changes nothing.
 * The workspace's own values on p come on top: its review interval
 * replaces the release's, and of two deprecation or sunset dates the
 * earlier counts. */
typedef struct {
	ptrdiff_t release; /* index in p->releases whose lifecycle counts; -1 */
	int64_t review_every_days;
	int64_t deprecated_at;
	int64_t sunset_at;
} sluice_rollout_lifecycle;

void sluice_rollout_lifecycle_of(sluice_rollout_lifecycle *out, const sluice_rollout_plugin *p);

/* Per-user resolution (docs/concepts.md, what a user gets). */
typedef struct {
	const char *user;
	const char *const *groups; /* the user's groups, in workspace order */
	size_t ngroups;
	const char *const *disabled; /* plugin ids the user disabled */
	size_t ndisabled;
} sluice_rollout_user;

typedef struct {
	const char *plugin;    /* borrowed from the input */
	const char *version;
	const char *commit;
	const char *via_group; /* the first of the user's groups that gives it */
	bool user_can_disable; /* allow_user_disable of that release */
	bool disabled;         /* the user opted out (and may): not delivered */
} sluice_rollout_grant;

/* What `user` gets: one grant per plugin that any of their groups has,
 * in plugin order. Returns 0 with *out (free()) and *n. */
int sluice_rollout_resolve_user(sluice_rollout_grant **out, size_t *n,
				const sluice_rollout_plugin *plugins, size_t nplugins,
				const sluice_rollout_user *user);

/* ---- the release state machine (rollout-apply.c) ----------------------- */

/* Whether a release in state s is done for good: rejected, rolled back,
 * withdrawn, superseded or skipped. It starts no stage again on its own
 * and takes no approval (withdrawn comes back only by `restore`). */
bool sluice_release_state_is_final(sluice_release_state s);

/* Whether release r is in flight: a stage started and it has not
 * finished - in progress, paused, or frozen after its first stage (a
 * release frozen before it started is only waiting). `status` lists such
 * releases beside the one it shows. */
bool sluice_release_in_flight(const sluice_rollout_release *r);

/* The state release action k leaves its release in. Returns false for
 * the plugin-wide actions (WITHDRAW, NOTICE), which change no release. */
bool sluice_rollout_action_state(sluice_release_state *out, sluice_rollout_action_kind k);

/* The one transition of a release, used by the planner, by `plan --at`'s
 * simulation and (through the same fields) by the store: applies action a
 * to its release r. START_STAGE sets stage_index and stage_started_at to
 * the action's and starts a new soak (paused time and paused_at cleared);
 * PAUSE records paused_at; every release action sets the state of
 * sluice_rollout_action_state. The stable version afterwards is
 * sluice_rollout_stable of the plugin. Returns false (r unchanged) for a
 * plugin-wide action. */
bool sluice_rollout_apply_action(sluice_rollout_release *r, const sluice_rollout_action *a);

/* Applies a to plugin p: WITHDRAW and NOTICE to p itself (withdrawn, the
 * notice times), a release action to p's release a->version through
 * sluice_rollout_apply_action. Returns false when a is not about p or
 * names no release of it. */
bool sluice_rollout_apply_plugin_action(sluice_rollout_plugin *p, const sluice_rollout_action *a);

/* ---- approvals (rollout-approval.c) ------------------------------------ */

/* How many approvals a release of risk class `risk` needs:
 * min_approvals[risk], at least 1. A risk outside 0..2 is clamped into
 * it (negative: 0, above 2: 2). */
int sluice_rollout_approvals_needed(const sluice_rollout_rules *rules, int risk);

/* Where one of admin a's e-mails appears in `attribution` (the tagger's
 * e-mail, or "author, committer" for a lightweight tag, as
 * sluice_tag_email writes it), compared without case. Returns a pointer
 * into attribution and its length in *len, or NULL. */
const char *sluice_rollout_made_by(size_t *len, const sluice_rollout_admin *a,
				   const char *attribution);

/* How one admin (rules->admins[i]) stands for one stage's approval. */
typedef struct {
	bool approver;        /* holds the approver role */
	bool self;            /* made the release and prevent_self_approval is
				 set: their approval never counts */
	bool self_tried;      /* self, and approved anyway */
	bool counted;         /* an approval of theirs counts */
	int64_t approved_at;  /* counted: the newest such approval */
	int64_t expired_at;   /* not counted: when their latest approval
				 lapsed (or lapses, before `at`); 0 none */
} sluice_rollout_approver;

typedef struct {
	int needed; /* sluice_rollout_approvals_needed */
	int have;   /* distinct admins whose approval counts */
	sluice_rollout_approver *admins; /* one per rules.admins, in order */
	size_t nadmins;
} sluice_rollout_approvals;

/* The approvals of stage `stage` of plugin's release r as they stand at
 * `at`: only approvals bound to the same plugin, version, commit and
 * stage, not voided, by an admin holding the approver role who did not
 * make the release (with prevent_self_approval), and not older than
 * approval_ttl_days at `at`; each admin counts once. Fills *out (clear
 * with sluice_rollout_approvals_clear). */
void sluice_rollout_approvals_count(sluice_rollout_approvals *out, const sluice_rollout_input *in,
				    const char *plugin, const sluice_rollout_release *r,
				    const char *stage, int64_t at);
void sluice_rollout_approvals_clear(sluice_rollout_approvals *a);

/* `approve`: whether `actor` may approve stage `stage` of plugin's
 * release r at in->now, and what it leaves. `commit` (NULL: any) is the
 * commit the approver reviewed and must prefix the recorded one. */
typedef struct {
	int stage_index; /* the stage approved */
	bool renew;      /* the actor's earlier approval expired: void it */
	int have;        /* approvals that count with this one */
	int needed;
} sluice_rollout_approve_result;

/* Returns 0 and *out, or SLUICE_EREFUSED with the reason ("cannot approve
 * P@V: ..."): no such stage, another commit, a final state, a moved tag, a
 * stage that already started, self-approval, or a live approval of the
 * actor's already. */
int sluice_rollout_approve_check(sluice_rollout_approve_result *out,
				 const sluice_rollout_input *in, const char *plugin,
				 const sluice_rollout_release *r, const char *stage,
				 const char *commit, const char *actor);

/* ---- operator actions (rollout-ops.c) ------------------------------- */

/* `reject`: 0 when r may be rejected (pending, in progress, paused or
 * frozen), else SLUICE_EREFUSED with the reason. */
int sluice_rollout_reject_check(const char *plugin, const sluice_rollout_release *r);

/* `pause` (pause true) or `resume`: the release to act on, the newest
 * release of p in progress (paused, for resume), at `version` when given.
 * Returns 0 and its index in *out, or SLUICE_EREFUSED with the reason. */
int sluice_rollout_pause_target(size_t *out, const sluice_rollout_plugin *p,
				const char *version, bool pause);

/* `restore` of a withdrawn release: complete when its last stage had
 * started, else paused at the stage it had reached (an operator resumes
 * it), else pending. */
sluice_release_state sluice_rollout_restore_state(const sluice_rollout_release *r);

/* When p's periodic review is due (lifecycle.review_every_days after its
 * last review), or 0 when it has none. *overdue says whether it is due at
 * `now` already. */
int64_t sluice_rollout_review_due(const sluice_rollout_plugin *p, int64_t now, bool *overdue);

/* `rollback`: the release undone and where every group goes. */
typedef struct {
	size_t from;      /* the release named, or the newest groups hold */
	ptrdiff_t target; /* sluice_rollout_rollback_target; -1: removed */
	size_t *undone;   /* from, and every newer release groups may hold
			     (in release order), each to be rolled back */
	size_t nundone;
} sluice_rollout_rollback_plan;

/* Plans `rollback` of p@version (version NULL: the newest release groups
 * hold). Returns 0 and *out (clear with sluice_rollout_rollback_clear),
 * or SLUICE_EREFUSED with the reason. */
int sluice_rollout_rollback(sluice_rollout_rollback_plan *out, const sluice_rollout_plugin *p,
			    const char *version);
void sluice_rollout_rollback_clear(sluice_rollout_rollback_plan *plan);

/* ---- the release checklist (rollout-checklist.c) ------------------------ */

/* The checklist items Sluice checks itself when it records a release that
 * passed validation; the others are attested (the staged rollout counts
 * as done once its first stage started). */
#define SLUICE_ROLLOUT_NCHECKED 3
extern const char *const sluice_rollout_checked_items[SLUICE_ROLLOUT_NCHECKED];
bool sluice_rollout_checked_item(const char *item);

/* A checklist item the rollout policy requires before stage 1, and the
 * role bits that may attest it (0: ci or approver). */
typedef struct {
	const char *item;
	unsigned by_roles;
} sluice_rollout_checklist_req;

/* An attestation as stored: the newest of an item counts. */
typedef struct {
	const char *item, *actor, *evidence;
	int64_t at;
} sluice_rollout_attestation;

typedef enum {
	SLUICE_CHECK_MISSING = 0,
	SLUICE_CHECK_DONE,     /* by Sluice */
	SLUICE_CHECK_ATTESTED,
	SLUICE_CHECK_FAILED,   /* Sluice's check refused the release */
} sluice_rollout_check_state;

/* "missing", "done", "attested", "failed". */
const char *sluice_rollout_check_state_name(sluice_rollout_check_state s);

typedef struct {
	const char *item; /* borrowed from the input */
	sluice_rollout_check_state state;
	const char *by;       /* "sluice" or the attester; NULL */
	const char *evidence; /* attested: the evidence; NULL */
	const char *detail;   /* failed: why */
	int64_t at;           /* when done or attested; 0 */
	bool required;        /* required before stage 1 */
	bool checked;         /* Sluice checks it (nobody attests it) */
	unsigned attest_roles; /* who may attest it (role bits) */
} sluice_rollout_check;

typedef struct {
	sluice_rollout_check *items;
	size_t nitems;
	bool ready; /* every required item is done or attested */
} sluice_rollout_checklist_state;

/* The state of each of `items` (NULL-terminated, in order) for release r,
 * given the policy's required items and the release's attestations.
 * Fills *out (clear with sluice_rollout_checklist_clear). */
void sluice_rollout_checklist(sluice_rollout_checklist_state *out, const sluice_rollout_release *r,
			      const char *const *items, const sluice_rollout_checklist_req *reqs,
			      size_t nreqs, const sluice_rollout_attestation *att, size_t natt);
void sluice_rollout_checklist_clear(sluice_rollout_checklist_state *c);

#endif
