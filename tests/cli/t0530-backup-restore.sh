#!/bin/sh
# sluice backup FILE and sluice restore-backup FILE (docs/operations.md):
# a backup is a private, self-contained copy whose audit log verifies; a
# restore refuses what is not a sluice database, a newer schema, a chain
# that does not verify, a schema changed outside sluice and a held lease,
# changing nothing; otherwise it replaces the database, audited in the
# restored log. (t0531: backups taken while reconciles run.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
B=$T/backup.db

# dump_of DBFILE OUT: state_dump of another database file
dump_of() {
	tl_db=$DB
	DB=$1
	state_dump "$2"
	DB=$tl_db
}

case_begin 'backup before the first reconcile says there is no database'
S backup "$B"
expect_rc 1
expect_err "no database at $DB yet; run 'sluice reconcile' to create it"
expect_not "a backup file was left" [ -e "$B" ]
case_end

case_begin 'backup writes a private, self-contained copy whose audit log verifies'
record
S audit head
expect_rc 0
head=$(cat "$T/out")
S backup "$B"
expect_rc 0
expect_out "backup written to $B: schema "
expect_out "audit log verified ("
expect_out "head $head)"
expect_eq 600 "$(stat -c %a "$B")" "backup file mode"
expect_not "$B.tmp left behind" [ -e "$B.tmp" ]
expect_not "a -wal beside the backup" [ -e "$B-wal" ]
expect_eq delete "$(sqlite3 "$B" 'PRAGMA journal_mode')" "the backup's journal mode"
S --db "$B" audit verify
expect_rc 0
expect_out "audit log verified"
state_dump "$T/live.dump"
dump_of "$B" "$T/backup.dump"
expect_same "$T/live.dump" "$T/backup.dump" "the backup's state rows"
expect_eq "$(sq 'SELECT count(*) FROM audit')" "$(sqlite3 "$B" 'SELECT count(*) FROM audit')" "audit rows in the backup"
case_end

case_begin 'backup -o json names the file, the schema and the audit head'
S backup "$B" -o json
expect_rc 0
expect_eq "$B" "$(js .file)" "file"
expect_eq "$(sq 'PRAGMA user_version')" "$(js .schema_version)" "schema_version"
expect_eq "$head" "$(js '"\(.audit_head.id):\(.audit_head.hash)"')" "audit_head"
expect_eq "$(sq 'SELECT count(*) FROM audit')" "$(js .audit_rows)" "audit_rows"
case_end

case_begin 'backup refuses to write over the database itself'
snapshot
S backup "$DB"
expect_rc 2
expect_err "$DB is the database itself; give another path for the backup"
expect_unchanged
case_end

case_begin 'restore-backup needs the operator role'
snapshot
S restore-backup "$B" --as admin-ben --now $D1
expect_refused access.refused "admin-ben"
case_end

case_begin 'restore-backup round trip: the state of the backup comes back, audited'
cp "$B" "$T/b1.db"
dump_of "$T/b1.db" "$T/b1.dump"
b1_rows=$(sqlite3 "$T/b1.db" 'SELECT count(*) FROM audit')
S attest $PLUGIN@0.1.0 contract-tests --as ci-bot --now $D1
expect_rc 0
S attest $PLUGIN@0.1.0 security-review --as admin-ben --now $D1
expect_rc 0
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
expect_rc 0
reconcile_at $D2
expect_out "start stage devex-dogfood"
state_dump "$T/changed.dump"
expect_not "the state changed after the backup" cmp -s "$T/b1.dump" "$T/changed.dump"
S restore-backup "$T/b1.db" --as admin-ana --now $D2
expect_rc 0
expect_out "restored $DB from $T/b1.db"
expect_out "run 'sluice reconcile' to publish the restored state"
state_dump "$T/restored.dump"
expect_same "$T/b1.dump" "$T/restored.dump" "the restored state rows"
expect_eq $((b1_rows + 1)) "$(sq 'SELECT count(*) FROM audit')" "audit rows: the backup's and the restore's"
expect_eq "database.restored|admin-ana" "$(sq 'SELECT action, actor FROM audit ORDER BY id DESC LIMIT 1')" "the restore's audit row"
expect_eq "$head" "$(sq "SELECT json_extract(details, '\$.backup_head') FROM audit ORDER BY id DESC LIMIT 1")" "the backup head it names"
expect_eq 0 "$(sq 'SELECT count(*) FROM leases')" "leases after the restore"
S audit verify
expect_rc 0
reconcile_at $D2
expect_sound_db
case_end

case_begin 'restore-backup refuses a backup with an edited audit row, changing nothing'
cp "$T/b1.db" "$T/tampered.db"
sqlite3 "$T/tampered.db" "DROP TRIGGER audit_no_update;
	UPDATE audit SET actor = 'mallory' WHERE id = 2;
	CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
	BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;" || fail "cannot tamper with the copy"
expect_eq mallory "$(sqlite3 "$T/tampered.db" 'SELECT actor FROM audit WHERE id = 2')" "the tampered row"
snapshot
S restore-backup "$T/tampered.db" --as admin-ana --now $D2
expect_rc 2
expect_err "the audit log in $T/tampered.db does not verify at row 2"
expect_err "nothing was restored; the database $DB is as it was"
expect_unchanged
expect_not "the private copy was left behind" [ -e "$DB.restore" ]
case_end

case_begin 'restore-backup refuses a backup whose append-only trigger is gone'
cp "$T/b1.db" "$T/notrigger.db"
sqlite3 "$T/notrigger.db" 'DROP TRIGGER audit_no_update' || fail "cannot drop the trigger"
snapshot
S restore-backup "$T/notrigger.db" --as admin-ana --now $D2
expect_rc 2
expect_err "has a schema this sluice does not make"
expect_err "trigger audit_no_update"
expect_unchanged
case_end

case_begin 'restore-backup refuses what is not a sluice database'
echo 'not a database' >"$T/text.db"
sqlite3 "$T/other.db" 'CREATE TABLE t (x); INSERT INTO t VALUES (1)' || fail "cannot make another program's database"
snapshot
S restore-backup "$T/text.db" --as admin-ana --now $D2
expect_rc 2
expect_err "$T/text.db is not a sluice database"
expect_unchanged
S restore-backup "$T/other.db" --as admin-ana --now $D2
expect_rc 2
expect_err "$T/other.db is not a sluice database (application id 0, schema version 0)"
expect_unchanged
S restore-backup "$T/missing.db" --as admin-ana --now $D2
expect_rc 1
expect_err "cannot read the backup $T/missing.db"
expect_unchanged
S restore-backup "$DB" --as admin-ana --now $D2
expect_rc 2
expect_err "is the database itself"
expect_unchanged
case_end

case_begin 'restore-backup refuses a backup of a newer schema'
cp "$T/b1.db" "$T/newer.db"
sqlite3 "$T/newer.db" 'PRAGMA user_version = 99' || fail "cannot set the version"
snapshot
S restore-backup "$T/newer.db" --as admin-ana --now $D2
expect_rc 2
expect_err "$T/newer.db has schema version 99, newer than this sluice"
expect_unchanged
case_end

case_begin 'restore-backup waits for no one: a held lease refuses it, --force overrides'
# a lease held by a live process on this host (this shell), as a running
# daemon's would be
sq "INSERT INTO leases (name, holder, pid, host, acquired_at, expires_at)
	VALUES ('reconcile', '$$@$(hostname)', $$, '$(hostname)', strftime('%s','now'), strftime('%s','now') + 600)"
snapshot
S restore-backup "$T/b1.db" --as admin-ana --now $D2
expect_rc 1
expect_err "the reconcile lease is held by $$@$(hostname)"
expect_err "or give --force when it is gone for good"
expect_unchanged
expect_eq 1 "$(sq 'SELECT count(*) FROM leases')" "the lease is still there"
S restore-backup "$T/b1.db" --force --as admin-ana --now $D2 -o json
expect_rc 0
expect_eq true "$(js .forced)" "forced"
expect_eq "$head" "$(js '"\(.audit_head.id):\(.audit_head.hash)"')" "audit_head"
expect_eq 0 "$(sq 'SELECT count(*) FROM leases')" "leases after the forced restore"
expect_eq true "$(sq "SELECT json_extract(details, '\$.forced') = 1 FROM audit ORDER BY id DESC LIMIT 1" | sed 's/^1$/true/')" "the audit row says forced"
S audit verify
expect_rc 0
case_end

done_testing
