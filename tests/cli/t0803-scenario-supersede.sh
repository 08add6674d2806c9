#!/bin/sh
# Scenario: a new tag while a release is rolling out, under
# `on_new_release: supersede`. 0.1.0 is in its pilot stage when v0.1.1
# appears: 0.1.0 stops (superseded) and never starts another stage, even
# when its last stage is approved; 0.1.1 starts at stage 1. The groups that
# had 0.1.0 keep it until 0.1.1 reaches them. (February 2027.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
policy_edit on_new_release supersede
case_begin '0.1.0 reaches its pilot stage, its last stage approved'
reconcile_at 2027-02-01T09:00:00Z
make_ready 0.1.0 2027-02-01T09:00:00Z
reconcile_at 2027-02-01T10:00:00Z
reconcile_at 2027-02-08T11:00:00Z
expect_out "$PLUGIN@0.1.0: start stage backend-pilot (2)"
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2027-02-09T09:00:00Z
expect_rc 0
case_end

case_begin 'v0.1.1 appears: 0.1.0 is superseded in the pass that records it'
example_tags v0.1.0 v0.1.1
reconcile_at 2027-02-10T09:00:00Z
expect_out "$PLUGIN: recorded release 0.1.1 (v0.1.1"
expect_out "$PLUGIN@0.1.0: supersede"
expect_eq superseded "$(sq "SELECT state FROM releases WHERE version = '0.1.0'")" "0.1.0's state"
expect_eq "0.1.1 pending null" "$(rollout_of 2027-02-10T09:00:00Z)" "the new rollout"
expect_eq 0 "$(js '.plugins[0].also_in_flight | length')" "a superseded release is not in flight"
# the groups that had 0.1.0 keep it
expect_eq 0.1.0 "$(group_version platform-devex)" "platform-devex keeps 0.1.0"
expect_eq 0.1.0 "$(group_version backend-engineers-pilot)" "pilot keeps 0.1.0"
expect_eq - "$(group_version backend-engineers)" "backend-engineers"
case_end

case_begin '0.1.1 starts at stage 1 once ready'
make_ready 0.1.1 2027-02-10T09:30:00Z
reconcile_at 2027-02-10T10:00:00Z
expect_out "$PLUGIN@0.1.1: start stage devex-dogfood (1)"
expect_eq 0.1.1 "$(group_version platform-devex)" "platform-devex gets 0.1.1"
expect_eq 0.1.0 "$(group_version backend-engineers-pilot)" "pilot still on 0.1.0"
case_end

case_begin '0.1.0 never starts its approved last stage; 0.1.1 reaches the pilot group on its own schedule'
reconcile_at 2027-02-17T11:00:00Z
expect_out "$PLUGIN@0.1.1: start stage backend-pilot (2)"
expect_eq 0.1.1 "$(group_version backend-engineers-pilot)" "pilot gets 0.1.1"
reconcile_at 2027-02-23T09:00:00Z
expect_no_out "0.1.0"
expect_eq "devex-dogfood backend-pilot" "$(started_stages 0.1.0)" "0.1.0's stages"
expect_eq - "$(group_version backend-engineers)" "backend-engineers (0.1.0 never reached it)"
expect_eq "null" "$(rollout_of 2027-02-23T09:00:00Z >/dev/null; js '.plugins[0].stable_version')" "no stable release"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'release.superseded' AND version = '0.1.0'")" "release.superseded rows"
expect_sound_db
case_end

done_testing

