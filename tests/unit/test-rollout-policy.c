/* Table tests of the planner's policy for the commands (docs/concepts.md,
 * "Approvals" and "Operator actions"): which approvals count and whether
 * an approver may approve, the rollback plan, the checklist, pause and
 * resume targets, reject, restore, final states and the transition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/rollout.h"
#include "sluice/util.h"

#include "rollout-rows.h"

/* ---- approvals ------------------------------------------------------------ */

typedef struct {
	const char *name;
	void (*setup)(world *w);
	const char *stage;
	int64_t at_days; /* days after now the count is judged */
	int have, needed;
} count_row;

static void c_none(world *w) { (void)w; }
static void c_one(world *w)
{
	approve(w, "admin-ben", "0.1.0", C010, "devex-dogfood", "2026-11-01T10:00:00Z");
}
static void c_twice_same(world *w)
{
	c_one(w);
	approve(w, "admin-ben", "0.1.0", C010, "devex-dogfood", "2026-11-01T11:00:00Z");
}
static void c_two(world *w)
{
	c_one(w);
	approve(w, "admin-ana", "0.1.0", C010, "devex-dogfood", "2026-11-01T11:00:00Z");
}
static void c_not_approver(world *w)
{
	approve(w, "devex-lead", "0.1.0", C010, "devex-dogfood", "2026-11-01T10:00:00Z");
}
static void c_unknown_admin(world *w)
{
	approve(w, "admin-zed", "0.1.0", C010, "devex-dogfood", "2026-11-01T10:00:00Z");
}
static void c_voided(world *w)
{
	c_one(w);
	w->appr[0].voided = true;
}
static void c_other_commit(world *w)
{
	approve(w, "admin-ben", "0.1.0", C011, "devex-dogfood", "2026-11-01T10:00:00Z");
}
static void c_other_stage(world *w)
{
	approve(w, "admin-ben", "0.1.0", C010, "backend-pilot", "2026-11-01T10:00:00Z");
}
static void c_self_tagger(world *w)
{
	c_one(w);
	w->rel[0].tagger_email = "BEN@acme.example";
}
static void c_self_committer(world *w)
{
	c_one(w);
	w->rel[0].tagger_email = "dev@acme.example, ben@ACME.example";
}
static void c_self_allowed(world *w)
{
	c_self_tagger(w);
	w->in.rules.prevent_self_approval = false;
}
static void c_high_risk(world *w)
{
	c_one(w);
	w->in.rules.min_approvals[2] = 2;
	w->rel[0].risk = 2;
}
static void c_risk_above(world *w)
{
	c_high_risk(w);
	w->rel[0].risk = 7;
}
static void c_risk_below(world *w)
{
	c_high_risk(w);
	w->rel[0].risk = -1;
}
static void c_zero_needed(world *w)
{
	c_none(w);
	w->in.rules.min_approvals[1] = 0;
}

static const count_row count_rows[] = {
	{"no approval", c_none, "devex-dogfood", 0, 0, 1},
	{"one approval counts", c_one, "devex-dogfood", 0, 1, 1},
	{"the same approver twice counts once", c_twice_same, "devex-dogfood", 0, 1, 1},
	{"two approvers count twice", c_two, "devex-dogfood", 0, 2, 1},
	{"an admin without the approver role does not count", c_not_approver, "devex-dogfood",
	 0, 0, 1},
	{"an approver not in the workspace does not count", c_unknown_admin, "devex-dogfood", 0,
	 0, 1},
	{"a voided approval does not count", c_voided, "devex-dogfood", 0, 0, 1},
	{"an approval of another commit does not count", c_other_commit, "devex-dogfood", 0, 0,
	 1},
	{"an approval of another stage does not count", c_other_stage, "devex-dogfood", 0, 0, 1},
	{"the tagger's approval does not count (case ignored)", c_self_tagger, "devex-dogfood", 0,
	 0, 1},
	{"a lightweight tag's committer does not count", c_self_committer, "devex-dogfood", 0, 0,
	 1},
	{"self-approval counts without prevent_self_approval", c_self_allowed, "devex-dogfood", 0,
	 1, 1},
	{"30 days later it still counts", c_one, "devex-dogfood", 29, 1, 1},
	{"past approval_ttl_days it has expired", c_one, "devex-dogfood", 31, 0, 1},
	{"high risk needs min_approvals[2]", c_high_risk, "devex-dogfood", 0, 1, 2},
	{"a risk above 2 is high", c_risk_above, "devex-dogfood", 0, 1, 2},
	{"a risk below 0 is low (the planner's reading; approve once said high)", c_risk_below,
	 "devex-dogfood", 0, 1, 1},
	{"min_approvals below 1 needs 1", c_zero_needed, "devex-dogfood", 0, 0, 1},
};

static void test_approvals_count(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof count_rows / sizeof *count_rows; i++) {
		const count_row *cr = &count_rows[i];
		sluice_rollout_approvals c;
		world w;
		world_init(&w);
		cr->setup(&w);
		world_bind(&w);
		sluice_rollout_approvals_count(&c, &w.in, PLUGIN, &w.rel[0], cr->stage,
					       w.in.now + cr->at_days * DAY);
		if (c.have != cr->have || c.needed != cr->needed) {
			failures++;
			fprintf(stderr, "row %zu: %s: have %d needed %d, want %d of %d\n", i,
				cr->name, c.have, c.needed, cr->have, cr->needed);
		}
		assert_int_equal(c.nadmins, 4);
		sluice_rollout_approvals_clear(&c);
	}
	assert_int_equal(failures, 0);
}

static void test_approvals_detail(void **state)
{
	(void)state;
	sluice_rollout_approvals c;
	world w;
	size_t len;

	/* expiry: when it lapsed; the admin is not counted */
	world_init(&w);
	c_one(&w);
	world_bind(&w);
	sluice_rollout_approvals_count(&c, &w.in, PLUGIN, &w.rel[0], "devex-dogfood",
				       w.in.now + 40 * DAY);
	assert_false(c.admins[1].counted);
	assert_int_equal(c.admins[1].expired_at, T("2026-12-01T10:00:00Z"));
	sluice_rollout_approvals_clear(&c);

	/* self: marked, and marked as tried */
	world_init(&w);
	c_self_committer(&w);
	world_bind(&w);
	sluice_rollout_approvals_count(&c, &w.in, PLUGIN, &w.rel[0], "devex-dogfood", w.in.now);
	assert_true(c.admins[1].self);
	assert_true(c.admins[1].self_tried);
	assert_false(c.admins[0].self);
	assert_true(c.admins[0].approver);
	assert_false(c.admins[2].approver);
	sluice_rollout_approvals_clear(&c);

	/* the e-mail that matched, as written in the attribution */
	assert_string_equal(sluice_rollout_made_by(&len, &admins[1], "dev@acme.example, "
								     "Ben@Acme.Example"),
			    "Ben@Acme.Example");
	assert_int_equal(len, strlen("ben@acme.example"));
	assert_null(sluice_rollout_made_by(&len, &admins[1], "xben@acme.example"));
	assert_null(sluice_rollout_made_by(&len, &admins[1], NULL));
	/* the planner's role bit is config.h's */
	assert_int_equal(admins[1].roles, SLUICE_ROLE_APPROVER);
}

typedef struct {
	const char *name;
	void (*setup)(world *w);
	const char *stage, *commit, *actor;
	int rc;
	const char *message; /* the refusal, or "have/needed renew" */
} approve_row;

static void a_paused(world *w) { w->rel[0].state = SLUICE_RELEASE_PAUSED; }
static void a_rejected(world *w) { w->rel[0].state = SLUICE_RELEASE_REJECTED; }
static void a_skipped(world *w) { w->rel[0].state = SLUICE_RELEASE_SKIPPED; }
static void a_moved(world *w) { w->rel[0].tag_moved = true; }
static void a_started(world *w) { in_stage(&w->rel[0], 0, "2026-11-02T09:00:00Z"); }
static void a_old(world *w)
{
	approve(w, "admin-ana", "0.1.0", C010, "devex-dogfood", "2026-09-01T10:00:00Z");
}
static void a_ben_done(world *w) { c_one(w); }
static void a_ana_tagged(world *w) { w->rel[0].tagger_email = "Ana@acme.example"; }

#define REL PLUGIN "@0.1.0"
static const approve_row approve_rows[] = {
	{"an approval counts", c_none, "devex-dogfood", NULL, "admin-ana", 0, "1/1"},
	{"a second approver is counted too", a_ben_done, "devex-dogfood", NULL, "admin-ana", 0,
	 "2/1"},
	{"a paused release can be approved", a_paused, "devex-dogfood", "A1B2C3D", "admin-ana", 0,
	 "1/1"},
	{"an expired approval is renewed", a_old, "devex-dogfood", NULL, "admin-ana", 0,
	 "1/1 renew"},
	{"no such stage", c_none, "general", NULL, "admin-ana", SLUICE_EREFUSED,
	 "cannot approve " REL ": it has no stage 'general' (its stages: devex-dogfood, "
	 "backend-pilot, backend-general)"},
	{"another commit", c_none, "devex-dogfood", "b2c3d4e", "admin-ana", SLUICE_EREFUSED,
	 "cannot approve " REL ": its recorded commit is " C010 ", not b2c3d4e; review that "
	 "commit and approve it"},
	{"a commit prefix too short", c_none, "devex-dogfood", "a1b2", "admin-ana",
	 SLUICE_EREFUSED,
	 "cannot approve " REL ": its recorded commit is " C010 ", not a1b2; review that commit "
	 "and approve it"},
	{"rejected is final", a_rejected, "devex-dogfood", NULL, "admin-ana", SLUICE_EREFUSED,
	 "cannot approve " REL ": the release is rejected and will not roll out again"},
	{"skipped is final", a_skipped, "devex-dogfood", NULL, "admin-ana", SLUICE_EREFUSED,
	 "cannot approve " REL ": the release is skipped and will not roll out again"},
	{"a moved tag", a_moved, "devex-dogfood", NULL, "admin-ana", SLUICE_EREFUSED,
	 "cannot approve " REL ": its tag v0.1.0 moved away from the recorded commit " C010
	 "; an operator must run 'sluice accept-tag-move " REL "' (which voids approvals) "
	 "before it can be approved"},
	{"a stage that started", a_started, "devex-dogfood", NULL, "admin-ana", SLUICE_EREFUSED,
	 "cannot approve " REL " for stage 'devex-dogfood': that stage already started"},
	{"self-approval", a_ana_tagged, "devex-dogfood", NULL, "admin-ana", SLUICE_EREFUSED,
	 "cannot approve " REL ": admin-ana tagged this release (Ana@acme.example) and "
	 "policy.prevent_self_approval is set; another approver must approve it (admin-ben)"},
	{"a second approval by the same admin", a_ben_done, "devex-dogfood", NULL, "admin-ben",
	 SLUICE_EREFUSED,
	 "admin-ben already approved " REL " for stage 'devex-dogfood' on 2026-11-01T10:00:00Z; "
	 "a second approval by the same admin does not count (other approvers: admin-ana)"},
};

static void test_approve_check(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof approve_rows / sizeof *approve_rows; i++) {
		const approve_row *ar = &approve_rows[i];
		sluice_rollout_approve_result ok;
		char got[1024];
		world w;
		int rc;

		world_init(&w);
		ar->setup(&w);
		world_bind(&w);
		rc = sluice_rollout_approve_check(&ok, &w.in, PLUGIN, &w.rel[0], ar->stage,
						  ar->commit, ar->actor);
		if (rc == 0)
			snprintf(got, sizeof got, "%d/%d%s", ok.have, ok.needed,
				 ok.renew ? " renew" : "");
		else
			snprintf(got, sizeof got, "%s", sluice_error_last());
		if (rc != ar->rc || strcmp(got, ar->message)) {
			failures++;
			fprintf(stderr, "row %zu: %s: rc %d, want %d\n  got:  %s\n  want: %s\n", i,
				ar->name, rc, ar->rc, got, ar->message);
		}
	}
	assert_int_equal(failures, 0);
}

/* ---- operator actions ----------------------------------------------------- */

static void test_final_states(void **state)
{
	(void)state;
	static const bool final[] = {
		[SLUICE_RELEASE_PENDING] = false,    [SLUICE_RELEASE_IN_PROGRESS] = false,
		[SLUICE_RELEASE_PAUSED] = false,     [SLUICE_RELEASE_COMPLETE] = false,
		[SLUICE_RELEASE_ROLLED_BACK] = true, [SLUICE_RELEASE_REJECTED] = true,
		[SLUICE_RELEASE_SUPERSEDED] = true,  [SLUICE_RELEASE_WITHDRAWN] = true,
		[SLUICE_RELEASE_FROZEN] = false,     [SLUICE_RELEASE_SKIPPED] = true,
	};
	for (int s = SLUICE_RELEASE_PENDING; s <= SLUICE_RELEASE_SKIPPED; s++)
		assert_int_equal(sluice_release_state_is_final((sluice_release_state)s), final[s]);
}

/* In flight: started and not finished; a release frozen before its first
 * stage is only waiting. One row per state, started or not. */
static void test_in_flight(void **state)
{
	(void)state;
	static const struct {
		sluice_release_state s;
		int stage_index;
		bool in_flight;
	} cases[] = {
		{SLUICE_RELEASE_PENDING, -1, false},    {SLUICE_RELEASE_IN_PROGRESS, 0, true},
		{SLUICE_RELEASE_PAUSED, 1, true},       {SLUICE_RELEASE_FROZEN, 1, true},
		{SLUICE_RELEASE_FROZEN, -1, false},     {SLUICE_RELEASE_COMPLETE, 2, false},
		{SLUICE_RELEASE_ROLLED_BACK, 1, false}, {SLUICE_RELEASE_REJECTED, 0, false},
		{SLUICE_RELEASE_SUPERSEDED, 0, false},  {SLUICE_RELEASE_WITHDRAWN, 1, false},
		{SLUICE_RELEASE_SKIPPED, -1, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sluice_rollout_release r = {0};
		r.state = cases[i].s;
		r.stage_index = cases[i].stage_index;
		assert_int_equal(sluice_release_in_flight(&r), cases[i].in_flight);
	}
}

/* Review due: review_every_days after the last review; none without it. */
static void test_review_due(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int64_t every, last, now, due;
		bool overdue;
	} cases[] = {
		{"no review set", 0, 1000, 5000000, 0, false},
		{"never reviewed, no release seen", 30, 0, 5000000, 0, false},
		{"not due yet", 30, 1000, 1000 + 29 * 86400, 1000 + 30 * 86400, false},
		{"due at the second", 30, 1000, 1000 + 30 * 86400, 1000 + 30 * 86400, true},
		{"overdue", 7, 1000, 1000 + 100 * 86400, 1000 + 7 * 86400, true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sluice_rollout_plugin p = {0};
		bool overdue = !cases[i].overdue;
		p.review_every_days = cases[i].every;
		p.last_reviewed_at = cases[i].last;
		if (sluice_rollout_review_due(&p, cases[i].now, &overdue) != cases[i].due ||
		    overdue != cases[i].overdue)
			fail_msg("review due: %s", cases[i].name);
	}
}

/* status's `rollout`, `queued` (docs/commands.md) */
static void test_current_rollout(void **state)
{
	(void)state;
	enum { P = SLUICE_RELEASE_PENDING, I = SLUICE_RELEASE_IN_PROGRESS,
	       C = SLUICE_RELEASE_COMPLETE, R = SLUICE_RELEASE_ROLLED_BACK,
	       K = SLUICE_RELEASE_SKIPPED };
	static const struct {
		const char *name;
		int state[3];    /* releases of rank 1, 2, 3 (-1: none) */
		bool refused[3];
		int current;     /* index, -1 none */
		int queued;      /* index queued, -1 none */
	} cases[] = {
		{"nothing recorded", {-1, -1, -1}, {0}, -1, -1},
		{"only the stable release", {C, -1, -1}, {0}, -1, -1},
		{"a pending release newer than stable", {C, P, -1}, {0}, 1, -1},
		{"a refused newer release is never the rollout", {C, I, P}, {0, 0, 1}, 1, -1},
		{"a refused release alone", {P, -1, -1}, {1}, -1, -1},
		{"in flight wins over a newer pending one, which is queued", {C, I, P}, {0}, 1, 2},
		{"a rolled-back release newer than stable", {C, R, -1}, {0}, 1, -1},
		{"an older rolled-back release is not shown", {R, C, -1}, {0}, -1, -1},
		{"a skipped release is never the rollout", {C, K, P}, {0}, 2, -1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sluice_rollout_release rs[3];
		sluice_rollout_plugin p = {.id = "p", .releases = rs};
		memset(rs, 0, sizeof rs);
		for (size_t k = 0; k < 3 && cases[i].state[k] >= 0; k++) {
			rs[k].version = k == 0 ? "0.1.0" : k == 1 ? "0.2.0" : "0.3.0";
			rs[k].rank = (int64_t)k + 1;
			rs[k].state = (sluice_release_state)cases[i].state[k];
			rs[k].stage_index = cases[i].state[k] == I || cases[i].state[k] == C ? 0 : -1;
			rs[k].nstages = 1;
			rs[k].refused = cases[i].refused[k];
			p.nreleases++;
		}
		if (sluice_rollout_current(&p) != cases[i].current)
			fail_msg("current rollout: %s: got %td", cases[i].name, sluice_rollout_current(&p));
		for (size_t k = 0; k < p.nreleases; k++)
			if (sluice_rollout_queued(&p, k) != ((int)k == cases[i].queued))
				fail_msg("queued: %s: release %zu", cases[i].name, k);
	}
}

static void test_transition(void **state)
{
	(void)state;
	static const struct {
		sluice_rollout_action_kind kind;
		bool release;
		sluice_release_state to;
	} table[] = {
		{SLUICE_ACTION_START_STAGE, true, SLUICE_RELEASE_IN_PROGRESS},
		{SLUICE_ACTION_COMPLETE, true, SLUICE_RELEASE_COMPLETE},
		{SLUICE_ACTION_SUPERSEDE, true, SLUICE_RELEASE_SUPERSEDED},
		{SLUICE_ACTION_SKIP_RELEASE, true, SLUICE_RELEASE_SKIPPED},
		{SLUICE_ACTION_PAUSE, true, SLUICE_RELEASE_PAUSED},
		{SLUICE_ACTION_ROLLBACK, true, SLUICE_RELEASE_ROLLED_BACK},
		{SLUICE_ACTION_WITHDRAW, false, SLUICE_RELEASE_PENDING},
		{SLUICE_ACTION_FREEZE_RELEASE, true, SLUICE_RELEASE_FROZEN},
		{SLUICE_ACTION_NOTICE, false, SLUICE_RELEASE_PENDING},
	};
	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		sluice_rollout_release r = {.state = SLUICE_RELEASE_PENDING, .stage_index = 0,
					    .stage_started_at = 100, .paused_at = 150,
					    .paused_seconds = 40};
		sluice_rollout_action a = {.kind = table[i].kind, .stage_index = 1, .at = 200};
		sluice_release_state to = SLUICE_RELEASE_PENDING;
		assert_int_equal(sluice_rollout_action_state(&to, table[i].kind), table[i].release);
		assert_int_equal(sluice_rollout_apply_action(&r, &a), table[i].release);
		assert_int_equal(r.state, table[i].to);
		if (table[i].release)
			assert_int_equal(to, table[i].to);
		/* a stage start begins a new soak; a pause records when */
		assert_int_equal(r.stage_index, table[i].kind == SLUICE_ACTION_START_STAGE ? 1 : 0);
		assert_int_equal(r.stage_started_at,
				 table[i].kind == SLUICE_ACTION_START_STAGE ? 200 : 100);
		assert_int_equal(r.paused_seconds, table[i].kind == SLUICE_ACTION_START_STAGE ? 0 : 40);
		assert_int_equal(r.paused_at, table[i].kind == SLUICE_ACTION_START_STAGE ? 0
					      : table[i].kind == SLUICE_ACTION_PAUSE	 ? 200
											 : 150);
	}
}

static void test_reject_pause_restore(void **state)
{
	(void)state;
	world w;
	size_t at = 99;

	world_init(&w);
	add_rel(&w, "0.1.1", C011, 11);
	in_stage(&w.rel[0], 2, "2026-11-01T09:00:00Z");
	in_stage(&w.rel[1], 0, "2026-11-02T09:00:00Z");
	world_bind(&w);

	assert_int_equal(sluice_rollout_reject_check(PLUGIN, &w.rel[1]), 0);
	assert_int_equal(sluice_rollout_reject_check(PLUGIN, &w.rel[0]), SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "cannot reject " REL ": it is complete (every stage started); an "
			    "operator can take it back with 'sluice rollback " PLUGIN "'");
	w.rel[0].state = SLUICE_RELEASE_SUPERSEDED;
	assert_int_equal(sluice_rollout_reject_check(PLUGIN, &w.rel[0]), SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(), "cannot reject " REL ": it is already superseded");
	w.rel[0].state = SLUICE_RELEASE_COMPLETE;

	/* pause: the newest in progress, or the one named */
	assert_int_equal(sluice_rollout_pause_target(&at, &w.plugin, NULL, true), 0);
	assert_int_equal(at, 1);
	assert_int_equal(sluice_rollout_pause_target(&at, &w.plugin, "0.1.0", true),
			 SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "cannot pause " REL ": it is complete; only a rollout in progress can "
			    "be paused");
	assert_int_equal(sluice_rollout_pause_target(&at, &w.plugin, NULL, false),
			 SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(), "cannot resume " PLUGIN ": no rollout of it is "
						 "paused");
	w.rel[1].state = SLUICE_RELEASE_PAUSED;
	assert_int_equal(sluice_rollout_pause_target(&at, &w.plugin, "0.1.1", false), 0);
	assert_int_equal(at, 1);

	/* restore: complete, paused where it was, or pending */
	assert_int_equal(sluice_rollout_restore_state(&w.rel[0]), SLUICE_RELEASE_COMPLETE);
	assert_int_equal(sluice_rollout_restore_state(&w.rel[1]), SLUICE_RELEASE_PAUSED);
	w.rel[1].stage_index = -1;
	assert_int_equal(sluice_rollout_restore_state(&w.rel[1]), SLUICE_RELEASE_PENDING);
}

typedef struct {
	const char *name;
	const char *version; /* NULL: the newest groups hold */
	int rc;
	const char *want; /* "from -> target: undone..." or the refusal */
} rollback_row;

static const rollback_row rollback_rows[] = {
	{"the newest release groups hold goes back to the stable one before it", NULL, 0,
	 "0.1.2 -> 0.1.0: 0.1.1 0.1.2"},
	{"a named release undoes the newer ones groups hold", "0.1.1", 0,
	 "0.1.1 -> 0.1.0: 0.1.1 0.1.2"},
	{"the oldest completed release removes the plugin", "0.1.0", 0,
	 "0.1.0 -> -: 0.1.0 0.1.1 0.1.2"},
	{"a release no group has", "0.0.9", SLUICE_EREFUSED,
	 "cannot roll back " PLUGIN "@0.0.9: it is pending and no group has it"},
};

static void test_rollback(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof rollback_rows / sizeof *rollback_rows; i++) {
		sluice_rollout_rollback_plan plan;
		sluice_buf b = SLUICE_BUF_INIT;
		world w;
		int rc;

		/* 0.1.0 complete, 0.1.1 superseded at stage 1, 0.1.2 in stage 0,
		 * 0.0.9 never started */
		world_init(&w);
		in_stage(&w.rel[0], 2, "2026-10-01T09:00:00Z");
		add_rel(&w, "0.1.1", C011, 11);
		in_stage(&w.rel[1], 1, "2026-10-20T09:00:00Z");
		w.rel[1].state = SLUICE_RELEASE_SUPERSEDED;
		add_rel(&w, "0.1.2", C012, 12);
		in_stage(&w.rel[2], 0, "2026-11-01T09:00:00Z");
		add_rel(&w, "0.0.9", C009, 9);
		world_bind(&w);
		rc = sluice_rollout_rollback(&plan, &w.plugin, rollback_rows[i].version);
		if (rc == 0) {
			sluice_buf_printf(&b, "%s -> %s:", w.rel[plan.from].version,
					  plan.target >= 0 ? w.rel[plan.target].version : "-");
			for (size_t k = 0; k < plan.nundone; k++)
				sluice_buf_printf(&b, " %s", w.rel[plan.undone[k]].version);
		} else {
			sluice_buf_puts(&b, sluice_error_last());
		}
		if (rc != rollback_rows[i].rc || strcmp(b.ptr, rollback_rows[i].want)) {
			failures++;
			fprintf(stderr, "row %zu: %s: rc %d\n  got:  %s\n  want: %s\n", i,
				rollback_rows[i].name, rc, b.ptr, rollback_rows[i].want);
		}
		sluice_buf_clear(&b);
		sluice_rollout_rollback_clear(&plan);
	}
	assert_int_equal(failures, 0);

	/* nothing reached: nothing to undo */
	world w;
	sluice_rollout_rollback_plan plan;
	world_init(&w);
	world_bind(&w);
	assert_int_equal(sluice_rollout_rollback(&plan, &w.plugin, NULL), SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "cannot roll back " PLUGIN ": no group has a release of it");
}

/* ---- the checklist -------------------------------------------------------- */

static void test_checklist(void **state)
{
	(void)state;
	static const char *const items[] = {"validate-manifest", "security-review",
					    "contract-tests", "start-staged-rollout", NULL};
	static const sluice_rollout_checklist_req reqs[] = {
		{"security-review", SLUICE_ROLE_APPROVER},
		{"contract-tests", 0},
	};
	static const sluice_rollout_attestation att[] = {
		{"security-review", "admin-ana", "old", 100},
		{"security-review", "admin-ben", "SEC-7", 200},
	};
	sluice_rollout_checklist_state c;
	world w;

	world_init(&w);
	world_bind(&w);
	sluice_rollout_checklist(&c, &w.rel[0], items, reqs, 2, att, 2);
	assert_int_equal(c.nitems, 4);
	assert_false(c.ready); /* contract-tests is missing */
	assert_int_equal(c.items[0].state, SLUICE_CHECK_DONE);
	assert_string_equal(c.items[0].by, "sluice");
	assert_int_equal(c.items[0].at, w.rel[0].seen_at);
	assert_true(c.items[0].checked);
	assert_false(c.items[0].required);
	/* the newest attestation counts; roles from the policy */
	assert_int_equal(c.items[1].state, SLUICE_CHECK_ATTESTED);
	assert_string_equal(c.items[1].by, "admin-ben");
	assert_string_equal(c.items[1].evidence, "SEC-7");
	assert_int_equal(c.items[1].attest_roles, SLUICE_ROLE_APPROVER);
	assert_true(c.items[1].required);
	/* no roles given: ci or approver */
	assert_int_equal(c.items[2].state, SLUICE_CHECK_MISSING);
	assert_int_equal(c.items[2].attest_roles, SLUICE_ROLE_CI | SLUICE_ROLE_APPROVER);
	assert_int_equal(c.items[3].state, SLUICE_CHECK_MISSING);
	assert_string_equal(sluice_rollout_check_state_name(c.items[3].state), "missing");
	sluice_rollout_checklist_clear(&c);

	/* once attested it is ready; a started rollout is done by Sluice */
	in_stage(&w.rel[0], 0, "2026-11-02T09:00:00Z");
	sluice_rollout_checklist(&c, &w.rel[0], items, reqs, 1, att, 2);
	assert_true(c.ready);
	assert_int_equal(c.items[3].state, SLUICE_CHECK_DONE);
	assert_int_equal(c.items[3].at, T("2026-11-02T09:00:00Z"));
	sluice_rollout_checklist_clear(&c);

	/* a refused release fails Sluice's own checks */
	w.rel[0].refused = true;
	w.rel[0].refused_reason = "permissions exceed the workspace maximum";
	sluice_rollout_checklist(&c, &w.rel[0], items, NULL, 0, NULL, 0);
	assert_true(c.ready);
	assert_int_equal(c.items[0].state, SLUICE_CHECK_FAILED);
	assert_string_equal(c.items[0].detail, "permissions exceed the workspace maximum");
	assert_string_equal(sluice_rollout_check_state_name(c.items[0].state), "failed");
	sluice_rollout_checklist_clear(&c);

	/* Sluice's own list: every item is one of the nine */
	for (size_t i = 0; i < SLUICE_ROLLOUT_NCHECKED; i++) {
		bool known = false;
		for (const char *const *it = sluice_checklist_items; *it && !known; it++)
			known = !strcmp(*it, sluice_rollout_checked_items[i]);
		assert_true(known);
		assert_true(sluice_rollout_checked_item(sluice_rollout_checked_items[i]));
	}
	assert_false(sluice_rollout_checked_item("security-review"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_approvals_count),
		cmocka_unit_test(test_approvals_detail),
		cmocka_unit_test(test_approve_check),
		cmocka_unit_test(test_final_states),
		cmocka_unit_test(test_in_flight),
		cmocka_unit_test(test_review_due),
		cmocka_unit_test(test_transition),
		cmocka_unit_test(test_current_rollout),
		cmocka_unit_test(test_reject_pause_restore),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_checklist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
