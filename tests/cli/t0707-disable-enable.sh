#!/bin/sh
# sluice disable / enable: a user's opt-out, by that user or an operator;
# refused for an enforced plugin (allow_user_disable: false).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'disable -h and enable -h print the usage'
S disable -h
expect_rc 0
expect_out "usage: sluice disable PLUGIN --user ID"
S enable -h
expect_rc 0
expect_out "usage: sluice enable PLUGIN --user ID"
case_end

case_begin 'usage errors and an unknown user change nothing'
start_rollout
snapshot
S disable $PLUGIN --as alice --now $D2
expect_rc 129
expect_err "disable needs the user: give --user ID"
S disable $PLUGIN@0.1.0 --user alice --as alice --now $D2
expect_rc 129
expect_err "disable works on the whole plugin, not one version"
S disable $PLUGIN --user zed --as admin-ana --now $D2
expect_rc 2
expect_err "user 'zed' is in no group of workspace 'engineering'"
expect_unchanged
case_end

case_begin 'someone else, not an operator'
snapshot
S disable $PLUGIN --user alice --as bob --now $D2
expect_refused disable.refused "error: bob may not disable backend-pr-reviewer for alice: only alice themself or an admin with the operator role may"
snapshot
S disable $PLUGIN --user alice --as admin-ben --now $D2
expect_refused disable.refused "admin-ben may not disable backend-pr-reviewer for alice"
case_end

case_begin 'the user themself'
S disable $PLUGIN --user alice --as alice --now $D2
expect_rc 0
expect_out "disabled backend-pr-reviewer for alice (by alice)"
expect_eq "alice|alice" "$(sq "SELECT user_id || '|' || actor FROM user_optouts")" "opt-out row"
expect_eq "alice user.disabled alice" "$(sq "SELECT actor || ' ' || action || ' ' || json_extract(details, '$.user') FROM audit ORDER BY id DESC LIMIT 1")" audit
S resolve --user alice -o json --now $D2
expect_rc 0
expect_eq "0 backend-pr-reviewer" "$(jq -r '"\(.plugins | length) \(.disabled[0].id)"' "$T/out")" "resolve after disable"
S resolve --user alice --now $D2
expect_rc 0
expect_out "backend-pr-reviewer 0.1.0: disabled by the user ('sluice enable backend-pr-reviewer --user alice' undoes it)"
snapshot
S disable $PLUGIN --user alice --as alice -o json --now $D2
expect_rc 0
expect_eq "true false" "$(jq -r '"\(.disabled) \(.changed)"' "$T/out")" "twice"
expect_unchanged
case_end

case_begin 'an operator enables it again'
S enable $PLUGIN --user alice --as devex-lead --now $D2
expect_rc 0
expect_out "enabled backend-pr-reviewer for alice (by devex-lead)"
expect_eq 0 "$(sq "SELECT count(*) FROM user_optouts")" "opt-out gone"
S resolve --user alice -o json --now $D2
expect_rc 0
expect_eq "1 0.1.0" "$(jq -r '"\(.plugins | length) \(.plugins[0].version)"' "$T/out")" "resolve after enable"
case_end

case_begin 'an enforced plugin (allow_user_disable: false in the recorded deploy file) cannot be disabled'
sq "UPDATE releases SET deploy_snapshot = json_set(deploy_snapshot, '$.controls.allow_user_disable', json('false'))"
snapshot
S disable $PLUGIN --user alice --as alice --now $D2
expect_refused disable.refused "error: plugin backend-pr-reviewer is enforced (allow_user_disable: false); it cannot be disabled"
snapshot
S disable $PLUGIN --user bob --as admin-ana --now $D2
expect_refused disable.refused "error: plugin backend-pr-reviewer is enforced (allow_user_disable: false); it cannot be disabled"
S resolve --user alice -o json --now $D2
expect_rc 0
expect_eq false "$(jq -r '.plugins[0].user_can_disable' "$T/out")" "enforced in resolve"
case_end

done_testing

