#!/bin/sh
# The audit log's head kept elsewhere, and state rows without audit rows:
# 'sluice audit head' prints ID:HASH; 'audit verify' finds rows cut from
# the end (sqlite_sequence) and a decision written around sluice;
# 'audit verify --head ID:HASH' finds a cut or rewrite even when the
# attacker also fixed the counter.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'audit head prints ID:HASH of the last row; verify --head accepts it'
start_rollout
S audit head
expect_rc 0
HEAD=$(cat "$T/out")
expect_eq "$(sq "SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1")" "$HEAD" "head"
ID=${HEAD%%:*}
S audit head -o json
expect_rc 0
expect_eq "$HEAD" "$(jq -r '"\(.id):\(.hash)"' "$T/out")" "head as json"
S audit verify --head "$HEAD"
expect_rc 0
expect_out "audit log verified: $ID rows (1 to $ID)"
expect_out "it still holds row $ID of the given head unchanged"
S audit verify --head "$HEAD" -o json
expect_rc 0
expect_eq "true $ID" "$(jq -r '"\(.ok) \(.head.id)"' "$T/out")" "json verify with head"
case_end

case_begin 'later rows do not disturb an older head'
S pause $PLUGIN --reason "look" --as admin-ana --now $D2
expect_rc 0
S audit verify --head "$HEAD"
expect_rc 0
NEWHEAD=$(sq "SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1")
run sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)"
expect_rc 0
cp "$DB" "$T/clean.db" || bail "cannot copy $DB"
case_end
restore() { cp "$T/clean.db" "$DB" || bail "cannot restore $DB"; rm -f "$DB-wal" "$DB-shm"; }

case_begin 'the attack: rows cut off the end (the pause), then the counter lowered: only the head kept elsewhere tells'
sq "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id > $ID"
S audit verify
expect_rc 1
expect_err "error: audit log does not verify at row $((ID + 1)): "
expect_err "missing from the end of the log (ids up to ${NEWHEAD%%:*} were handed out)"
# ... and also lower the counter: only the head kept elsewhere tells
sq "UPDATE sqlite_sequence SET seq = $ID WHERE name = 'audit'"
S audit verify
expect_rc 0
S audit verify --head "$NEWHEAD"
expect_rc 1
expect_err "error: audit log does not verify at row ${NEWHEAD%%:*}: the given head, row ${NEWHEAD%%:*}, is not in the log (it ends at row $ID): rows were cut from its end"
S audit verify --head "$NEWHEAD" -o json
expect_rc 1
expect_eq "false ${NEWHEAD%%:*}" "$(jq -r '"\(.ok) \(.bad_id)"' "$T/out")" "json cut"
restore
case_end

case_begin "the whole log rewritten: the head's row is there with another hash"
sq "DROP TRIGGER audit_no_update; UPDATE audit SET hash = printf('%.64d', 7) WHERE id = ${NEWHEAD%%:*}"
S audit verify --head "$NEWHEAD"
expect_rc 1
expect_err "does not verify at row ${NEWHEAD%%:*}"
restore
case_end

case_begin 'the attack: an approval inserted with no audit row'
COMMIT=$(sq "SELECT commit_id FROM releases WHERE version = '0.1.0'")
sq "INSERT INTO approvals (workspace, plugin, version, commit_id, stage, approver, at)
	VALUES ('engineering', '$PLUGIN', '0.1.0', '$COMMIT', 'backend-pilot', 'admin-ben',
	strftime('%s', '$D2'))"
FORGED=$(sq "SELECT max(id) FROM approvals")
S audit verify
expect_rc 1
expect_err "error: audit log does not verify: approval $FORGED (admin-ben, $PLUGIN@0.1.0, stage backend-pilot) has no approval.given audit row: it was written around sluice"
S audit verify -o json
expect_rc 1
expect_eq "false 0" "$(jq -r '"\(.ok) \(.bad_id)"' "$T/out")" "json forged approval"
restore
case_end

case_begin 'a stage start, and a freeze, written around sluice'
sq "UPDATE stage_starts SET actor = 'admin-ben'"
S audit verify
expect_rc 1
expect_err "stage start 1 ($PLUGIN@0.1.0, stage 0 devex-dogfood) has no stage.started audit row"
restore
sq "INSERT INTO workspace_state (workspace, frozen, frozen_by, at) VALUES ('engineering', 1, 'admin-ana', 1)"
S audit verify
expect_rc 1
expect_err "the freeze of workspace engineering (by admin-ana) has no workspace.frozen audit row"
restore
S audit verify --head "$NEWHEAD"
expect_rc 0
case_end

case_begin 'usage errors, nothing read'
for bad in "$ID" "$ID:xyz" "0:${HEAD#*:}" "abc:${HEAD#*:}"; do
	S audit verify --head "$bad"
	expect_rc 129
	expect_err "--head: '$bad' is not an audit head; give ID:HASH as 'sluice audit head' prints it"
done
S audit head --older-than-days 3
expect_rc 129
expect_err "--older-than-days does not belong to 'sluice audit head'"
S audit verify --older-than-days 3
expect_rc 129
S audit prune --head "$HEAD"
expect_rc 129
S audit head --db "$T/none.db"
expect_rc 1
expect_err "no database at $T/none.db yet"
case_end

done_testing
