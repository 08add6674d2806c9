#!/bin/sh
# Failover to a standby on another host (docs/scaling.md, "What a failover
# costs"): a daemon holds the reconcile lease with its own lease period,
# not ten minutes, and renews it (and the daemon lease) while a remote
# stalls its fetch; when it dies on "another host" (its lease rows name a
# host whose processes this one cannot see), a standby takes both leases
# within their period and finishes a pass, audited as taking over from
# it. SIGTERM while a remote stalls stops the daemon within 10 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
. "$(dirname "$0")/lib-daemon.sh"

setup_admin
PERIOD=3

# A loopback server that accepts connections and never answers: the
# smart-HTTP read of the repository behind it hangs until its timeout.
python3 - "$T/stall.port" <<'PYEOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PYEOF
STALL=$!
echo "$STALL" >"$T/stall.pid" # reaped with the daemons
i=0
until [ -f "$T/stall.port" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -f "$T/stall.port" ] || bail "the stalling server did not start"
PORT=$(cat "$T/stall.port")
ws_edit "s|^plugins:|plugins:\n  - {repository: acme/stalls, url: \"http://127.0.0.1:$PORT/acme/stalls.git\", versions: \">=0.1.0\"}|"

lease() { sq "SELECT $1 FROM leases WHERE name = '$2'"; }

case_begin 'the daemon holds the reconcile lease with its own period and renews it while a remote stalls'
daemon_start p --interval 1h --lease-period ${PERIOD}s
P=$DAEMON_PID
expect_ok "the daemon did not take its lease" wait_log p "took the daemon lease"
i=0
until [ -n "$(lease holder reconcile)" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_ok "no reconcile lease while the pass runs" [ -n "$(lease holder reconcile)" ]
expect_eq "$P" "$(lease pid reconcile)" "the reconcile lease's holder"
expect_eq $PERIOD "$(lease 'expires_at - acquired_at' reconcile)" "the reconcile lease's period (s)"
r1=$(lease expires_at reconcile)
d1=$(lease expires_at daemon)
sleep $((PERIOD + 1))
expect_eq 0 "$(log_count p 'reconcile pass')" "passes finished while the remote stalls"
expect_ok "the reconcile lease was not renewed during the stalled fetch ($r1 then $(lease expires_at reconcile))" \
	[ "$(lease expires_at reconcile)" -gt "$r1" ]
expect_ok "the daemon lease was not renewed during the stalled fetch ($d1 then $(lease expires_at daemon))" \
	[ "$(lease expires_at daemon)" -gt "$d1" ]
case_end

case_begin 'the primary dies on another host: the standby takes over within the lease period and finishes a pass'
daemon_kill p
# as a standby on another host sees them: a holder whose process it
# cannot check, so only the expiry counts
sq "UPDATE leases SET host = 'primary.elsewhere', holder = pid || '@primary.elsewhere'" >/dev/null
expect_eq 2 "$(sq "SELECT count(*) FROM leases WHERE host = 'primary.elsewhere'")" "the dead primary's leases"
# the stalling remote goes with its host: refused from now on
kill "$STALL"
wait "$STALL" 2>/dev/null
t0=$(now_ms)
daemon_start s --interval 1h --lease-period ${PERIOD}s
expect_ok "the standby did not take over" wait_log s "took the daemon lease; acting" $((PERIOD * 2 + 2))
expect_ok "the standby's pass did not finish" wait_log s "reconcile pass done" $((PERIOD * 3 + 5))
took=$(($(now_ms) - t0))
echo "from the standby's start to its first pass: $took ms (lease period ${PERIOD}s)"
expect_ok "the takeover's first pass came $took ms after the start, more than two lease periods and 3 s" \
	[ "$took" -le $((PERIOD * 2000 + 3000)) ]
expect_eq 0 "$(log_count s 'another reconcile')" "ticks the standby left to the dead primary's pass"
expect_eq "$P@primary.elsewhere" \
	"$(sq "SELECT json_extract(details, '\$.took_over_from') FROM audit WHERE action = 'daemon.acting'
		ORDER BY id DESC LIMIT 1")" "whom the standby's daemon.acting row took over from"
expect_ok "the pass reached the stalling repository's host" grep -q 'acme/stalls' "$T/s.log"
daemon_stop s
expect_rc 0
S audit verify
expect_rc 0
case_end

case_begin 'SIGTERM while a remote stalls the fetch stops the daemon within 10 s'
python3 - "$T/stall2.port" "$PORT" <<'PYEOF' &
import socket, sys, os
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[2])))
s.listen(64)
open(sys.argv[1], "w").write("up")
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PYEOF
echo $! >"$T/stall2.pid"
i=0
until [ -f "$T/stall2.port" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
daemon_start t --interval 1h --lease-period ${PERIOD}s
expect_ok "the daemon did not take its lease" wait_log t "took the daemon lease"
sleep 2
expect_eq 0 "$(log_count t 'reconcile pass done')" "passes finished while the remote stalls"
daemon_stop t
expect_rc 0
expect_ok "stopping took $stop_ms ms" [ "$stop_ms" -lt 10000 ]
expect_ok "the stopped pass was not logged as stopped early" wait_log t "stopped early" 1
expect_eq 0 "$(sq "SELECT count(*) FROM leases")" "leases left after SIGTERM"
S audit verify
expect_rc 0
case_end

done_testing
