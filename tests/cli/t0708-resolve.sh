#!/bin/sh
# sluice resolve --user / --group: what a person or group gets, and why,
# in the JSON shape of docs/commands.md and readable text.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'resolve -h; usage errors; before any reconcile'
S resolve -h
expect_rc 0
expect_out "usage: sluice resolve --user ID | --group NAME"
S resolve --now $D0
expect_rc 129
expect_err "resolve needs exactly one of --user ID and --group NAME"
S resolve --user carol --group platform-devex --now $D0
expect_rc 129
S resolve --user carol --now $D0
expect_rc 1
expect_err "run 'sluice reconcile'"
case_end

case_begin 'carol is in two groups the rollout has not reached: no plugins'
start_rollout
S resolve --user carol -o json --now $D2
expect_rc 0
expect_eq '{"user":"carol","groups":["backend-engineers-pilot","backend-engineers"],"plugins":[],"disabled":[]}' \
	"$(jq -c . "$T/out")" "carol before"
S resolve --user carol --now $D2
expect_rc 0
expect_out "carol: groups backend-engineers-pilot, backend-engineers"
expect_out "  no plugins"
case_end

case_begin 'after promote, carol gets it through the pilot group'
S promote $PLUGIN --reason pilot --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 0
S resolve --user carol -o json --now 2026-12-02T09:00:00Z
expect_rc 0
expect_eq "{\"id\":\"backend-pr-reviewer\",\"version\":\"0.1.0\",\"commit\":\"$COMMIT\",\"via_group\":\"backend-engineers-pilot\",\"user_can_disable\":true}" \
	"$(jq -c '.plugins[0]' "$T/out")" "carol's grant"
expect_eq 1 "$(jq '.plugins | length' "$T/out")" "one grant"
S resolve --user carol --now 2026-12-02T09:00:00Z
expect_rc 0
expect_out "  backend-pr-reviewer 0.1.0 (commit $(echo "$COMMIT" | cut -c1-12)): via group backend-engineers-pilot, stage backend-pilot of 0.1.0 (rolling out: in_progress); the user may disable it"
case_end

case_begin 'a user in no group is unknown: exit 2, named'
S resolve --user nobody -o json --now 2026-12-02T09:00:00Z
expect_rc 2
expect_err "user 'nobody' is in no group of workspace 'engineering'; check the id"
expect_eq "" "$(cat "$T/out")" "no JSON for an unknown user"
S resolve --user nobody --now 2026-12-02T09:00:00Z
expect_rc 2
expect_err "user 'nobody' is in no group of workspace 'engineering'"
case_end

case_begin 'a group: its members and plugins; an unknown group exits 2'
S resolve --group platform-devex -o json --now 2026-12-02T09:00:00Z
expect_rc 0
expect_eq "platform-devex [\"alice\",\"bob\"] backend-pr-reviewer 0.1.0 devex-dogfood in_progress" \
	"$(jq -c -r '"\(.group) \(.members) \(.plugins[0].id) \(.plugins[0].version) \(.plugins[0].stage) \(.plugins[0].state)"' "$T/out")" "group json"
S resolve --group backend-engineers --now 2026-12-02T09:00:00Z
expect_rc 0
expect_out "backend-engineers ("
expect_out "  no plugins"
S resolve --group staff --now 2026-12-02T09:00:00Z
expect_rc 2
expect_err "error: no group 'staff' in workspace 'engineering' (groups: platform-devex, backend-engineers-pilot, backend-engineers, staff-engineers)"
case_end

case_begin 'once complete: the stable release, for every group of its stages'
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2026-12-03T09:00:00Z
expect_rc 0
S promote $PLUGIN --reason general --as admin-ana --now 2026-12-03T09:00:00Z
expect_rc 0
S resolve --user carol --now 2026-12-03T09:00:00Z
expect_rc 0
expect_out "via group backend-engineers-pilot, stage backend-pilot of 0.1.0 (the stable release)"
case_end

done_testing

