#!/bin/sh
# What `sluice run` shows operators (docs/operations.md): JSON log lines
# that parse and carry time, level, msg and the event's fields, a text
# format for people, no secret in any line; rejected spool lines kept in
# the reject file, not the log; the spool drained into the
# store; a metrics file that `promtool check metrics` accepts; and
# systemd's notify protocol on a fake NOTIFY_SOCKET (a path and an
# abstract socket): READY=1, STATUS=, WATCHDOG=1, STOPPING=1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
. "$(dirname "$0")/lib-daemon.sh"

setup_admin
SP=$R/.sluice/spool
M=$T/metrics.prom

# notify_listen SOCKET OUT SECONDS: a datagram listener writing each message
# to OUT; $T/listen.ready appears once it is bound
notify_listen() {
	rm -f "$T/listen.ready"
	python3 - "$1" "$2" "$3" "$T/listen.ready" <<'PY' &
import socket, sys, time
path, out, dur, ready = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
s.settimeout(0.1)
open(ready, "w").close()
end = time.time() + dur
with open(out, "a") as f:
    while time.time() < end:
        try:
            m = s.recv(4096)
        except socket.timeout:
            continue
        f.write(m.decode() + "\n")
        f.flush()
PY
	LISTEN_PID=$!
	i=0
	while [ ! -f "$T/listen.ready" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

case_begin 'the daemon drains the spool and logs JSON lines that parse and carry the fields'
daemon_start j --interval 500ms --lease-period 3s --metrics-file "$M"
expect_ok "the first pass did not run" wait_log j '"msg":"reconcile pass done'
expect_eq 700 "$(stat -c %a "$SP")" "the mode of the spool the daemon made"
tel_gen "$T/ev.tmp" 0.1.0 platform-devex 2026-12-01 40 3 2
echo '{"partial": ' >"$SP/batch-2.jsonl.tmp"
mv "$T/ev.tmp" "$SP/batch-1.jsonl"
expect_ok "the spool was not ingested" wait_log j "ingested 42 telemetry events from 1 spool file"
expect_ok "a second pass did not run" wait_log j '"msg":"reconcile pass done"'
daemon_stop j
expect_rc 0
expect_eq 42 "$(sq 'SELECT count(*) FROM telemetry_events')" "events stored"
expect_ok "the ingested file was not moved to done/" [ -f "$SP/done/batch-1.jsonl" ]
expect_ok "the file still being written was touched" [ -f "$SP/batch-2.jsonl.tmp" ]
run python3 - "$T/j.log" <<'PY'
import json, re, sys
seen = set()
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]), (n, o)
    assert o["level"] in ("debug", "info", "warn", "error"), (n, o)
    assert isinstance(o["msg"], str) and o["msg"], (n, o)
    seen.update(o)
    if "duration_ms" in o:
        assert isinstance(o["duration_ms"], int) and o["duration_ms"] >= 0, (n, o)
for key in ("plugin", "duration_ms", "holder"):
    assert key in seen, "no line carries " + key
print("ok")
PY
expect_rc 0
expect_out ok
expect_ok "no line names the plugin of the recorded release" \
	grep -q '"msg":"recorded release 0.1.0 (v0.1.0, commit [0-9a-f]*)","plugin":"backend-pr-reviewer"' "$T/j.log"
expect_not "a log line carries the secret's value" grep -qF "$SLUICE_SECRET_CODEX_BACKEND_PR_REVIEWER_SERVICE_TOKEN" "$T/j.log"
case_end

case_begin 'a rejected spool line goes to the reject file beside the database, never to the log'
daemon_start k --interval 500ms --lease-period 3s
expect_ok "the first pass did not run" wait_log k '"msg":"reconcile pass done'
tel_gen "$T/ev3.tmp" 0.1.0 platform-devex 2026-12-01 4 0 0
echo '{"id": "bad-1", "type": "tool_call", "comment": "what-a-user-typed-7731"}' >>"$T/ev3.tmp"
mv "$T/ev3.tmp" "$SP/batch-3.jsonl"
expect_ok "the rejected line was not logged" wait_log k "rejected telemetry line $SP/batch-3.jsonl:5"
daemon_stop k
expect_rc 0
RJ=$R/.sluice/telemetry-rejects.jsonl
expect_ok "no reject file at $RJ" [ -f "$RJ" ]
expect_eq 600 "$(stat -c %a "$RJ")" "the reject file's mode"
run python3 - "$RJ" "$SP/batch-3.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
mine = [r for r in rows if r["source"] == sys.argv[2]]
assert len(mine) == 1, rows
r = mine[0]
assert r["line"] == 5 and "what-a-user-typed-7731" in r["text"] and r["reason"], r
assert r["truncated"] is False, r
print("ok")
PY
expect_rc 0
expect_out ok
expect_not "the log carries the rejected line's text" grep -qF "what-a-user-typed-7731" "$T/k.log"
expect_ok "the file with a rejected line was not moved to rejected/" [ -f "$SP/rejected/batch-3.jsonl" ]
case_end

case_begin 'the metrics file passes promtool check metrics and says what the store holds'
expect_ok "no metrics file" [ -f "$M" ]
run promtool check metrics <"$M"
expect_rc 0
for name in sluice_reconcile_duration_seconds sluice_reconcile_success sluice_releases \
	sluice_gate_results sluice_blocked_stages sluice_outbox_pending sluice_outbox_oldest_age_seconds \
	sluice_source_last_fetch_success_timestamp_seconds sluice_publish_success sluice_daemon_lease_held; do
	expect_ok "no HELP for $name" grep -q "^# HELP $name " "$M"
	expect_ok "no TYPE for $name" grep -q "^# TYPE $name " "$M"
done
expect_ok "releases by state" grep -qx 'sluice_releases{state="pending"} 1' "$M"
expect_ok "the lease held" grep -qx 'sluice_daemon_lease_held 1' "$M"
expect_ok "the last reconcile succeeded" grep -qx 'sluice_reconcile_success 1' "$M"
expect_ok "events ingested" grep -qx 'sluice_telemetry_events_ingested_total 42' "$M"
expect_ok "the outbox is empty" grep -qx 'sluice_outbox_pending 0' "$M"
expect_ok "the approval the release waits for" grep -qx 'sluice_blocked_stages{kind="approval"} 1' "$M"
fetched=$(sed -n 's/^sluice_source_last_fetch_success_timestamp_seconds{repository="acme\/codex-plugin-backend-pr-reviewer"} //p' "$M")
expect_ok "the last fetch time '$fetched' is not recent" [ "${fetched:-0}" -gt $(($(date +%s) - 600)) ]
case_end

case_begin 'a standby writes metrics too, with the lease not held'
daemon_start h --interval 1h --lease-period 3s
expect_ok "the holder did not act" wait_log h "reconcile pass done"
daemon_start s --interval 1h --lease-period 3s --metrics-file "$T/standby.prom"
expect_ok "no standby" wait_log s "standing by"
daemon_stop s
expect_rc 0
daemon_stop h
expect_rc 0
run promtool check metrics <"$T/standby.prom"
expect_rc 0
expect_ok "the standby says it holds the lease" grep -qx 'sluice_daemon_lease_held 0' "$T/standby.prom"
case_end

case_begin '--log-format text writes one line per event for people'
daemon_start t --interval 1h --lease-period 3s --log-format text
expect_ok "no pass" wait_log t "reconcile pass done"
daemon_stop t
expect_rc 0
expect_ok "not a text line" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z info  reconcile pass done duration_ms=[0-9]+$' "$T/t.log"
expect_not "a JSON line in the text log" grep -q '^{' "$T/t.log"
case_end

case_begin 'NOTIFY_SOCKET (a path): READY=1, STATUS, WATCHDOG=1 and STOPPING=1'
: >"$T/notify.path"
notify_listen "$T/notify.sock" "$T/notify.path" 6
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 daemon_start n --interval 1h --lease-period 3s
expect_ok "no pass" wait_log n "reconcile pass done"
sleep 1
daemon_stop n
expect_rc 0
kill "$LISTEN_PID" 2>/dev/null
wait "$LISTEN_PID" 2>/dev/null
expect_ok "no READY=1" grep -qx 'READY=1' "$T/notify.path"
expect_ok "no STATUS" grep -q '^STATUS=acting: last reconcile ok$' "$T/notify.path"
expect_ok "fewer than 2 WATCHDOG=1 in a second at a 400 ms watchdog" \
	[ "$(grep -cx 'WATCHDOG=1' "$T/notify.path")" -ge 2 ]
expect_ok "no STOPPING=1" grep -qx 'STOPPING=1' "$T/notify.path"
case_end

case_begin 'NOTIFY_SOCKET (an abstract socket, @name): READY=1 for a standby too'
: >"$T/notify.abs"
notify_listen "@sluice-test-$$" "$T/notify.abs" 6
daemon_start h2 --interval 1h --lease-period 3s
expect_ok "the holder did not act" wait_log h2 "reconcile pass done"
NOTIFY_SOCKET=@sluice-test-$$ daemon_start s2 --interval 1h --lease-period 3s
expect_ok "no standby" wait_log s2 "standing by"
sleep 0.3
daemon_stop s2
expect_rc 0
daemon_stop h2
expect_rc 0
kill "$LISTEN_PID" 2>/dev/null
wait "$LISTEN_PID" 2>/dev/null
expect_ok "no READY=1" grep -qx 'READY=1' "$T/notify.abs"
expect_ok "no standby STATUS" grep -q "^STATUS=standing by: the daemon lease is held by $(cat "$T/h2.pid")@" "$T/notify.abs"
case_end

done_testing
