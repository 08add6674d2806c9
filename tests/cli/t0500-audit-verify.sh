#!/bin/sh
# sluice audit verify / prune: exit 0 when the chain verifies, 1 naming the
# first broken row. The rows are written here with the sqlite3 tool and
# sha256sum, following the canonical form of docs/database.md, so this also
# checks that the documented form is what sluice hashes. Prune (which needs
# a workspace for its roles and retention) counts from the system clock.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
DB=$T/state/sluice.db

# field NAME [VALUE]: one canonical field; no VALUE means NULL
field() {
	if [ $# -lt 2 ]; then printf '%s=-\n' "$1"; else printf '%s=%d:%s\n' "$1" "${#2}" "$2"; fi
}
prev=0000000000000000000000000000000000000000000000000000000000000000
# append ID AT ACTOR ACTION PLUGIN VERSION DETAILS: inserts a correctly chained row
append() {
	hash=$({ printf %s "$prev"; printf 'sluice-audit-v1\n'; field id "$1"; field at "$2"
		field actor "$3"; field action "$4"; field plugin "$5"; field version "$6"
		field details "$7"; field admin_commit; } | sha256sum | cut -d' ' -f1)
	sqlite3 "$DB" "INSERT INTO audit (id, at, actor, action, plugin, version, details,
		admin_commit, prev_hash, hash) VALUES ($1, $2, '$3', '$4', '$5', '$6', '$7',
		NULL, '$prev', '$hash')" || fail "cannot insert audit row $1"
	prev=$hash
}

case_begin 'verify before there is a database: exit 1, told to reconcile'
run "$SLUICE" audit verify --db "$DB"
expect_rc 1
expect_err "error: no database at $DB yet; run 'sluice reconcile' to create it"
case_end

case_begin 'a write command creates the database; an empty log verifies'
run "$SLUICE" audit prune --db "$DB" --as admin-ana
expect_rc 0
expect_out "nothing to prune: no audit row is older than 400 days"
run "$SLUICE" audit verify --db "$DB"
expect_rc 0
expect_out "audit log verified: empty"
case_end

case_begin 'rows chained as docs/database.md says verify, in text, json and -q'
# rows 600, 599 and 40 days old
d0=$(($(date +%s) - 600 * 86400))
append 1 "$d0" admin-ana approval.given backend-pr-reviewer 0.1.0 '{"stage":"devex-dogfood"}'
append 2 $((d0 + 86400)) controller stage.started backend-pr-reviewer 0.1.0 '{"stage":"devex-dogfood","stage_index":0}'
append 3 $((d0 + 560 * 86400)) controller stage.started backend-pr-reviewer 0.1.0 '{"stage":"backend-pilot","stage_index":1}'

run "$SLUICE" audit verify --db "$DB"
expect_rc 0
expect_out "audit log verified: 3 rows (1 to 3), head hash $prev"
run "$SLUICE" audit verify --db "$DB" -o json
expect_rc 0
expect_eq true "$(jq -r .ok "$T/out")" "json ok"
expect_eq 3 "$(jq -r .rows "$T/out")" "json rows"
run "$SLUICE" audit verify --db "$DB" -q
expect_rc 0
expect_eq "" "$(cat "$T/out")" "quiet output"
case_end

case_begin 'the triggers refuse changes'
run sqlite3 "$DB" "UPDATE audit SET actor = 'mallory' WHERE id = 2"
expect_nonzero
expect_err "audit rows are append-only"
run sqlite3 "$DB" "DELETE FROM audit WHERE id = 1"
expect_nonzero
expect_err "audit rows are append-only"
expect_eq 3 "$(sqlite3 "$DB" 'SELECT count(*) FROM audit')" "rows after refused delete"
case_end

case_begin 'prune drops old rows and a checkpoint keeps the chain'
# prune: rows older than 450 days go, a checkpoint keeps the chain
run "$SLUICE" audit prune --older-than-days 450 --db "$DB" --as admin-ana
expect_rc 0
expect_out "pruned 2 audit rows older than 450 days; checkpoint row 4 continues the chain from row 3"
expect_eq "3 4" "$(sqlite3 "$DB" 'SELECT group_concat(id, " ") FROM audit')" "rows left"
expect_eq "admin-ana audit.checkpoint" "$(sqlite3 "$DB" "SELECT actor || ' ' || action FROM audit WHERE id = 4")" "checkpoint row"
run "$SLUICE" audit verify --db "$DB"
expect_rc 0
expect_out "audit log verified: 2 rows (3 to 4)"
case_end

case_begin 'an attacker who drops the triggers and edits a row is caught at that row'
expect_ok "cannot edit row 3" sqlite3 "$DB" "DROP TRIGGER audit_no_update; UPDATE audit SET details = '{}' WHERE id = 3"
run "$SLUICE" audit verify --db "$DB"
expect_rc 1
expect_err "error: audit log does not verify at row 3: row 3's content does not match its hash (the row was changed)"
run "$SLUICE" audit verify --db "$DB" -o json
expect_rc 1
expect_eq "false 3" "$(jq -r '"\(.ok) \(.bad_id)"' "$T/out")" "json bad row"
case_end

case_begin 'usage errors exit 129'
run "$SLUICE" audit prune --older-than-days soon --db "$DB"
expect_rc 129
expect_err "--older-than-days 'soon' is not a number of days"
run "$SLUICE" audit prune --older-than-days -1 --db "$DB"
expect_rc 129
run "$SLUICE" audit check --db "$DB"
expect_rc 129
expect_err "unknown audit command 'check'"
run "$SLUICE" audit
expect_rc 129
case_end

case_begin 'a database from a newer sluice is refused'
expect_ok "cannot set user_version" sqlite3 "$DB" "PRAGMA user_version = 99"
run "$SLUICE" audit verify --db "$DB"
expect_rc 1
expect_err "has schema version 99, newer than this sluice"
expect_err "upgrade sluice"
case_end

done_testing
