#!/bin/sh
# Scenario: health gates decided from ingested telemetry (docs/telemetry.md),
# with the shipped policy's gates on. A 20% tool error rate in the pilot
# pauses the rollout (and, with on_breach: rollback, rolls it back), audited
# with the numbers and shown by status, plan and history; an error rate as
# high as the stable release's passes the relative gate; too little data
# holds the next stage and is flagged once after max_wait_days.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
gates_on

# to_pilot: 0.1.0 through devex-dogfood on healthy data; backend-pilot
# starts 2026-12-08 (soak 7 days from $D2)
to_pilot() {
	start_rollout
	: >"$T/dogfood.jsonl"
	tel_gen "$T/dogfood.jsonl" 0.1.0 platform-devex 2026-12-02 60 1 5
	tel_ingest "$T/dogfood.jsonl" 2026-12-02T13:00:00Z
	reconcile_at 2026-12-08T12:00:00Z
	expect_out "$PLUGIN@0.1.0: start stage backend-pilot (2): devex-dogfood soaked 7 days; health gates pass"
}

case_begin 'a 20% error rate in the pilot pauses the rollout, with the numbers'
to_pilot
: >"$T/pilot.jsonl"
tel_gen "$T/pilot.jsonl" 0.1.0 backend-engineers-pilot 2026-12-09 100 20
tel_ingest "$T/pilot.jsonl" 2026-12-09T13:00:00Z
reconcile_at 2026-12-09T14:00:00Z
why="tool error rate 20.0% (20 of 100 calls) in backend-pilot is above the gate's 5.0%; pausing"
expect_out "$PLUGIN@0.1.0: pause: $why"
expect_eq "0.1.0 paused backend-pilot" "$(rollout_of 2026-12-09T14:00:00Z)" "rollout"
expect_eq "$why" "$(sq "SELECT json_extract(details, '$.reason') FROM audit WHERE action = 'rollout.paused'")" "audit row"
S history $PLUGIN --now 2026-12-09T14:00:00Z
expect_rc 0
expect_out "tool error rate 20.0% (20 of 100 calls)"
S plan --now 2026-12-09T14:00:00Z
expect_rc 0
expect_out "paused"
# a later pass does not act again
reconcile_at 2026-12-10T14:00:00Z
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'rollout.paused'")" "pause rows"
case_end

case_begin 'with on_breach: rollback the same data rolls it back'
rm -rf "$R/.sluice"
COMMIT=
sed -i 's/on_breach: pause/on_breach: rollback/' "$R/rollouts/standard.yaml"
grep -q 'on_breach: rollback' "$R/rollouts/standard.yaml" || fail "cannot set on_breach"
to_pilot
tel_ingest "$T/pilot.jsonl" 2026-12-09T13:00:00Z
reconcile_at 2026-12-09T14:00:00Z
expect_out "$PLUGIN@0.1.0: roll back to nothing (removed): tool error rate 20.0% (20 of 100 calls) in backend-pilot is above the gate's 5.0%; rolling back: no earlier release, the plugin is removed"
expect_eq rolled_back "$(sq "SELECT state FROM releases WHERE version = '0.1.0'")" "state"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'rollout.rolled_back' AND json_extract(details, '$.reason') LIKE 'tool error rate 20.0%'||'%'")" "audit row"
sed -i 's/on_breach: rollback/on_breach: pause/' "$R/rollouts/standard.yaml"
case_end

case_begin 'too little data waits, then is flagged once after max_wait_days'
rm -rf "$R/.sluice"
COMMIT=
sed -i 's/max_wait_days: 21/max_wait_days: 10/' "$R/rollouts/standard.yaml"
start_rollout
: >"$T/few.jsonl"
tel_gen "$T/few.jsonl" 0.1.0 platform-devex 2026-12-02 12 0 5
tel_ingest "$T/few.jsonl" 2026-12-02T13:00:00Z
reconcile_at 2026-12-09T12:00:00Z
expect_no_out "start stage backend-pilot"
S status --now 2026-12-09T12:00:00Z -o json
expect_rc 0
expect_eq "gate|waiting for data: 12 of 50 tool calls since devex-dogfood started" \
	"$(js '.plugins[0].rollout.blocked_by[] | select(.kind == "gate") | "\(.kind)|\(.message)"')" "blocked_by"
expect_eq 0 "$(sq "SELECT count(*) FROM audit WHERE action = 'notice.gate_wait'")" "flag before max_wait_days"
reconcile_at 2026-12-11T12:00:00Z
expect_out "$PLUGIN@0.1.0: notice: waiting for data: 12 of 50 tool calls since devex-dogfood started: still waiting after 10 days (max_wait_days)"
reconcile_at 2026-12-12T12:00:00Z
expect_no_out "notice"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'notice.gate_wait'")" "flag rows"
expect_eq "in_progress 0" "$(sq "SELECT state || ' ' || stage_index FROM releases WHERE version = '0.1.0'")" "still held"
case_end

case_begin 'an error rate equal to the stable release'"'"'s passes the relative gate'
rm -rf "$R/.sluice"
COMMIT=
# the absolute limit set high: only the relative gate judges
sed -i 's/max_tool_error_rate: 0.05/max_tool_error_rate: 0.5/' "$R/rollouts/standard.yaml"
complete_010
start_011
: >"$T/rel.jsonl"
tel_gen "$T/rel.jsonl" 0.1.0 backend-engineers 2026-12-05 200 40
tel_gen "$T/rel.jsonl" 0.1.1 platform-devex 2026-12-05 100 20 5
tel_ingest "$T/rel.jsonl" 2026-12-05T13:00:00Z
reconcile_at 2026-12-11T12:00:00Z
expect_out "$PLUGIN@0.1.1: start stage backend-pilot (2): devex-dogfood soaked 7 days; health gates pass"
case_end

case_begin 'an error rate above the stable release'"'"'s by more than the gate allows pauses'
: >"$T/rel2.jsonl"
tel_gen "$T/rel2.jsonl" 0.1.0 backend-engineers 2026-12-12 200 20
tel_gen "$T/rel2.jsonl" 0.1.1 backend-engineers-pilot 2026-12-12 100 20
tel_ingest "$T/rel2.jsonl" 2026-12-12T13:00:00Z
reconcile_at 2026-12-12T14:00:00Z
expect_out "$PLUGIN@0.1.1: pause: tool error rate 20.0% (20 of 100 calls) in backend-pilot is 10.0 points above the stable release 0.1.0's 10.0% (20 of 200 calls) over the same days; the gate allows 2.0; pausing"
sed -i 's/max_tool_error_rate: 0.5/max_tool_error_rate: 0.05/' "$R/rollouts/standard.yaml"
case_end

done_testing
