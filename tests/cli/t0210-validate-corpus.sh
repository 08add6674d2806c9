#!/bin/sh
# The malformed-input corpus: every case under tests/fixtures/validate/
# is the shipped example (admin root + reference plugin) with a few
# changes, and an `expect` file holding the exit status (first line,
# "exit N") and the exact output of `sluice validate` (the rest). A case
# directory may hold:
#   patch  a unified diff applied in the copy (paths a/plugin/..., a/workspaces/...)
#   setup  a sh script run in the copy (files made at run time: symlinks,
#          huge files, NUL bytes, invalid UTF-8, removals)
#   args   the validate arguments (default: --plugin plugin)
# Every case is also checked to need no database: no .sluice is created.
. "$(dirname "$0")/lib.sh"

CASES=$SRC/tests/fixtures/validate
failed=""
n=0
for dir in "$CASES"/*/; do
	name=$(basename "$dir")
	W=$T/w/$name
	mkdir -p "$W"
	cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$W/"
	cp -R "$SRC/examples/plugins/backend-pr-reviewer" "$W/plugin"
	# git apply, not patch(1): git is always installed, patch may not be
	if [ -f "$dir/patch" ] && ! (cd "$W" && git apply -p1 "$dir/patch"); then
		failed="$failed $name"; echo "FAIL $name: the patch does not apply" >&2; continue
	fi
	if [ -f "$dir/setup" ] && ! (cd "$W" && sh "$dir/setup"); then
		failed="$failed $name"; echo "FAIL $name: setup failed" >&2; continue
	fi
	args="--plugin plugin"
	[ -f "$dir/args" ] && args=$(cat "$dir/args")
	want_rc=$(sed -n '1s/^exit //p' "$dir/expect")
	sed 1d "$dir/expect" >"$T/want"
	rc=0
	# shellcheck disable=SC2086 # args is a word list
	(cd "$W" && "$SLUICE" validate $args) >"$T/out" 2>"$T/err" || rc=$?
	TESTS=$((TESTS + 1))
	n=$((n + 1))
	if ! diff -u "$T/want" "$T/out" >"$T/diff"; then
		failed="$failed $name"; echo "FAIL $name: output differs" >&2; cat "$T/diff" >&2
	elif [ "$rc" != "$want_rc" ]; then
		failed="$failed $name"; echo "FAIL $name: exit $rc, expected $want_rc" >&2
	elif [ -s "$T/err" ]; then
		failed="$failed $name"; echo "FAIL $name: stderr: $(cat "$T/err")" >&2
	elif [ -e "$W/.sluice" ]; then
		failed="$failed $name"; echo "FAIL $name: validate created .sluice" >&2
	fi
	chmod -R u+w "$W" 2>/dev/null
	rm -rf "$W"
done
[ -z "$failed" ] || fail "corpus cases failed:$failed"
[ "$n" -ge 45 ] || fail "the corpus has $n cases; it should have at least 45"
done_testing
