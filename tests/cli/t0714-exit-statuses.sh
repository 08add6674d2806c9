#!/bin/sh
# Exit statuses that mean the same thing in every command
# (docs/commands.md): a wrong name - plugin, version, stage, user, group -
# is invalid input (2), whoever asks; not saying who acts under identity
# asserted is a usage error (129); repeating freeze or withdraw (and
# their undo) changes nothing and says so (0); status works before the
# first reconcile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'status before the first reconcile: the workspace, nothing recorded, exit 0'
S status
expect_rc 0
expect_out "workspace engineering"
expect_out "nothing recorded yet: 'sluice reconcile' fetches the plugins and records their releases"
expect_out "stable none"
S status -o json
expect_rc 0
expect_eq "engineering 1 null" "$(js '"\(.workspace) \(.plugins | length) \(.plugins[0].stable_version)"')" "status json"
expect_not "status made no database" test -e "$DB"
case_end

case_begin 'history of an unknown plugin is invalid input (2); of a known one, its events'
record
S history nope
expect_rc 2
expect_err "error: no plugin 'nope' has events, recorded tags or a watched repository"
S history $PLUGIN
expect_rc 0
expect_out "release.recorded"
# a repository's tags are recorded under its own name until its first
# release validates and it owns the id (docs/sources.md)
S history acme/codex-plugin-backend-pr-reviewer
expect_rc 0
expect_out "tag.recorded"
case_end

case_begin 'an unknown plugin is invalid input (2) for every command'
start_rollout
for cmd in "approve nope@0.1.0 --stage devex-dogfood" "reject nope@0.1.0" "pause nope" \
	"resume nope" "promote nope --reason x" "rollback nope" "withdraw nope" "restore nope" \
	"disable nope --user alice" "enable nope --user alice"; do
	snapshot
	# shellcheck disable=SC2086 # the command and its arguments
	S $cmd --as admin-ana --now $D2
	expect_invalid "${cmd%% *}.refused" "no plugin 'nope' is watched by workspace 'engineering'"
done
snapshot
S attest nope@0.1.0 contract-tests --as ci-bot --now $D2
expect_invalid attest.refused "no plugin 'nope' is watched by workspace 'engineering'"
S checklist nope@0.1.0 --now $D2
expect_rc 2
expect_err "no plugin 'nope' is watched by workspace 'engineering'"
for cmd in "tags nope" "fetch nope"; do
	# shellcheck disable=SC2086 # the command and its arguments
	S $cmd --now $D2
	expect_rc 2
	expect_err "nope"
done
S accept-tag-move nope@0.1.0 --as admin-ana --now $D2
expect_rc 2
expect_err "no tag v0.1.0 of 'nope' has been recorded"
case_end

case_begin 'an unknown version is invalid input (2) for every command'
for cmd in "approve $PLUGIN@0.9.0 --stage devex-dogfood" "reject $PLUGIN@0.9.0" \
	"pause $PLUGIN@0.9.0" "resume $PLUGIN@0.9.0" "promote $PLUGIN@0.9.0 --reason x" \
	"rollback $PLUGIN@0.9.0" "withdraw $PLUGIN@0.9.0" "restore $PLUGIN@0.9.0"; do
	snapshot
	# shellcheck disable=SC2086 # the command and its arguments
	S $cmd --as admin-ana --now $D2
	expect_invalid "${cmd%% *}.refused" "backend-pr-reviewer@0.9.0: no such release has been recorded"
done
snapshot
S attest $PLUGIN@0.9.0 contract-tests --as ci-bot --now $D2
expect_invalid attest.refused "backend-pr-reviewer@0.9.0: no such release has been recorded"
S checklist $PLUGIN@0.9.0 --now $D2
expect_rc 2
expect_err "no release backend-pr-reviewer@0.9.0 has been recorded"
S accept-tag-move $PLUGIN@0.9.0 --as admin-ana --now $D2
expect_rc 2
expect_err "no tag v0.9.0 of 'backend-pr-reviewer' has been recorded"
case_end

case_begin 'an unknown stage, user or group is invalid input (2)'
snapshot
S approve $PLUGIN@0.1.0 --stage nope --as admin-ana --now $D2
expect_invalid approve.refused "cannot approve backend-pr-reviewer@0.1.0: it has no stage 'nope' (its stages: devex-dogfood, backend-pilot, backend-general)"
for cmd in disable enable; do
	snapshot
	S $cmd $PLUGIN --user zed --as admin-ana --now $D2
	expect_rc 2
	expect_err "user 'zed' is in no group of workspace 'engineering'; check the id"
	expect_unchanged
done
S resolve --user zed --now $D2
expect_rc 2
expect_err "user 'zed' is in no group of workspace 'engineering'"
S resolve --group nope --now $D2
expect_rc 2
expect_err "no group 'nope' in workspace 'engineering'"
case_end

case_begin 'no actor under identity asserted is a usage error (129), not audited'
for cmd in "approve $PLUGIN@0.1.0 --stage backend-pilot" "pause $PLUGIN" "freeze" \
	"withdraw $PLUGIN" "disable $PLUGIN --user alice" "accept-tag-move $PLUGIN@0.1.0" \
	"audit prune"; do
	snapshot
	# shellcheck disable=SC2086 # the command and its arguments
	S $cmd
	expect_rc 129
	expect_err "policy.identity is 'asserted': say who is acting with --as ID or \$SLUICE_ACTOR"
	expect_unchanged
done
SLUICE_ACTOR= S freeze --as "" --now $D2
expect_rc 129
expect_unchanged
case_end

case_begin 'a repeated freeze and a repeated withdraw answer alike: exit 0, nothing changed'
S freeze --reason "incident" --as admin-ana --now $D2
expect_rc 0
snapshot
S freeze --as admin-ana --now $D2
expect_rc 0
expect_out "workspace engineering is already frozen: incident; nothing changed"
expect_unchanged
S withdraw $PLUGIN --as admin-ana --now $D2
expect_rc 0
snapshot
S withdraw $PLUGIN --as admin-ana --now $D2
expect_rc 0
expect_out "backend-pr-reviewer is already withdrawn; nothing changed"
expect_unchanged
S withdraw $PLUGIN -o json --as admin-ana --now $D2
expect_rc 0
expect_eq "true false" "$(js '"\(.withdrawn) \(.changed)"')" "withdraw json, repeated"
S restore $PLUGIN --as admin-ana --now $D2
expect_rc 0
snapshot
S restore $PLUGIN --as admin-ana --now $D2
expect_rc 0
expect_out "backend-pr-reviewer is not withdrawn; nothing changed"
expect_unchanged
S unfreeze --as admin-ana --now $D2
expect_rc 0
snapshot
S unfreeze --as admin-ana --now $D2
expect_rc 0
expect_out "workspace engineering is already unfrozen; nothing changed"
expect_unchanged
case_end

done_testing
