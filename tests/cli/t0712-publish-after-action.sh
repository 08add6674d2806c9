#!/bin/sh
# The operators' actions and disable/enable publish the effective state
# themselves (docs/commands.md): what users get changes when the command
# returns, not at the next reconcile. A publish that fails makes the
# command exit 1, saying the action was applied.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

# the versions effective.json gives each group, "group=version ..."
published() {
	jq -r '[.groups | to_entries[] | "\(.key)=\([.value[].version] | join(","))"] | join(" ")' \
		"$EFFECTIVE" || fail "cannot read $EFFECTIVE"
}

case_begin 'promote: the group of the stage it starts has the release at once'
start_rollout
expect_eq "platform-devex=0.1.0 backend-engineers-pilot= backend-engineers= staff-engineers=" \
	"$(published)" "after the reconcile that started stage 1"
S promote $PLUGIN --reason "pilot is waiting" --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 0
expect_eq "platform-devex=0.1.0 backend-engineers-pilot=0.1.0 backend-engineers= staff-engineers=" \
	"$(published)" "after promote, with no reconcile"
expect_eq 2026-12-02T09:00:00Z "$(eff .generated_at)" "published by promote"
case_end

case_begin 'withdraw PLUGIN@VERSION, restore and rollback: groups change at once'
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2026-12-03T09:00:00Z
expect_rc 0
S promote $PLUGIN --reason "general" --as admin-ana --now 2026-12-03T09:00:00Z
expect_rc 0
stable="platform-devex=0.1.0 backend-engineers-pilot=0.1.0 backend-engineers=0.1.0 staff-engineers="
expect_eq "$stable" "$(published)" "0.1.0 complete"
start_011
expect_eq "platform-devex=0.1.1 backend-engineers-pilot=0.1.0 backend-engineers=0.1.0 staff-engineers=" \
	"$(published)" "0.1.1 in its first stage"
S withdraw $PLUGIN@0.1.1 --as admin-ana --now 2026-12-04T11:00:00Z
expect_rc 0
expect_eq "$stable" "$(published)" "after withdraw 0.1.1"
S restore $PLUGIN@0.1.1 --as admin-ana --now 2026-12-04T12:00:00Z
expect_rc 0
expect_eq "platform-devex=0.1.1 backend-engineers-pilot=0.1.0 backend-engineers=0.1.0 staff-engineers=" \
	"$(published)" "after restore 0.1.1 (paused at its stage)"
S rollback $PLUGIN@0.1.1 --as admin-ana --now 2026-12-04T13:00:00Z
expect_rc 0
expect_eq "$stable" "$(published)" "after rollback 0.1.1"
expect_eq 2026-12-04T13:00:00Z "$(eff .generated_at)" "published by rollback"
case_end

case_begin 'withdraw PLUGIN: no group lists it, without a reconcile; restore brings it back'
S withdraw $PLUGIN --reason "data leak" --as admin-ana --now 2026-12-05T09:00:00Z
expect_rc 0
expect_out "withdrew backend-pr-reviewer by admin-ana: it leaves every group now"
expect_eq "platform-devex= backend-engineers-pilot= backend-engineers= staff-engineers=" \
	"$(published)" "after withdraw"
expect_eq 2026-12-05T09:00:00Z "$(eff .generated_at)" "published by withdraw"
S restore $PLUGIN --as admin-ana --now 2026-12-05T10:00:00Z
expect_rc 0
expect_eq "$stable" "$(published)" "after restore"
expect_eq 2026-12-05T10:00:00Z "$(eff .generated_at)" "published by restore"
case_end

case_begin 'a publish that fails: exit 1, the action applied, the reason given'
# the publish path is a file: no publisher can write under it
: >"$R/.sluice/not-a-directory"
ws_edit 's|path: .sluice/published|path: .sluice/not-a-directory|'
S freeze --reason "incident" --as admin-ana --now 2026-12-06T09:00:00Z
expect_rc 1
expect_err "error: freeze was applied but publishing failed:"
expect_err "'sluice reconcile' publishes it again"
expect_eq 1 "$(sq "SELECT frozen FROM workspace_state")" "the freeze is recorded"
S disable $PLUGIN --user alice --as alice --now 2026-12-06T09:00:00Z
expect_rc 1
expect_err "error: disable was applied but publishing failed:"
expect_eq alice "$(sq "SELECT user_id FROM user_optouts")" "the opt-out is recorded"
S unfreeze --as admin-ana --now 2026-12-06T10:00:00Z
expect_rc 1
expect_err "error: unfreeze was applied but publishing failed:"
expect_eq 0 "$(sq "SELECT frozen FROM workspace_state")" "the unfreeze is recorded"
# a refused action publishes nothing and says only why it was refused
snapshot
S pause $PLUGIN --as admin-ben --now 2026-12-06T10:00:00Z
expect_refused access.refused "'admin-ben' lacks the 'operator' role"
expect_no_err "publishing failed"
case_end

case_begin 'the publish path restored: the next action publishes again'
ws_edit 's|path: .sluice/not-a-directory|path: .sluice/published|'
S withdraw $PLUGIN --as admin-ana --now 2026-12-06T11:00:00Z
expect_rc 0
expect_eq "platform-devex= backend-engineers-pilot= backend-engineers= staff-engineers=" \
	"$(published)" "after withdraw"
expect_eq 2026-12-06T11:00:00Z "$(eff .generated_at)" "published by withdraw"
case_end

done_testing
