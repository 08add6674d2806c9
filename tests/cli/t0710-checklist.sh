#!/bin/sh
# sluice checklist: the nine items of a release with their state, which the
# policy requires before stage 1, and the risk class.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'checklist -h prints the usage'
S checklist -h
expect_rc 0
expect_out "usage: sluice checklist PLUGIN@VERSION"
case_end

case_begin 'an unknown release or plugin exits 2; owner/name names the plugin'
record
S checklist $PLUGIN@0.2.0 --now $D1
expect_rc 2
expect_err "no release backend-pr-reviewer@0.2.0 has been recorded"
S checklist nope@0.1.0 --now $D1
expect_rc 2
expect_err "error: no plugin 'nope' is watched by workspace 'engineering'"
# the repository's owner/name names the plugin too
S checklist acme/codex-plugin-backend-pr-reviewer@0.1.0 --now $D1
expect_rc 0
expect_out "backend-pr-reviewer@0.1.0 (commit"
case_end

case_begin 'the nine items, their state and what stage 1 needs'
S checklist $PLUGIN@0.1.0 --now $D1
expect_rc 0
expect_out "backend-pr-reviewer@0.1.0 (commit $(echo "$COMMIT" | cut -c1-12), risk moderate), rollout policy standard"
expect_out "  validate-manifest      done by sluice (2026-12-01T09:00:00Z)  [required before stage 1]"
expect_out "  contract-tests         missing (attest: ci)  [required before stage 1]"
expect_out "  security-review        missing (attest: approver)  [required before stage 1]"
expect_out "  guidance-evaluations   missing (attest: approver or ci)"
expect_out "  register-plugin        done by sluice (2026-12-01T09:00:00Z)"
expect_out "not ready for stage 1: missing contract-tests, security-review"
expect_eq 9 "$(grep -c '^  [a-z-]* ' "$T/out")" "nine items"
case_end

case_begin 'with the items attested: ready, in -o json and text'
S attest $PLUGIN@0.1.0 contract-tests --evidence https://ci.acme.example/run/3 --as ci-bot --now $D1
expect_rc 0
S attest $PLUGIN@0.1.0 security-review --as admin-ben --now $D1
expect_rc 0
S checklist $PLUGIN@0.1.0 -o json --now $D1
expect_rc 0
expect_eq "0.1.0 $COMMIT moderate standard true 9" \
	"$(jq -r '"\(.version) \(.commit) \(.risk) \(.rollout_policy) \(.ready) \(.items | length)"' "$T/out")" json
expect_eq "attested ci-bot https://ci.acme.example/run/3 2026-12-01T10:00:00Z true [\"ci\"]" \
	"$(jq -c -r '.items[] | select(.item == "contract-tests") | "\(.state) \(.by) \(.evidence) \(.at) \(.required) \(.attest_roles)"' "$T/out")" contract-tests
expect_eq "done sluice true" \
	"$(jq -r '.items[] | select(.item == "permission-review") | "\(.state) \(.by) \(.required)"' "$T/out")" permission-review
expect_eq "missing false" \
	"$(jq -r '.items[] | select(.item == "monitor-telemetry") | "\(.state) \(.required)"' "$T/out")" monitor-telemetry
S checklist $PLUGIN@0.1.0 --now $D1
expect_rc 0
expect_out "ready for stage 1: every required item is done"
expect_out "  contract-tests         attested by ci-bot 2026-12-01T10:00:00Z: https://ci.acme.example/run/3  [required before stage 1]"
case_end

case_begin 'the staged rollout is done once stage 1 started'
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
expect_rc 0
S reconcile --now $D2
expect_rc 0
S checklist $PLUGIN@0.1.0 --now $D2
expect_rc 0
expect_out "  start-staged-rollout   done by sluice (2026-12-01T11:00:00Z)"
case_end

done_testing

