#!/bin/sh
# Concurrency (issue 5): two `reconcile` processes and an `approve` at once,
# SLUICE_CONCURRENCY_ROUNDS rounds (default 20; `make stress`: 100), each
# from the same saved state. After each round: every process exited 0 (the
# second reconcile waits for the first one's lease, then finds nothing to
# do), no stage started twice (stage_starts and stage.started audit rows,
# and the "start stage" lines the two passes printed), the approval is
# there (row and audit row), the file is sound and the audit chain
# verifies. A last pass then ends in the same state as running the three
# one after the other. The approve starts after a random delay in
# [0, one pass's duration], so it lands before, during and after the
# passes; SLUICE_STRESS_SEED repeats a run's delays.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
ROUNDS=${SLUICE_CONCURRENCY_ROUNDS:-20}
echo "seed $SEED, $ROUNDS rounds"

setup_admin
# no checklist (built-in rollout policy): the reference plugin's stage 1
# waits only for its admin approval; the four demo plugins need none
ws_edit '/rollout_policy: standard/d'
make_demo_plugins 4 "$T/src"
# each round replaces $R: work from outside it
cd "$T" || bail "cd $T"
D0=2026-12-01T09:00:00Z
D1=2026-12-08T10:00:00Z

case_begin 'the saved state: four stage 1 started, the reference plugin waiting'
S fetch --now $D0
expect_rc 0
reconcile_at $D0
expect_eq 4 "$(grep -c ': start stage devex-dogfood' "$T/out")" "stage 1 of the demo plugins"
expect_eq "0.1.0 pending null" "$(rollout_of $D0)" "the reference plugin waits for its approval"
cp -a "$R" "$T/state"
case_end

case_begin 'the reference: approve, then the two passes, one after the other'
t0=$(now_ms)
S reconcile --no-fetch --now $D1
expect_rc 0
dur=$(($(now_ms) - t0))
S approve $PLUGIN@0.1.0 --stage devex-dogfood --comment race --as admin-ana --now $D1
expect_rc 0
S reconcile --no-fetch --now $D1
expect_rc 0
expect_out "$PLUGIN@0.1.0: start stage devex-dogfood (1)"
dump_normalised "$DB" >"$T/dump.ref"
# the audit head a publish carries depends on which audit rows came first,
# which concurrent passes order differently: everything else must match
jq 'del(.audit_head)' "$EFFECTIVE" >"$T/effective.ref" || bail "cannot read $EFFECTIVE"
echo "one pass: $dur ms"
case_end

i=1
while [ "$i" -le "$ROUNDS" ]; do
	case_begin "round $i (seed $SEED): two passes and an approve at once"
	rm -rf "$R"
	cp -a "$T/state" "$R"
	delay=$(rand_ms $((dur + 1)) "$i")
	"$SLUICE" --root "$R" reconcile --no-fetch --now $D1 >"$T/a.out" 2>"$T/a.err" &
	a=$!
	"$SLUICE" --root "$R" reconcile --no-fetch --now $D1 >"$T/b.out" 2>"$T/b.err" &
	b=$!
	sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
	"$SLUICE" --root "$R" approve $PLUGIN@0.1.0 --stage devex-dogfood --comment race --as admin-ana --now $D1 \
		>"$T/c.out" 2>"$T/c.err" &
	c=$!
	ra=0 rb=0 rc_=0
	wait $a || ra=$?
	wait $b || rb=$?
	wait $c || rc_=$?
	[ "$ra $rb $rc_" = "0 0 0" ] || cat "$T/a.err" "$T/b.err" "$T/c.err" >&2
	expect_eq "0 0 0" "$ra $rb $rc_" "round $i: the exit statuses of reconcile, reconcile, approve"
	ref_started=$(cat "$T/a.out" "$T/b.out" | grep -c "$PLUGIN@0.1.0: start stage" || true)
	echo "round $i: approve after $delay ms; the reference plugin's stage 1 started in the race: $ref_started"

	# each demo plugin's stage 2 started once, by one of the two passes
	expect_eq 4 "$(cat "$T/a.out" "$T/b.out" | grep -c ': start stage backend-pilot (2)')" \
		"round $i: 'start stage backend-pilot' lines"
	expect_eq 4 "$(sq "SELECT count(*) FROM stage_starts WHERE stage_name = 'backend-pilot'")" \
		"round $i: backend-pilot starts"
	# the approval is not lost
	expect_eq "admin-ana|race|1" \
		"$(sq "SELECT approver, comment, live FROM v_approvals WHERE kind = 'approval' AND plugin = '$PLUGIN'")" \
		"round $i: the approval"
	expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'approval.given'")" "round $i: approval.given rows"
	expect_sound_db

	# and a last pass finishes the work: the state of the sequential run
	S reconcile --no-fetch --now $D1
	expect_rc 0
	expect_eq 1 "$(sq "SELECT count(*) FROM stage_starts s JOIN releases r ON r.id = s.release_id
		WHERE r.plugin = '$PLUGIN'")" "round $i: the reference plugin's stage 1 starts"
	dump_normalised "$DB" >"$T/dump.now"
	expect_same "$T/dump.ref" "$T/dump.now" "round $i: the state differs from running them one after the other"
	run jq 'del(.audit_head)' "$EFFECTIVE"
	expect_rc 0
	expect_same "$T/effective.ref" "$T/out" "round $i: effective.json differs"
	case_end
	i=$((i + 1))
done
done_testing
