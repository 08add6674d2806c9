#!/bin/sh
# sluice pause / resume: a paused rollout starts nothing and its soak stops;
# resuming adds the paused time to the soak.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'pause -h and resume -h print the usage'
S pause -h
expect_rc 0
expect_out "usage: sluice pause PLUGIN[@VERSION] [--reason TEXT]"
S resume -h
expect_rc 0
expect_out "usage: sluice resume PLUGIN[@VERSION] [--reason TEXT]"
case_end

case_begin 'nothing in progress yet: pause is refused'
record
snapshot
S pause $PLUGIN --as admin-ana --now $D1
expect_refused pause.refused "error: cannot pause backend-pr-reviewer: no rollout of it is in progress"
snapshot
S pause $PLUGIN@0.1.0 --as admin-ana --now $D1
expect_refused pause.refused "error: cannot pause backend-pr-reviewer@0.1.0: it is pending; only a rollout in progress can be paused"
case_end

case_begin 'once the rollout started: the wrong role, or nothing paused, is refused'
S attest $PLUGIN@0.1.0 contract-tests --as ci-bot --now $D1
expect_rc 0
S attest $PLUGIN@0.1.0 security-review --as admin-ben --now $D1
expect_rc 0
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
expect_rc 0
S reconcile --now $D2
expect_rc 0
expect_out "start stage devex-dogfood"

snapshot
S pause $PLUGIN --as admin-ben --now $D2
expect_refused access.refused "'admin-ben' lacks the 'operator' role that 'pause' needs (held by: admin-ana, devex-lead)"
snapshot
S resume $PLUGIN --as admin-ana --now $D2
expect_refused resume.refused "error: cannot resume backend-pr-reviewer: no rollout of it is paused"
case_end

case_begin 'pause on day 3 for two days'
S pause $PLUGIN --reason "incident 42" --as devex-lead --now 2026-12-03T11:00:00Z
expect_rc 0
expect_out "paused backend-pr-reviewer@0.1.0 at stage devex-dogfood by devex-lead: no stage starts and the soak stops until 'sluice resume backend-pr-reviewer'"
expect_eq "paused|incident 42" "$(sq "SELECT state || '|' || state_reason FROM releases")" "paused row"
S status -o json --now 2026-12-03T12:00:00Z
expect_rc 0
expect_eq paused "$(jq -r '.plugins[0].rollout.state' "$T/out")" "status while paused"
snapshot
S pause $PLUGIN --as devex-lead --now 2026-12-03T12:00:00Z
expect_refused pause.refused "no rollout of it is in progress"
case_end

case_begin 'resume two days later keeps the paused time'
S resume $PLUGIN -o json --as devex-lead --now 2026-12-05T11:00:00Z
expect_rc 0
expect_eq "0.1.0 in_progress devex-dogfood devex-lead" "$(jq -r '"\(.version) \(.state) \(.stage) \(.actor)"' "$T/out")" "resume json"
expect_eq "in_progress|172800|" "$(sq "SELECT state || '|' || paused_seconds || '|' || coalesce(paused_at, '') FROM releases")" "paused time kept"
expect_eq "rollout.paused rollout.resumed" "$(sq "SELECT group_concat(action, ' ') FROM audit WHERE action LIKE 'rollout.%'")" "audit"
case_end

case_begin 'the 7-day soak now ends two days later: 2026-12-10, not 2026-12-08'
S status --now 2026-12-09T12:00:00Z
expect_rc 0
expect_out "soak ends 2026-12-10"
case_end

done_testing

