#!/bin/sh
# Hostile and careless remotes (docs/sources.md): a password in a URL is
# masked in every message, row and line of output; a fetch larger than
# repositories.max_fetch_bytes is refused before anything is recorded; a
# ref with an invalid name is skipped and reported, never printed raw, and
# costs the repository nothing else.
. "$(dirname "$0")/lib.sh"

R=$T/root
G=$T/git
mkdir -p "$R/workspaces" "$G"
S() { run "$SLUICE" --root "$R" "$@"; }
DB=$R/.sluice/sluice.db
ESC=$(printf '\033')
C1=$(printf '\302\233')

# mkrepo DIR ID: a plugin repository with tag v0.1.0
mkrepo() {
	git init -q -b main "$1" && (
		cd "$1" && printf 'id: %s\nversion: 0.1.0\n' "$2" >plugin.yaml &&
		git add -A && git commit -qm one && git tag v0.1.0
	) >/dev/null || bail "cannot make $1"
}

# no_secret WHAT FILE...: none of the files holds the password
no_secret() {
	ns_what=$1
	shift
	for ns_f in "$@"; do
		expect_ok "$ns_what: no file $ns_f" [ -s "$ns_f" ]
	done
	expect_not "$ns_what shows the password: $(grep -h hunter2 "$@" | head -3)" \
		grep -q hunter2 "$@"
}

case_begin 'a password in a URL is masked in output, messages, the store and the audit log'
cat >"$R/workspaces/eng.yaml" <<'YAML'
workspace: eng
groups: {devs: {members: [alice]}}
admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]
plugins:
  - {repository: acme/plain, url: "http://user:hunter2@example.invalid/x.git", versions: "*"}
  - {repository: acme/tls, url: "https://user:hunter2@127.0.0.1:1/x.git", versions: "*"}
YAML
: >"$T/all"
S fetch
expect_rc 1
expect_err "error: acme/plain: plain http is not allowed for repository 'http://***@example.invalid/x.git'; use an https URL"
expect_err "error: acme/tls: cannot reach 'https://***@127.0.0.1:1/x.git'"
cat "$T/out" "$T/err" >>"$T/all"
S fetch -o json
expect_rc 1
expect_eq 'http://***@example.invalid/x.git' "$(jq -r 'select(.plugin=="acme/plain") | .url' "$T/out")" "json url"
cat "$T/out" "$T/err" >>"$T/all"
S reconcile
expect_rc 0
expect_out "source unreachable"
cat "$T/out" "$T/err" >>"$T/all"
S reconcile -o json
expect_rc 0
cat "$T/out" "$T/err" >>"$T/all"
for url in "http://user:hunter2@example.invalid/x.git" "https://user:hunter2@127.0.0.1:1/x.git"; do
	S validate --repo "$url" --tag v0.1.0
	expect_rc 1
	expect_err "error: cannot fetch ${url%%user:hunter2@*}***@"
	cat "$T/out" "$T/err" >>"$T/all"
done
S status -o json
expect_rc 0
expect_eq "plain http is not allowed for repository 'http://***@example.invalid/x.git'; use an https URL" \
	"$(jq -r '.plugins[] | select(.repository=="acme/plain") | .source.error' "$T/out")" "status source error"
cat "$T/out" "$T/err" >>"$T/all"
S status
expect_rc 0
cat "$T/out" "$T/err" >>"$T/all"
no_secret "the output of fetch, reconcile, validate --repo and status" "$T/all"
sqlite3 "$DB" .dump >"$T/dump" || fail "sqlite3 .dump failed"
expect_ok "the dump has the audit rows" grep -q "source.unreachable" "$T/dump"
no_secret "the database" "$T/dump"
expect_eq 0 "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE details LIKE '%hunter2%'")" "audit rows with the password"
ls -R "$R/.sluice" >"$T/files"
no_secret "the names of the mirrors" "$T/files"
case_end

case_begin 'repositories.max_fetch_bytes out of range is a validation error'
mkrepo "$G/small" small
cat >"$R/workspaces/eng.yaml" <<YAML
workspace: eng
groups: {devs: {members: [alice]}}
admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]
repositories: {max_fetch_bytes: 1000}
plugins:
  - {repository: acme/small, url: "file://$G/small", versions: "*"}
YAML
S validate
expect_rc 2
expect_out "'repositories.max_fetch_bytes' must be between 1048576 (1 MiB) and 68719476736 (64 GiB)"
case_end

# A 40 MB blob at a tagged commit, under a 10 MiB limit: the download stops
# and nothing of it is kept or recorded.
case_begin 'a fetch over repositories.max_fetch_bytes is refused, named, and records nothing'
mkrepo "$G/big" big
(cd "$G/big" && head -c 41943040 /dev/urandom >assets.bin && git add assets.bin &&
	git commit -qm big && git tag v0.2.0) >/dev/null || bail "cannot add the big blob"
cat >"$R/workspaces/eng.yaml" <<YAML
workspace: eng
groups: {devs: {members: [alice]}}
admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]
repositories: {max_fetch_bytes: 10485760}
plugins:
  - {repository: acme/big, url: "file://$G/big", versions: "*"}
YAML
S fetch acme/big
expect_rc 1
expect_err "error: acme/big: refusing to fetch 'acme/big': the download passed"
expect_err "over repositories.max_fetch_bytes (10485760 bytes); remove the large objects from its tags or raise the limit"
expect_not "a mirror was left" [ -e "$R/.sluice/cache/acme+big.git" ]
expect_eq "" "$(ls "$R/.sluice/cache")" "cache directory"
S reconcile
expect_rc 0
expect_out "big: source unreachable"
expect_out "over repositories.max_fetch_bytes (10485760 bytes)"
expect_eq 0 "$(sqlite3 "$DB" "SELECT count(*) FROM releases")" "releases recorded"
expect_eq 0 "$(sqlite3 "$DB" "SELECT count(*) FROM tags WHERE plugin IN ('big', 'acme/big')")" "tags recorded"
sed -i 's/max_fetch_bytes: 10485760/max_fetch_bytes: 104857600/' "$R/workspaces/eng.yaml"
S fetch acme/big
expect_rc 0
expect_out "acme/big: cloned (new v0.1.0 v0.2.0;"
case_end

# A tag whose name holds an ESC byte, written straight into packed-refs (git
# refuses to make it), beside a good tag and one with a C1 control (a valid
# ref name, so it is fetched, and printed escaped).
case_begin 'an invalid ref is skipped with a note; control characters are printed escaped'
mkrepo "$G/esc-work" esc
git clone -q --bare "$G/esc-work" "$G/esc.git" || bail "cannot clone"
c=$(git -C "$G/esc.git" rev-parse v0.1.0)
printf '%s refs/tags/%s[31mred\n' "$c" "$ESC" >>"$G/esc.git/packed-refs"
git -C "$G/esc.git" tag "v0.2.0$C1" "$c" || bail "git refused a C1 tag name"
git -C "$G/esc.git" tag good "$c"
cat >"$R/workspaces/eng.yaml" <<YAML
workspace: eng
groups: {devs: {members: [alice]}}
admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]
plugins:
  - {repository: acme/esc, url: "file://$G/esc.git", versions: "*"}
YAML
S fetch
expect_rc 0
expect_err "warning: acme/esc: skipped ref 'refs/tags/\\x1b[31mred': not a valid ref name"
expect_out 'acme/esc: cloned (new good v0.1.0 v0.2.0\xc2\x9b;'
expect_not "raw control bytes in the output" grep -q "$ESC\\|$C1" "$T/out" "$T/err"
expect_eq "good v0.1.0 v0.2.0$C1 " "$(sqlite3 "$DB" "SELECT tag FROM tags WHERE plugin = (SELECT plugin FROM sources WHERE repository = 'acme/esc') ORDER BY tag" | tr '\n' ' ')" "recorded tags"
expect_eq 1 "$(sqlite3 "$DB" "SELECT count(*) FROM sources WHERE repository='acme/esc' AND last_error IS NULL AND last_ok_at IS NOT NULL")" "the source is reachable"
S fetch -o json
expect_rc 0
expect_eq "skipped ref 'refs/tags/\\x1b[31mred': not a valid ref name" "$(jq -r '.notes[0]' "$T/out")" "json note"
S tags acme/esc
expect_rc 0
expect_out 'v0.2.0\xc2\x9b'
expect_not "raw control bytes in tags" grep -q "$ESC\\|$C1" "$T/out" "$T/err"
S reconcile
expect_rc 0
expect_out "esc: skipped ref 'refs/tags/\\x1b[31mred': not a valid ref name"
expect_not "raw control bytes in reconcile" grep -q "$ESC\\|$C1" "$T/out" "$T/err"
case_end

done_testing
