#!/bin/sh
# Crash safety of ingest (docs/telemetry.md: one file is one transaction):
# `kill -9` a `sluice telemetry ingest` of a 200,000-event file at a random
# moment, then check that the database is sound and holds all of the file
# or none of it, and that after the next full ingest every event is stored
# exactly once and the rollups equal a recount from the raw events (and the
# latency histogram equals an uninterrupted ingest's).
# SLUICE_TELEMETRY_CRASH_ROUNDS rounds (default 20; `make stress`: 50);
# SLUICE_TELEMETRY_CRASH_EVENTS events (default 200000); SLUICE_STRESS_SEED
# repeats a run's kill times.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
ROUNDS=${SLUICE_TELEMETRY_CRASH_ROUNDS:-20}
N=${SLUICE_TELEMETRY_CRASH_EVENTS:-200000}
echo "seed $SEED, $ROUNDS rounds, $N events"

setup_admin
cd "$T" || bail "cd $T"

# N events over 3 days, 2 groups, 3 tools, every outcome, some without a
# latency, one in 50 a feedback rating; every 1000th line repeats an
# earlier id (a duplicate: stored once). Unique ids: N - N/1000.
awk -v n="$N" 'BEGIN {
	split("ok ok ok ok ok ok error refusal escalation ok", oc, " ")
	split("platform-devex backend-engineers-pilot", gs, " ")
	split("repo_search read_file post_comment", ts, " ")
	split("\"up\" \"down\" 1 2 3 4 5", rs, " ")
	srand(7)
	for (i = 1; i <= n; i++) {
		id = (i % 1000 == 0) ? i - 7 : i
		d = 2 + id % 3; g = gs[1 + id % 2]
		t = sprintf("2026-12-%02dT%02d:%02d:00Z", d, id % 24, id % 60)
		if (id % 50 == 0) {
			printf "{\"id\": \"ev-%d\", \"type\": \"feedback\", \"time\": \"%s\", \"workspace\": \"engineering\", \"plugin\": \"backend-pr-reviewer\", \"version\": \"0.1.0\", \"group\": \"%s\", \"user\": \"u%d\", \"rating\": %s}\n", id, t, g, id % 13, rs[1 + id % 7]
			continue
		}
		lat = (id % 17 == 0) ? "" : sprintf(", \"latency_ms\": %d", (id * 7919) % 3000)
		printf "{\"id\": \"ev-%d\", \"type\": \"tool_call\", \"time\": \"%s\", \"workspace\": \"engineering\", \"plugin\": \"backend-pr-reviewer\", \"version\": \"0.1.0\", \"group\": \"%s\", \"user\": \"u%d\", \"tool\": \"%s\", \"outcome\": \"%s\"%s}\n", id, t, g, id % 13, ts[1 + id % 3], oc[1 + id % 10], lat
	}
}' >"$T/events.jsonl" || bail "cannot write the events"
UNIQUE=$((N - N / 1000))
NOW=2026-12-05T00:00:00Z

# the rollups as stored, and recounted from the raw events
rollups() {
	sq "SELECT plugin, version, group_name, tool, day, calls, errors, refusals, escalations,
		latency_count, latency_sum_ms, feedback_total, feedback_positive
		FROM telemetry_daily ORDER BY 1, 2, 3, 4, 5"
}
recount() {
	sq "SELECT plugin, version, group_name, coalesce(tool, ''), time - time % 86400,
		sum(type = 'tool_call'), sum(coalesce(outcome = 'error', 0)),
		sum(coalesce(outcome = 'refusal', 0)), sum(coalesce(outcome = 'escalation', 0)),
		count(latency_ms), coalesce(sum(latency_ms), 0), sum(type = 'feedback'),
		sum(coalesce(rating IN ('up', '4', '5'), 0))
		FROM telemetry_events GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
}
latency() {
	sq 'SELECT * FROM telemetry_latency ORDER BY 1, 2, 3, 4, 5, 6, 7'
}
# expect_complete ROUND: every event once, rollups equal to the recount
expect_complete() {
	expect_eq "$UNIQUE|$UNIQUE" "$(sq 'SELECT count(*), count(DISTINCT id) FROM telemetry_events')" \
		"$1: events stored (and distinct ids)"
	rollups >"$T/rollups.now"
	recount >"$T/recount.now"
	expect_same "$T/recount.now" "$T/rollups.now" "$1: rollups against a recount of the raw events"
	latency >"$T/latency.now"
	expect_same "$T/latency.ref" "$T/latency.now" "$1: latency histogram against an uninterrupted ingest"
}

case_begin 'the saved state: the release recorded, no telemetry'
record
# the key that hashes users is made on first use: make it now, so every
# round starts from the same key
S telemetry ingest /dev/null --now $NOW
expect_rc 0
rm -rf "$T/state"
cp -a "$R" "$T/state"
case_end

case_begin 'the uninterrupted ingest stores every event once and its rollups add up'
# once to warm the page cache, then timed
S telemetry ingest "$T/events.jsonl" --now $NOW
expect_rc 0
rm -rf "$R"
cp -a "$T/state" "$R"
t0=$(now_ms)
S telemetry ingest "$T/events.jsonl" --now $NOW
expect_rc 0
DUR=$(($(now_ms) - t0))
expect_out "ingested $UNIQUE events from 1 source ($((N / 1000)) already stored, 0 rejected"
latency >"$T/latency.ref"
expect_eq "$(sq 'SELECT count(latency_ms) FROM telemetry_events')" \
	"$(sq 'SELECT sum(n) FROM telemetry_latency')" "histogram counts"
expect_complete reference
# again: nothing changes
S telemetry ingest "$T/events.jsonl" --now $NOW
expect_rc 0
expect_out "ingested 0 events from 1 source ($N already stored"
expect_complete "ingested twice"
case_end
echo "uninterrupted ingest: $DUR ms"

killed_mid=0
i=1
while [ "$i" -le "$ROUNDS" ]; do
	case_begin "round $i (seed $SEED): ingest killed, then run again in full"
	delay=$(rand_ms $((DUR * 12 / 10 + 1)) "$i")
	rm -rf "$R"
	cp -a "$T/state" "$R"
	"$SLUICE" --root "$R" telemetry ingest "$T/events.jsonl" --now $NOW >"$T/killed.out" 2>&1 &
	pid=$!
	sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
	if kill -9 "$pid" 2>/dev/null; then
		state=killed
	else
		state=finished
	fi
	killed_rc=0
	wait "$pid" 2>/dev/null || killed_rc=$?
	[ $state = killed ] || expect_eq 0 "$killed_rc" "round $i: the exit status of the ingest that finished"
	expect_eq ok "$(sq 'PRAGMA integrity_check')" "round $i: integrity_check"
	# one transaction: all of the file or none of it, rollups with it
	got=$(sq 'SELECT count(*) FROM telemetry_events')
	case $got in
	0) expect_eq 0 "$(sq 'SELECT count(*) FROM telemetry_daily')" "round $i: rollups without events" ;;
	"$UNIQUE") ;;
	*) fail "round $i: $got of $UNIQUE events stored after the kill: a half-ingested file" ;;
	esac
	[ $state = killed ] && [ "$got" = 0 ] && killed_mid=$((killed_mid + 1))
	echo "round $i: kill after $delay ms: $state, $got events stored"
	S telemetry ingest "$T/events.jsonl" --now $NOW
	expect_rc 0
	expect_complete "round $i"
	case_end
	i=$((i + 1))
done
echo "$killed_mid rounds killed an ingest before its commit"
done_testing
