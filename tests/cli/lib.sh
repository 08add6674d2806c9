# Shared helpers for tests/cli/tNNNN-*.sh. Each test sources this file,
# gets its own temporary state directory in $T, and calls the checks below.
# A failed check prints what was expected and what came instead, and exits 1.
set -u
: "${SLUICE:?run through ctest, or set SLUICE to the sluice binary}"
: "${SLUICE_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
SRC=$SLUICE_SOURCE_DIR
T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$T/home" LC_ALL=C.UTF-8 TZ=UTC
mkdir -p "$HOME"
git config --global user.name "Test" 2>/dev/null
git config --global user.email "test@acme.example" 2>/dev/null
git config --global init.defaultBranch main 2>/dev/null
unset SLUICE_ACTOR
TESTS=0

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run CMD...: runs it, keeping stdout in $T/out, stderr in $T/err, status in $rc
run() {
	rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	TESTS=$((TESTS + 1))
}

# expect_rc N: the last run exited with N
expect_rc() {
	[ "$rc" = "$1" ] || {
		echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"
		fail "expected exit $1, got $rc"
	} >&2
}

# expect_out TEXT / expect_err TEXT: the last run printed a line containing TEXT
expect_out() { grep -qF -- "$1" "$T/out" || { cat "$T/out" >&2; fail "stdout lacks: $1"; }; }
expect_err() { grep -qF -- "$1" "$T/err" || { cat "$T/err" >&2; fail "stderr lacks: $1"; }; }
expect_no_out() { ! grep -qF -- "$1" "$T/out" || { cat "$T/out" >&2; fail "stdout has: $1"; }; }
expect_no_err() { ! grep -qF -- "$1" "$T/err" || { cat "$T/err" >&2; fail "stderr has: $1"; }; }

# expect_eq WANT GOT WHAT
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"; }

done_testing() { echo "ok: $TESTS checks"; }
