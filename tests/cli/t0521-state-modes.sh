#!/bin/sh
# Sluice's own state is the owner's alone whatever the umask: under
# umask 000 the database and its -wal/-shm are 0600 and the state and cache
# directories 0700 (the mirrors inside follow libgit2 and the umask; the
# cache directory keeps others out of them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

# mode PATH: its permission bits, e.g. 600
mode() { stat -c %a "$1"; }

umask 000

case_begin "under umask 000 the state directory, database, -wal, -shm and cache are the owner's alone"
S reconcile --now $D0
expect_rc 0
expect_out "recorded release 0.1.0"
expect_eq 700 "$(mode "$T/admin/.sluice")" "state directory"
expect_eq 600 "$(mode "$DB")" "database"
# the -wal and -shm exist while a connection is open: hold one
mkfifo "$T/fifo" || bail "mkfifo $T/fifo failed"
sqlite3 "$DB" <"$T/fifo" >/dev/null 2>&1 &
holder=$!
exec 3>"$T/fifo"
echo "SELECT count(*) FROM audit;" >&3
i=0
while [ ! -e "$DB-shm" ] || [ ! -e "$DB-wal" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || bail "no -wal/-shm appeared"; sleep 0.1
done
expect_eq 600 "$(mode "$DB-wal")" "database -wal"
expect_eq 600 "$(mode "$DB-shm")" "database -shm"
exec 3>&-
wait $holder
expect_eq 700 "$(mode "$T/admin/.sluice/cache")" "cache directory"
case_end

case_begin '--db and --cache elsewhere: their new directories are 0700 too'
S reconcile --no-publish --db "$T/var/lib/sluice/s.db" --cache "$T/var/cache/sluice" --now $D0
expect_rc 0
expect_eq 700 "$(mode "$T/var/lib/sluice")" "--db directory"
expect_eq 600 "$(mode "$T/var/lib/sluice/s.db")" "--db file"
expect_eq 700 "$(mode "$T/var/cache/sluice")" "--cache directory"
case_end

case_begin 'an existing database keeps the mode its owner gave it'
chmod 640 "$DB"
S reconcile --now $D1
expect_rc 0
expect_eq 640 "$(mode "$DB")" "existing database"
case_end

done_testing
