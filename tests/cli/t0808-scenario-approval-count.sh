#!/bin/sh
# Scenario: approve's reply counts only the approvals that still count. An
# approval older than approval_ttl_days (30) is not among "N of M", so an
# admin is never told a stage has enough approvals while the planner still
# holds it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
ws_edit 's/^  - {id: ci-bot, roles: \[ci\]}$/  - {id: ci-bot, roles: [ci]}\n  - {id: admin-cy, roles: [approver], emails: [cy@acme.example]}/'
REL=$PLUGIN@0.1.0

case_begin 'an approval with the checklist undone: 1 of 1'
# the checklist is left undone, so stage 1 cannot start and stays approvable
reconcile_at 2026-12-01T09:00:00Z
S approve $REL --stage devex-dogfood --as admin-ana --now 2026-12-01T10:00:00Z
expect_rc 0
expect_out "by admin-ana: 1 of 1 approval"
case_end

case_begin "35 days later admin-ana's approval has expired: admin-cy's is the only one"
S approve $REL --stage devex-dogfood --as admin-cy -o json --now 2027-01-05T10:00:00Z
expect_rc 0
expect_eq 1 "$(js .approvals)" "approvals counted after admin-ana's expired"
expect_eq 1 "$(js .needed)" "approvals needed"
expect_eq 2 "$(sq "SELECT count(*) FROM approvals WHERE stage = 'devex-dogfood'")" "approval rows kept"
case_end

case_begin 'within the TTL both count'
S approve $REL --stage devex-dogfood --as admin-ben --now 2027-01-06T10:00:00Z
expect_rc 0
expect_out "by admin-ben: 2 approvals (1 needed)"
expect_sound_db
case_end

done_testing

