#!/bin/sh
# sluice reject: an approver stops a release for good; it never starts
# another stage, and the refusals change nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'reject -h prints the usage'
S reject -h
expect_rc 0
expect_out "usage: sluice reject PLUGIN@VERSION [--comment TEXT]"
case_end

case_begin 'the wrong role or an unrecorded version is refused'
start_rollout

snapshot
S reject $PLUGIN@0.1.0 --as devex-lead --now $D2
expect_refused access.refused "'devex-lead' lacks the 'approver' role that 'reject' needs"
snapshot
S reject $PLUGIN@0.2.0 --as admin-ben --now $D2
expect_invalid reject.refused "cannot reject backend-pr-reviewer@0.2.0: no such release has been recorded"
case_end

case_begin 'an approver rejects the release: its row, the rejection and the audit say so'
S reject $PLUGIN@0.1.0 --comment "leaks diff contents into logs" --as admin-ben --now 2026-12-02T09:00:00Z
expect_rc 0
expect_out "rejected backend-pr-reviewer@0.1.0 (commit $(echo "$COMMIT" | cut -c1-12)) by admin-ben: it will not start another stage; groups that have it keep it"
expect_eq "rejected|rejected by admin-ben: leaks diff contents into logs" \
	"$(sq "SELECT state || '|' || state_reason FROM releases WHERE version = '0.1.0'")" "release row"
expect_eq "admin-ben|$COMMIT|leaks diff contents into logs" \
	"$(sq "SELECT actor || '|' || commit_id || '|' || comment FROM rejections")" "rejection row"
expect_eq "release.rejected in_progress" \
	"$(sq "SELECT action || ' ' || json_extract(details, '$.previous_state') FROM audit ORDER BY id DESC LIMIT 1")" "audit row"
S status -o json --now 2026-12-02T09:00:00Z
expect_rc 0
expect_eq rejected "$(jq -r '.plugins[0].rollout.state' "$T/out")" "status state"
case_end

case_begin 'stopped for good: weeks later nothing starts, not even by promote'
S reconcile --now 2026-12-30T09:00:00Z
expect_rc 0
expect_no_out "start stage"
expect_eq 0 "$(sq "SELECT stage_index FROM releases WHERE version = '0.1.0'")" "stage after reject"
# platform-devex keeps what it had
S resolve --group platform-devex -o json
expect_rc 0
expect_eq "0.1.0" "$(jq -r '.plugins[0].version' "$T/out")" "group keeps the release"
case_end

case_begin 'a rejected release cannot be rejected again'
snapshot
S reject $PLUGIN@0.1.0 --as admin-ana --now 2026-12-30T09:00:00Z
expect_refused reject.refused "cannot reject backend-pr-reviewer@0.1.0: it is already rejected"
case_end

done_testing

