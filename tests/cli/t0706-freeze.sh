#!/bin/sh
# sluice freeze / unfreeze: while frozen no stage starts; soak keeps
# counting; freezing twice changes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'freeze -h and unfreeze -h print the usage'
S freeze -h
expect_rc 0
expect_out "usage: sluice freeze [--reason TEXT]"
S unfreeze -h
expect_rc 0
expect_out "usage: sluice unfreeze [--reason TEXT]"
case_end

case_begin 'the wrong role is refused'
start_rollout
snapshot
S freeze --as admin-ben --now $D2
expect_refused access.refused "'admin-ben' lacks the 'operator' role that 'freeze' needs (held by: admin-ana, devex-lead)"
snapshot
S unfreeze --as ci-bot --now $D2
expect_refused access.refused "'ci-bot' lacks the 'operator' role that 'unfreeze' needs"
case_end

case_begin 'freeze records who and why, audited'
S freeze --reason "incident 9" --as devex-lead --now 2026-12-02T09:00:00Z
expect_rc 0
expect_out "workspace engineering frozen by devex-lead: incident 9: no stage starts and nothing is promoted until 'sluice unfreeze'"
expect_eq "1|devex-lead|incident 9" "$(sq "SELECT frozen || '|' || frozen_by || '|' || reason FROM workspace_state")" "state row"
expect_eq "devex-lead workspace.frozen" "$(sq "SELECT actor || ' ' || action FROM audit ORDER BY id DESC LIMIT 1")" audit
case_end

case_begin 'twice: nothing changes, no audit row'
snapshot
S freeze --reason "again" -o json --as admin-ana --now 2026-12-03T09:00:00Z
expect_rc 0
expect_eq "true false incident 9" "$(jq -r '"\(.frozen) \(.changed) \(.reason)"' "$T/out")" json
expect_unchanged
case_end

case_begin 'the soak ends on 2026-12-08, but the stage waits for the unfreeze'
S reconcile --now 2026-12-09T09:00:00Z
expect_rc 0
expect_no_out "start stage"
S status --now 2026-12-09T09:00:00Z
expect_rc 0
expect_out "backend-pilot: workspace frozen by an operator (incident 9) until 'sluice unfreeze'"
S status -o json --now 2026-12-09T09:00:00Z
expect_rc 0
expect_eq freeze "$(jq -r '.plugins[0].rollout.blocked_by[0].kind' "$T/out")" "blocked_by"
case_end

case_begin 'unfreeze, and unfreeze again; the soak kept counting'
S unfreeze --as admin-ana --now 2026-12-09T10:00:00Z
expect_rc 0
expect_out "workspace engineering unfrozen by admin-ana"
expect_eq "0|admin-ana" "$(sq "SELECT frozen || '|' || frozen_by FROM workspace_state")" "unfrozen row"
S unfreeze --as admin-ana --now 2026-12-09T10:00:00Z
expect_rc 0
expect_out "workspace engineering is already unfrozen; nothing changed"
# soak kept counting while frozen: the stage starts at once
S reconcile --now 2026-12-09T11:00:00Z
expect_rc 0
expect_out "start stage backend-pilot"
case_end

done_testing

