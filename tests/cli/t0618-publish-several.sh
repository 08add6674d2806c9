#!/bin/sh
# Several publishers at once (docs/publishing.md): `publish` as a list, a
# directory and a codex publisher. Reconcile and the operators' commands
# run every one; one that fails does not stop the other, the command exits
# 1 naming it, and `status` shows which failed (`"publishers"`, and the
# combined `"publish"`) until it succeeds again. Removing a publisher from
# the list removes its outcome.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
ws_edit 's|^publish: {type: directory, path: .sluice/published}|publish:\n  - {type: codex, path: codex-out}\n  - {type: directory, path: .sluice/published}|'
CX=$R/codex-out/codex
DIRL="directory publisher at '.sluice/published'"
CXL="codex publisher at 'codex-out'"
P1=2026-12-02T09:00:00Z
P2=2026-12-02T10:00:00Z

# allows GROUP: the servers the group's requirements.toml allows ("-": none)
allows() {
	python3 -c 'import sys, tomllib
print(" ".join(sorted(tomllib.load(open(sys.argv[1], "rb")).get("mcp_servers", {}))) or "-")' \
		"$CX/$1/requirements.toml" 2>"$T/py.err" ||
		fail "cannot read $CX/$1/requirements.toml: $(cat "$T/py.err")"
}

# outcomes: "type ok at error" of each publisher in `status -o json`
outcomes() {
	js '.publishers[] | "\(.type) \(.path) \(.ok) \(.at) \(.error)"'
}

case_begin 'both publishers publish the same state'
start_rollout
expect_eq "0.1.0" "$(group_version platform-devex)" "effective.json: platform-devex"
expect_eq "$PLUGIN" "$(allows platform-devex)" "codex: platform-devex allows"
expect_eq "-" "$(allows backend-engineers-pilot)" "codex: the pilot allows nothing yet"
S status -o json --now $D2
expect_rc 0
expect_eq "codex codex-out true $D2 null
directory .sluice/published true $D2 null" "$(outcomes)" "each publisher's outcome, in list order"
expect_eq "true $D2 null" "$(js '"\(.publish.ok) \(.publish.at) \(.publish.error)"')" "combined outcome"
S status --now $D2
expect_rc 0
expect_out "$DIRL: published at $D2"
expect_out "$CXL: published at $D2"
case_end

case_begin 'one publisher fails: the other still publishes, the command exits 1 naming it'
# a file stands where the codex publisher, the first in the list, writes
rm -rf "$R/codex-out"
echo "not a directory" >"$R/codex-out"
S promote $PLUGIN --reason pilot --as admin-ana --now $P1
expect_rc 1
expect_err "error: promote was applied but publishing failed: $CXL: cannot create $R/codex-out"
expect_eq "0.1.0" "$(group_version backend-engineers-pilot)" "effective.json has the pilot's version"
S status -o json --now $P1
expect_rc 0
expect_eq "directory .sluice/published true $P1 null" "$(js '.publishers[1] | "\(.type) \(.path) \(.ok) \(.at) \(.error)"')" "the directory publisher's outcome"
expect_eq "codex codex-out false $P1" "$(js '.publishers[0] | "\(.type) \(.path) \(.ok) \(.at)"')" "the codex publisher's outcome"
expect_ok "codex error: $(js '.publishers[0].error')" \
	sh -c 'jq -r ".publishers[0].error" "$1" | grep -q "^cannot create $2/codex-out"' - "$T/out" "$R"
expect_eq "false $P1" "$(js '"\(.publish.ok) \(.publish.at)"')" "combined: not ok"
expect_ok "combined error names the codex publisher: $(js .publish.error)" \
	sh -c 'jq -r ".publish.error" "$1" | grep -qF "$2: cannot create"' - "$T/out" "$CXL"
S status --now $P1
expect_rc 0
expect_out "$DIRL: published at $P1"
expect_out "$CXL: failed at $P1: cannot create $R/codex-out"
case_end

case_begin 'reconcile keeps failing for the broken one only, and says so'
S reconcile --no-fetch --now $P2
expect_rc 1
expect_err "error: cannot publish: $CXL: cannot create $R/codex-out"
S status -o json --now $P2
expect_rc 0
# the directory publisher was current: skipped, its outcome stands
expect_eq "codex false $P2
directory true $P1" "$(js '.publishers[] | "\(.type) \(.ok) \(.at)"')" "outcomes after the pass"
expect_eq "2" "$(sq "SELECT count(*) FROM publish_state WHERE workspace = 'engineering'")" "one stored outcome per publisher"
case_end

case_begin 'fixed, the codex publisher catches up and status clears'
rm "$R/codex-out"
S reconcile --no-fetch --now $P2
expect_rc 0
expect_eq "$PLUGIN" "$(allows backend-engineers-pilot)" "codex: the pilot now allows it"
expect_eq "$PLUGIN" "$(allows platform-devex)" "codex: platform-devex still allows it"
S status -o json --now $P2
expect_rc 0
expect_eq "codex true $P2 null
directory true $P1 null" "$(js '.publishers[] | "\(.type) \(.ok) \(.at) \(.error)"')" "both ok"
expect_eq "true $P2 null" "$(js '"\(.publish.ok) \(.publish.at) \(.publish.error)"')" "combined ok"
S status --now $P2
expect_rc 0
expect_no_out "failed"
case_end

case_begin 'a publisher taken off the list takes its outcome with it'
ws_edit '/^  - {type: codex, path: codex-out}$/d'
S reconcile --no-fetch --now $P2
expect_rc 0
expect_eq "directory|.sluice/published" "$(sq "SELECT type || '|' || target FROM publish_state")" "stored outcomes"
S status -o json --now $P2
expect_rc 0
expect_eq "1 true" "$(js '"\(.publishers | length) \(.publish.ok)"')" "one publisher left"
S status --now $P2
expect_rc 0
expect_no_out "publisher at"
case_end

case_begin 'two publishers of one type at one place are refused'
ws_edit 's|^  - {type: directory, path: .sluice/published}$|  - {type: directory, path: .sluice/published}\n  - {type: directory, path: ./.sluice/published/}|'
S validate
expect_rc 2
expect_out "workspaces/engineering.yaml:49:29: error: 'publish[1].path' './.sluice/published/' is where publish[0] already publishes (type directory); give each directory publisher its own path"
snapshot
S reconcile --no-fetch --now $P2
expect_rc 2
expect_err "'publish[1].path' './.sluice/published/' is where publish[0] already publishes"
expect_state_unchanged "a reconcile with two publishers at one place changed the state"
case_end

done_testing
