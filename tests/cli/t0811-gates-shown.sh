#!/bin/sh
# Gates shown and audited with their numbers, and raw telemetry pruned by
# reconcile once a day (docs/telemetry.md): status and plan list each gate
# metric of a rollout with value, threshold and samples also when it
# passes; a breach's audit row holds metric, value, threshold and samples
# as fields; reconcile deletes raw events past retention_days (90 in the
# example manifest) at most once a day and keeps the rollups.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
gates_on

# gate_of NOW METRIC: "value threshold samples min_samples result" of the
# rollout's gate metric in status -o json
gate_of() {
	S status -o json --now "$1"
	expect_rc 0
	js ".plugins[0].rollout.gates[] | select(.metric == \"$2\") |
		\"\(.stage) \(.value) \(.threshold) \(.samples) \(.min_samples) \(.result)\""
}

case_begin 'passing gates are shown with value, threshold and samples'
start_rollout
: >"$T/dogfood.jsonl"
tel_gen "$T/dogfood.jsonl" 0.1.0 platform-devex 2026-12-02 60 1 5
tel_ingest "$T/dogfood.jsonl" 2026-12-02T13:00:00Z
expect_eq "devex-dogfood 0.016666666666666666 0.05 60 50 pass" \
	"$(gate_of 2026-12-03T09:00:00Z tool_error_rate)" "error rate gate"
expect_eq "devex-dogfood 1 0.6 5 5 pass" \
	"$(gate_of 2026-12-03T09:00:00Z positive_feedback_ratio)" "feedback gate"
# 120 ms calls: the p95 is the upper bound of their bucket, 122 ms
expect_eq "devex-dogfood 122 3000 60 50 pass" \
	"$(gate_of 2026-12-03T09:00:00Z p95_latency_ms)" "latency gate"
S status --now 2026-12-03T09:00:00Z
expect_rc 0
expect_out "  gate tool_error_rate in devex-dogfood: 1.7% (gate: at most 5.0%), 60 of 50 calls: pass"
expect_out "  gate positive_feedback_ratio in devex-dogfood: 100.0% (gate: at least 60.0%), 5 of 5 ratings: pass"
S plan --now 2026-12-03T09:00:00Z
expect_rc 0
expect_out "$PLUGIN@0.1.0 gate p95_latency_ms in devex-dogfood: 122 ms (gate: at most 3000 ms), 60 of 50 calls with a latency: pass"
S plan -o json --now 2026-12-03T09:00:00Z
expect_rc 0
expect_eq "0.1.0 devex-dogfood pass" "$(js '.gates[] | select(.metric == "refusal_rate") | "\(.version) \(.stage) \(.result)"')" "plan json"
case_end

# fresh: a new database, the release recorded again
fresh() {
	rm -rf "$R/.sluice"
	COMMIT=
}

case_begin 'too few samples is shown as waiting, with the count so far'
fresh
start_rollout
: >"$T/few.jsonl"
tel_gen "$T/few.jsonl" 0.1.0 platform-devex 2026-12-02 12 0
tel_ingest "$T/few.jsonl" 2026-12-02T13:00:00Z
expect_eq "devex-dogfood 0 0.05 12 50 waiting" \
	"$(gate_of 2026-12-03T09:00:00Z tool_error_rate)" "waiting gate"
expect_eq "devex-dogfood null 0.6 0 5 waiting" \
	"$(gate_of 2026-12-03T09:00:00Z positive_feedback_ratio)" "no ratings yet"
case_end

case_begin 'a breach is audited with metric, value, threshold and samples as fields'
fresh
start_rollout
: >"$T/bad.jsonl"
tel_gen "$T/bad.jsonl" 0.1.0 platform-devex 2026-12-02 100 20
tel_ingest "$T/bad.jsonl" 2026-12-02T13:00:00Z
reconcile_at 2026-12-03T09:00:00Z
expect_out "pause: tool error rate 20.0% (20 of 100 calls) in devex-dogfood is above the gate's 5.0%; pausing"
expect_eq "tool_error_rate|0.2|0.05|100" \
	"$(sq "SELECT json_extract(details, '$.metric') || '|' || json_extract(details, '$.value') || '|' || json_extract(details, '$.threshold') || '|' || json_extract(details, '$.samples') FROM audit WHERE action = 'rollout.paused'")" "audit fields"
S audit verify
expect_rc 0
case_end

case_begin 'reconcile prunes raw events past retention once a day; rollups stay'
fresh
record
: >"$T/old.jsonl"
tel_gen "$T/old.jsonl" 0.1.0 platform-devex 2026-12-02 30 3
tel_ingest "$T/old.jsonl" 2026-12-02T13:00:00Z
sq 'SELECT * FROM telemetry_daily' >"$T/rollups.before"
# 2026-12-02 is within 90 days of 2027-02-20: nothing to delete yet
reconcile_at 2027-02-20T09:00:00Z
expect_no_out "pruned"
expect_eq 30 "$(sq 'SELECT count(*) FROM telemetry_events')" "kept inside retention"
expect_eq "$(sq "SELECT strftime('%s', '2027-02-20T09:00:00Z')")" "$(sq 'SELECT pruned_at FROM telemetry_prune')" "prune time recorded"
# the next day it prunes again: 2026-12-02 is now 90+ days back
reconcile_at 2027-03-10T09:00:00Z
expect_out "pruned 30 raw telemetry events past retention (daily rollups kept)"
expect_eq 0 "$(sq 'SELECT count(*) FROM telemetry_events')" "raw events left"
sq 'SELECT * FROM telemetry_daily' >"$T/rollups.after"
expect_same "$T/rollups.before" "$T/rollups.after" "rollups changed by prune"
# within a day of the last prune: old events ingested again stay
: >"$T/old2.jsonl"
tel_gen "$T/old2.jsonl" 0.1.0 platform-devex 2026-12-04 10 0
tel_ingest "$T/old2.jsonl" 2027-03-10T10:00:00Z
reconcile_at 2027-03-10T20:00:00Z
expect_no_out "pruned"
expect_eq 10 "$(sq 'SELECT count(*) FROM telemetry_events')" "not pruned twice a day"
reconcile_at 2027-03-11T09:00:00Z
expect_out "pruned 10 raw telemetry events past retention"
expect_eq 0 "$(sq 'SELECT count(*) FROM telemetry_events')" "pruned the next day"
case_end

done_testing
