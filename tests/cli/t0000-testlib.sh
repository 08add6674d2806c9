#!/bin/sh
# The test library itself (tests/cli/lib.sh, lib-ops.sh): a failing case is
# reported by its title and makes the script exit 1 while the cases after
# it still run; a case that checks nothing, a run whose exit status is not
# checked, a script with no case and a script that stops before
# done_testing fail too; state_dump
# fails on a database without the state tables, so "state unchanged" cannot
# pass on two empty dumps. Each inner script below is run as a test would
# be, in its own temporary directory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
export SLUICE SLUICE_SOURCE_DIR="$SRC"

# inner NAME: writes $T/NAME.sh from stdin, after the line sourcing the
# library
inner() {
	{
		echo '. "$SLUICE_SOURCE_DIR/tests/cli/lib.sh"'
		echo '. "$SLUICE_SOURCE_DIR/tests/cli/lib-ops.sh"'
		cat
	} >"$T/$1.sh"
}

inner passing <<'EOF'
case_begin 'one'
run true
expect_rc 0
case_end
case_begin 'two'
expect_eq a a "letters"
case_end
done_testing
EOF
case_begin 'passing cases: exit 0, each case reported ok'
run sh "$T/passing.sh"
expect_rc 0
expect_out "ok 1 - one"
expect_out "ok 2 - two"
expect_out "passing.sh: 2 cases, 2 checks, 0 failed"
expect_eq "" "$(cat "$T/err")" "stderr of a passing script"
case_end

inner failing <<'EOF'
case_begin 'first passes'
expect_eq 1 1 "one"
case_end
case_begin 'second fails twice'
expect_eq 1 2 "a number"
run false
expect_rc 0
expect_eq x x "after the failures the case goes on"
echo reached-after-failure
case_end
case_begin 'third still runs'
expect_eq 3 3 "three"
echo reached-third
case_end
done_testing
EOF
case_begin 'a failing case: listed by title, later cases run, exit 1'
run sh "$T/failing.sh"
expect_rc 1
expect_out "ok 1 - first passes"
expect_out "not ok 2 - second fails twice"
expect_out "reached-after-failure"
expect_out "ok 3 - third still runs"
expect_out "reached-third"
expect_out "failing.sh: 3 cases, 5 checks, 1 failed"
expect_err "FAIL: second fails twice: a number: expected '1', got '2'"
expect_err "FAIL: second fails twice: expected exit 0, got 1 from: false"
expect_eq "failed cases:
  second fails twice" "$(sed -n '/^failed cases:/,$p' "$T/err")" "the list of failed cases"
case_end

inner subshell <<'EOF'
case_begin 'a check in a subshell'
x=$(expect_eq 1 2 "inside \$(...)"; echo done)
expect_eq done "$x" "the subshell ran"
case_end
done_testing
EOF
case_begin 'a failed check inside $(...) still fails its case'
run sh "$T/subshell.sh"
expect_rc 1
expect_out "not ok 1 - a check in a subshell"
expect_err "inside \$(...): expected '1', got '2'"
case_end

inner vacuous <<'EOF'
case_begin 'checks nothing'
true
case_end
case_begin 'leaves a status unchecked'
run true
expect_out ""
case_end
case_begin 'runs twice, checks once'
run false
run true
expect_rc 0
case_end
done_testing
EOF
case_begin 'a case that checks nothing, or skips an exit status, fails'
run sh "$T/vacuous.sh"
expect_rc 1
expect_out "not ok 1 - checks nothing"
expect_err "checks nothing: the case checked nothing"
expect_out "not ok 2 - leaves a status unchecked"
expect_err "leaves a status unchecked: the exit status of 'true' was not checked"
expect_out "not ok 3 - runs twice, checks once"
expect_err "runs twice, checks once: the exit status of 'false' was not checked"
case_end

inner stops <<'EOF'
case_begin 'exits in the middle'
expect_eq 1 1 "one"
exit 0
case_end
done_testing
EOF
inner outside <<'EOF'
expect_eq 1 2 "outside"
case_begin 'fine'
expect_eq 1 1 "one"
case_end
done_testing
EOF
inner unclosed <<'EOF'
case_begin 'never closed'
expect_eq 1 1 "one"
done_testing
EOF
case_begin 'a script that stops early, fails outside a case or leaves a case open fails'
run sh "$T/stops.sh"
expect_rc 1
expect_err "stops.sh stopped before done_testing (exit 0), in case 'exits in the middle'"
run sh "$T/outside.sh"
expect_rc 1
expect_out "ok 1 - fine"
expect_err "(outside any case): outside: expected '1', got '2'"
run sh "$T/unclosed.sh"
expect_rc 1
expect_err "no case_end before done_testing"
case_end

inner nocases <<'EOF'
run true
expect_rc 0
expect_eq 1 1 "one"
expect_ok "a file test" test -d "$T"
done_testing
EOF
inner empty <<'EOF'
done_testing
EOF
case_begin 'a script with no case fails, even when all its checks pass'
run sh "$T/nocases.sh"
expect_rc 1
expect_out "nocases.sh: 0 cases, 3 checks, 1 failed"
expect_err "FAIL: (outside any case): the script has no cases; write its checks in case_begin 'title' ... case_end"
expect_eq "failed cases:
  (outside any case): the script has no cases; write its checks in case_begin 'title' ... case_end" \
	"$(sed -n '/^failed cases:/,$p' "$T/err")" "the list of failed cases"
run sh "$T/empty.sh"
expect_rc 1
expect_out "empty.sh: 0 cases, 0 checks, 1 failed"
expect_err "the script has no cases"
case_end

inner nodb <<'EOF'
DB=$T/state.db
case_begin 'no database'
state_dump "$T/dump"
echo "state_dump returned $?"
case_end
case_begin 'a database without the state tables'
sqlite3 "$DB" 'CREATE TABLE audit (id INTEGER PRIMARY KEY); CREATE TABLE sources (x)'
snapshot
expect_unchanged
case_end
case_begin 'a table dropped after the snapshot'
sqlite3 "$DB" "CREATE TABLE tags (x); CREATE TABLE releases (x); CREATE TABLE stage_starts (x);
	CREATE TABLE approvals (x); CREATE TABLE rejections (x); CREATE TABLE attestations (x);
	CREATE TABLE user_optouts (x); CREATE TABLE workspace_state (x);
	CREATE TABLE withdrawals (x); CREATE TABLE plugin_state (x)"
snapshot
sqlite3 "$DB" 'DROP TABLE withdrawals'
expect_unchanged
case_end
done_testing
EOF
case_begin 'state_dump fails when the database or a table it reads is missing'
run sh "$T/nodb.sh"
expect_rc 1
expect_out "state_dump returned 1"
expect_err "no database: state_dump: no database at "
expect_out "not ok 1 - no database"
expect_err "a database without the state tables: state_dump: "
expect_err "/state.db has no table tags, releases, stage_starts, approvals, rejections, attestations, user_optouts, workspace_state, withdrawals, plugin_state"
expect_out "not ok 2 - a database without the state tables"
expect_err "a table dropped after the snapshot: state_dump: "
expect_err "/state.db has no table withdrawals"
expect_out "not ok 3 - a table dropped after the snapshot"
case_end

case_begin 'state_dump of a real database: every state table, and a change is seen'
setup_admin
S reconcile --now $D0
expect_rc 0
state_dump "$T/dump"
expect_eq "$(echo $STATE_TABLES)" "$(sed -n 's/^-- //p' "$T/dump" | tr '\n' ' ' | sed 's/ $//')" "tables in the dump"
expect_ok "the dump holds the recorded release" grep -q "|0.1.0|" "$T/dump"
snapshot
sq "UPDATE releases SET state_reason = 'edited'"
state_dump "$T/state.after"
expect_not "a changed row goes unseen" cmp -s "$T/state.before" "$T/state.after"
case_end

done_testing
