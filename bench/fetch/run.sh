#!/bin/sh
# The fetch benchmark (issue 4): BENCH_REPOS (default 1000) local plugin
# repositories with 5 tags each, reached through file:// URLs on both sides
# (a plain path would let git hardlink instead of fetching).
#   (a) a no-op `sluice fetch` over all of them against a shell loop of
#       `git fetch --tags` in mirrors of the same repositories;
#   (b) the first full `sluice fetch` against a `git clone --mirror` loop.
# Peak RSS of sluice comes from /usr/bin/time -v.
# Targets: (a) >= 10x faster, (b) no slower, RSS < 100 MB.
# Then bench/fetch/https.sh: the no-op pass over HTTPS (issue 13).
# Usage: bench/fetch/run.sh path/to/sluice
set -eu
SLUICE=${1:?usage: bench/fetch/run.sh path/to/sluice}
N=${BENCH_REPOS:-1000}
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-fetch.XXXXXX")
trap 'rm -rf "$W"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$W/home" LC_ALL=C
mkdir -p "$HOME" "$W/git/bench" "$W/root/workspaces" "$W/mirrors"
git config --global user.name Bench
git config --global user.email bench@acme.example

now() { date +%s.%N; }
# elapsed START: seconds since START, 3 decimals
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }

# Spawning git 1000 times to make the repositories is slow, so one
# fast-import writes every repository's commits and annotated tags (content
# unique to each) into one shared object store; each plugin repository is
# then a bare directory of plain files: its own HEAD, config, packed-refs
# with 5 tags, and an alternates link to the shared objects.
stream() {
	t=1700000000
	i=1
	while [ "$i" -le "$N" ]; do
		name=$(printf 'p%04d' "$i")
		for k in 1 2 3 4 5; do
			body="id: plugin-$i
version: 0.$k.0
"
			printf 'commit refs/heads/%s\nmark :%d\ncommitter Bench <bench@acme.example> %d +0000\ndata 8\nrelease\n' \
				"$name" "$((i * 10 + k))" "$((t + k))"
			[ "$k" -gt 1 ] && printf 'from :%d\n' "$((i * 10 + k - 1))"
			printf 'M 100644 inline plugin.yaml\ndata %d\n%s\n' "${#body}" "$body"
			printf 'tag %s/v0.%d.0\nfrom :%d\ntagger Bench <bench@acme.example> %d +0000\ndata 8\nrelease\n' \
				"$name" "$k" "$((i * 10 + k))" "$((t + k))"
		done
		i=$((i + 1))
	done
}

echo "creating $N repositories with 5 tags each..."
start=$(now)
git init -q --bare "$W/shared.git"
stream | git -C "$W/shared.git" fast-import --quiet
git -C "$W/shared.git" for-each-ref --format='%(objectname) %(refname)' >"$W/refs.txt"
awk -v base="$W/git/bench" '{ split($2, p, "/"); print base "/" p[3] ".git/objects/info"; print base "/" p[3] ".git/refs/tags" }' \
	"$W/refs.txt" | sort -u | xargs mkdir -p
awk -v base="$W/git/bench" -v shared="$W/shared.git/objects" '
{
	n = split($2, p, "/")
	dir = base "/" p[3] ".git"
	ref = p[2] == "heads" ? "refs/heads/main" : "refs/tags/" p[4]
	f = dir "/packed-refs"
	print $1 " " ref >> f
	close(f)
	seen[dir] = 1
}
END {
	for (dir in seen) {
		print "ref: refs/heads/main" > (dir "/HEAD"); close(dir "/HEAD")
		printf "[core]\n\trepositoryformatversion = 0\n\tbare = true\n" > (dir "/config")
		close(dir "/config")
		print shared > (dir "/objects/info/alternates"); close(dir "/objects/info/alternates")
	}
}' "$W/refs.txt"
{
	echo "workspace: bench"
	echo "groups: {devs: {members: [alice]}}"
	echo "admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]"
	echo "repositories: {url_template: \"file://$W/git/{repository}.git\"}"
	echo "plugins:"
	ls "$W/git/bench" | sed 's/\.git$//; s|.*|  - {repository: bench/&, versions: ">=0.1.0"}|'
} >"$W/root/workspaces/bench.yaml"
[ "$(ls "$W/git/bench" | wc -l)" -eq "$N" ] || { echo "expected $N repositories" >&2; exit 1; }
echo "  done in $(elapsed "$start") s"

# timed LABEL CMD...: runs CMD under /usr/bin/time -v; sets $secs and $rss_mb
timed() {
	label=$1
	shift
	/usr/bin/time -v -o "$W/time.txt" "$@" >"$W/out.txt" 2>"$W/err.txt" || {
		echo "$label failed:" >&2
		tail -5 "$W/err.txt" >&2
		exit 1
	}
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
		for (k = 1; k <= n; k++) s = s * 60 + p[k]; printf "%.3f", s}' "$W/time.txt")
	rss_mb=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$W/time.txt")
}

clone_loop() {
	for r in "$W"/git/bench/*.git; do
		git clone -q --mirror "file://$r" "$W/mirrors/$(basename "$r")"
	done
}
fetch_loop() {
	for m in "$W"/mirrors/*.git; do
		git -C "$m" fetch -q --tags
	done
}

echo "(b) first fetch of $N repositories"
timed "sluice fetch (first)" "$SLUICE" --root "$W/root" --cache "$W/cache" fetch -q
sl_first=$secs
rss_first=$rss_mb
start=$(now)
clone_loop
git_first=$(elapsed "$start")
echo "  sluice fetch: ${sl_first} s (peak RSS ${rss_first} MB); git clone --mirror loop: ${git_first} s"

echo "(a) no-op fetch of $N repositories"
timed "sluice fetch (no-op)" "$SLUICE" --root "$W/root" --cache "$W/cache" fetch
grep -q "$N repositories: $N unchanged" "$W/out.txt" || {
	echo "the no-op pass was not a no-op:" >&2
	tail -3 "$W/out.txt" >&2
	exit 1
}
sl_noop=$secs
rss_noop=$rss_mb
start=$(now)
fetch_loop
git_noop=$(elapsed "$start")
echo "  sluice fetch: ${sl_noop} s (peak RSS ${rss_noop} MB); git fetch --tags loop: ${git_noop} s"

noop_ratio=$(ratio "$git_noop" "$sl_noop")
first_ratio=$(ratio "$git_first" "$sl_first")
echo
echo "repositories:            $N (5 tags each, file:// URLs)"
echo "no-op pass:              sluice ${sl_noop} s vs git loop ${git_noop} s: ${noop_ratio}x faster (target >= 10x)"
echo "first fetch:             sluice ${sl_first} s vs clone loop ${git_first} s: ${first_ratio}x (target >= 1.0x)"
echo "peak RSS:                first ${rss_first} MB, no-op ${rss_noop} MB (target < 100 MB)"
ok=$(awk -v a="$noop_ratio" -v b="$first_ratio" -v c="$rss_first" -v d="$rss_noop" \
	'BEGIN { print (a >= 10 && b >= 1 && c < 100 && d < 100) ? 1 : 0 }')
[ "$ok" = 1 ] && echo "result: all targets met" || {
	echo "result: a target was missed"
	exit 1
}

# the same no-op pass against a git server 50 ms away, over HTTPS
echo
echo "== fetch over HTTPS (bench/fetch/https.sh)"
sh "$(dirname "$0")/https.sh" "$SLUICE"
