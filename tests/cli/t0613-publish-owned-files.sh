#!/bin/sh
# A publisher removes only files its own previous publish wrote (its
# manifest, .sluice-published.json): with publish.path pointing at a
# directory that holds other files, nothing of theirs is removed - not
# unknown releases/*/*, not files named like temporary ones - while the
# files of a release it no longer publishes go. A relative publish.path
# that climbs out of --root is refused at validation, with its position.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
P=$R/shared
EFFECTIVE=$P/effective.json
REL=$P/releases/$PLUGIN/0.1.0

# theirs: the files somebody else keeps in the shared directory
theirs() {
	mkdir -p "$P/releases/other-team/1.0.0" "$P/releases/$PLUGIN/9.9.9" "$P/drafts"
	echo notes >"$P/notes.txt"
	echo draft >"$P/draft.tmp.1"
	echo backup >"$P/report.tmp.backup"
	echo half >"$P/effective.json.tmp.old"
	echo hidden >"$P/.hidden"
	echo readme >"$P/releases/other-team/1.0.0/readme.md"
	echo keep >"$P/releases/$PLUGIN/9.9.9/keep.md"
	echo dot >"$P/releases/$PLUGIN/.notes"
	echo d >"$P/drafts/x.tmp.2"
	(cd "$P" && find . -type f | sort) >"$T/theirs"
}

# expect_theirs_kept WHAT: every file of theirs() is there, unchanged
expect_theirs_kept() {
	while read -r f; do
		expect_ok "$1: $f kept" [ -f "$P/$f" ]
	done <"$T/theirs"
	expect_eq keep "$(cat "$P/releases/$PLUGIN/9.9.9/keep.md")" "$1: content kept"
}

case_begin 'a relative publish.path that leaves --root is refused with its position'
ws_edit 's|path: .sluice/published}|path: ../outside}|'
S validate
expect_rc 2
expect_out "workspaces/engineering.yaml:47:34: error: 'publish.path' '../outside' leaves --root through '..'"
S reconcile --no-fetch --now $D0
expect_rc 2
expect_err "'publish.path' '../outside' leaves --root"
expect_not "nothing made outside --root" [ -e "$T/outside" ]
ws_edit 's|path: ../outside}|path: sub/../../outside}|'
S validate
expect_rc 2
expect_out "'publish.path' 'sub/../../outside' leaves --root through '..'"
case_end

case_begin 'a path with .. that stays inside --root is accepted'
ws_edit 's|path: sub/../../outside}|path: sub/../shared}|'
S validate
expect_rc 0
case_end

case_begin 'the first publish into a directory with other files removes none of them'
theirs
record
expect_ok "published" [ -f "$EFFECTIVE" ]
expect_theirs_kept "first publish"
expect_ok "the manifest is written" [ -f "$P/.sluice-published.json" ]
expect_eq "effective.json" "$(jq -r '.files[0]' "$P/.sluice-published.json")" "manifest lists what it wrote"
case_end

case_begin 'a publish that writes again removes none of them either'
start_rollout
S disable $PLUGIN --user alice --as alice --now $D2
expect_rc 0
S reconcile --no-fetch --now $D2
expect_rc 0
expect_eq '["alice"]' "$(jq -c '.groups["platform-devex"][0].disabled_users' "$EFFECTIVE")" "republished"
expect_theirs_kept "second publish"
case_end

case_begin "a killed pass's temporary files are removed, by their exact names"
mkdir -p "$P/releases/$PLUGIN/.0.1.0.tmp.4242"
echo half >"$P/releases/$PLUGIN/.0.1.0.tmp.4242/plugin.yaml"
echo half >"$P/effective.json.tmp.4242"
S enable $PLUGIN --user alice --as alice --now $D2
expect_rc 0
S reconcile --no-fetch --now $D2
expect_rc 0
expect_not "release temporary removed" [ -e "$P/releases/$PLUGIN/.0.1.0.tmp.4242" ]
expect_not "document temporary removed" [ -e "$P/effective.json.tmp.4242" ]
expect_theirs_kept "after the sweep"
case_end

case_begin 'a release no longer published is removed; files beside and inside it that it did not write stay'
echo mine >"$REL/local-notes.md"
S withdraw $PLUGIN --as admin-ana --now $D2
expect_rc 0
S reconcile --no-fetch --now $D2
expect_rc 0
expect_eq 0 "$(jq '[.groups[][]] | length' "$EFFECTIVE")" "no group has it"
expect_not "its manifest file removed" [ -e "$REL/plugin.yaml" ]
expect_not "its release.json removed" [ -e "$REL/release.json" ]
expect_not "its tools removed" [ -e "$REL/tools" ]
expect_eq mine "$(cat "$REL/local-notes.md")" "a file it did not write, inside its directory"
expect_theirs_kept "after the withdrawal"
expect_eq 0 "$(jq '[.files[] | select(startswith("releases/"))] | length' "$P/.sluice-published.json")" "manifest names no release"
case_end

case_begin "a release directory it did not write is not replaced"
rm -rf "$T/p2"
mkdir -p "$T/p2/releases/$PLUGIN/0.1.0"
echo foreign >"$T/p2/releases/$PLUGIN/0.1.0/plugin.yaml"
ws_edit "s|path: sub/../shared}|path: $T/p2}|"
# restore is applied and published by the command itself (docs/commands.md)
S restore $PLUGIN --as admin-ana --now $D2
expect_rc 1
expect_err "error: restore was applied but publishing failed: cannot publish $PLUGIN@0.1.0: $T/p2/releases/$PLUGIN/0.1.0 exists"
S reconcile --no-fetch --now $D2
expect_rc 1
expect_err "cannot publish $PLUGIN@0.1.0: $T/p2/releases/$PLUGIN/0.1.0 exists and was not written by the last publish; move it out of the publish directory"
expect_eq foreign "$(cat "$T/p2/releases/$PLUGIN/0.1.0/plugin.yaml")" "their file is untouched"
expect_not "no document half-published" [ -e "$T/p2/effective.json" ]
case_end

done_testing
