#!/bin/sh
# One daemon acts per database (docs/operations.md, "The daemon lease"):
# a second `sluice run` on the same database stands by, naming the holder,
# and never acts while the first lives; when the first is killed with
# kill -9 the second takes over within one lease period and acts. The
# audit log, where each daemon's rows name it, shows the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
. "$(dirname "$0")/lib-daemon.sh"

setup_admin
PERIOD=3

case_begin 'the second daemon stands by, naming the holder, and does nothing'
daemon_start a --interval 500ms --lease-period ${PERIOD}s
A=$DAEMON_PID
expect_ok "the first daemon did not act" wait_log a "reconcile pass done"
daemon_start b --interval 500ms --lease-period ${PERIOD}s
B=$DAEMON_PID
expect_ok "the second daemon did not say it stands by" \
	wait_log b "standing by: another daemon ($A@" 5
# two lease periods: the holder renews; the standby never acts
sleep $((PERIOD * 2))
expect_eq 0 "$(log_count b 'took the daemon lease')" "the standby took the lease while the holder lived"
expect_eq 0 "$(log_count b 'reconcile pass')" "the standby reconciled while the holder lived"
expect_ok "the holder stopped acting" [ "$(log_count a 'reconcile pass done')" -ge 4 ]
expect_eq "$A" "$(sq "SELECT pid FROM leases WHERE name = 'daemon'")" "the lease's holder"
expect_eq 1 "$(log_count b 'standing by')" "standing by is said once, not every poll"
# work for the holder, while the standby watches
tag_release 0.1.1
expect_ok "the holder did not record 0.1.1" wait_log a "recorded release 0.1.1"
expect_eq 0 "$(log_count b 'recorded release')" "releases the standby recorded"
case_end

case_begin 'after kill -9 of the holder the standby takes over within one lease period'
daemon_kill a
t0=$(now_ms)
expect_ok "the standby never took over" wait_log b "took the daemon lease; acting" $((PERIOD + 2))
took=$(($(now_ms) - t0))
expect_ok "the takeover took $took ms, more than the lease period" [ "$took" -le $((PERIOD * 1000)) ]
expect_ok "the survivor did not reconcile" wait_log b "reconcile pass done" 5
expect_eq "$B" "$(sq "SELECT pid FROM leases WHERE name = 'daemon'")" "the lease's holder"
expect_eq 1 "$(log_count b 'took the daemon lease')" "the survivor's takeovers"
tag_release 0.1.2
expect_ok "the survivor did not record 0.1.2" wait_log b "recorded release 0.1.2"
case_end

case_begin 'the audit log shows one daemon acting at a time: every row of the first, then every row of the survivor'
# each row a daemon wrote names it (details.daemon)
who() { sq "SELECT json_extract(details, '\$.daemon') FROM audit WHERE $1"; }
expect_eq "$(printf '%s\n%s' "$A" "$B")" \
	"$(sq "SELECT DISTINCT CAST(json_extract(details, '\$.daemon') AS TEXT) FROM audit
		WHERE json_extract(details, '\$.daemon') IS NOT NULL ORDER BY id" | cut -d@ -f1)" \
	"the daemons named in the audit log, in order"
last_a=$(sq "SELECT max(id) FROM audit WHERE json_extract(details, '\$.daemon') LIKE '$A@%'")
first_b=$(sq "SELECT min(id) FROM audit WHERE json_extract(details, '\$.daemon') LIKE '$B@%'")
expect_ok "a row of the first daemon ($last_a) comes after one of the survivor ($first_b)" \
	[ "$last_a" -lt "$first_b" ]
expect_eq daemon.acting "$(sq "SELECT action FROM audit WHERE id = $first_b")" "the survivor's first row"
expect_eq "$A" "$(sq "SELECT json_extract(details, '\$.took_over_from') FROM audit WHERE id = $first_b" |
	cut -d@ -f1)" "whom the survivor's daemon.acting row took over from"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'daemon.acting'
	AND json_extract(details, '\$.daemon') LIKE '$A@%'")" "daemon.acting rows of the first daemon"
expect_eq "$A" "$(who "action = 'release.recorded' AND version = '0.1.1'" | cut -d@ -f1)" \
	"the daemon that recorded 0.1.1"
expect_eq "$B" "$(who "action = 'release.recorded' AND version = '0.1.2'" | cut -d@ -f1)" \
	"the daemon that recorded 0.1.2"
case_end

case_begin 'the two never acted at once: the survivor acted only after the first died'
# every acting line of b comes after its takeover line; a acted before
first_act=$(grep -n 'took the daemon lease' "$T/b.log" | head -1 | cut -d: -f1)
first_pass=$(grep -n 'reconcile pass' "$T/b.log" | head -1 | cut -d: -f1)
expect_ok "b reconciled before it held the lease" [ "$first_pass" -gt "$first_act" ]
S audit verify
expect_rc 0
daemon_stop b
expect_rc 0
case_end

case_begin 'a reconcile from cron while the daemon acts waits for it or skips, never overlaps'
daemon_start c --interval 200ms --lease-period ${PERIOD}s
expect_ok "the daemon did not act" wait_log c "reconcile pass done"
n=0
while [ $n -lt 5 ]; do
	S reconcile
	expect_rc 0
	n=$((n + 1))
done
daemon_stop c
expect_rc 0
expect_eq ok "$(sq 'PRAGMA integrity_check')" "integrity_check"
S audit verify
expect_rc 0
case_end

done_testing
