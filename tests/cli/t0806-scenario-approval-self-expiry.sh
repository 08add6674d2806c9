#!/bin/sh
# Scenario: self-approval and expired approvals. admin-ben is given the
# tagger's e-mail (in other case: compared without case), so with
# prevent_self_approval his approval is refused (exit 3, audited) and plan
# names the other approvers. admin-ana approves the last stage on 12-02;
# with approval_ttl_days: 30 it expires on 2027-01-01, before the stage can
# start (the soak ends 12-23, inside the year-end freeze window): plan
# warns in advance, the stage does not start on 01-04, and a new approval
# opens it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
ws_edit 's/emails: \[ben@acme.example\]/emails: [ben@acme.example, Devex-Lead@ACME.example]/'
REL=$PLUGIN@0.1.0
N=2026-12-01T09:00:00Z

case_begin 'the release is recorded and its checklist attested'
reconcile_at $N
S attest $REL contract-tests --evidence https://ci/1 --as ci-bot --now $N
expect_rc 0
S attest $REL security-review --evidence https://sec/1 --as admin-ana --now $N
expect_rc 0
case_end

case_begin 'self-approval: refused and audited, not recorded'
S approve $REL --stage devex-dogfood --as admin-ben --now $N
expect_rc 3
expect_err "admin-ben tagged this release (devex-lead@acme.example) and policy.prevent_self_approval is set"
expect_eq 0 "$(sq 'SELECT count(*) FROM approvals')" "approvals recorded"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'approve.refused' AND actor = 'admin-ben'")" "refusal audited"
reconcile_at 2026-12-01T09:30:00Z
expect_no_out "start stage"
S plan --now 2026-12-01T09:30:00Z
expect_rc 0
expect_out "devex-dogfood: needs 1 approval (approvers: admin-ana; admin-ben tagged this release and cannot approve it)"
# a second approval by the same admin is refused, naming who else may give it
S approve $REL --stage devex-dogfood --as admin-ana --now 2026-12-01T09:40:00Z
expect_rc 0
S approve $REL --stage devex-dogfood --as admin-ana --now 2026-12-01T09:50:00Z
expect_rc 3
expect_err "a second approval by the same admin does not count (other approvers: none; add one to the workspace's admins)"
reconcile_at 2026-12-01T10:30:00Z
expect_out "$REL: start stage devex-dogfood (1)"
case_end

case_begin 'an early approval of the last stage, expiring before the stage can start'
S approve $REL --stage backend-general --comment early --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 0
reconcile_at 2026-12-09T09:00:00Z
expect_out "$REL: start stage backend-pilot (2)"
S plan --now 2026-12-10T09:00:00Z
expect_rc 0
expect_out "admin-ana's approval expires 2027-01-01, before the stage can start"
expect_out "freeze window (year-end freeze) until 2027-01-04"
reconcile_at 2027-01-04T09:00:00Z
expect_no_out "start stage"
S status -o json --now 2027-01-04T09:00:00Z
expect_rc 0
expect_eq approval "$(js '[.plugins[0].rollout.blocked_by[].kind] | join(",")')" "blocked by on 01-04"
js '.plugins[0].rollout.blocked_by[0].message' | grep -qF "admin-ana's approval expired 2027-01-01" ||
	fail "status does not say the approval expired: $(js '.plugins[0].rollout.blocked_by[0].message')"
expect_eq - "$(group_version backend-engineers)" "backend-engineers with an expired approval"
case_end

case_begin 'a fresh approval by the same approver renews the expired one and opens the stage'
S approve $REL --stage backend-general --comment again --as admin-ana --now 2027-01-05T09:00:00Z
expect_rc 0
expect_out "1 of 1 approval"
reconcile_at 2027-01-05T09:30:00Z
expect_out "$REL: start stage backend-general (3)"
expect_out "$REL: complete"
expect_eq 0.1.0 "$(group_version backend-engineers)" "backend-engineers at the end"
expect_eq "early|0|expired; renewed
again|1|" "$(sq "SELECT comment, live, void_reason FROM v_approvals WHERE stage = 'backend-general' ORDER BY at")" "approvals of the last stage"
expect_sound_db
case_end

done_testing

