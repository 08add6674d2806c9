#!/bin/sh
# Crash safety (issue 5): `kill -9` a reconcile at a random moment, then
# check that the database is sound (PRAGMA integrity_check), that every
# started stage has its audit row, that the audit chain verifies, and that
# the next reconcile finishes the work and ends in the same state - the
# state tables, audit rows and effective.json - as a pass that was never
# interrupted. SLUICE_CRASH_ROUNDS rounds (default 20; `make stress`: 200);
# SLUICE_STRESS_SEED repeats a run's kill times.
#
# Two passes are killed, alternately, each from a saved copy of the state
# before it: (A) the first pass over 7 plugins - recording and validating
# each release, starting stage 1, publishing - and (B) a pass a week later
# that starts stage 2 of 6 plugins. The kill comes at a random moment in
# [0, 1.2 x the uninterrupted pass's duration], so some rounds kill before
# the first commit, most in the middle, a few after the end.
. "$(dirname "$0")/lib.sh"
. "$SRC/tests/stress/lib.sh"
ROUNDS=${SLUICE_CRASH_ROUNDS:-20}
echo "seed $SEED, $ROUNDS rounds"

sc_root
sc_repos v0.1.0
# the built-in rollout policy (no checklist), so that stage 1 of the six
# demo plugins needs nobody; the reference plugin still waits for its
# admin approval and is recorded and validated all the same
sc_ws '/rollout_policy: standard/d'
sc_make_plugins 6 "$T/src"
D0=2026-12-01T09:00:00Z
D1=2026-12-08T10:00:00Z
run sl fetch --now $D0
expect_rc 0

# state A: mirrors fetched, no release recorded; state B: after A's pass
cp -a "$R" "$T/stateA"
run sl reconcile --no-fetch --now $D0
expect_rc 0
expect_eq 6 "$(grep -c ': start stage devex-dogfood' "$T/out")" "stage 1 starts in pass A"
cp -a "$R" "$T/stateB"

# reference PHASE NOW: the uninterrupted pass from that state: its dump,
# effective.json and duration in ms
reference() {
	# once to warm the page cache (a cold first pass is much slower, and
	# the kills would mostly come after the end), then timed
	rm -rf "$T/ref"
	cp -a "$T/state$1" "$T/ref"
	"$SLUICE" --root "$T/ref" reconcile --no-fetch --now "$2" >/dev/null 2>&1 || true
	rm -rf "$T/ref"
	cp -a "$T/state$1" "$T/ref"
	t0=$(now_ms)
	"$SLUICE" --root "$T/ref" reconcile --no-fetch --now "$2" >/dev/null 2>"$T/err" ||
		fail "reference pass $1 failed: $(cat "$T/err")"
	echo $(($(now_ms) - t0)) >"$T/dur$1"
	sqlite3 "$T/state$1/.sluice/sluice.db" 'SELECT count(*) FROM stage_starts' >"$T/before$1"
	echo $(($(sqlite3 "$T/ref/.sluice/sluice.db" 'SELECT count(*) FROM stage_starts') - $(cat "$T/before$1"))) >"$T/want$1"
	sc_dump "$T/ref/.sluice/sluice.db" >"$T/dump$1"
	cp "$T/ref/.sluice/published/effective.json" "$T/effective$1"
	(cd "$T/ref/.sluice/published" && find . | sort) >"$T/files$1"
}
reference A $D0
reference B $D1
grep -q "^stage|demo-01|0.1.0|1|backend-pilot|" "$T/dumpB" || fail "pass B did not start stage 2"
echo "uninterrupted passes: A $(cat "$T/durA") ms, B $(cat "$T/durB") ms"

killed_mid=0
i=1
while [ "$i" -le "$ROUNDS" ]; do
	if [ $((i % 2)) = 1 ]; then phase=A now=$D0; else phase=B now=$D1; fi
	dur=$(cat "$T/dur$phase")
	delay=$(rand_ms $((dur * 12 / 10 + 1)) "$i")
	rm -rf "$R"
	cp -a "$T/state$phase" "$R"
	"$SLUICE" --root "$R" reconcile --no-fetch --now "$now" >"$T/killed.out" 2>&1 &
	pid=$!
	sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
	if kill -9 "$pid" 2>/dev/null; then
		state=killed
	else
		state=finished
	fi
	wait "$pid" 2>/dev/null || true
	# how far it got: stages started by the killed pass, of those the
	# uninterrupted one starts
	got=$(($(q 'SELECT count(*) FROM stage_starts') - $(cat "$T/before$phase")))
	want=$(cat "$T/want$phase")
	[ $state = killed ] && [ "$got" -gt 0 ] && [ "$got" -lt "$want" ] && killed_mid=$((killed_mid + 1))
	echo "round $i: pass $phase, kill after $delay ms: $state, $got of $want stages started"

	# right after the kill: sound file, stages audited, chain verifies
	sc_db_checks
	# the next pass finishes the work: the same state as never interrupted
	run sl reconcile --no-fetch --now "$now"
	expect_rc 0
	sc_dump "$DB" >"$T/dump.now"
	if ! cmp -s "$T/dump$phase" "$T/dump.now"; then
		diff "$T/dump$phase" "$T/dump.now" >&2
		fail "round $i (seed $SEED): the state after the kill and a new pass differs from an uninterrupted pass"
	fi
	cmp -s "$T/effective$phase" "$EFFECTIVE" ||
		fail "round $i (seed $SEED): effective.json differs from an uninterrupted pass"
	# and the published directory holds the same files: no temporary file
	# or half-written release left behind by the killed pass
	(cd "$R/.sluice/published" && find . | sort) >"$T/files.now"
	if ! cmp -s "$T/files$phase" "$T/files.now"; then
		diff "$T/files$phase" "$T/files.now" >&2
		fail "round $i (seed $SEED): the published files differ from an uninterrupted pass"
	fi
	i=$((i + 1))
done
echo "$killed_mid rounds killed a pass half-way (some of its stages started, not all)"
done_testing
