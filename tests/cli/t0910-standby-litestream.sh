#!/bin/sh
# A standby on Litestream (docs/scaling.md): `litestream replicate` ships
# the primary's database to a file replica while the primary daemon reconciles;
# the primary is killed with `kill -9` in the middle of a pass; `litestream
# restore` onto a second root gives a database whose audit log verifies and
# whose state and audit head are exactly the primary's last committed
# (replicated) state; a daemon on the standby takes the lease and finishes
# the killed pass, ending where an uninterrupted pass ends. Also measures
# the replication lag: from a commit on the primary to a restore holding it.
# The primary is the daemon, `sluice run --now` (identity: asserted)
# replaying the rollout from a moment on; the audit rows name which daemon
# wrote them.
#
# Litestream comes from npm (@flydotio/litestream, its platform binary),
# installed once into the build directory. The test is skipped (exit 77)
# only when npm cannot reach its registry; it says why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
. "$(dirname "$0")/lib-daemon.sh"
: "${SLUICE_BUILD_DIR:?run through ctest, or set SLUICE_BUILD_DIR to the build directory}"
LITESTREAM_VERSION=1.0.1 # the npm package; it ships Litestream v0.3.13
LSDIR=$SLUICE_BUILD_DIR/litestream

skip_all() {
	echo "SKIP: $*"
	trap - EXIT
	rm -rf "$T"
	exit 77
}

find_litestream() {
	find "$LSDIR/node_modules/@flydotio" -path '*/litestream-*/litestream' -type f 2>/dev/null | head -n 1
}

LS=$(find_litestream)
if [ -z "$LS" ]; then
	command -v npm >/dev/null 2>&1 || bail "npm is needed (scripts/install-deps.sh test)"
	mkdir -p "$LSDIR"
	if ! npm install --no-audit --no-fund --prefix "$LSDIR" "@flydotio/litestream@$LITESTREAM_VERSION" \
		>"$T/npm.out" 2>&1; then
		if grep -Eq 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|proxy' "$T/npm.out"; then
			skip_all "npm cannot reach its registry to install @flydotio/litestream: $(grep -m1 -E 'ERR|error' "$T/npm.out")"
		fi
		# a TLS-intercepting proxy whose CA this machine does not trust
		# (seen in a fresh Debian root behind a sandbox's egress proxy): the
		# registry is as unreachable as without a network
		if grep -Eq 'SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_UNTRUSTED' "$T/npm.out"; then
			skip_all "npm cannot verify the registry's TLS certificate (a proxy whose CA this machine lacks): $(grep -m1 -E 'ERR|error' "$T/npm.out")"
		fi
		cat "$T/npm.out" >&2
		bail "npm install @flydotio/litestream@$LITESTREAM_VERSION failed"
	fi
	LS=$(find_litestream)
	[ -n "$LS" ] || bail "@flydotio/litestream installed no binary for $(uname -sm) under $LSDIR"
fi
echo "litestream: $LS ($("$LS" version))"

setup_admin
ws_edit '/rollout_policy: standard/d'
CFG=$T/litestream.yml
REPLICA=$T/replica
D0=2026-12-01T09:00:00Z
DP=2026-12-01T10:00:00Z # the pass that is killed
R2=$T/standby

# dump_of DBFILE OUT: state_dump of another database file
dump_of() {
	tl_db=$DB
	DB=$1
	state_dump "$2"
	DB=$tl_db
}

# restore_to OUT: litestream restore of the primary's database to OUT
restore_to() {
	rm -f "$1" "$1-wal" "$1-shm"
	"$LS" restore -config "$CFG" -o "$1" "$DB"
}

case_begin 'the primary: a database, six more plugins fetched, and litestream replicating it'
S reconcile --now $D0
expect_rc 0
make_demo_plugins 6 "$T/src"
S fetch --now $D0
expect_rc 0
cat >"$CFG" <<EOC
# the shape of docs/scaling.md's example, with a file replica
dbs:
  - path: $DB
    replicas:
      - type: file
        path: $REPLICA
        sync-interval: 1s
EOC
"$LS" replicate -config "$CFG" >"$T/litestream.log" 2>&1 &
LSPID=$!
i=0
until [ -d "$REPLICA/generations" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_ok "litestream wrote a generation: $(tail -3 "$T/litestream.log")" [ -d "$REPLICA/generations" ]
case_end

# lag: one commit on the primary (a freeze or unfreeze), then restores
# until one holds its audit row; prints the milliseconds
lag_sample() {
	# a random moment in litestream's 1 s sync interval
	sleep "0.$(rand_ms 10 "$2")"
	S "$1" --reason "lag sample $2" --as admin-ana --now "2026-12-01T09:$(printf %02d "$2"):00Z"
	expect_rc 0
	want=$(sq 'SELECT max(id) FROM audit')
	t0=$(now_ms)
	got=0
	while [ "$got" -lt "$want" ] && [ $(($(now_ms) - t0)) -lt 20000 ]; do
		restore_to "$T/probe.db" >/dev/null 2>&1 &&
			got=$(sqlite3 "$T/probe.db" 'SELECT coalesce(max(id), 0) FROM audit' 2>/dev/null || echo 0)
	done
	expect_ok "audit row $want reached a restore within 20 s" [ "$got" -ge "$want" ]
	echo $(($(now_ms) - t0)) >>"$T/lags"
}

case_begin 'replication lag: a commit on the primary is in a restore within a few seconds'
: >"$T/lags"
for s in 1 2 3 4 5 6; do
	if [ $((s % 2)) = 1 ]; then lag_sample freeze "$s"; else lag_sample unfreeze "$s"; fi
done
max=$(sort -n "$T/lags" | tail -n 1)
expect_ok "the slowest commit took $max ms to reach a restore (at most 5000)" [ "${max:-99999}" -le 5000 ]
case_end
echo "replication lag (ms, commit to restore, sync-interval 1s): $(sort -n "$T/lags" | tr '\n' ' ')"

# structure_of DBFILE OUT: where each release is and which stages started,
# by whom - the pass's outcome without its times (a daemon's clock moves
# on in real time)
structure_of() {
	sqlite3 -bail "$1" >"$2" <<'EOF' || fail "structure_of: sqlite3 failed on $1"
SELECT 'release', plugin, version, state, stage_index, rolled_back, withdrawn FROM releases
 ORDER BY 2, 3;
SELECT 'stage', r.plugin, r.version, s.stage_index, s.stage_name, s.started_by, s.actor
  FROM stage_starts s JOIN releases r ON r.id = s.release_id ORDER BY 2, 3, 4;
EOF
}

# at_plus SECONDS: $DP moved on
at_plus() { date -u -d "@$(($(date -u -d "$DP" +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

case_begin 'the uninterrupted pass, on a copy made with sluice backup'
cp -a "$R" "$T/ref"
rm -f "$T/ref/.sluice/sluice.db" "$T/ref/.sluice/sluice.db-wal" "$T/ref/.sluice/sluice.db-shm"
S backup "$T/ref.db"
expect_rc 0
cp "$T/ref.db" "$T/ref/.sluice/sluice.db"
run "$SLUICE" --root "$T/ref" reconcile --no-fetch --now $DP
expect_rc 0
expect_eq 6 "$(grep -c ': start stage devex-dogfood' "$T/out")" "stage 1 starts in the pass"
structure_of "$T/ref/.sluice/sluice.db" "$T/ref.structure"
before=$(sq 'SELECT count(*) FROM stage_starts')
case_end

case_begin 'primary: the daemon, killed with kill -9 in the middle of a pass'
# The daemon replays from --now (identity: asserted); it is killed as
# soon as its pass has committed its first stage start, and tried again
# (the primary put back with restore-backup, a write litestream
# replicates like any) until the kill lands before the last.
attempt=0 got=0
while [ "$attempt" -lt 9 ]; do
	attempt=$((attempt + 1))
	at=$(at_plus $((attempt * 60)))
	if [ "$attempt" -gt 1 ]; then
		S restore-backup "$T/ref.db" --as admin-ana --now "$at" -q
		expect_rc 0
	fi
	"$SLUICE" --root "$R" run --now "$at" --interval 1h --lease-period 3s \
		>"$T/killed.out" 2>"$T/killed.log" &
	pid=$!
	n=0
	until [ "$(sq 'SELECT count(*) FROM stage_starts')" -gt "$before" ] || [ $n -ge 1000 ]; do
		n=$((n + 1))
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	got=$(($(sq 'SELECT count(*) FROM stage_starts') - before))
	[ "$got" -gt 0 ] && [ "$got" -lt 6 ] && break
done
echo "kill -9 of the daemon (attempt $attempt): its pass had started $got of 6 stages"
expect_ok "a kill landed after the pass's first stage start (got $got of 6)" [ "$got" -gt 0 ]
expect_ok "a kill landed before the pass's last stage start (got $got of 6)" [ "$got" -lt 6 ]
expect_eq "$pid" "$(sq "SELECT pid FROM leases WHERE name = 'daemon'")" "the daemon lease of the killed daemon"
expect_eq "$pid" "$(sq "SELECT pid FROM leases WHERE name = 'reconcile'")" "the reconcile lease of its pass"
expect_eq "$got" "$(sq "SELECT count(*) FROM audit WHERE action = 'stage.started'
	AND json_extract(details, '\$.daemon') LIKE '$pid@%'")" "stage.started rows naming the killed daemon"
# what the primary committed before it died: litestream ships it within
# a sync interval; then it is stopped, as the primary's host would be
sleep 3
kill "$LSPID"
wait "$LSPID" 2>/dev/null
dump_of "$DB" "$T/primary.dump"
S audit head
expect_rc 0
primary_head=$(cat "$T/out")
case_end

case_begin 'litestream restore onto a second root: the audit log verifies, the state is the primary'"'"'s'
mkdir -p "$R2"
cp -R "$R/workspaces" "$R/rollouts" "$R/groups" "$R2/"
mkdir -p "$R2/.sluice"
chmod 700 "$R2/.sluice"
cp -a "$R/.sluice/cache" "$R2/.sluice/cache"
run restore_to "$R2/.sluice/sluice.db"
expect_rc 0
expect_eq 600 "$(stat -c %a "$R2/.sluice/sluice.db")" "the restored database's mode"
run "$SLUICE" --root "$R2" audit verify
expect_rc 0
expect_out "audit log verified"
run "$SLUICE" --root "$R2" audit head
expect_rc 0
expect_eq "$primary_head" "$(cat "$T/out")" "the standby's audit head against the primary's last"
dump_of "$R2/.sluice/sluice.db" "$T/standby.dump"
expect_same "$T/primary.dump" "$T/standby.dump" "the standby's state rows against the primary's"
run "$SLUICE" --db "$DB" audit verify --head "$primary_head"
expect_rc 0
case_end

case_begin 'a daemon on the standby takes the lease and finishes the killed pass'
R_SAVE=$R
R=$R2
DB=$R2/.sluice/sluice.db
daemon_start standby --now "$(at_plus $((attempt * 60 + 300)))" --interval 1h --lease-period 3s
wait_log standby "took the daemon lease" || fail "the standby's daemon never took the lease: $(cat "$T/standby.log")"
expect_eq "$(cat "$T/standby.pid")" "$(sq "SELECT pid FROM leases WHERE name = 'daemon'")" \
	"the daemon lease's holder"
expect_eq "$pid" "$(sq "SELECT json_extract(details, '\$.took_over_from') FROM audit
	WHERE action = 'daemon.acting' ORDER BY id DESC LIMIT 1" | cut -d@ -f1)" \
	"whom the standby's daemon.acting row took over from"
wait_log standby "reconcile pass done" || fail "the standby's daemon never finished a pass"
expect_eq 0 "$(log_count standby 'another reconcile')" "ticks the standby left to the dead primary's pass"
daemon_stop standby
expect_rc 0
expect_eq 0 "$(sq "SELECT count(*) FROM leases")" "leases left after SIGTERM"
structure_of "$DB" "$T/standby.structure"
expect_same "$T/ref.structure" "$T/standby.structure" \
	"the standby after its pass against the uninterrupted pass"
expect_eq $((6 - got)) "$(sq "SELECT count(*) FROM audit WHERE action = 'stage.started'
	AND json_extract(details, '\$.daemon') LIKE '$(cat "$T/standby.pid")@%'")" \
	"stage.started rows naming the standby's daemon"
expect_sound_db
R=$R_SAVE
case_end

done_testing
