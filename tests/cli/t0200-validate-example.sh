#!/bin/sh
# The shipped example validates with exactly the two warnings docs/commands.md
# shows under `sluice validate`, in text and JSON; exit 0.
. "$(dirname "$0")/lib.sh"

cd "$SRC" || bail "cd $SRC"

case_begin 'the example plugin: exactly the two known warnings, exit 0'
run "$SLUICE" validate --plugin examples/plugins/backend-pr-reviewer
expect_rc 0
cat >"$T/want" <<'W'
examples/plugins/backend-pr-reviewer/deploy/workspace-config.yaml:24:16: warning: stage 'backend-pilot' names group 'backend-engineers-pilot', which is not in plugin.yaml's availability.groups
examples/plugins/backend-pr-reviewer/plugin.yaml:51:47: warning: availability group 'staff-engineers' is in no rollout stage, so it will not receive the plugin
W
expect_same "$T/want" "$T/out" "validate output differs from the two expected warnings"
expect_ok "validate wrote to stderr: $(cat "$T/err")" [ ! -s "$T/err" ]
case_end

case_begin 'the same in -o json'
run "$SLUICE" validate --plugin examples/plugins/backend-pr-reviewer -o json
expect_rc 0
expect_eq true "$(jq -r .ok "$T/out")" "json ok"
expect_eq 2 "$(jq '.diagnostics | length' "$T/out")" "json diagnostics"
expect_eq "warning warning" "$(jq -r '[.diagnostics[].severity] | join(" ")' "$T/out")" "severities"
expect_eq "24:16" "$(jq -r '.diagnostics[0] | "\(.line):\(.column)"' "$T/out")" "first position"
expect_eq "availability" "$(jq -r '.diagnostics[1].code' "$T/out")" "code"
case_end

case_begin 'the workspace and rollout policy alone: clean'
run "$SLUICE" validate
expect_rc 0
expect_ok "workspace validation printed: $(cat "$T/out")" [ ! -s "$T/out" ]
case_end

case_begin '-q hides warnings'
run "$SLUICE" validate -q --plugin examples/plugins/backend-pr-reviewer
expect_rc 0
expect_ok "-q printed warnings" [ ! -s "$T/out" ]
case_end

case_begin 'a plugin directory that does not exist: exit 2'
run "$SLUICE" validate --plugin "$T/nowhere"
expect_rc 2
expect_out "nowhere"
case_end

done_testing
