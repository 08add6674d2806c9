#!/bin/sh
# Scenario: rollback, then a new tag. 0.1.0 is the stable release; 0.1.1
# reaches platform-devex and is rolled back by an operator: every group is
# back on 0.1.0 and 0.1.1 never comes back by itself, however long its soak
# has been over. A newer tag (v0.1.2) then rolls out normally, from stage 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin '0.1.0 rolls out to the end: the stable release'
reconcile_at 2027-02-01T09:00:00Z
make_ready 0.1.0 2027-02-01T09:00:00Z
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2027-02-01T09:00:00Z
expect_rc 0
reconcile_at 2027-02-01T10:00:00Z
reconcile_at 2027-02-08T11:00:00Z
reconcile_at 2027-02-22T12:00:00Z
expect_out "$PLUGIN@0.1.0: complete"
case_end

case_begin '0.1.1 reaches stage 1'
example_tags v0.1.0 v0.1.1
reconcile_at 2027-02-23T09:00:00Z
make_ready 0.1.1 2027-02-23T09:00:00Z
reconcile_at 2027-02-23T10:00:00Z
expect_out "$PLUGIN@0.1.1: start stage devex-dogfood (1)"
expect_eq 0.1.1 "$(group_version platform-devex)" "platform-devex before the rollback"
case_end

case_begin 'an approver without the operator role may not roll back; an operator may'
S rollback $PLUGIN@0.1.1 --reason "bad reviews" --as admin-ben --now 2027-02-24T09:00:00Z
expect_rc 3
expect_err "operator"
S rollback $PLUGIN@0.1.1 --reason "reviews flag good code" --as admin-ana --now 2027-02-24T09:00:00Z
expect_rc 0
reconcile_at 2027-02-24T09:05:00Z
expect_eq "0.1.1 rolled_back devex-dogfood" "$(rollout_of 2027-02-24T09:05:00Z)" "rollout after the rollback"
expect_eq 0.1.0 "$(js '.plugins[0].stable_version')" "stable"
for g in platform-devex backend-engineers-pilot backend-engineers; do
	expect_eq 0.1.0 "$(group_version $g)" "$g after the rollback"
done
expect_eq "admin-ana" "$(sq "SELECT actor FROM audit WHERE action LIKE '%rolled_back%' AND version = '0.1.1'")" "rollback audit row"
case_end

case_begin "weeks later: 0.1.1's soak is long over, it stays rolled back"
for d in 2027-03-03T09:00:00Z 2027-03-20T09:00:00Z; do
	reconcile_at $d
	expect_no_out "0.1.1"
done
expect_eq "devex-dogfood" "$(started_stages 0.1.1)" "0.1.1's stages"
S plan --now 2027-03-20T09:00:00Z --at 2027-06-01
expect_rc 0
expect_no_out "0.1.1: start stage"
case_end

case_begin 'a newer tag rolls out normally, from stage 1'
tag_release 0.1.2
reconcile_at 2027-03-21T09:00:00Z
expect_out "$PLUGIN: recorded release 0.1.2 (v0.1.2"
make_ready 0.1.2 2027-03-21T09:00:00Z
reconcile_at 2027-03-21T10:00:00Z
expect_out "$PLUGIN@0.1.2: start stage devex-dogfood (1)"
expect_eq "0.1.2 in_progress devex-dogfood" "$(rollout_of 2027-03-21T10:00:00Z)" "the new rollout"
expect_eq 0.1.2 "$(group_version platform-devex)" "platform-devex gets 0.1.2"
expect_eq 0.1.0 "$(group_version backend-engineers-pilot)" "pilot stays on the stable release"
reconcile_at 2027-03-28T11:00:00Z
expect_out "$PLUGIN@0.1.2: start stage backend-pilot (2)"
expect_no_out "0.1.1"
expect_eq rolled_back "$(sq "SELECT state FROM releases WHERE version = '0.1.1'")" "0.1.1 at the end"
expect_sound_db
case_end

done_testing

