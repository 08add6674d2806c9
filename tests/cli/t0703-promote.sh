#!/bin/sh
# sluice promote: starts the next stage now, skipping the soak, never the
# approvals, the checklist or a freeze; the reason is required.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'promote -h prints the usage and the options'
S promote -h
expect_rc 0
expect_out "usage: sluice promote PLUGIN[@VERSION] --reason TEXT"
expect_out "--reason TEXT"
case_end

case_begin 'the checklist and the approval hold stage 1, promote or not'
record
snapshot
S promote $PLUGIN --reason "try" --as admin-ana --now $D1
expect_refused promote.refused "error: cannot promote backend-pr-reviewer@0.1.0: devex-dogfood: checklist items not done: contract-tests, security-review"
expect_err "needs 1 approval (approvers: admin-ana, admin-ben)"
case_end

case_begin 'the first stage starts once the checklist and the approval are done'
S attest $PLUGIN@0.1.0 contract-tests --as ci-bot --now $D1
expect_rc 0
S attest $PLUGIN@0.1.0 security-review --as admin-ben --now $D1
expect_rc 0
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
expect_rc 0
S reconcile --now $D2
expect_rc 0
expect_out "start stage devex-dogfood"
case_end

case_begin 'usage: no reason, an empty reason; nothing written'
snapshot
S promote $PLUGIN --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 129
expect_err "promote needs a reason: give --reason TEXT"
S promote $PLUGIN --reason "" --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 129
expect_unchanged
case_end

case_begin 'role; a version that is not the one rolling out'
snapshot
S promote $PLUGIN --reason "pilot is waiting" --as admin-ben --now 2026-12-02T09:00:00Z
expect_refused access.refused "'admin-ben' lacks the 'operator' role that 'promote' needs"
snapshot
S promote $PLUGIN@0.0.9 --reason "pilot is waiting" --as admin-ana --now 2026-12-02T09:00:00Z
expect_invalid promote.refused "cannot promote backend-pr-reviewer@0.0.9: no such release has been recorded"
case_end

case_begin 'a paused rollout is resumed first'
S pause $PLUGIN --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 0
snapshot
S promote $PLUGIN --reason "pilot is waiting" --as admin-ana --now 2026-12-02T09:00:00Z
expect_refused promote.refused "cannot promote backend-pr-reviewer@0.1.0: it is paused; run 'sluice resume backend-pr-reviewer' first"
S resume $PLUGIN --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 0
case_end

case_begin 'a frozen workspace promotes nothing'
S freeze --reason "incident 7" --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 0
snapshot
S promote $PLUGIN --reason "pilot is waiting" --as admin-ana --now 2026-12-02T09:00:00Z
expect_refused promote.refused "error: cannot promote backend-pr-reviewer@0.1.0: backend-pilot: workspace frozen by an operator (incident 7) until 'sluice unfreeze'"
S unfreeze --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 0
case_end

case_begin 'day 2 of a 7-day soak: promote skips the rest of it'
S promote $PLUGIN --reason "pilot is waiting" --as devex-lead --now 2026-12-02T09:00:00Z
expect_rc 0
expect_out "promoted backend-pr-reviewer@0.1.0 by devex-lead: stage backend-pilot started now (pilot is waiting)"
expect_eq "1|promote|devex-lead|promoted by an operator: pilot is waiting" \
	"$(sq "SELECT stage_index || '|' || started_by || '|' || actor || '|' || reason FROM stage_starts ORDER BY id DESC LIMIT 1")" "stage start row"
expect_eq "devex-lead stage.started promote backend-pilot" \
	"$(sq "SELECT actor || ' ' || action || ' ' || json_extract(details, '$.by') || ' ' || json_extract(details, '$.stage') FROM audit ORDER BY id DESC LIMIT 1")" "audit row"
S status -o json --now 2026-12-02T09:00:00Z
expect_rc 0
expect_eq "backend-pilot 1 2026-12-02T09:00:00Z" "$(jq -r '.plugins[0].rollout | "\(.stage) \(.stage_index) \(.stage_started_at)"' "$T/out")" status
S resolve --user carol -o json --now 2026-12-02T09:00:00Z
expect_rc 0
expect_eq "0.1.0 backend-engineers-pilot" "$(jq -r '.plugins[0] | "\(.version) \(.via_group)"' "$T/out")" "carol gets it"
case_end

case_begin 'the last stage still needs its approval'
snapshot
S promote $PLUGIN --reason "all good" --as admin-ana --now 2026-12-03T09:00:00Z
expect_refused promote.refused "error: cannot promote backend-pr-reviewer@0.1.0: backend-general: needs 1 approval (approvers: admin-ana, admin-ben)"
case_end

case_begin 'a policy freeze window holds it too'
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2026-12-18T09:00:00Z
expect_rc 0
snapshot
S promote $PLUGIN --reason "all good" --as admin-ana --now 2026-12-21T09:00:00Z
expect_refused promote.refused "backend-general: freeze window (year-end freeze) until 2027-01-04"
case_end

case_begin '-o json; the last stage completes the release'
S promote $PLUGIN@0.1.0 --reason "all good" -o json --as admin-ana --now 2027-01-05T09:00:00Z
expect_rc 0
expect_eq "0.1.0 backend-general 2 true admin-ana all good" \
	"$(jq -r '"\(.version) \(.stage) \(.stage_index) \(.complete) \(.actor) \(.reason)"' "$T/out")" json
S status -o json --now 2027-01-05T09:00:00Z
expect_rc 0
expect_eq "0.1.0 null" "$(jq -r '.plugins[0] | "\(.stable_version) \(.rollout)"' "$T/out")" "stable"
snapshot
S promote $PLUGIN --reason "more" --as admin-ana --now 2027-01-05T10:00:00Z
expect_refused promote.refused "nothing to promote: backend-pr-reviewer has no release rolling out"
case_end

done_testing

