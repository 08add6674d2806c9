#!/bin/sh
# Scenario: a new tag while a release is rolling out, under the shipped
# `on_new_release: queue`. 0.1.0 is in its pilot stage when v0.1.1 appears:
# 0.1.1 waits ("queued until 0.1.0 finishes") even with its checklist and
# approval done; status shows both; 0.1.0 finishes first, and 0.1.1 starts
# its first stage in the same pass. Groups keep 0.1.0 until 0.1.1 reaches
# them. (February 2027, clear of the year-end freeze window.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin '0.1.0 reaches its pilot stage'
reconcile_at 2027-02-01T09:00:00Z
make_ready 0.1.0 2027-02-01T09:00:00Z
reconcile_at 2027-02-01T10:00:00Z
expect_out "$PLUGIN@0.1.0: start stage devex-dogfood (1)"
reconcile_at 2027-02-08T11:00:00Z
expect_out "$PLUGIN@0.1.0: start stage backend-pilot (2)"
case_end

case_begin 'v0.1.1 appears mid-rollout'
example_tags v0.1.0 v0.1.1
reconcile_at 2027-02-10T09:00:00Z
expect_out "$PLUGIN: recorded release 0.1.1 (v0.1.1"
expect_no_out "supersede"
expect_no_out "start stage"
make_ready 0.1.1 2027-02-10T09:30:00Z
reconcile_at 2027-02-11T09:00:00Z
expect_eq "" "$(cat "$T/out")" "pass with 0.1.1 ready but queued"
S status -o json --now 2027-02-11T09:00:00Z
expect_rc 0
# the current rollout is the one in flight; the newer one is queued behind it
expect_eq "0.1.0 in_progress backend-pilot approval,soak" \
	"$(js '.plugins[0].rollout | "\(.version) \(.state) \(.stage) \([.blocked_by[].kind] | join(","))"')" \
	"the release still rolling out"
expect_eq "0.1.1" "$(js '[.plugins[0].queued[].version] | join(",")')" "the queued release"
expect_eq "" "$(js '[.plugins[0].also_in_flight[].version] | join(",")')" "nothing else in flight"
S plan --now 2027-02-11T09:00:00Z
expect_rc 0
expect_out "$PLUGIN@0.1.1 waits:"
expect_out "  devex-dogfood: queued until 0.1.0 finishes"
expect_out "$PLUGIN@0.1.0 waits:"
expect_out "  backend-general: needs 1 approval (approvers: admin-ana, admin-ben); soak ends 2027-02-22"
S status --now 2027-02-11T09:00:00Z
expect_rc 0
expect_out "rollout 0.1.0 (commit"
expect_out "queued 0.1.1 (commit"
expect_out "    waits: devex-dogfood: queued until 0.1.0 finishes"
for g in platform-devex backend-engineers-pilot; do
	expect_eq 0.1.0 "$(group_version $g)" "$g while 0.1.1 is queued"
done
case_end

case_begin '0.1.0 finishes; 0.1.1 starts in the same pass'
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2027-02-20T09:00:00Z
expect_rc 0
reconcile_at 2027-02-22T12:00:00Z
expect_out "$PLUGIN@0.1.0: start stage backend-general (3)"
expect_out "$PLUGIN@0.1.0: complete"
expect_out "$PLUGIN@0.1.1: start stage devex-dogfood (1)"
expect_eq "0.1.1 in_progress devex-dogfood" "$(rollout_of 2027-02-22T12:00:00Z)" "rollout after 0.1.0"
expect_eq 0.1.0 "$(js '.plugins[0].stable_version')" "stable"
expect_eq 0 "$(js '.plugins[0].also_in_flight | length')" "nothing else in flight"
expect_eq 0.1.1 "$(group_version platform-devex)" "platform-devex"
expect_eq 0.1.0 "$(group_version backend-engineers-pilot)" "pilot keeps the stable release"
expect_eq 0.1.0 "$(group_version backend-engineers)" "backend-engineers"
expect_eq "0.1.0|devex-dogfood|2027-02-01T10:00:00Z
0.1.0|backend-pilot|2027-02-08T11:00:00Z
0.1.0|backend-general|2027-02-22T12:00:00Z
0.1.1|devex-dogfood|2027-02-22T12:00:00Z" \
	"$(sq "SELECT version, stage, started_at FROM v_stage_starts ORDER BY started_at, version, stage_index")" "timeline"
expect_sound_db
case_end

done_testing

