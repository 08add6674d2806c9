# Shared helpers for tests/cli/tNNNN-*.sh. Each test sources this file and
# gets its own temporary state directory in $T. A script is a list of named
# cases, in git's style (t/test-lib.sh's test_expect_success):
#
#	case_begin 'approve refuses an unknown stage'
#	S approve ... --stage nope
#	expect_invalid approve.refused "no stage 'nope'"
#	case_end
#
#	done_testing
#
# A failed check prints what was expected and what came instead, marks its
# case failed and lets the case and the script go on, so the first failure
# hides nothing. Every case runs; done_testing lists the failed cases by
# title and the script exits 1 if one failed. A script with no case fails.
# A case fails too when it checked nothing, or when a command given to run()
# had its exit status left unchecked (expect_rc N, or expect_nonzero, must
# follow every run). Checks outside any case are reported under "(outside
# any case)". See docs/testing.md.
set -u
: "${SLUICE:?run through ctest, or set SLUICE to the sluice binary}"
: "${SLUICE_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
SRC=$SLUICE_SOURCE_DIR
T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")
# The bookkeeping lives in files, not variables, so that a check made in a
# subshell ($(...), a pipeline) still counts and still fails its case.
TL=$T/.testlib
mkdir -p "$TL"
: >"$TL/checks"
: >"$TL/fails"
: >"$TL/failed"
CASE=
TL_CASES=0
TL_DONE=
TL_SCRIPT=$(basename "$0")
tl_run_pending=
tl_run_cmd=

# _tl_exit: the EXIT trap. A script that stopped before done_testing (an
# exit, a bail) fails, as does one with a failed case.
_tl_exit() {
	st=$?
	if [ -z "$TL_DONE" ]; then
		echo "FAIL: $TL_SCRIPT stopped before done_testing (exit $st)${CASE:+, in case '$CASE'}" >&2
		st=1
	elif [ -s "$TL/failed" ]; then
		st=1
	fi
	rm -rf "$T"
	exit "$st"
}
trap _tl_exit EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$T/home" LC_ALL=C.UTF-8 TZ=UTC
mkdir -p "$HOME"
git config --global user.name "Test" 2>/dev/null
git config --global user.email "test@acme.example" 2>/dev/null
git config --global init.defaultBranch main 2>/dev/null
unset SLUICE_ACTOR

_tl_count() { wc -l <"$1" | tr -d ' '; }

# fail MESSAGE: a failed check; the case goes on, and fails at case_end.
# Returns 1, so that `... || fail ...` keeps the status of a failure.
fail() {
	echo "FAIL: ${CASE:-(outside any case)}: $*" >&2
	echo "$*" >>"$TL/fails"
	[ -n "$CASE" ] || echo "(outside any case): $*" >>"$TL/failed"
	return 1
}

# bail MESSAGE: the test cannot go on at all (its setup failed): exits 1
bail() {
	echo "FAIL: ${CASE:-(outside any case)}: $* (giving up)" >&2
	echo "bail: $*" >>"$TL/failed"
	exit 1
}

# check_counted: one more check made (called by every expect_*)
check_counted() { echo >>"$TL/checks"; }

# _tl_rc_checked: fails when the last run's exit status was never checked
_tl_rc_checked() {
	[ -n "$tl_run_pending" ] || return 0
	tl_run_pending=
	fail "the exit status of '$tl_run_cmd' was not checked; give expect_rc N after run"
}

# case_begin TITLE ... case_end: one named case
case_begin() {
	if [ -n "$CASE" ]; then
		fail "case_begin '$1' before case_end"
		case_end
	fi
	_tl_rc_checked
	TL_CASES=$((TL_CASES + 1))
	CASE=$1
	tl_case_checks=$(_tl_count "$TL/checks")
	tl_case_fails=$(_tl_count "$TL/fails")
}

case_end() {
	[ -n "$CASE" ] || { fail "case_end outside a case"; return 1; }
	_tl_rc_checked
	[ "$(_tl_count "$TL/checks")" != "$tl_case_checks" ] ||
		fail "the case checked nothing (a case must assert what a user sees)"
	if [ "$(_tl_count "$TL/fails")" = "$tl_case_fails" ]; then
		echo "ok $TL_CASES - $CASE"
	else
		echo "not ok $TL_CASES - $CASE"
		echo "$CASE" >>"$TL/failed"
	fi
	CASE=
}

# run CMD...: runs it, keeping stdout in $T/out, stderr in $T/err, status in
# $rc. Its exit status must be checked (expect_rc) before the next run or
# the end of the case.
run() {
	_tl_rc_checked
	rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	tl_run_cmd="$*"
	tl_run_pending=1
}

# expect_rc N: the last run exited with N
expect_rc() {
	check_counted
	tl_run_pending=
	[ "$rc" = "$1" ] || {
		echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"
		fail "expected exit $1, got $rc from: $tl_run_cmd"
	} >&2
}

# expect_nonzero: the last run failed, with any status (for tools other than
# sluice, whose exit statuses are not ours: sqlite3, git)
expect_nonzero() {
	check_counted
	tl_run_pending=
	[ "$rc" != 0 ] || {
		echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"
		fail "expected a failure, got exit 0 from: $tl_run_cmd"
	} >&2
}

# expect_out TEXT / expect_err TEXT: the last run printed a line containing TEXT
expect_out() { check_counted; grep -qF -- "$1" "$T/out" || { cat "$T/out" >&2; fail "stdout lacks: $1"; }; }
expect_err() { check_counted; grep -qF -- "$1" "$T/err" || { cat "$T/err" >&2; fail "stderr lacks: $1"; }; }
expect_no_out() { check_counted; ! grep -qF -- "$1" "$T/out" || { cat "$T/out" >&2; fail "stdout has: $1"; }; }
expect_no_err() { check_counted; ! grep -qF -- "$1" "$T/err" || { cat "$T/err" >&2; fail "stderr has: $1"; }; }

# expect_eq WANT GOT WHAT
expect_eq() { check_counted; [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"; }

# expect_ok WHAT CMD...: CMD succeeds (a file test, a grep, a cmp...)
expect_ok() {
	check_counted
	_tl_what=$1
	shift
	"$@" || fail "$_tl_what"
}

# expect_not WHAT CMD...: CMD fails
expect_not() {
	check_counted
	_tl_what=$1
	shift
	! "$@" || fail "$_tl_what"
}

# expect_same WANT-FILE GOT-FILE WHAT: the two files are equal (else the diff)
expect_same() {
	check_counted
	cmp -s "$1" "$2" || { diff "$1" "$2" >&2; fail "$3 (< $1, > $2)"; }
}

# done_testing: ends the script: the summary, and the failed cases by title.
# A script with no case at all fails, whatever it checked.
done_testing() {
	if [ -n "$CASE" ]; then
		fail "no case_end before done_testing"
		case_end
	fi
	_tl_rc_checked
	[ "$TL_CASES" != 0 ] ||
		fail "the script has no cases; write its checks in case_begin 'title' ... case_end"
	TL_DONE=1
	tl_n_failed=$(_tl_count "$TL/failed")
	echo "$TL_SCRIPT: $TL_CASES cases, $(_tl_count "$TL/checks") checks, $tl_n_failed failed"
	if [ "$tl_n_failed" != 0 ]; then
		echo "failed cases:" >&2
		sed 's/^/  /' "$TL/failed" >&2
		exit 1
	fi
	exit 0
}

# dev_secrets FILE: points the shipped workspace's enterprise-secrets
# provider (vault-kv2 at an address that does not exist here) at the env
# provider and sets the variable the example's secret names, so that the
# secret check before a stage starts passes (docs/secrets.md)
dev_secrets() {
	sed -i -e 's|{type: vault-kv2, address: https://vault.acme.example, mount: secret,|{type: env,|' \
		-e 's|^\( *\)token_env: VAULT_TOKEN, allowed_prefixes|\1allowed_prefixes|' "$1"
	grep -q 'enterprise-secrets: {type: env,' "$1" || bail "cannot point enterprise-secrets at the env provider in $1"
	SLUICE_SECRET_CODEX_BACKEND_PR_REVIEWER_SERVICE_TOKEN=present-for-tests
	export SLUICE_SECRET_CODEX_BACKEND_PR_REVIEWER_SERVICE_TOKEN
}
