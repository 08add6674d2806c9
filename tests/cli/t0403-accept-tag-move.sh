#!/bin/sh
# sluice accept-tag-move: a moved tag stays frozen at its first commit
# until an operator accepts the move, which is audited; a new commit that
# is not a valid release is never accepted (t0440 accepts a valid one).
# No release of acme/mover validates, so it owns no plugin id: its tags are
# recorded, and named, under the repository (docs/sources.md, plugin ids).
. "$(dirname "$0")/lib.sh"

R=$T/root
G=$T/git
mkdir -p "$R/workspaces" "$G/acme"
git init -q -b main "$G/acme/mover"
(cd "$G/acme/mover" && printf 'id: mover\n' >plugin.yaml && git add -A && git commit -qm one &&
	git tag v0.1.0) >/dev/null
cat >"$R/workspaces/eng.yaml" <<YAML
workspace: eng
groups: {devs: {members: [alice]}}
admins:
  - {id: ana, roles: [operator], emails: [ana@acme.example]}
  - {id: ben, roles: [approver], emails: [ben@acme.example]}
policy: {identity: asserted}
repositories: {url_template: "file://$G/{repository}"}
plugins:
  - {repository: acme/mover, versions: "*"}
YAML
S() { "$SLUICE" --root "$R" "$@"; }
db() { sqlite3 "$R/.sluice/sluice.db" "$1" || fail "sqlite3 failed: $1"; }

case_begin 'a tag that has not moved, or was never recorded: nothing to accept, exit 2'
run S fetch -q
expect_rc 0
first=$(git -C "$G/acme/mover" rev-parse v0.1.0)
run S accept-tag-move --as ana acme/mover@0.1.0
expect_rc 2
expect_err "error: tag v0.1.0 of 'acme/mover' has not moved: it still points at $first; nothing to accept"

run S accept-tag-move --as ana acme/mover@0.9.0
expect_rc 2
expect_err "error: no tag v0.9.0 of 'acme/mover' has been recorded"
case_end

case_begin 'PLUGIN without @VERSION: exit 129'
run S accept-tag-move mover
expect_rc 129
expect_err "error: 'mover' is not PLUGIN@VERSION"
case_end

case_begin 'a moved tag is reported and keeps its first commit'
(cd "$G/acme/mover" && git commit -qm two --allow-empty && git tag -f v0.1.0) >/dev/null
second=$(git -C "$G/acme/mover" rev-parse v0.1.0)
run S fetch
expect_rc 0
expect_err "warning: acme/mover: tag v0.1.0 points at another commit than when it was first seen"
expect_eq "$first" "$(db "select commit_id from tags where plugin='acme/mover' and tag='v0.1.0'")" "still trusted: first"
case_end

case_begin 'only an operator may accept; the refusal is audited and changes nothing'
run S accept-tag-move --as ben acme/mover@v0.1.0
expect_rc 3
expect_err "ben"
expect_err "operator"
expect_eq "$first" "$(db "select commit_id from tags where plugin='acme/mover' and tag='v0.1.0'")" "refused: still first"
expect_eq "ben|access.refused" "$(db "select actor, action from audit order by id desc limit 1")" "refusal audited"
case_end

case_begin 'a new commit that is not a valid release is refused; the tag keeps its first commit'
run S accept-tag-move --as ana acme/mover@v0.1.0
expect_rc 3
expect_err "error: cannot accept the move of tag v0.1.0 of 'acme/mover' to $second: "
expect_err "the release stays frozen at $first"
expect_eq "$first" "$(db "select commit_id from tags where plugin='acme/mover' and tag='v0.1.0'")" "still trusted: first"
expect_eq "ana|tag.move_refused" "$(db "select actor, action from audit order by id desc limit 1")" "audit row"
run S audit verify
expect_rc 0
case_end

case_begin 'fetching again keeps the first commit trusted'
run S fetch
expect_rc 0
expect_eq "$first" "$(db "select commit_id from tags where plugin='acme/mover' and tag='v0.1.0'")" "still trusted: first"
expect_eq "$second" "$(db "select moved_to_commit from tags where plugin='acme/mover' and tag='v0.1.0'")" "still moved"
case_end

done_testing
