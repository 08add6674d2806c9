#!/bin/sh
# fetch and reconcile over smart HTTP: a pass that finds nothing new reads
# each repository's ref advertisement (GET info/refs) and fetches nothing;
# a new tag on one repository fetches exactly that one with libgit2; a
# malformed or oversized advertisement is an error of its repository alone;
# credentials and the workspace's CA bundle apply as for libgit2
# (docs/sources.md, "How refs are compared").
. "$(dirname "$0")/lib.sh"

R=$T/root
G=$T/git
H=$T/http
HS=$T/https
mkdir -p "$R/workspaces" "$G/acme" "$H" "$HS"
mkrepo() {
	git init -q -b main "$G/$1" && (
		cd "$G/$1" &&
		printf 'id: %s\nversion: 0.1.0\n' "$2" >plugin.yaml &&
		git add -A && git commit -qm one &&
		GIT_COMMITTER_EMAIL=tagger@acme.example git tag -a v0.1.0 -m 'release 0.1.0' &&
		git commit -qm two --allow-empty && git tag v0.2.0
	) >/dev/null
}
for n in a b c d; do mkrepo acme/$n $n; done
S() { "$SLUICE" --root "$R" "$@"; }
db() { sqlite3 "$R/.sluice/sluice.db" "$1" || fail "sqlite3 failed: $1"; }
# what the server was asked since the last `reset`
reset() { : >"$1/requests"; : >"$1/connections"; }
posts() { grep -c '^POST ' "$1/requests"; }
gets() { grep -c '^GET .*/info/refs?service=git-upload-pack 200 ' "$1/requests"; }
# requests libgit2 made (its user agent names it; Sluice's own probe says "sluice")
by_libgit2() { grep -c ' git/2.0 (libgit2' "$1/requests"; }

start_server() { # STATE ARGS...
	st=$1
	shift
	python3 "$SRC/tests/fixtures/git-http-server.py" "$st" "$G" "$@" &
	echo $! >"$st/pid"
	for i in $(seq 100); do [ -f "$st/port" ] && break; sleep 0.1; done
	[ -f "$st/port" ] || bail "the git http test server did not start"
}
stop_servers() { for st in "$H" "$HS"; do [ -f "$st/pid" ] && kill "$(cat "$st/pid")" 2>/dev/null; done; }
trap 'stop_servers; _tl_exit' EXIT

# a test CA and a server certificate for localhost
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$HS/ca.key" -out "$HS/ca.pem" -days 2 \
	-subj "/CN=sluice test CA" 2>/dev/null || bail "openssl: cannot make the test CA"
openssl req -newkey rsa:2048 -nodes -keyout "$HS/srv.key" -out "$HS/srv.csr" \
	-subj "/CN=localhost" 2>/dev/null || bail "openssl: cannot make the server key"
# libgit2 matches the host name, not an IP address: https://localhost
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$HS/ext"
openssl x509 -req -in "$HS/srv.csr" -CA "$HS/ca.pem" -CAkey "$HS/ca.key" -CAcreateserial -days 2 \
	-extfile "$HS/ext" -out "$HS/srv.pem" 2>/dev/null || bail "openssl: cannot sign the server cert"

start_server "$H"
start_server "$HS" --cert "$HS/srv.pem" --key "$HS/srv.key" --token "tok-$$"
PORT=$(cat "$H/port")
mkdir -p "$H/adv/acme"
SPORT=$(cat "$HS/port")
cat >"$R/workspaces/eng.yaml" <<YAML
workspace: eng
groups: {devs: {members: [alice]}}
admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]
repositories: {url_template: "http://127.0.0.1:$PORT/{repository}", max_concurrent: 2}
plugins:
  - {repository: acme/a, versions: ">=0.1.0"}
  - {repository: acme/b, versions: ">=0.1.0"}
  - {repository: acme/c, versions: ">=0.1.0"}
YAML
cat >"$R/workspaces/sec.yaml" <<YAML
workspace: sec
groups: {devs: {members: [alice]}}
admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]
repositories: {url_template: "https://localhost:$SPORT/{repository}", ca_bundle: ca.pem}
plugins:
  - {repository: acme/d, versions: ">=0.1.0", credentials_env: SLUICE_TEST_TOKEN}
YAML
cp "$HS/ca.pem" "$R/ca.pem"

case_begin 'the first pass clones every repository with libgit2'
run S fetch -w eng -v
expect_rc 0
expect_out "acme/a: cloned (new v0.1.0 v0.2.0;"
expect_out "acme/c: cloned (new v0.1.0 v0.2.0;"
expect_out "3 repositories: 0 unchanged, 0 fetched, 3 cloned, 0 failed"
expect_out "3 compared over smart HTTP on"
expect_out ", 3 opened with libgit2"
expect_eq 3 "$(posts "$H")" "upload-pack POSTs of the clones"
case_end

case_begin 'a pass that finds nothing new only reads the ref advertisements'
reset "$H"
run S fetch -w eng -v
expect_rc 0
expect_out "3 repositories: 3 unchanged, 0 fetched, 0 cloned, 0 failed"
expect_out "acme/b: unchanged"
expect_out ", 0 opened with libgit2"
expect_eq 0 "$(posts "$H")" "upload-pack POSTs"
expect_eq 3 "$(gets "$H")" "info/refs GETs"
expect_eq 3 "$(wc -l <"$H/requests" | tr -d ' ')" "requests in all"
expect_eq 0 "$(by_libgit2 "$H")" "requests made by libgit2"
# max_concurrent: 2 bounds the connections, which are reused
conns=$(wc -l <"$H/connections" | tr -d ' ')
expect_ok "at most 2 connections (got $conns)" [ "$conns" -le 2 ]
expect_out "3 compared over smart HTTP on $conns connections"
expect_eq "3" "$(db "select count(*) from sources where last_error is null and refs_fingerprint is not null")" \
	"sources checked"
case_end

case_begin 'reconcile: a no-op pass fetches nothing either'
reset "$H"
run S reconcile -w eng -v --no-publish
expect_rc 0
expect_out "fetch: 3 compared over smart HTTP on"
expect_out ", 0 opened with libgit2"
expect_eq 0 "$(posts "$H")" "upload-pack POSTs"
expect_eq 3 "$(gets "$H")" "info/refs GETs"
expect_eq 0 "$(by_libgit2 "$H")" "requests made by libgit2"
case_end

case_begin 'a new tag on one of three repositories fetches exactly that one'
(cd "$G/acme/b" && git commit -qm three --allow-empty && git tag v0.3.0) >/dev/null
reset "$H"
run S fetch -w eng -v
expect_rc 0
expect_out "acme/b: fetched (new v0.3.0;"
expect_out "acme/a: unchanged"
expect_out "acme/c: unchanged"
expect_out ", 1 opened with libgit2"
expect_eq 1 "$(posts "$H")" "upload-pack POSTs"
expect_eq "POST /acme/b/git-upload-pack 200" "$(grep '^POST ' "$H/requests" | cut -d' ' -f1-3)" \
	"the one POST"
expect_eq 2 "$(by_libgit2 "$H")" "requests made by libgit2 (acme/b's listing and fetch)"
expect_eq 2 "$(grep -c '/acme/b/.* git/2.0 (libgit2' "$H/requests")" "libgit2 requests for acme/b"
expect_eq "v0.3.0" "$(db "select tag from tags where plugin='acme/b' and tag='v0.3.0'")" "recorded"
case_end

case_begin 'a malformed advertisement is an error of its repository alone'
printf '001e# service=git-upload-pack\n0000zzzz' >"$H/adv/acme/c"
reset "$H"
run S fetch -w eng
expect_rc 1
expect_err "acme/c: the ref advertisement of 'acme/c' from 'http://127.0.0.1:$PORT/acme/c' is malformed: a pkt-line length is not 4 hex digits at byte 34"
expect_out "3 repositories: 2 unchanged, 0 fetched, 0 cloned, 1 failed"
expect_no_err "acme/a:"
stored=$(db "select last_error from sources where repository='acme/c'")
expect_ok "the error is stored for status (got '$stored')" \
	sh -c 'case "$1" in *"is malformed"*) exit 0 ;; esac; exit 1' - "$stored"
expect_eq 0 "$(posts "$H")" "upload-pack POSTs"
run S reconcile -w eng --no-publish
expect_rc 0
expect_out "acme/c: source unreachable, using what was fetched before"
expect_out "is malformed"
case_end

case_begin 'an oversized advertisement is cut off and an error of its repository alone'
echo HUGE >"$H/adv/acme/c"
run S fetch -w eng
expect_rc 1
expect_err "acme/c: the ref advertisement of 'acme/c' passed 33554432 bytes"
expect_out "3 repositories: 2 unchanged, 0 fetched, 0 cloned, 1 failed"
rm "$H/adv/acme/c"
run S fetch -w eng
expect_rc 0
expect_out "3 repositories: 3 unchanged"
case_end

# libgit2 checks the certificate's host name, so the https cases need
# `localhost` to resolve; a bare root without an /etc/hosts entry for it
# (a debootstrap minbase chroot) cannot run them
if getent hosts localhost >/dev/null 2>&1; then
case_begin 'https: a token and the CA bundle apply to the probe as to libgit2'
unset SLUICE_TEST_TOKEN
run S fetch -w sec
expect_rc 1
expect_err "credentials_env names \$SLUICE_TEST_TOKEN, which is not set"
export SLUICE_TEST_TOKEN=tok-$$
run S fetch -w sec
expect_rc 0
expect_out "acme/d: cloned (new v0.1.0 v0.2.0;"
reset "$HS"
run S fetch -w sec -v
expect_rc 0
expect_out "1 repository: 1 unchanged"
expect_out "1 compared over smart HTTP on 1 connections, 0 opened with libgit2"
expect_eq 0 "$(posts "$HS")" "upload-pack POSTs"
expect_eq 1 "$(gets "$HS")" "authorised info/refs GETs"
case_end

case_begin 'https: without the CA bundle the server is not trusted'
sed -i 's/, ca_bundle: ca.pem//' "$R/workspaces/sec.yaml"
reset "$HS"
run S fetch -w sec
expect_rc 1
expect_err "acme/d: cannot reach 'https://localhost:$SPORT/acme/d'"
expect_eq 0 "$(gets "$HS")" "info/refs answered"
case_end
else
	echo "# skipped the two https cases: localhost does not resolve on this machine (add '127.0.0.1 localhost' to /etc/hosts)"
fi

case_begin 'repositories.max_concurrent is 1 to 256'
sed -i 's/max_concurrent: 2/max_concurrent: 257/' "$R/workspaces/eng.yaml"
run S fetch -w eng
expect_rc 2
expect_err "workspaces/eng.yaml:4:"
expect_err "'repositories.max_concurrent' must be between 1 and 256"
sed -i 's/max_concurrent: 257/max_concurrent: 0/' "$R/workspaces/eng.yaml"
run S fetch -w eng
expect_rc 2
expect_err "'repositories.max_concurrent' must be between 1 and 256"
case_end

done_testing
