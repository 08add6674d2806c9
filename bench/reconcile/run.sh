#!/bin/sh
# The reconcile benchmark (issue 5): BENCH_PLUGINS (default 1000) plugins,
# each a copy of the reference plugin with three stages, all rolled out to
# the end ("up to date"). Timed, each with its peak RSS (/usr/bin/time -v):
#   (a) a no-op `sluice reconcile --no-fetch` (fetching is bench/fetch's);
#   (b) `sluice status` and `sluice status -o json`;
#   (c) the baseline: one sqlite3 process reading, plugin by plugin, the
#       rows a pass needs (its source, tags, releases, stage starts,
#       approvals, withdrawals, opt-outs) - the same reads through the
#       sqlite3 command-line tool, with no planning, no output and no git;
#   (d) reconcile --no-fetch after 0, 10 and 100 plugins got a new tag
#       (fetched beforehand, untimed): the pass records, validates and
#       starts each new release, so its cost should grow with the number of
#       changed plugins, not with the total.
# Targets: (a) and (b) under 1 s, peak RSS under 100 MB. Then secrets.sh
# (its own repositories and roots): the no-op pass with vault-kv2 secrets.
# Usage: bench/reconcile/run.sh path/to/sluice
set -eu
SLUICE=${1:?usage: bench/reconcile/run.sh path/to/sluice}
N=${BENCH_PLUGINS:-1000}
here=$(cd "$(dirname "$0")" && pwd)
SRC=$here/../..
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-reconcile.XXXXXX")
[ -n "${BENCH_KEEP:-}" ] && echo "keeping $W" || trap 'rm -rf "$W"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$W/home" LC_ALL=C TZ=UTC
mkdir -p "$HOME" "$W/git/bench" "$W/root/workspaces"
R=$W/root
DB=$R/.sluice/sluice.db
sl() { "$SLUICE" --root "$R" "$@"; }

. "$here/lib.sh"
make_repos
write_workspace "$R/workspaces/bench.yaml"

# ---- the rollout: day 0 pilot, day 8 early, day 30 everyone ----------------
D0=2027-03-01T09:00:00Z
echo "first fetch, then the rollout of $N releases (untimed setup, one pass per stage)"
sl fetch -q
for d in 2027-03-01T09:00:00Z 2027-03-09T09:00:00Z 2027-03-31T09:00:00Z; do
	timed "reconcile --now $d" "$SLUICE" --root "$R" reconcile --no-fetch --now "$d"
	echo "  reconcile --now $d: $(grep -c ': start stage' "$W/out.txt") stages started in ${secs} s (peak RSS ${rss_mb} MB)"
done
done_count=$(sqlite3 "$DB" "SELECT count(*) FROM releases WHERE state = 'complete'")
[ "$done_count" -eq "$N" ] || { echo "expected $N complete releases, got $done_count" >&2; exit 1; }
T=2027-04-01T09:00:00Z
audit_before=$(sqlite3 "$DB" "SELECT count(*) FROM audit")

# ---- (a) no-op reconcile, (b) status -----------------------------------------
best3 "no-op reconcile" "$SLUICE" --root "$R" reconcile --no-fetch --now "$T"
[ ! -s "$W/out.txt" ] || { echo "the no-op pass did something:" >&2; head -3 "$W/out.txt" >&2; exit 1; }
[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit")" = "$audit_before" ] ||
	{ echo "the no-op pass wrote audit rows" >&2; exit 1; }
noop=$secs noop_rss=$rss_mb
best3 "status" "$SLUICE" --root "$R" status --now "$T"
grep -q "stable 0.1.0" "$W/out.txt" || { echo "status does not show the stable releases" >&2; exit 1; }
st=$secs st_rss=$rss_mb
best3 "status -o json" "$SLUICE" --root "$R" status -o json --now "$T"
[ "$(jq '.plugins | length' "$W/out.txt")" -eq "$N" ] || { echo "status -o json lacks plugins" >&2; exit 1; }
stj=$secs stj_rss=$rss_mb

# ---- (c) the baseline --------------------------------------------------------
: >"$W/baseline.sql"
for f in "$W"/git/bench/*.git; do
	n=$(basename "$f" .git)
	p=bench-$n
	cat >>"$W/baseline.sql" <<EOF
SELECT * FROM sources WHERE repository = 'bench/$n';
SELECT * FROM tags WHERE plugin = '$p';
SELECT * FROM releases WHERE workspace = 'bench' AND plugin = '$p';
SELECT s.* FROM stage_starts s JOIN releases r ON r.id = s.release_id WHERE r.plugin = '$p';
SELECT * FROM approvals WHERE workspace = 'bench' AND plugin = '$p';
SELECT * FROM withdrawals WHERE workspace = 'bench' AND plugin = '$p';
SELECT * FROM user_optouts WHERE workspace = 'bench' AND plugin = '$p';
EOF
done
best3 "sqlite3 baseline" sqlite3 "$DB" ".read $W/baseline.sql"
base=$secs base_rss=$rss_mb
rows=$(wc -l <"$W/out.txt")

# ---- (d) cost against the number of changed plugins --------------------------
# change K: publish v0.2.0 of the next K plugins, fetch (untimed), then time
# the pass that records, validates and starts their first stage
next=1
change() {
	k=$1
	j=0
	while [ "$j" -lt "$k" ]; do
		n=$(printf 'p%04d' "$next")
		cat "$W/git/bench/$n.git/later-refs" >>"$W/git/bench/$n.git/packed-refs"
		next=$((next + 1))
		j=$((j + 1))
	done
	sl fetch -q
	timed "reconcile ($k changed)" "$SLUICE" --root "$R" reconcile --no-fetch --now "$T"
	started=$(grep -c ': start stage pilot' "$W/out.txt" || true)
	[ "$started" -eq "$k" ] || { echo "expected $k stages started, got $started" >&2; exit 1; }
}
[ "$N" -ge 110 ] || { echo "the changed-plugins part needs BENCH_PLUGINS >= 110" >&2; exit 1; }
change 0
c0=$secs
change 10
c10=$secs c10_rss=$rss_mb
change 100
c100=$secs c100_rss=$rss_mb

echo
echo "plugins:                 $N (3 stages each, all complete), ${rows} rows read by the baseline"
echo "no-op reconcile:         ${noop} s, peak RSS ${noop_rss} MB (target < 1 s, < 100 MB)"
echo "status:                  ${st} s, peak RSS ${st_rss} MB (target < 1 s, < 100 MB)"
echo "status -o json:          ${stj} s, peak RSS ${stj_rss} MB"
echo "sqlite3 baseline:        ${base} s, peak RSS ${base_rss} MB"
echo "ratios to the baseline:  reconcile $(ratio "$noop" "$base")x, status $(ratio "$st" "$base")x, status -o json $(ratio "$stj" "$base")x"
echo "changed plugins:         0: ${c0} s, 10: ${c10} s (peak RSS ${c10_rss} MB), 100: ${c100} s (peak RSS ${c100_rss} MB)"
slope=$(awk -v a="$c100" -v b="$c10" 'BEGIN { printf "%.1f", (a - b) / 90 * 1000 }')
fixed=$(awk -v a="$c10" -v b="$c0" -v s="$slope" 'BEGIN { printf "%.2f", a - b - 10 * s / 1000 }')
echo "cost of a change:         ${slope} ms per changed plugin, plus ${fixed} s for any change"
# verdict LABEL CONDITION: one line per target
status=0
verdict() {
	if awk "BEGIN { exit !($2) }"; then
		echo "  met:    $1"
	else
		echo "  missed: $1"
		status=1
	fi
}
echo "targets:"
verdict "no-op reconcile under 1 s (${noop} s)" "$noop < 1"
verdict "status under 1 s (${st} s, -o json ${stj} s)" "$st < 1 && $stj < 1"
verdict "peak RSS under 100 MB, no-op and status (${noop_rss}, ${st_rss}, ${stj_rss} MB)" \
	"$noop_rss < 100 && $st_rss < 100 && $stj_rss < 100"
verdict "peak RSS under 100 MB, a pass with changes (${c100_rss} MB)" "$c100_rss < 100"
verdict "cost grows with changed plugins, not the total (fixed part ${fixed} s under 0.5 s)" "$fixed < 0.5"
# the same no-op pass with secrets to check, vault-kv2 against env
echo
sh "$here/secrets.sh" "$SLUICE" || status=1
exit $status
