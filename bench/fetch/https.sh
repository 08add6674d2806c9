#!/bin/sh
# The network fetch benchmark (issue 13): BENCH_HTTPS_REPOS (default 200)
# repositories with 5 tags each behind a loopback HTTPS git server
# (tests/fixtures/git-http-server.py: git http-backend behind python's
# http.server, a test CA made here with openssl) that adds BENCH_DELAY_MS
# (default 50) to every response and to every new connection, like a git
# server tens of milliseconds away.
#   - a no-op `sluice fetch` over all of them against a shell loop of
#     `git fetch --tags` in mirrors of the same repositories, against the
#     same server, in the same run;
#   - peak RSS of sluice (/usr/bin/time -v) and the connections each side
#     opened (counted by the server).
# Target: the no-op pass >= 30x faster than the git loop.
# Usage: bench/fetch/https.sh path/to/sluice
set -eu
SLUICE=${1:?usage: bench/fetch/https.sh path/to/sluice}
N=${BENCH_HTTPS_REPOS:-200}
DELAY=${BENCH_DELAY_MS:-50}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-https.XXXXXX")
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$W"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$W/home" LC_ALL=C
mkdir -p "$HOME" "$W/git/bench" "$W/root/workspaces" "$W/mirrors" "$W/srv"
git config --global user.name Bench
git config --global user.email bench@acme.example

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }

echo "creating $N repositories with 5 tags each..."
start=$(now)
# one fast-import into a shared object store; each repository is a bare
# directory with its own refs and an alternates link (as bench/fetch/run.sh)
git init -q --bare "$W/shared.git"
i=1
while [ "$i" -le "$N" ]; do
	name=$(printf 'p%04d' "$i")
	for k in 1 2 3 4 5; do
		body="id: plugin-$i
version: 0.$k.0
"
		printf 'commit refs/heads/%s\nmark :%d\ncommitter Bench <bench@acme.example> %d +0000\ndata 8\nrelease\n' \
			"$name" "$((i * 10 + k))" "$((1700000000 + k))"
		[ "$k" -gt 1 ] && printf 'from :%d\n' "$((i * 10 + k - 1))"
		printf 'M 100644 inline plugin.yaml\ndata %d\n%s\n' "${#body}" "$body"
		printf 'tag %s/v0.%d.0\nfrom :%d\ntagger Bench <bench@acme.example> %d +0000\ndata 8\nrelease\n' \
			"$name" "$k" "$((i * 10 + k))" "$((1700000000 + k))"
	done
	i=$((i + 1))
done | git -C "$W/shared.git" fast-import --quiet
git -C "$W/shared.git" for-each-ref --format='%(objectname) %(refname)' >"$W/refs.txt"
awk -v base="$W/git/bench" '{ split($2, p, "/"); print base "/" p[3] ".git/objects/info"; print base "/" p[3] ".git/refs/tags" }' \
	"$W/refs.txt" | sort -u | xargs mkdir -p
awk -v base="$W/git/bench" -v shared="$W/shared.git/objects" '
{
	split($2, p, "/")
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

# a test CA and a certificate for localhost
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/ca.key" -out "$W/ca.pem" -days 2 \
	-subj "/CN=sluice bench CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$W/srv.key" -out "$W/srv.csr" -subj "/CN=localhost" \
	2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$W/ext"
openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial -days 2 \
	-extfile "$W/ext" -out "$W/srv.pem" 2>/dev/null
python3 "$SRC/tests/fixtures/git-http-server.py" "$W/srv" "$W/git" --cert "$W/srv.pem" \
	--key "$W/srv.key" --delay-ms "$DELAY" &
SRV=$!
for i in $(seq 100); do [ -f "$W/srv/port" ] && break; sleep 0.1; done
[ -f "$W/srv/port" ] || { echo "the benchmark's git server did not start" >&2; exit 1; }
PORT=$(cat "$W/srv/port")
BASE="https://localhost:$PORT"
{
	echo "workspace: bench"
	echo "groups: {devs: {members: [alice]}}"
	echo "admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]"
	echo "repositories: {url_template: \"$BASE/{repository}.git\", ca_bundle: $W/ca.pem}"
	echo "plugins:"
	ls "$W/git/bench" | sed 's/\.git$//; s|.*|  - {repository: bench/&, versions: ">=0.1.0"}|'
} >"$W/root/workspaces/bench.yaml"
# the git loop's mirrors: cloned locally, then pointed at the server
for r in "$W"/git/bench/*.git; do
	m="$W/mirrors/$(basename "$r")"
	git clone -q --mirror "file://$r" "$m"
	git -C "$m" remote set-url origin "$BASE/bench/$(basename "$r")"
done
echo "  done in $(elapsed "$start") s (server on port $PORT, ${DELAY} ms per response and connection)"

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
reset() { : >"$W/srv/requests"; : >"$W/srv/connections"; }

echo "first sluice fetch of $N repositories (clones, libgit2 on up to 16 threads)"
reset
timed "sluice fetch (first)" "$SLUICE" --root "$W/root" --cache "$W/cache" fetch -q
sl_first=$secs
rss_first=$rss_mb
echo "  ${sl_first} s, peak RSS ${rss_first} MB, $(lines "$W/srv/connections") connections"

echo "no-op sluice fetch of $N repositories"
reset
timed "sluice fetch (no-op)" "$SLUICE" --root "$W/root" --cache "$W/cache" fetch -v
grep -q "$N repositories: $N unchanged" "$W/out.txt" || {
	echo "the no-op pass was not a no-op:" >&2
	tail -3 "$W/out.txt" >&2
	exit 1
}
sl_noop=$secs
rss_noop=$rss_mb
sl_conns=$(lines "$W/srv/connections")
sl_reqs=$(lines "$W/srv/requests")
sl_line=$(tail -1 "$W/out.txt")
echo "  ${sl_noop} s, peak RSS ${rss_noop} MB, $sl_conns connections, $sl_reqs requests ($sl_line)"

echo "git fetch --tags loop over $N mirrors"
reset
start=$(now)
for m in "$W"/mirrors/*.git; do
	GIT_SSL_CAINFO="$W/ca.pem" git -C "$m" fetch -q --tags
done
git_noop=$(elapsed "$start")
git_conns=$(lines "$W/srv/connections")
git_reqs=$(lines "$W/srv/requests")
echo "  ${git_noop} s, $git_conns connections, $git_reqs requests"

noop_ratio=$(ratio "$git_noop" "$sl_noop")
echo
echo "repositories:  $N (5 tags each) over HTTPS, +${DELAY} ms per response and per connection"
echo "no-op pass:    sluice ${sl_noop} s vs git fetch --tags loop ${git_noop} s: ${noop_ratio}x faster (target >= 30x)"
echo "connections:   sluice $sl_conns ($sl_reqs requests), git loop $git_conns ($git_reqs requests)"
echo "peak RSS:      sluice no-op ${rss_noop} MB, first fetch ${rss_first} MB"
echo "first fetch:   sluice ${sl_first} s"
ok=$(awk -v a="$noop_ratio" 'BEGIN { print (a >= 30) ? 1 : 0 }')
[ "$ok" = 1 ] && echo "result: target met" || {
	echo "result: the target was missed"
	exit 1
}
