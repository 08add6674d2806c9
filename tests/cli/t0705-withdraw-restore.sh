#!/bin/sh
# sluice withdraw / restore: the kill switch removes a plugin (or one
# version) from every group until an operator restores it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'withdraw -h and restore -h print the usage'
S withdraw -h
expect_rc 0
expect_out "usage: sluice withdraw PLUGIN[@VERSION] [--reason TEXT]"
S restore -h
expect_rc 0
expect_out "usage: sluice restore PLUGIN[@VERSION] [--reason TEXT]"
case_end

case_begin 'refused: the wrong role, an unknown plugin, restoring what is not withdrawn'
complete_010
start_011

snapshot
S withdraw $PLUGIN --as admin-ben --now 2026-12-05T09:00:00Z
expect_refused access.refused "'admin-ben' lacks the 'operator' role that 'withdraw' needs"
snapshot
S withdraw nope --as admin-ana --now 2026-12-05T09:00:00Z
expect_invalid withdraw.refused "error: no plugin 'nope' is watched by workspace 'engineering'"
snapshot
S restore $PLUGIN --as admin-ana --now 2026-12-05T09:00:00Z
expect_rc 0
expect_out "backend-pr-reviewer is not withdrawn; nothing changed"
expect_unchanged
case_end

case_begin 'the whole plugin, allowed while frozen'
S freeze --as admin-ana --now 2026-12-05T09:00:00Z
expect_rc 0
S withdraw $PLUGIN --reason "data leak" --as devex-lead --now 2026-12-05T09:00:00Z
expect_rc 0
expect_out "withdrew backend-pr-reviewer by devex-lead: it leaves every group now and nothing of it rolls out until 'sluice restore backend-pr-reviewer'"
expect_eq "|devex-lead|data leak|" "$(sq "SELECT coalesce(version, '') || '|' || actor || '|' || reason || '|' || coalesce(restored_at, '') FROM withdrawals")" "withdrawal row"
expect_eq plugin.withdrawn "$(sq "SELECT action FROM audit ORDER BY id DESC LIMIT 1")" audit
for u in alice carol; do
	S resolve --user $u -o json --now 2026-12-05T09:00:00Z
	expect_rc 0
	expect_eq 0 "$(jq '.plugins | length' "$T/out")" "$u after withdraw"
done
S unfreeze --as admin-ana --now 2026-12-05T09:00:00Z
expect_rc 0
S reconcile --now 2026-12-20T09:00:00Z
expect_rc 0
expect_no_out "start stage"
snapshot
S withdraw $PLUGIN --as admin-ana --now 2026-12-20T09:00:00Z
expect_rc 0
expect_out "backend-pr-reviewer is already withdrawn; nothing changed"
expect_unchanged
case_end

case_begin 'restore brings the plugin back to its groups'
S restore $PLUGIN --reason "fixed" -o json --as admin-ana --now 2026-12-20T10:00:00Z
expect_rc 0
expect_eq "false admin-ana" "$(jq -r '"\(.withdrawn) \(.actor)"' "$T/out")" "restore json"
expect_eq "admin-ana" "$(sq "SELECT restored_by FROM withdrawals")" "restored row"
S resolve --user alice -o json --now 2026-12-20T10:00:00Z
expect_rc 0
expect_eq 0.1.1 "$(jq -r '.plugins[0].version' "$T/out")" "alice after restore"
case_end

case_begin 'one version: groups fall back to 0.1.0'
S withdraw $PLUGIN@0.1.1 --as admin-ana --now 2026-12-20T11:00:00Z
expect_rc 0
expect_out "withdrew backend-pr-reviewer@0.1.1 by admin-ana: groups that have it fall back to 0.1.0 now"
expect_eq "withdrawn|1" "$(sq "SELECT state || '|' || withdrawn FROM releases WHERE version = '0.1.1'")" "0.1.1 row"
S resolve --user alice -o json --now 2026-12-20T11:00:00Z
expect_rc 0
expect_eq 0.1.0 "$(jq -r '.plugins[0].version' "$T/out")" "alice falls back"
snapshot
S restore $PLUGIN@0.1.0 --as admin-ana --now 2026-12-20T11:00:00Z
expect_rc 0
expect_out "backend-pr-reviewer@0.1.0 is not withdrawn; nothing changed"
expect_unchanged
case_end

case_begin 'restored mid-rollout: paused at the stage it had reached'
S restore $PLUGIN@0.1.1 --as admin-ana --now 2026-12-20T12:00:00Z
expect_rc 0
expect_out "restored backend-pr-reviewer@0.1.1 by admin-ana: it is paused again; run 'sluice resume' to let it go on"
expect_eq "paused|0|0" "$(sq "SELECT state || '|' || withdrawn || '|' || stage_index FROM releases WHERE version = '0.1.1'")" "0.1.1 restored"
S resolve --user alice -o json --now 2026-12-20T12:00:00Z
expect_rc 0
expect_eq 0.1.1 "$(jq -r '.plugins[0].version' "$T/out")" "alice has 0.1.1 again"
case_end

done_testing

