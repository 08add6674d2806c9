#!/bin/sh
# sluice backup while reconciles write (docs/operations.md): two passes
# over thirteen plugins run one after another in the background (recording
# every release and starting stages in many transactions) while backups
# are taken back to back, SLUICE_BACKUP_ROUNDS times (default 4). Every backup is sound and its audit chain
# verifies; each is a state the passes went through: restored on a copy of
# the starting root (restore-backup) and finished by the pass it was taken
# in, it ends in exactly the state that pass ends in (state tables and
# audit rows, normalised; the restore's own audit row aside), and one taken
# between passes is that state already.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"

setup_admin
# the built-in rollout policy: stage 1 of the demo plugins needs nobody
ws_edit '/rollout_policy: standard/d'
make_demo_plugins 12 "$T/src"
ROUNDS=${SLUICE_BACKUP_ROUNDS:-4}
cd "$T" || bail "cd $T"
NOWS="2026-12-01T09:00:00Z 2026-12-08T10:00:00Z"
LAST=2
pass_now() { echo "$NOWS" | cut -d' ' -f"$1"; }

# dump ROOT OUT: the normalised state of ROOT's database without the rows
# a restore adds
dump() {
	dump_normalised "$1/.sluice/sluice.db" | grep -v '|database\.restored|' >"$2"
}

# pass ROOT K: reconcile pass K (1 or 2) on ROOT
pass() {
	"$SLUICE" --root "$1" reconcile --no-fetch --no-publish --now "$(pass_now "$2")"
}

case_begin 'the reference: the two passes one after another, the state after each'
S fetch --now "$(pass_now 1)"
expect_rc 0
cp -a "$R" "$T/start"
cp -a "$R" "$T/ref"
for k in 1 2; do
	run pass "$T/ref" $k
	expect_rc 0
	dump "$T/ref" "$T/state$k"
	sqlite3 "$T/ref/.sluice/sluice.db" 'SELECT max(id) FROM audit' >"$T/head$k" || fail "cannot read the audit head"
done
sqlite3 "$T/start/.sluice/sluice.db" 'SELECT coalesce(max(id), 0) FROM audit' >"$T/head0" || fail "cannot read the audit head"
expect_ok "pass 1 started stages" grep -q '^stage|demo-01|0.1.0|0|' "$T/state1"
expect_ok "pass 2 started stage 2" grep -q '^stage|demo-01|0.1.0|1|' "$T/state2"
case_end
echo "audit heads after the passes: $(cat "$T/head0") $(cat "$T/head1") $(cat "$T/head2")"

n=0
r=1
while [ "$r" -le "$ROUNDS" ]; do
	case_begin "round $r: backups taken back to back while the passes run all verify"
	rm -rf "$R" "$T/bg.done" "$T/bg.err"
	cp -a "$T/start" "$R"
	mkdir -p "$T/bk"
	(for k in 1 2; do pass "$R" $k >/dev/null 2>&1 || echo "pass $k failed" >>"$T/bg.err"; done
	 echo done >"$T/bg.done") &
	bg=$!
	first=$((n + 1))
	while [ ! -e "$T/bg.done" ] && [ "$n" -lt $((r * 200)) ]; do
		n=$((n + 1))
		S backup "$T/bk/$n.db" -q
		expect_rc 0
	done
	wait $bg
	expect_ok "the background passes failed: $(cat "$T/bg.err" 2>/dev/null)" [ ! -e "$T/bg.err" ]
	expect_ok "at least 3 backups were taken during the passes (got $((n - first + 1)))" [ "$n" -ge $((first + 2)) ]
	dump "$R" "$T/final"
	expect_same "$T/state$LAST" "$T/final" "the passes with backups beside them end as without"
	for i in $(seq "$first" "$n"); do
		run "$SLUICE" --db "$T/bk/$i.db" audit verify
		expect_rc 0
		expect_eq ok "$(sqlite3 "$T/bk/$i.db" 'PRAGMA integrity_check')" "backup $i integrity"
		expect_eq "$(sqlite3 "$T/bk/$i.db" 'SELECT count(*) FROM stage_starts')" \
			"$(sqlite3 "$T/bk/$i.db" "SELECT count(*) FROM audit WHERE action = 'stage.started'")" \
			"backup $i: stage starts against their audit rows"
	done
	case_end
	r=$((r + 1))
done
echo "$n backups taken during the passes"

case_begin 'each backup is a state the passes went through'
mid=0 between=0 seen=
for i in $(seq 1 "$n"); do
	h=$(sqlite3 "$T/bk/$i.db" 'SELECT coalesce(max(id), 0) FROM audit') || fail "cannot read backup $i"
	case " $seen " in *" $h "*) continue ;; esac
	seen="$seen $h"
	# the pass it was taken in: the first whose end is past its head
	k=1
	while [ "$k" -le $LAST ] && [ "$h" -ge "$(cat "$T/head$k")" ]; do k=$((k + 1)); done
	if [ "$h" = "$(cat "$T/head$((k - 1))")" ] && [ "$k" -gt 1 ]; then
		between=$((between + 1))
		dump_normalised "$T/bk/$i.db" >"$T/direct"
		expect_same "$T/state$((k - 1))" "$T/direct" "backup $i (head $h) taken between passes $((k - 1)) and $k"
	fi
	[ "$k" -le $LAST ] || continue
	[ "$h" = "$(cat "$T/head$((k - 1))")" ] || mid=$((mid + 1))
	rm -rf "$T/cont"
	cp -a "$T/start" "$T/cont"
	run "$SLUICE" --root "$T/cont" restore-backup "$T/bk/$i.db" --as admin-ana --now "$(pass_now $k)"
	expect_rc 0
	run pass "$T/cont" $k
	expect_rc 0
	dump "$T/cont" "$T/cont.dump"
	expect_same "$T/state$k" "$T/cont.dump" "backup $i (head $h) finished by pass $k"
done
expect_ok "a backup was checked" [ -n "$seen" ]
case_end
echo "distinct backups:$seen; $mid taken inside a pass, $between between passes"

done_testing
