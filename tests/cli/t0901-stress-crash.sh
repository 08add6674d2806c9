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
. "$(dirname "$0")/lib-ops.sh"
ROUNDS=${SLUICE_CRASH_ROUNDS:-20}
echo "seed $SEED, $ROUNDS rounds"

setup_admin
# the built-in rollout policy (no checklist), so that stage 1 of the six
# demo plugins needs nobody; the reference plugin still waits for its
# admin approval and is recorded and validated all the same
ws_edit '/rollout_policy: standard/d'
make_demo_plugins 6 "$T/src"
# each round replaces $R: work from outside it
cd "$T" || bail "cd $T"
D0=2026-12-01T09:00:00Z
D1=2026-12-08T10:00:00Z

case_begin 'the saved states: A, mirrors fetched and nothing recorded; B, after pass A'
S fetch --now $D0
expect_rc 0
cp -a "$R" "$T/stateA"
S reconcile --no-fetch --now $D0
expect_rc 0
expect_eq 6 "$(grep -c ': start stage devex-dogfood' "$T/out")" "stage 1 starts in pass A"
cp -a "$R" "$T/stateB"
case_end

# reference PHASE NOW: the uninterrupted pass from that state: its dump,
# effective.json and duration in ms
reference() {
	# once to warm the page cache (a cold first pass is much slower, and
	# the kills would mostly come after the end), then timed
	rm -rf "$T/ref"
	cp -a "$T/state$1" "$T/ref"
	run "$SLUICE" --root "$T/ref" reconcile --no-fetch --now "$2"
	expect_rc 0
	rm -rf "$T/ref"
	cp -a "$T/state$1" "$T/ref"
	t0=$(now_ms)
	run "$SLUICE" --root "$T/ref" reconcile --no-fetch --now "$2"
	expect_rc 0
	echo $(($(now_ms) - t0)) >"$T/dur$1"
	sqlite3 "$T/state$1/.sluice/sluice.db" 'SELECT count(*) FROM stage_starts' >"$T/before$1" ||
		fail "cannot count the stages of state $1"
	ref_starts=$(sqlite3 "$T/ref/.sluice/sluice.db" 'SELECT count(*) FROM stage_starts') ||
		fail "cannot count the stages of reference pass $1"
	echo $((ref_starts - $(cat "$T/before$1"))) >"$T/want$1"
	dump_normalised "$T/ref/.sluice/sluice.db" >"$T/dump$1"
	cp "$T/ref/.sluice/published/effective.json" "$T/effective$1"
	(cd "$T/ref/.sluice/published" && find . | sort) >"$T/files$1"
}

case_begin 'the uninterrupted passes A and B'
reference A $D0
reference B $D1
expect_ok "pass B did not start stage 2" grep -q "^stage|demo-01|0.1.0|1|backend-pilot|" "$T/dumpB"
case_end
echo "uninterrupted passes: A $(cat "$T/durA") ms, B $(cat "$T/durB") ms"

killed_mid=0
i=1
while [ "$i" -le "$ROUNDS" ]; do
	if [ $((i % 2)) = 1 ]; then phase=A now=$D0; else phase=B now=$D1; fi
	case_begin "round $i (seed $SEED): pass $phase killed, then finished by the next pass"
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
	killed_rc=0
	wait "$pid" 2>/dev/null || killed_rc=$?
	# a pass that ended before the kill must have succeeded
	[ $state = killed ] || expect_eq 0 "$killed_rc" "round $i: the exit status of the pass that finished"
	# how far it got: stages started by the killed pass, of those the
	# uninterrupted one starts
	got=$(($(sq 'SELECT count(*) FROM stage_starts') - $(cat "$T/before$phase")))
	want=$(cat "$T/want$phase")
	[ $state = killed ] && [ "$got" -gt 0 ] && [ "$got" -lt "$want" ] && killed_mid=$((killed_mid + 1))
	echo "round $i: pass $phase, kill after $delay ms: $state, $got of $want stages started"

	# right after the kill: sound file, stages audited, chain verifies
	expect_sound_db
	# the next pass finishes the work: the same state as never interrupted
	S reconcile --no-fetch --now "$now"
	expect_rc 0
	dump_normalised "$DB" >"$T/dump.now"
	expect_same "$T/dump$phase" "$T/dump.now" \
		"round $i: the state after the kill and a new pass differs from an uninterrupted pass"
	expect_same "$T/effective$phase" "$EFFECTIVE" "round $i: effective.json differs from an uninterrupted pass"
	# and the published directory holds the same files: no temporary file
	# or half-written release left behind by the killed pass
	(cd "$R/.sluice/published" && find . | sort) >"$T/files.now"
	expect_same "$T/files$phase" "$T/files.now" "round $i: the published files differ from an uninterrupted pass"
	case_end
	i=$((i + 1))
done
echo "$killed_mid rounds killed a pass half-way (some of its stages started, not all)"
done_testing
