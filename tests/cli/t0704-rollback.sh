#!/bin/sh
# sluice rollback: every group goes back to the newest earlier completed
# release (or loses the plugin when there is none); a rolled-back release
# is never applied again automatically.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'rollback -h prints the usage'
S rollback -h
expect_rc 0
expect_out "usage: sluice rollback PLUGIN[@VERSION] [--reason TEXT]"
case_end

case_begin 'with no group having a release of it, rollback is refused'
record
snapshot
S rollback $PLUGIN --as admin-ana --now $D1
expect_refused rollback.refused "error: cannot roll back backend-pr-reviewer: no group has a release of it"
case_end

case_begin 'while 0.1.1 rolls out: the wrong role or an unrecorded version is refused'
complete_010
start_011
S resolve --user alice -o json --now 2026-12-04T10:00:00Z
expect_rc 0
expect_eq 0.1.1 "$(jq -r '.plugins[0].version' "$T/out")" "alice before"

snapshot
S rollback $PLUGIN --as admin-ben --now 2026-12-05T09:00:00Z
expect_refused access.refused "'admin-ben' lacks the 'operator' role that 'rollback' needs"
snapshot
S rollback $PLUGIN@0.3.0 --as admin-ana --now 2026-12-05T09:00:00Z
expect_invalid rollback.refused "cannot roll back backend-pr-reviewer@0.3.0: no such release has been recorded"
case_end

case_begin 'rollback sends every group back to 0.1.0, audited'
S rollback $PLUGIN --reason "error rate" --as admin-ana --now 2026-12-05T09:00:00Z
expect_rc 0
expect_out "rolled back backend-pr-reviewer@0.1.1 by admin-ana: every group that had it goes back to 0.1.0 (commit $(echo "$COMMIT" | cut -c1-12)) now; 0.1.1 will not roll out again"
expect_eq "rolled_back|1|error rate" "$(sq "SELECT state || '|' || rolled_back || '|' || state_reason FROM releases WHERE version = '0.1.1'")" "0.1.1 row"
expect_eq "complete" "$(sq "SELECT state FROM releases WHERE version = '0.1.0'")" "0.1.0 row"
expect_eq "admin-ana rollout.rolled_back 0.1.1 0.1.0" \
	"$(sq "SELECT actor || ' ' || action || ' ' || version || ' ' || json_extract(details, '$.target_version') FROM audit ORDER BY id DESC LIMIT 1")" "audit"
S resolve --user alice -o json --now 2026-12-05T09:00:00Z
expect_rc 0
expect_eq "0.1.0 $COMMIT" "$(jq -r '.plugins[0] | "\(.version) \(.commit)"' "$T/out")" "alice after"
case_end

case_begin 'never re-applied: weeks of reconciles start nothing'
S reconcile --now 2026-12-15T09:00:00Z
expect_rc 0
expect_no_out "start stage"
S status -o json --now 2026-12-15T09:00:00Z
expect_rc 0
expect_eq "0.1.0" "$(jq -r '.plugins[0].stable_version' "$T/out")" "stable after"
snapshot
S rollback $PLUGIN@0.1.1 --as admin-ana --now 2026-12-15T09:00:00Z
expect_refused rollback.refused "cannot roll back backend-pr-reviewer@0.1.1: it is rolled_back"
case_end

case_begin 'allowed while frozen; with no earlier release the plugin is removed'
S freeze --as admin-ana --now 2026-12-15T09:00:00Z
expect_rc 0
S rollback $PLUGIN -o json --as devex-lead --now 2026-12-15T10:00:00Z
expect_rc 0
expect_eq "0.1.0 [\"0.1.0\"] null devex-lead" \
	"$(jq -c -r '"\(.version) \(.rolled_back) \(.target_version) \(.actor)"' "$T/out")" "json"
S resolve --user alice -o json --now 2026-12-15T10:00:00Z
expect_rc 0
expect_eq 0 "$(jq '.plugins | length' "$T/out")" "alice has nothing"
S resolve --user alice --now 2026-12-15T10:00:00Z
expect_rc 0
expect_out "no plugins"
case_end

done_testing

