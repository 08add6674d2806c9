#!/bin/sh
# Two reconciles at once: both exit 0, the lease lets one act at a time,
# and no stage is started twice. A lease left by a process that died is
# taken over at once; a live holder's is waited for.
. "$(dirname "$0")/lib.sh"
R=$T/root
GIT=$T/git
mkdir -p "$R"
cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$R/"
sed -e "s|file:///srv/git|file://$GIT|" -e 's|identity: os-user|identity: asserted|' \
	-e '/rollout_policy: standard/d' "$SRC/workspaces/engineering.yaml" >"$R/workspaces/engineering.yaml"
dev_secrets "$R/workspaces/engineering.yaml"
W=$T/work
git init -q "$W"
cp -R "$SRC/examples/plugins/backend-pr-reviewer/." "$W/"
sed -i 's/require_admin_approval: true/require_admin_approval: false/' "$W/deploy/workspace-config.yaml"
git -C "$W" add -A && git -C "$W" commit -qm "0.1.0" && git -C "$W" tag -a -m "0.1.0" v0.1.0
mkdir -p "$GIT/acme" && git clone -q --bare "$W" "$GIT/acme/codex-plugin-backend-pr-reviewer.git"
sl() { "$SLUICE" --root "$R" "$@"; }

# each round races two first passes on a fresh database and cache: both
# record the release and want to start stage 1
rounds=${SLUICE_CONCURRENCY_ROUNDS:-3}
i=0
while [ $i -lt "$rounds" ]; do
	case_begin "round $i: two first passes at once start stage 1 once"
	db=$T/db$i/sluice.db
	sl reconcile --db "$db" --cache "$T/cache$i" --now 2026-12-01T09:00:00Z >"$T/a.out" 2>"$T/a.err" &
	a=$!
	sl reconcile --db "$db" --cache "$T/cache$i" --now 2026-12-01T09:00:00Z >"$T/b.out" 2>"$T/b.err" &
	b=$!
	ra=0; wait $a || ra=$?
	rb=0; wait $b || rb=$?
	[ "$ra $rb" = "0 0" ] || cat "$T/a.err" "$T/b.err" >&2
	expect_eq "0 0" "$ra $rb" "round $i: the two passes' exit statuses"
	expect_eq 1 "$(cat "$T/a.out" "$T/b.out" | grep -c 'start stage devex-dogfood')" "round $i: passes that started stage 1"
	expect_eq 1 "$(sqlite3 "$db" "SELECT count(*) FROM stage_starts")" "round $i: stages started"
	expect_eq 1 "$(sqlite3 "$db" "SELECT count(*) FROM releases")" "round $i: releases"
	expect_eq 1 "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action = 'stage.started'")" "round $i: stage.started rows"
	expect_eq 1 "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action = 'release.recorded'")" "round $i: release.recorded rows"
	expect_eq 0 "$(sqlite3 "$db" "SELECT count(*) FROM leases")" "round $i: leases left behind"
	case_end
	i=$((i + 1))
done
DB=$T/db0/sluice.db
sl() { "$SLUICE" --root "$R" --db "$DB" --cache "$T/cache0" "$@"; }

case_begin 'a lease whose holder died is taken over without waiting'
sh -c 'exit 0' & dead=$!
wait $dead
host=$(uname -n)
expect_ok "cannot insert the dead holder's lease" sqlite3 "$DB" "INSERT INTO leases VALUES ('reconcile', '$dead@$host', $dead, '$host', strftime('%s','now'), strftime('%s','now') + 3600)"
run sl reconcile --now 2026-12-30T09:00:00Z
expect_rc 0
expect_no_err "another reconcile"
expect_eq 0 "$(sqlite3 "$DB" "SELECT count(*) FROM leases")" "dead holder's lease"
case_end

case_begin 'a lease held on another host that has expired is taken over'
# a live holder (this shell) on another host is respected... until it
# expires: here it already has, so the pass runs
expect_ok "cannot insert the expired lease" sqlite3 "$DB" "INSERT INTO leases VALUES ('reconcile', '1@elsewhere', 1, 'elsewhere', 0, 1)"
run sl reconcile --now 2026-12-30T09:00:00Z
expect_rc 0
expect_no_err "another reconcile"
run sl audit verify
expect_rc 0
case_end
done_testing
