#!/bin/sh
# sluice audit prune is the one way audit rows leave, and only past
# retention: it needs the auditor or operator role, records its actor,
# counts from the system clock (never --now), and never deletes rows
# younger than policy.audit_retention_days (default 400, at least 90).
# Every refusal exits 3 (or 2/129) and deletes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

# first_and_count: the audit log's first id and length, to show nothing left
first_and_count() { sq 'SELECT min(id) || " " || count(*) FROM audit'; }

case_begin 'setup: an auditor, rows 200 days old (the release) and 10 days old (an attestation)'
# an auditor, who may prune but take no other action
ws_edit 's/^  - {id: ci-bot, roles: \[ci\]}/&\n  - {id: audit-ada, roles: [auditor]}/'
expect_ok "cannot add the auditor" grep -q 'audit-ada' "$T/admin/workspaces/engineering.yaml"
OLD=$(date -u -d '-200 days' +%Y-%m-%dT%H:%M:%SZ)
RECENT=$(date -u -d '-10 days' +%Y-%m-%dT%H:%M:%SZ)
S reconcile --now "$OLD"
expect_rc 0
expect_out "recorded release 0.1.0"
S attest $PLUGIN@0.1.0 contract-tests --as ci-bot --now "$RECENT"
expect_rc 0
rows=$(sq 'SELECT count(*) FROM audit')
expect_ok "expected audit rows, got $rows" test "$rows" -ge 2
case_end

case_begin 'the attack: anyone deletes everything; without the role it is refused and audited'
snapshot
log_before=$(first_and_count)
S audit prune --older-than-days 0 --as admin-ben
expect_refused access.refused "'admin-ben' lacks the 'operator' or 'auditor' role that 'audit prune' needs (held by: admin-ana, devex-lead, audit-ada)"
expect_eq "${log_before%% *}" "$(sq 'SELECT min(id) FROM audit')" "first row after refusal"
expect_eq "admin-ben audit prune" "$(sq "SELECT actor || ' ' || json_extract(details, '$.command') FROM audit ORDER BY id DESC LIMIT 1")" "refusal names actor and command"
S audit prune --older-than-days 0 --as ci-bot
expect_rc 3
S audit prune --older-than-days 0 --as nobody
expect_rc 3
expect_err "'nobody' is not an admin of workspace 'engineering'"
case_end

case_begin 'with the role, inside the retention: refused, audited, nothing deleted'
snapshot
log_before=$(first_and_count)
S audit prune --older-than-days 0 --as admin-ana
expect_refused audit.prune.refused "cannot prune audit rows younger than the retention of 400 days (policy.audit_retention_days); give --older-than-days 400 or more"
expect_eq "${log_before%% *}" "$(sq 'SELECT min(id) FROM audit')" "first row after refusal"
expect_eq 0 "$(sq "SELECT count(*) FROM audit WHERE action = 'audit.checkpoint'")" "checkpoints"
S audit prune --older-than-days 399 --as audit-ada -o json
expect_rc 3
expect_err "retention of 400 days"
case_end

case_begin '--now cannot age rows into deletion'
snapshot
S audit prune --as admin-ana --now 2031-01-01T00:00:00Z
expect_rc 129
expect_err "'sluice audit prune' uses the system clock; leave out --now"
expect_unchanged
case_end

case_begin 'the default retention (400 days): the 200-day-old rows stay'
snapshot
S audit prune --as audit-ada
expect_rc 0
expect_out "nothing to prune: no audit row is older than 400 days"
expect_unchanged
case_end

case_begin 'a retention under 90 days is a validation error, and prune will not run'
snapshot
ws_edit 's/^  approval_ttl_days: 30/&\n  audit_retention_days: 30/'
S validate
expect_rc 2
expect_out "workspaces/engineering.yaml:42:25: error: 'policy.audit_retention_days' must be between 90 and 36500 days (got 30)"
S audit prune --older-than-days 30 --as admin-ana
expect_rc 2
expect_unchanged
case_end

case_begin 'at 90 days the old rows go; the checkpoint names the real actor and the system clock; the chain verifies'
ws_edit 's/^  audit_retention_days: 30/  audit_retention_days: 90/'
S validate
expect_rc 0
old_rows=$(sq "SELECT count(*) FROM audit WHERE at < strftime('%s', 'now') - 90 * 86400")
young_rows=$(sq "SELECT count(*) FROM audit WHERE at >= strftime('%s', 'now') - 90 * 86400")
expect_ok "no old rows to prune" test "$old_rows" -ge 1
before=$(date +%s)
S audit prune --as audit-ada -o json
expect_rc 0
expect_eq "$old_rows 90 90" "$(jq -r '"\(.deleted) \(.older_than_days) \(.retention_days)"' "$T/out")" "prune result"
expect_eq "audit-ada" "$(sq "SELECT actor FROM audit WHERE action = 'audit.checkpoint'")" "checkpoint actor"
cp_at=$(sq "SELECT at FROM audit WHERE action = 'audit.checkpoint'")
expect_ok "checkpoint at $cp_at is before the prune ($before): not the system clock" test "$cp_at" -ge "$before"
expect_ok "checkpoint at $cp_at is over 60 s after the prune ($before): not the system clock" \
	test "$cp_at" -le $((before + 60))
expect_eq $((young_rows + 1)) "$(sq 'SELECT count(*) FROM audit')" "rows kept: the young ones and the checkpoint"
expect_eq 0 "$(sq "SELECT count(*) FROM audit WHERE at < strftime('%s', 'now') - 90 * 86400")" "old rows left"
S audit verify
expect_rc 0
expect_out "audit log verified: $((young_rows + 1)) rows"
case_end

done_testing
