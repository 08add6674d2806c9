#!/bin/sh
# Scenario: operator holds. A pause does not count toward soak: stage 1
# (7 days from 02-01 10:00) paused for 4 days ends its soak on 02-12, not
# 02-08. A workspace freeze holds a stage whose soak and approval are done
# (and refuses promote) until unfreeze; the soak keeps counting while frozen.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
REL=$PLUGIN@0.1.0

case_begin 'stage 1 starts on 02-01'
reconcile_at 2027-02-01T09:00:00Z
make_ready 0.1.0 2027-02-01T09:00:00Z
reconcile_at 2027-02-01T10:00:00Z
expect_out "$REL: start stage devex-dogfood (1)"
case_end

case_begin 'pause: an approver without the operator role may not; an operator may'
S pause $PLUGIN --reason "error spike" --as admin-ben --now 2027-02-03T10:00:00Z
expect_rc 3
S pause $PLUGIN --reason "error spike" --as admin-ana --now 2027-02-03T10:00:00Z
expect_rc 0
expect_eq "0.1.0 paused devex-dogfood" "$(rollout_of 2027-02-03T10:00:00Z)" "paused"
reconcile_at 2027-02-08T11:00:00Z
expect_no_out "start stage"
S resume $PLUGIN --reason "fixed" --as admin-ana --now 2027-02-07T10:00:00Z
expect_rc 0
expect_eq "0.1.0 in_progress devex-dogfood" "$(rollout_of 2027-02-07T10:00:00Z)" "resumed"
expect_eq 4 "$(sq "SELECT paused_seconds / 86400 FROM releases WHERE version = '0.1.0'")" "days paused"
expect_eq "soak 2027-02-12T10:00:00Z" \
	"$(js '.plugins[0].rollout.blocked_by[] | select(.kind == "soak") | "\(.kind) \(.opens_at)"')" "soak after 4 paused days"
S plan --now 2027-02-08T11:00:00Z
expect_rc 0
expect_out "backend-pilot: soak ends 2027-02-12"
reconcile_at 2027-02-08T11:00:00Z
expect_no_out "start stage"
reconcile_at 2027-02-12T09:00:00Z
expect_no_out "start stage"
reconcile_at 2027-02-12T11:00:00Z
expect_out "$REL: start stage backend-pilot (2)"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action LIKE '%paused%' AND actor = 'admin-ana'")" "pause audit row"
case_end

case_begin 'freeze: an approved, soaked stage waits, and promote is refused, until unfreeze'
# stage 3's soak ends 02-26 11:00 and it is approved; the workspace is frozen
# from 02-20 to 03-01
S freeze --reason "incident review" --as admin-ana --now 2027-02-20T09:00:00Z
expect_rc 0
S approve $REL --stage backend-general --as admin-ben --now 2027-02-21T09:00:00Z
expect_rc 0
reconcile_at 2027-02-27T09:00:00Z
expect_no_out "start stage"
S status -o json --now 2027-02-27T09:00:00Z
expect_rc 0
expect_eq "true in_progress freeze" "$(js '"\(.frozen) \(.plugins[0].rollout.state) \([.plugins[0].rollout.blocked_by[].kind] | join(","))"')" "frozen workspace (the release is not frozen: that is for moved tags)"
S status --now 2027-02-27T09:00:00Z
expect_rc 0
expect_out "frozen by an operator (incident review)"
S promote $PLUGIN --reason "ship it" --as admin-ana --now 2027-02-27T09:00:00Z
expect_rc 3
expect_eq - "$(group_version backend-engineers)" "backend-engineers while frozen"
S unfreeze --as admin-ana --now 2027-03-01T09:00:00Z
expect_rc 0
reconcile_at 2027-03-01T09:10:00Z
expect_out "$REL: start stage backend-general (3)"
expect_out "$REL: complete"
expect_eq 0.1.0 "$(group_version backend-engineers)" "backend-engineers after unfreeze"
expect_eq "2027-02-01T10:00:00Z 2027-02-12T11:00:00Z 2027-03-01T09:10:00Z" \
	"$(sq "SELECT group_concat(started_at, ' ') FROM (SELECT started_at FROM v_stage_starts ORDER BY stage_index)")" "timeline"
expect_sound_db
case_end

done_testing

