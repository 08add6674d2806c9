#!/bin/sh
# sluice attest: checklist items Sluice cannot check itself are attested by
# the roles the rollout policy names (`by`), else ci or approver.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'attest -h prints the usage'
S attest -h
expect_rc 0
expect_out "usage: sluice attest PLUGIN@VERSION ITEM [--evidence URL]"
case_end

case_begin 'usage errors change nothing'
record
snapshot
S attest $PLUGIN@0.1.0 --as ci-bot --now $D1
expect_rc 129
S attest $PLUGIN@0.1.0 unit-tests --as ci-bot --now $D1
expect_rc 2
expect_err "error: 'unit-tests' is not a checklist item; the items are validate-manifest, contract-tests, guidance-evaluations, permission-review, security-review, deploy-service, register-plugin, start-staged-rollout, monitor-telemetry"
expect_unchanged
case_end

case_begin 'the policy says contract-tests by ci, security-review by approver'
snapshot
S attest $PLUGIN@0.1.0 contract-tests --as admin-ana --now $D1
expect_refused access.refused "error: 'admin-ana' lacks the 'ci' role that 'attest' needs (held by: ci-bot)"
snapshot
S attest $PLUGIN@0.1.0 security-review --as ci-bot --now $D1
expect_refused access.refused "error: 'ci-bot' lacks the 'approver' role that 'attest' needs (held by: admin-ana, admin-ben)"
# an item the policy does not name: ci or approver
snapshot
S attest $PLUGIN@0.1.0 guidance-evaluations --as devex-lead --now $D1
expect_refused access.refused "error: 'devex-lead' lacks the 'approver' or 'ci' role that 'attest' needs (held by: admin-ana, admin-ben, ci-bot)"
# what sluice checks itself cannot be attested
snapshot
S attest $PLUGIN@0.1.0 validate-manifest --as ci-bot --now $D1
expect_refused attest.refused "error: validate-manifest is checked by sluice itself when it records a release; it cannot be attested"
snapshot
S attest $PLUGIN@0.2.0 contract-tests --as ci-bot --now $D1
expect_invalid attest.refused "error: cannot attest backend-pr-reviewer@0.2.0: no such release has been recorded"
case_end

case_begin 'an attestation by ci is recorded and audited'
S attest $PLUGIN@0.1.0 contract-tests --evidence https://ci.acme.example/run/17 --as ci-bot --now $D1
expect_rc 0
expect_out "attested contract-tests for backend-pr-reviewer@0.1.0 by ci-bot: https://ci.acme.example/run/17"
expect_eq "contract-tests|ci-bot|https://ci.acme.example/run/17" \
	"$(sq "SELECT item || '|' || actor || '|' || evidence FROM attestations")" "attestation row"
expect_eq "ci-bot checklist.attested contract-tests" \
	"$(sq "SELECT actor || ' ' || action || ' ' || json_extract(details, '$.item') FROM audit ORDER BY id DESC LIMIT 1")" audit
S status --now $D1
expect_rc 0
expect_out "checklist items not done: security-review"
case_end

case_begin 'the last item, by an approver, -o json: nothing left to do'
S attest $PLUGIN@v0.1.0 security-review -o json --as admin-ben --now $D1
expect_rc 0
expect_eq "backend-pr-reviewer 0.1.0 security-review admin-ben null" \
	"$(jq -r '"\(.plugin) \(.version) \(.item) \(.actor) \(.evidence)"' "$T/out")" json
S status --now $D1
expect_rc 0
expect_no_out "checklist items not done"
case_end

done_testing

