#!/bin/sh
# Scenario: the reference plugin's full rollout, replayed with --now on the
# shipped configuration (rollout policy `standard`, its checklist, one
# approval, the year-end freeze window of workspaces/engineering.yaml) and
# the repository scripts/make-example-repos.sh makes (v0.1.0, tagged
# 2026-11-30). What the administrators and users see at each step:
#
#   12-01  recorded; waits for its checklist and an admin approval; both
#          given, stage 1 (devex-dogfood, 7 days) starts
#   12-08  soak over: stage 2 (backend-pilot, 14 days) starts
#   12-20  the freeze window opens (until 2027-01-04)
#   12-22  stage 2's soak is over, but stage 3 needs an approval and the
#          window holds it; the approval comes on 12-23
#   12-31  day 30: still held by the window
#   01-04  the window ends: stage 3 starts, the release is complete
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
COMMIT=$(git --git-dir="$GIT/acme/codex-plugin-backend-pr-reviewer.git" rev-parse 'v0.1.0^{commit}')
REL=$PLUGIN@0.1.0

case_begin '12-01: recorded, waiting for the checklist and an approval'
reconcile_at 2026-12-01T09:00:00Z
expect_out "$PLUGIN: recorded release 0.1.0 (v0.1.0, commit ${COMMIT%"${COMMIT#????????????}"})"
expect_no_out "start stage"
S status -o json --now 2026-12-01T09:00:00Z
expect_rc 0
expect_eq "0.1.0 $COMMIT pending null null" \
	"$(js '.plugins[0].rollout | "\(.version) \(.commit) \(.state) \(.stage) \(.stage_index)"')" "pending rollout"
expect_eq "checklist approval" "$(js '[.plugins[0].rollout.blocked_by[].kind] | join(" ")')" "blocked by"
expect_eq "null" "$(js '.plugins[0].stable_version')" "stable version"
S plan --now 2026-12-01T09:00:00Z
expect_rc 0
expect_out "devex-dogfood: checklist items not done: contract-tests, security-review"
expect_out "needs 1 approval (approvers: admin-ana, admin-ben)"
S checklist $REL --now 2026-12-01T09:00:00Z
expect_rc 0
expect_out "not ready for stage 1: missing contract-tests, security-review"
case_end

case_begin 'the checklist: ci attests the contract tests, an approver the security review'
# what Sluice checks itself is already done
S attest $REL contract-tests --evidence https://ci.acme.example/runs/1 --as ci-bot --now 2026-12-01T09:10:00Z
expect_rc 0
S attest $REL security-review --evidence https://sec.acme.example/r/7 --as admin-ben --now 2026-12-01T09:20:00Z
expect_rc 0
S checklist $REL -o json --now 2026-12-01T09:20:00Z
expect_rc 0
S checklist $REL --now 2026-12-01T09:20:00Z
expect_rc 0
expect_no_out "not ready"
S status -o json --now 2026-12-01T09:20:00Z
expect_rc 0
expect_eq "approval" "$(js '[.plugins[0].rollout.blocked_by[].kind] | join(" ")')" "blocked by after the checklist"
case_end

case_begin 'the admin approval for stage 1 (controls.require_admin_approval)'
S approve $REL --stage devex-dogfood --comment "reviewed the guidance" --as admin-ana --now 2026-12-01T09:30:00Z
expect_rc 0
expect_out "1 of 1 approval"
reconcile_at 2026-12-01T10:00:00Z
expect_out "$REL: start stage devex-dogfood (1)"
expect_out "approved by admin-ana"
expect_eq "0.1.0 in_progress devex-dogfood" "$(rollout_of 2026-12-01T10:00:00Z)" "rollout on 12-01"
expect_eq "2026-12-01T10:00:00Z" "$(js '.plugins[0].rollout.stage_started_at')" "stage 1 started at"
expect_eq "soak 2026-12-08T10:00:00Z" "$(js '.plugins[0].rollout.blocked_by[0] | "\(.kind) \(.opens_at)"')" "stage 2 soak"
expect_eq 0.1.0 "$(group_version platform-devex)" "platform-devex on 12-01"
expect_eq - "$(group_version backend-engineers-pilot)" "pilot on 12-01"
expect_eq - "$(group_version backend-engineers)" "backend-engineers on 12-01"
expect_eq "$COMMIT" "$(eff ".groups[\"platform-devex\"][0].commit")" "published commit"
case_end

case_begin '12-08: an hour before the soak ends nothing moves; then stage 2'
reconcile_at 2026-12-08T09:00:00Z
expect_eq "" "$(cat "$T/out")" "pass before the soak ends"
reconcile_at 2026-12-08T11:00:00Z
expect_out "$REL: start stage backend-pilot (2): devex-dogfood soaked 7 days"
expect_eq 0.1.0 "$(group_version backend-engineers-pilot)" "pilot on 12-08"
expect_eq 0.1.0 "$(group_version platform-devex)" "platform-devex keeps it (cumulative)"
expect_eq - "$(group_version backend-engineers)" "backend-engineers on 12-08"
case_end

case_begin '12-20..12-31: the freeze window holds stage 3'
reconcile_at 2026-12-20T09:00:00Z
expect_eq "" "$(cat "$T/out")" "pass on 12-20"
S plan --now 2026-12-20T09:00:00Z
expect_rc 0
expect_out "backend-general: needs 1 approval (approvers: admin-ana, admin-ben)"
expect_out "soak ends 2026-12-22"
expect_out "freeze window (year-end freeze) until 2027-01-04"
reconcile_at 2026-12-22T12:00:00Z
expect_eq "" "$(cat "$T/out")" "pass after stage 2's soak"
S status -o json --now 2026-12-22T12:00:00Z
expect_rc 0
expect_eq "approval freeze" "$(js '[.plugins[0].rollout.blocked_by[].kind] | join(" ")')" "blocked by on 12-22"
expect_eq "2027-01-04T00:00:00Z" "$(js '.plugins[0].rollout.blocked_by[] | select(.kind == "freeze") | .opens_at')" "freeze opens at"
S approve $REL --stage backend-general --comment "pilot feedback is good" --as admin-ben --now 2026-12-23T15:00:00Z
expect_rc 0
S plan --now 2026-12-23T15:00:00Z
expect_rc 0
expect_out "backend-general: freeze window (year-end freeze) until 2027-01-04"
expect_no_out "needs 1 approval"
S plan --now 2026-12-23T15:00:00Z --at 2027-01-05
expect_rc 0
expect_out "2027-01-04 $REL: start stage backend-general (3)"
for d in 2026-12-24T09:00:00Z 2026-12-31T09:00:00Z 2027-01-03T23:59:00Z; do
	reconcile_at $d
	expect_eq "" "$(cat "$T/out")" "pass on $d (frozen)"
done
expect_eq "0.1.0 in_progress backend-pilot" "$(rollout_of 2026-12-31T09:00:00Z)" "rollout on day 30"
expect_eq - "$(group_version backend-engineers)" "backend-engineers during the freeze"
case_end

case_begin '2027-01-04: the window ends, stage 3 starts, the release completes'
reconcile_at 2027-01-04T00:30:00Z
expect_out "$REL: start stage backend-general (3)"
expect_out "approved by admin-ben"
expect_out "$REL: complete"
expect_eq "- 0.1.0" "$(rollout_of 2027-01-04T01:00:00Z)" "after the last stage"
for g in platform-devex backend-engineers-pilot backend-engineers; do
	expect_eq 0.1.0 "$(group_version $g)" "$g at the end"
done
expect_eq - "$(group_version staff-engineers)" "staff-engineers (named by no stage)"
expect_eq "2027-01-04T00:30:00Z" "$(eff .generated_at)" "generated_at"
case_end

case_begin 'what a user gets, and why'
S resolve --user carol -o json --now 2027-01-04T01:00:00Z
expect_rc 0
expect_eq "0.1.0 $COMMIT true" \
	"$(js ".plugins[] | select(.id == \"$PLUGIN\") | \"\(.version) \(.commit) \(.user_can_disable)\"")" "carol's plugin"
expect_eq "backend-engineers-pilot backend-engineers" "$(js '.groups | join(" ")')" "carol's groups"
S resolve --user sam -o json --now 2027-01-04T01:00:00Z
expect_rc 0
expect_eq 0 "$(js '.plugins | length')" "sam (staff-engineers) gets nothing"
case_end

case_begin 'the record: three stages by the controller, both approvals with their comments, the attestations'
expect_eq "devex-dogfood|2026-12-01T10:00:00Z|controller
backend-pilot|2026-12-08T11:00:00Z|controller
backend-general|2027-01-04T00:30:00Z|controller" \
	"$(sq "SELECT stage, started_at, started_by FROM v_stage_starts WHERE plugin = '$PLUGIN' ORDER BY stage_index")" "timeline"
expect_eq "devex-dogfood|admin-ana|reviewed the guidance
backend-general|admin-ben|pilot feedback is good" \
	"$(sq "SELECT stage, approver, comment FROM v_approvals WHERE kind = 'approval' ORDER BY at")" "approvals"
expect_eq "admin-ana|devex-dogfood
admin-ben|backend-general" \
	"$(sq "SELECT actor, json_extract(details, '$.stage') FROM audit WHERE action = 'approval.given' ORDER BY id")" "approval audit rows"
expect_eq 2 "$(sq "SELECT count(*) FROM audit WHERE action = 'checklist.attested'")" "attestation audit rows"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'release.completed'")" "release.completed rows"
expect_sound_db
case_end

done_testing

