#!/bin/sh
# sluice init writes a new administrators' repository that validates, and
# never overwrites anything.
. "$(dirname "$0")/lib.sh"

case_begin 'init writes the shipped examples and a .gitignore'
run "$SLUICE" init "$T/admin"
expect_rc 0
expect_out "created $T/admin/workspaces/engineering.yaml"
expect_out "created $T/admin/rollouts/standard.yaml"
expect_same "$SRC/workspaces/engineering.yaml" "$T/admin/workspaces/engineering.yaml" \
	"init's workspace differs from the shipped example"
expect_same "$SRC/rollouts/standard.yaml" "$T/admin/rollouts/standard.yaml" \
	"init's rollout policy differs from the shipped example"
expect_ok ".gitignore does not ignore .sluice/" grep -q '^\.sluice/$' "$T/admin/.gitignore"
case_end

case_begin 'what init wrote validates'
run "$SLUICE" --root "$T/admin" validate
expect_rc 0
case_end

case_begin 'a second init refuses and leaves the edited file alone'
echo "# edited" >>"$T/admin/workspaces/engineering.yaml"
cp "$T/admin/workspaces/engineering.yaml" "$T/before"
run "$SLUICE" init "$T/admin"
expect_rc 1
expect_err "already exists; init never overwrites files"
expect_same "$T/before" "$T/admin/workspaces/engineering.yaml" "init changed an existing file"
case_end

case_begin 'validate with no workspace at all: exit 2, told to init'
mkdir "$T/empty"
run "$SLUICE" --root "$T/empty" validate
expect_rc 2
expect_err "no workspaces/ directory in $T/empty; run 'sluice init' or pass --root"
case_end

done_testing
