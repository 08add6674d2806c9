#!/bin/sh
# Crash safety of the daemon (docs/operations.md): `kill -9` a `sluice run`
# at a random moment while its ticks reconcile and drain a telemetry spool
# that producers keep filling, then check that the database is sound, the
# audit chain verifies, and that what is stored lies between the files
# moved to done/ and all files written; after a last daemon drains the
# spool, every event written is stored exactly once. Each round also
# freezes and unfreezes the workspace, so the daemon is delivering
# notifications to a loopback receiver when it dies: every audited change
# has its outbox rows after each kill, and at the end the receiver has
# received every one of them, signed (at least once: a kill between a
# POST and its row's update sends it again).
# SLUICE_DAEMON_CRASH_ROUNDS rounds (default 20; `make stress`: 100);
# SLUICE_DAEMON_CRASH_EVENTS events per spool file (default 3000);
# SLUICE_STRESS_SEED repeats a run's kill times.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
. "$(dirname "$0")/lib-daemon.sh"
ROUNDS=${SLUICE_DAEMON_CRASH_ROUNDS:-20}
N=${SLUICE_DAEMON_CRASH_EVENTS:-3000}
echo "seed $SEED, $ROUNDS rounds, $N events a file"

setup_admin v0.1.0 v0.1.1
SP=$R/.sluice/spool
written=0

SLUICE_WEBHOOK_KEY=k3y-for-stress
export SLUICE_WEBHOOK_KEY
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
HOOKLOG=$T/received.jsonl
start_receiver "$HOOKLOG"
trap '_dr_st=$?; kill "$RECV" 2>/dev/null; _daemon_reap; (exit $_dr_st); _tl_exit' EXIT
printf 'notifications:\n  - {url: "http://127.0.0.1:%s/hooks", secret_env: SLUICE_WEBHOOK_KEY, events: [all]}\n' \
	"$PORT" >>"$R/workspaces/engineering.yaml"
# notify_lost: audited freezes and unfreezes without their outbox row
notify_lost() {
	sq "SELECT (SELECT count(*) FROM audit WHERE action IN ('workspace.frozen', 'workspace.unfrozen'))
	  - (SELECT count(*) FROM outbox WHERE kind IN ('frozen', 'unfrozen'))"
}

# spool_file NAME: N events with ids unique to NAME, written as a producer
# does (NAME.tmp, then a rename)
spool_file() {
	awk -v n="$N" -v f="$1" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"id\": \"%s-%d\", \"type\": \"tool_call\", \"time\": \"2026-12-01T%02d:%02d:00Z\", \"workspace\": \"engineering\", \"plugin\": \"backend-pr-reviewer\", \"version\": \"0.1.%d\", \"group\": \"%s\", \"user\": \"u%d\", \"tool\": \"repo_search\", \"outcome\": \"%s\", \"latency_ms\": %d}\n", f, i, i % 24, i % 60, i % 2, i % 3 ? "platform-devex" : "backend-engineers-pilot", i % 11, i % 9 ? "ok" : "error", i % 700
	}' >"$SP/$1.tmp" || bail "cannot write $SP/$1.tmp"
	mv "$SP/$1.tmp" "$SP/$1.jsonl" || bail "cannot rename $SP/$1.tmp"
	written=$((written + N))
}

# done_events: the events of the files moved to done/
done_events() { find "$SP/done" -name '*.jsonl' 2>/dev/null | wc -l | awk -v n="$N" '{ print $1 * n }'; }

case_begin 'the releases are recorded and the spool made before the first kill'
S reconcile
expect_rc 0
expect_eq "0.1.0,0.1.1" "$(sq "SELECT group_concat(version) FROM (SELECT version FROM releases ORDER BY version)")" \
	"releases recorded"
mkdir -p "$SP"
t0=$(now_ms)
spool_file warmup
S telemetry ingest --spool "$SP"
expect_rc 0
DUR=$(($(now_ms) - t0))
expect_eq "$N" "$(sq 'SELECT count(*) FROM telemetry_events')" "events of the warm-up file"
case_end
echo "one reconcile and one spool file: $DUR ms"

killed=0
i=1
while [ "$i" -le "$ROUNDS" ]; do
	case_begin "round $i (seed $SEED): the daemon killed mid-tick, then checked"
	spool_file "r$i-a"
	spool_file "r$i-b"
	S freeze --reason "stress round $i" --as admin-ana -q
	expect_rc 0
	S unfreeze --as admin-ana -q
	expect_rc 0
	delay=$(rand_ms $((DUR * 2 + 100)) "$i")
	daemon_start d --interval 100ms --lease-period 3s
	sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
	if kill -9 "$DAEMON_PID" 2>/dev/null; then killed=$((killed + 1)); fi
	wait "$DAEMON_PID" 2>/dev/null
	expect_eq ok "$(sq 'PRAGMA integrity_check')" "round $i: integrity_check"
	S audit verify
	expect_rc 0
	got=$(sq 'SELECT count(*) FROM telemetry_events')
	moved=$(done_events)
	# a file is moved after its commit: a kill between the two leaves one
	# file stored but not moved; never the other way round
	expect_ok "round $i: $got events stored, fewer than the $moved of the files in done/" [ "$got" -ge "$moved" ]
	expect_ok "round $i: $got events stored, more than the $written written" [ "$got" -le "$written" ]
	expect_eq "$got" "$(sq 'SELECT count(DISTINCT id) FROM telemetry_events')" "round $i: distinct ids"
	expect_eq 0 "$(find "$SP/rejected" -type f 2>/dev/null | wc -l)" "round $i: files rejected"
	expect_eq 0 "$(notify_lost)" "round $i: audited changes without their notification"
	echo "round $i: kill after $delay ms; $got of $written events stored, $moved in done/"
	case_end
	i=$((i + 1))
done

case_begin 'a last daemon drains the spool: every event written is stored exactly once'
daemon_start last --interval 100ms --lease-period 3s
expect_ok "the last daemon did not act" wait_log last "took the daemon lease"
n=0
while [ $n -lt 600 ] && [ -n "$(find "$SP" -maxdepth 1 -name '*.jsonl' | head -1)" ]; do
	sleep 0.1
	n=$((n + 1))
done
expect_eq "" "$(find "$SP" -maxdepth 1 -name '*.jsonl')" "files left in the spool"
n=0
while [ $n -lt 300 ] && [ "$(sq "SELECT count(*) FROM outbox WHERE state != 'delivered'")" != 0 ]; do
	sleep 0.1
	n=$((n + 1))
done
daemon_stop last
expect_rc 0
expect_eq "$written|$written" "$(sq 'SELECT count(*), count(DISTINCT id) FROM telemetry_events')" \
	"events stored (and distinct ids) of those written"
expect_eq "$written" "$(sq 'SELECT sum(calls) FROM telemetry_daily')" "the rollups' calls"
expect_eq 0 "$(notify_lost)" "audited changes without their notification"
expect_eq "$((ROUNDS * 2))" "$(sq "SELECT count(*) FROM outbox WHERE kind IN ('frozen', 'unfrozen')")" \
	"freeze and unfreeze notifications"
expect_eq 0 "$(sq "SELECT count(*) FROM outbox WHERE state != 'delivered'")" "notifications not delivered"
jq -r 'select(.answer == "ok") | .event_id' "$HOOKLOG" | sort -u >"$T/acked" || fail "cannot read $HOOKLOG"
sq "SELECT event_id FROM outbox" | sort >"$T/outbox-ids"
expect_same "$T/outbox-ids" "$T/acked" "the receiver's deduped ids differ from the outbox's"
expect_eq "" "$(jq -r 'select(.signature_ok != true) | .event_id' "$HOOKLOG")" \
	"requests whose signature does not verify"
S audit verify
expect_rc 0
case_end
echo "$killed of $ROUNDS daemons were killed while running"
done_testing
