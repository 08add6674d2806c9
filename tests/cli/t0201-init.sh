#!/bin/sh
# sluice init writes a new administrators' repository that validates, and
# never overwrites anything.
. "$(dirname "$0")/lib.sh"

run "$SLUICE" init "$T/admin"
expect_rc 0
expect_out "created $T/admin/workspaces/engineering.yaml"
expect_out "created $T/admin/rollouts/standard.yaml"
cmp "$T/admin/workspaces/engineering.yaml" "$SRC/workspaces/engineering.yaml" ||
	fail "init's workspace differs from the shipped example"
cmp "$T/admin/rollouts/standard.yaml" "$SRC/rollouts/standard.yaml" ||
	fail "init's rollout policy differs from the shipped example"
grep -q '^\.sluice/$' "$T/admin/.gitignore" || fail ".gitignore does not ignore .sluice/"

run "$SLUICE" --root "$T/admin" validate
expect_rc 0

# a second init refuses and leaves the edited file alone
echo "# edited" >>"$T/admin/workspaces/engineering.yaml"
cp "$T/admin/workspaces/engineering.yaml" "$T/before"
run "$SLUICE" init "$T/admin"
expect_rc 1
expect_err "already exists; init never overwrites files"
cmp "$T/before" "$T/admin/workspaces/engineering.yaml" || fail "init changed an existing file"

# validate with no workspace at all
mkdir "$T/empty"
run "$SLUICE" --root "$T/empty" validate
expect_rc 2
expect_err "no workspaces/ directory in $T/empty; run 'sluice init' or pass --root"

done_testing
