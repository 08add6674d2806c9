#!/bin/sh
# Another program holds the database's write lock (an sqlite3 shell in
# BEGIN IMMEDIATE): reconcile and an action give up after the busy wait
# ($SLUICE_BUSY_TIMEOUT_MS, 30 s by default) with exit 1, naming the
# database and what to do, and change nothing; once the lock goes, they
# work again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

# hold_lock: an sqlite3 shell takes the write lock and keeps it until
# release_lock closes its input
hold_lock() {
	mkfifo "$T/fifo" || bail "mkfifo $T/fifo failed"
	sqlite3 "$DB" <"$T/fifo" >/dev/null 2>&1 &
	holder=$!
	exec 3>"$T/fifo"
	echo "BEGIN IMMEDIATE;" >&3
	i=0
	# wait until the lock is really held
	while sqlite3 -cmd ".timeout 0" "$DB" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || bail "the sqlite3 shell never took the lock"
		sleep 0.1
	done
}
release_lock() {
	exec 3>&-
	wait "$holder"
	rm -f "$T/fifo"
}

case_begin 'the first pass records 0.1.0'
record
case_end

case_begin 'reconcile gives up after the busy wait: exit 1, the database and what to do named, nothing changed'
hold_lock
snapshot
export SLUICE_BUSY_TIMEOUT_MS=500
start=$(date +%s)
S reconcile --now $D1
took=$(($(date +%s) - start))
expect_rc 1
expect_err "database $R/.sluice/sluice.db is locked by another program"
expect_err "find it with 'fuser $R/.sluice/sluice.db' and end it"
expect_ok "reconcile waited ${took}s for the lock, not about 0.5 s" test "$took" -le 10
expect_unchanged
case_end

case_begin "an administrator's action alike: exit 1, nothing recorded"
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
expect_rc 1
expect_err "is locked by another program"
expect_unchanged
case_end

case_begin 'reconcile -o json: the same failure, not a pass skipped for a lease'
S reconcile --now $D1 -o json
expect_rc 1
expect_err "is locked by another program"
expect_no_out '"skipped_lease_held_by"'
release_lock
expect_unchanged
case_end

case_begin 'the lock gone, both work'
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
expect_rc 0
S reconcile --now $D1
expect_rc 0
expect_eq 1 "$(sq "SELECT count(*) FROM approvals")" "approvals after the lock went"
unset SLUICE_BUSY_TIMEOUT_MS
case_end

done_testing
