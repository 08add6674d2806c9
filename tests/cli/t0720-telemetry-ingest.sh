#!/bin/sh
# sluice telemetry ingest and sluice feedback: events in (docs/telemetry.md).
# Every event id is stored once; bad lines are reported as FILE:LINE, kept
# with their reason in the reject file and counted; a last line without its
# newline is never ingested; unknown plugins and versions are refused;
# unknown fields are ignored and counted; rollups follow the raw events.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

REJECTS=$R/.sluice/telemetry-rejects.jsonl

# ev ID [OUTCOME [LATENCY [EXTRA]]]: one tool_call line of 0.1.0
ev() {
	printf '{"id": "%s", "type": "tool_call", "time": "2026-12-02T12:30:00Z", "workspace": "engineering", "plugin": "backend-pr-reviewer", "version": "0.1.0", "group": "platform-devex", "user": "alice", "tool": "repo_search", "outcome": "%s", "latency_ms": %s%s}\n' \
		"$1" "${2:-ok}" "${3:-200}" "${4:-}"
}

case_begin 'telemetry -h prints the usage'
S telemetry -h
expect_rc 0
expect_out "usage: sluice telemetry ingest [FILE|-] | telemetry ingest --spool DIR | telemetry prune"
case_end

record

case_begin 'a file of good events is stored once, with its rollups'
{ ev e1 ok 100; ev e2 error 300; ev e3 refusal 50; ev e4 escalation 80; } >"$T/a.jsonl"
S telemetry ingest "$T/a.jsonl" --now $D1
expect_rc 0
expect_out "ingested 4 events from 1 source (0 already stored, 0 rejected, 0 unknown fields ignored)"
expect_eq 4 "$(sq 'SELECT count(*) FROM telemetry_events')" "raw events"
expect_eq "4|1|1|1|4" "$(sq 'SELECT calls, errors, refusals, escalations, latency_count FROM telemetry_daily')" "rollup"
expect_eq "1796169600" "$(sq 'SELECT day FROM telemetry_daily')" "rollup day (UTC midnight)"
case_end

case_begin 'ingesting the same file again changes nothing'
sq 'SELECT * FROM telemetry_events ORDER BY id; SELECT * FROM telemetry_daily; SELECT * FROM telemetry_latency' >"$T/before"
S telemetry ingest "$T/a.jsonl" --now $D1
expect_rc 0
expect_out "ingested 0 events from 1 source (4 already stored, 0 rejected"
sq 'SELECT * FROM telemetry_events ORDER BY id; SELECT * FROM telemetry_daily; SELECT * FROM telemetry_latency' >"$T/after"
expect_same "$T/before" "$T/after" "a second ingest changed the tables"
case_end

case_begin 'the user is stored only as a keyed hash'
expect_eq 0 "$(sq "SELECT count(*) FROM telemetry_events WHERE user_hash = 'alice' OR user_hash IS NULL")" "plain user ids"
expect_eq 64 "$(sq "SELECT DISTINCT length(user_hash) FROM telemetry_events")" "hash length"
expect_not "the hash is a plain SHA-256 of the id" \
	[ "$(sq "SELECT DISTINCT user_hash FROM telemetry_events")" = "$(printf alice | sha256sum | cut -d' ' -f1)" ]
expect_eq 1 "$(sq 'SELECT count(*) FROM telemetry_keys WHERE length(key) = 32')" "workspace key"
case_end

case_begin 'bad lines are reported with FILE:LINE, kept with their reason and counted'
{
	ev b1
	echo 'not json'
	ev b2 maybe
	ev b3 ok '"fast"'
	printf '{"id": "b4", "type": "tool_call", "time": "yesterday", "workspace": "engineering", "plugin": "backend-pr-reviewer", "version": "0.1.0", "group": "platform-devex", "tool": "t", "outcome": "ok"}\n'
	ev b5 | sed 's/backend-pr-reviewer/no-such-plugin/'
	ev b6 | sed 's/"0.1.0"/"9.9.9"/'
	ev b7 | sed 's/platform-devex/nobody/'
	ev b8 | sed 's/"engineering"/"marketing"/'
	ev b9 ok 10 ', "model": "x", "trace": {"a": 1}'
	ev b10 | sed 's/"id": "b10", //'
	echo '[1, 2]'
} >"$T/bad.jsonl"
: >"$REJECTS"
S telemetry ingest "$T/bad.jsonl" --now $D1
expect_rc 2
expect_out "ingested 2 events from 1 source (0 already stored, 10 rejected, 2 unknown fields ignored)"
expect_err "$T/bad.jsonl:2: error: not JSON"
expect_err "$T/bad.jsonl:3: error: unknown outcome 'maybe' (ok, error, refusal or escalation)"
expect_err "$T/bad.jsonl:4: error: 'latency_ms' must be a non-negative integer"
expect_err "$T/bad.jsonl:5: error: 'time' must be RFC 3339"
expect_err "$T/bad.jsonl:6: error: unknown plugin 'no-such-plugin': workspace 'engineering' has recorded no release of it"
expect_err "$T/bad.jsonl:7: error: unknown version backend-pr-reviewer@9.9.9: no such release has been recorded"
expect_err "$T/bad.jsonl:8: error: unknown group 'nobody' in workspace 'engineering'"
expect_err "$T/bad.jsonl:9: error: event of workspace 'marketing', not 'engineering'"
expect_err "$T/bad.jsonl:11: error: missing field 'id'"
expect_err "$T/bad.jsonl:12: error: an event must be a JSON object"
expect_err "error: 10 lines rejected"
expect_eq 10 "$(wc -l <"$REJECTS" | tr -d ' ')" "reject file lines"
expect_eq "6|unknown plugin 'no-such-plugin': workspace 'engineering' has recorded no release of it" \
	"$(jq -r 'select(.line == 6) | "\(.line)|\(.reason)"' "$REJECTS")" "reject file entry"
expect_eq "b1 b9" "$(sq "SELECT group_concat(id, ' ') FROM (SELECT id FROM telemetry_events WHERE id LIKE 'b%' ORDER BY id)")" "stored good lines"
case_end

case_begin 'a truncated last line is not ingested'
{ ev t1; ev t2 | tr -d '\n'; } >"$T/trunc.jsonl"
S telemetry ingest "$T/trunc.jsonl" --now $D1
expect_rc 2
expect_err "$T/trunc.jsonl:2: error: truncated line: no newline at the end"
expect_eq "t1" "$(sq "SELECT group_concat(id) FROM telemetry_events WHERE id LIKE 't%'")" "stored"
# once complete, it goes in
ev t2 >"$T/rest.jsonl"
S telemetry ingest "$T/rest.jsonl" --now $D1
expect_rc 0
expect_eq "t1,t2" "$(sq "SELECT group_concat(id) FROM (SELECT id FROM telemetry_events WHERE id LIKE 't%' ORDER BY id)")" "stored"
case_end

case_begin 'a 10 MB line is rejected, the lines around it are stored'
{ ev m1; printf '{"id": "m2", "pad": "'; head -c 10485760 /dev/zero | tr '\0' a; printf '"}\n'; ev m3; } >"$T/big.jsonl"
S telemetry ingest "$T/big.jsonl" --now $D1
expect_rc 2
expect_err "$T/big.jsonl:2: error: line is 10485783 bytes, longer than the 1048576 byte limit of an event"
expect_eq "m1,m3" "$(sq "SELECT group_concat(id) FROM (SELECT id FROM telemetry_events WHERE id LIKE 'm%' ORDER BY id)")" "stored"
expect_eq "true" "$(tail -n 1 "$REJECTS" | jq -r .truncated)" "reject entry cut"
case_end

case_begin 'wrong types are rejected with the field named'
{
	ev w1 | sed 's/"tool": "repo_search"/"tool": 7/'
	ev w2 | sed 's/"id": "w2"/"id": 12/'
	ev w3 ok -5
	printf '{"id": "w4", "type": "feedback", "time": "2026-12-02T12:30:00Z", "workspace": "engineering", "plugin": "backend-pr-reviewer", "version": "0.1.0", "group": "platform-devex", "rating": 9}\n'
} >"$T/types.jsonl"
S telemetry ingest - --now $D1 <"$T/types.jsonl"
expect_rc 2
expect_err "-:1: error: 'tool' must be a string"
expect_err "-:2: error: 'id' must be a string"
expect_err "-:3: error: 'latency_ms' must be a non-negative integer"
expect_err "-:4: error: 'rating' must be 1 to 5, \"up\" or \"down\" (got 9)"
expect_eq 0 "$(sq "SELECT count(*) FROM telemetry_events WHERE id LIKE 'w%'")" "stored"
case_end

case_begin 'a spool takes complete files, leaves *.tmp, moves each after its transaction'
SP=$T/spool
mkdir -p "$SP"
{ ev s1; ev s2; } >"$SP/001.jsonl"
{ ev s3; echo 'garbage'; } >"$SP/002.jsonl"
ev s4 >"$SP/003.jsonl.tmp"
S telemetry ingest --spool "$SP" --now $D1
expect_rc 2
expect_out "ingested 3 events from 2 sources"
expect_err "$SP/002.jsonl:2: error: not JSON"
expect_ok "001 not in done/" [ -f "$SP/done/001.jsonl" ]
expect_ok "002 not in rejected/" [ -f "$SP/rejected/002.jsonl" ]
expect_ok "the .tmp file was taken" [ -f "$SP/003.jsonl.tmp" ]
expect_eq 0 "$(sq "SELECT count(*) FROM telemetry_events WHERE id = 's4'")" "s4 stored"
# the producer renames it when complete
mv "$SP/003.jsonl.tmp" "$SP/003.jsonl"
S telemetry ingest --spool "$SP" --now $D1
expect_rc 0
expect_out "ingested 1 events from 1 source"
expect_ok "003 not in done/" [ -f "$SP/done/003.jsonl" ]
case_end

case_begin 'feedback is stored like an ingested event, the actor hashed'
S feedback $PLUGIN@0.1.0 --rating up --comment 'found the bug' --group platform-devex --as alice --now $D1
expect_rc 0
expect_out "recorded feedback up for backend-pr-reviewer@0.1.0 from group platform-devex: found the bug"
expect_eq "up|found the bug|1|1" "$(sq "SELECT e.rating, e.comment, d.feedback_total, d.feedback_positive FROM telemetry_events e JOIN telemetry_daily d ON d.tool = '' WHERE e.type = 'feedback'")" "stored feedback"
expect_eq "$(sq "SELECT DISTINCT user_hash FROM telemetry_events WHERE id = 'e1'")" \
	"$(sq "SELECT user_hash FROM telemetry_events WHERE type = 'feedback'")" "the same keyed hash as ingest"
S feedback $PLUGIN@0.1.0 --rating 7 --as alice --now $D1
expect_rc 129
expect_err "error: --rating must be up, down or 1 to 5 (got '7')"
S feedback $PLUGIN@0.1.0 --rating down --as alice --now $D1
expect_rc 2
expect_err "error: alice is in no group that has backend-pr-reviewer@0.1.0; name the group with --group"
case_end

case_begin 'prune deletes raw events past audit.retention_days; rollups stay'
sq 'SELECT * FROM telemetry_daily' >"$T/rollups.before"
S telemetry prune --now 2027-06-01T00:00:00Z
expect_rc 0
expect_out "backend-pr-reviewer: deleted"
expect_eq 0 "$(sq 'SELECT count(*) FROM telemetry_events')" "raw events left"
sq 'SELECT * FROM telemetry_daily' >"$T/rollups.after"
expect_same "$T/rollups.before" "$T/rollups.after" "rollups changed by prune"
case_end

done_testing
