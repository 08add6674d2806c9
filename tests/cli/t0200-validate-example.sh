#!/bin/sh
# The shipped example validates with exactly the two warnings PRODUCT.md
# section 2 names, in text and JSON; exit 0.
. "$(dirname "$0")/lib.sh"

cd "$SRC"
run "$SLUICE" validate --plugin examples/plugins/backend-pr-reviewer
expect_rc 0
cat >"$T/want" <<'W'
examples/plugins/backend-pr-reviewer/deploy/workspace-config.yaml:24:16: warning: stage 'backend-pilot' names group 'backend-engineers-pilot', which is not in plugin.yaml's availability.groups
examples/plugins/backend-pr-reviewer/plugin.yaml:51:47: warning: availability group 'staff-engineers' is in no rollout stage, so it will not receive the plugin
W
diff -u "$T/want" "$T/out" || fail "validate output differs from the two expected warnings"
[ ! -s "$T/err" ] || fail "validate wrote to stderr: $(cat "$T/err")"

run "$SLUICE" validate --plugin examples/plugins/backend-pr-reviewer -o json
expect_rc 0
expect_eq true "$(jq -r .ok "$T/out")" "json ok"
expect_eq 2 "$(jq '.diagnostics | length' "$T/out")" "json diagnostics"
expect_eq "warning warning" "$(jq -r '[.diagnostics[].severity] | join(" ")' "$T/out")" "severities"
expect_eq "24:16" "$(jq -r '.diagnostics[0] | "\(.line):\(.column)"' "$T/out")" "first position"
expect_eq "availability" "$(jq -r '.diagnostics[1].code' "$T/out")" "code"

# the workspace and rollout policy alone: clean
run "$SLUICE" validate
expect_rc 0
[ ! -s "$T/out" ] || fail "workspace validation printed: $(cat "$T/out")"

# -q hides warnings but not errors
run "$SLUICE" validate -q --plugin examples/plugins/backend-pr-reviewer
expect_rc 0
[ ! -s "$T/out" ] || fail "-q printed warnings"

# a plugin directory that does not exist
run "$SLUICE" validate --plugin "$T/nowhere"
expect_rc 2
expect_out "nowhere"

done_testing
