# Helpers for the administrators' command tests (t07xx): an admin
# repository copied from the shipped example, watching the generated example
# plugin repository, with identity 'asserted' so that --as names the actor.
# Source after lib.sh.

# setup_admin [TAG...]: makes $T/git (the plugin repository with TAGs,
# default v0.1.0) and $T/admin (workspaces/, rollouts/, groups/), and cds
# into $T/admin. $DB is the database sluice uses there.
setup_admin() {
	[ $# -gt 0 ] || set -- v0.1.0
	"$SRC/scripts/make-example-repos.sh" "$T/git" "$@" >/dev/null || fail "make-example-repos"
	mkdir -p "$T/admin"
	cp -r "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$T/admin/"
	sed -i -e "s|file:///srv/git/|file://$T/git/|" \
		-e "s|identity: os-user|identity: asserted|" "$T/admin/workspaces/engineering.yaml"
	grep -q 'identity: asserted' "$T/admin/workspaces/engineering.yaml" || fail "cannot set identity"
	cd "$T/admin" || fail "cd"
	DB=$T/admin/.sluice/sluice.db
	PLUGIN=backend-pr-reviewer
}

# ws_edit SED-EXPRESSION: edits the test's workspace
ws_edit() { sed -i "$1" "$T/admin/workspaces/engineering.yaml"; }

# S ARGS...: runs sluice through run() (stdout in $T/out, status in $rc)
S() { run "$SLUICE" "$@"; }

# sq SQL: one query on the database
sq() { sqlite3 "$DB" "$1"; }

# The tables that hold state (everything but the audit log).
STATE_TABLES="sources tags releases stage_starts approvals rejections attestations
	user_optouts workspace_state withdrawals plugin_state"

# state_dump FILE: every state row, in a stable order
state_dump() {
	for t in $STATE_TABLES; do
		echo "-- $t"
		sqlite3 "$DB" "SELECT * FROM $t ORDER BY rowid" 2>/dev/null
	done >"$1"
}

# snapshot: remembers the state and the audit log's length before a refusal
snapshot() {
	state_dump "$T/state.before"
	audit_before=$(sq 'SELECT count(*) FROM audit')
}

# expect_refused ACTION MESSAGE: the last run exited 3 saying MESSAGE, no
# state changed, and exactly one audit row was added: ACTION (e.g.
# approve.refused or access.refused)
expect_refused() {
	expect_rc 3
	expect_err "$2"
	state_dump "$T/state.after"
	cmp -s "$T/state.before" "$T/state.after" || {
		diff "$T/state.before" "$T/state.after" >&2
		fail "state changed by a refused command"
	}
	expect_eq $((audit_before + 1)) "$(sq 'SELECT count(*) FROM audit')" "audit rows after refusal"
	expect_eq "$1" "$(sq 'SELECT action FROM audit ORDER BY id DESC LIMIT 1')" "refusal's audit action"
}

# expect_unchanged: like expect_refused for usage errors: no state and no
# audit row changed
expect_unchanged() {
	state_dump "$T/state.after"
	cmp -s "$T/state.before" "$T/state.after" || fail "state changed"
	expect_eq "$audit_before" "$(sq 'SELECT count(*) FROM audit')" "audit rows"
}

D0=2026-12-01T09:00:00Z # first reconcile: v0.1.0 recorded, pending
D1=2026-12-01T10:00:00Z # checklist attested, devex-dogfood approved
D2=2026-12-01T11:00:00Z # reconcile: devex-dogfood started

# record: the first reconcile, which records v0.1.0 (pending: the checklist
# and the admin approval hold its first stage)
record() {
	S reconcile --now $D0
	expect_rc 0
	expect_out "recorded release 0.1.0"
	COMMIT=$(sq "SELECT commit_id FROM releases WHERE version = '0.1.0'")
}

# start_rollout: record (unless done), then satisfy the checklist and the approval, and
# reconcile so that stage devex-dogfood of 0.1.0 starts at $D2
start_rollout() {
	[ -n "${COMMIT:-}" ] || record
	S attest $PLUGIN@0.1.0 contract-tests --as ci-bot --now $D1
	expect_rc 0
	S attest $PLUGIN@0.1.0 security-review --as admin-ben --now $D1
	expect_rc 0
	S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
	expect_rc 0
	S reconcile --now $D2
	expect_rc 0
	expect_out "start stage devex-dogfood"
	expect_eq "in_progress 0" "$(sq "SELECT state || ' ' || stage_index FROM releases WHERE version = '0.1.0'")" "rollout started"
}

# complete_010: start_rollout, then promote 0.1.0 through its last stage on
# 2026-12-02 and 2026-12-03: it becomes the stable release
complete_010() {
	start_rollout
	S promote $PLUGIN --reason "pilot" --as admin-ana --now 2026-12-02T09:00:00Z
	expect_rc 0
	S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2026-12-03T09:00:00Z
	expect_rc 0
	S promote $PLUGIN --reason "general" --as admin-ana --now 2026-12-03T09:00:00Z
	expect_rc 0
	expect_eq complete "$(sq "SELECT state FROM releases WHERE version = '0.1.0'")" "0.1.0 complete"
}

# start_011: adds tag v0.1.1 to the plugin repository and starts its first
# stage on 2026-12-04 (after complete_010)
start_011() {
	"$SRC/scripts/make-example-repos.sh" "$T/git" v0.1.1 >/dev/null || fail "v0.1.1"
	S reconcile --now 2026-12-04T09:00:00Z
	expect_out "recorded release 0.1.1"
	S attest $PLUGIN@0.1.1 contract-tests --as ci-bot --now 2026-12-04T09:00:00Z
	S attest $PLUGIN@0.1.1 security-review --as admin-ben --now 2026-12-04T09:00:00Z
	S approve $PLUGIN@0.1.1 --stage devex-dogfood --as admin-ana --now 2026-12-04T09:00:00Z
	expect_rc 0
	S reconcile --now 2026-12-04T10:00:00Z
	expect_out "backend-pr-reviewer@0.1.1: start stage devex-dogfood"
	COMMIT11=$(sq "SELECT commit_id FROM releases WHERE version = '0.1.1'")
}
