#!/bin/sh
# sluice run and its signals (docs/operations.md): SIGHUP reconciles at
# once, SIGTERM stops within 10 s with exit 0 and a sound audit chain, a
# broken configuration skips the tick and the daemon goes on; bad options
# are usage errors; under identity: asserted, --now replays from a moment
# on, and a clock behind the log skips the tick.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
. "$(dirname "$0")/lib-daemon.sh"

setup_admin

case_begin 'bad options are usage errors, before anything is opened'
S run --interval 10x
expect_rc 129
expect_err "error: --interval: duration '10x' has no known unit; use ms, s, m or h"
S run --interval 0s
expect_rc 129
expect_err "invalid duration '0s'"
S run --lease-period 1s
expect_rc 129
expect_err "error: --lease-period must be at least 3s"
S run --log-format xml
expect_rc 129
expect_err "error: --log-format must be json or text, not 'xml'"
ws_edit 's/identity: asserted/identity: os-user/'
S run --now 2026-12-01T00:00:00Z
expect_rc 129
expect_err "error: --now is only for read-only views under identity: os-user; 'sluice run' is an action and runs on the system clock"
cp "$T/ws.before" "$R/workspaces/engineering.yaml"
expect_not "a usage error created the database" [ -f "$DB" ]
case_end

case_begin 'SIGHUP reconciles at once: a new tag is recorded without waiting the interval'
daemon_start d --interval 1h --lease-period 3s
expect_ok "the first tick did not finish" wait_log d "reconcile pass done"
expect_eq "0.1.0" "$(sq "SELECT group_concat(version) FROM releases")" "releases after the first tick"
example_tags v0.1.0 v0.1.1
t0=$(now_ms)
kill -HUP "$DAEMON_PID"
expect_ok "SIGHUP did not reconcile" wait_log d "recorded release 0.1.1" 5
took=$(($(now_ms) - t0))
expect_ok "SIGHUP took ${took} ms to record the tag" [ "$took" -lt 5000 ]
expect_eq 1 "$(log_count d 'SIGHUP: reconciling now')" "SIGHUP logged once"
expect_eq "0.1.0,0.1.1" "$(sq "SELECT group_concat(version) FROM (SELECT version FROM releases ORDER BY version)")" \
	"releases after SIGHUP"
case_end

case_begin 'a broken configuration skips the tick, is logged, and the daemon goes on'
cp "$R/workspaces/engineering.yaml" "$T/ws.good"
echo "bogus_top_level_key: 1" >>"$R/workspaces/engineering.yaml"
snapshot
kill -HUP "$DAEMON_PID"
expect_ok "the broken configuration was not logged" wait_log d "cannot load the configuration; this tick is skipped" 5
expect_ok "the daemon stopped on a broken configuration" kill -0 "$DAEMON_PID"
expect_state_unchanged "a tick with a broken configuration changed the state"
cp "$T/ws.good" "$R/workspaces/engineering.yaml"
n=$(log_count d "reconcile pass done")
kill -HUP "$DAEMON_PID"
wait_for_more() { [ "$(log_count d 'reconcile pass done')" -gt "$n" ]; }
i=0
while [ $i -lt 50 ] && ! wait_for_more; do sleep 0.1; i=$((i + 1)); done
expect_ok "no pass after the configuration was fixed" wait_for_more
case_end

case_begin 'SIGTERM stops within 10 s, exit 0, gives the lease back, audit verify passes'
daemon_stop d
expect_rc 0
expect_ok "stopping took $stop_ms ms" [ "$stop_ms" -lt 10000 ]
expect_ok "the stop was not logged" grep -qF '"msg":"stopped"' "$T/d.log"
expect_eq 0 "$(sq "SELECT count(*) FROM leases WHERE name IN ('daemon', 'reconcile')")" "leases left"
S audit verify
expect_rc 0
case_end

case_begin 'SIGINT mid-pass finishes the transaction in hand and exits 0'
daemon_start d2 --interval 1h --lease-period 3s
expect_ok "the daemon did not start acting" wait_log d2 "took the daemon lease"
kill -INT "$DAEMON_PID"
daemon_stop d2
expect_rc 0
expect_eq ok "$(sq 'PRAGMA integrity_check')" "integrity_check"
S audit verify
expect_rc 0
case_end

case_begin 'under identity: asserted, --now starts the rollout clock there and it moves on in real time'
T0=2027-02-01T09:00:00Z
t0=$(date -u -d "$T0" +%s)
daemon_start r --now $T0 --interval 1h --lease-period 3s
expect_ok "the replaying daemon did not act" wait_log r "reconcile pass done"
tag_release 0.1.2
kill -HUP "$DAEMON_PID"
expect_ok "the replaying daemon did not record 0.1.2" wait_log r "recorded release 0.1.2" 5
seen=$(sq "SELECT seen_at FROM releases WHERE version = '0.1.2'")
expect_ok "0.1.2 was seen at $seen, not within a minute after $T0 ($t0)" \
	[ "$seen" -ge "$t0" ] && [ "$seen" -lt $((t0 + 60)) ]
me=$(cat "$T/r.pid")
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'daemon.acting' AND at >= $t0
	AND json_extract(details, '$.daemon') LIKE '$me@%'")" "the replaying daemon's daemon.acting row"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'release.recorded' AND version = '0.1.2'
	AND json_extract(details, '$.daemon') LIKE '$me@%'")" "0.1.2's release.recorded row, naming the daemon"
daemon_stop r
expect_rc 0
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'daemon.stopped'
	AND json_extract(details, '$.daemon') LIKE '$me@%'")" "the replaying daemon's daemon.stopped row"
case_end

case_begin 'a clock behind an event already recorded skips the tick and changes nothing'
snapshot
daemon_start b --now 2027-01-15T00:00:00Z --interval 500ms --lease-period 3s
expect_ok "the clock behind the log was not logged" \
	wait_log b "is behind an event already recorded at 2027-02-01T09:00:" 5
expect_ok "the daemon stopped on a clock behind the log" kill -0 "$DAEMON_PID"
expect_eq 0 "$(log_count b 'reconcile pass')" "passes run on a clock behind the log"
expect_state_unchanged "a tick on a clock behind the log changed the state"
daemon_stop b
expect_rc 0
S audit verify
expect_rc 0
case_end

done_testing
