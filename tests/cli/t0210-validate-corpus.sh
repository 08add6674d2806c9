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
n=0
for dir in "$CASES"/*/; do
	name=$(basename "$dir")
	n=$((n + 1))
	case_begin "corpus case $name"
	W=$T/w/$name
	mkdir -p "$W"
	cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$W/"
	cp -R "$SRC/examples/plugins/backend-pr-reviewer" "$W/plugin"
	# git apply, not patch(1): git is always installed, patch may not be
	ready=1
	if [ -f "$dir/patch" ]; then
		expect_ok "the patch does not apply" git -C "$W" apply -p1 "$dir/patch" || ready=
	fi
	if [ -n "$ready" ] && [ -f "$dir/setup" ]; then
		(cd "$W" && expect_ok "setup failed" sh "$dir/setup") || ready=
	fi
	if [ -n "$ready" ]; then
		args="--plugin plugin"
		[ -f "$dir/args" ] && args=$(cat "$dir/args")
		sed 1d "$dir/expect" >"$T/want"
		# shellcheck disable=SC2086 # args is a word list
		run sh -c 'cd "$1" && shift && exec "$@"' - "$W" "$SLUICE" validate $args
		expect_rc "$(sed -n '1s/^exit //p' "$dir/expect")"
		expect_same "$T/want" "$T/out" "validate's output differs from expect"
		expect_ok "stderr: $(cat "$T/err")" [ ! -s "$T/err" ]
		expect_ok "validate created .sluice" [ ! -e "$W/.sluice" ]
	fi
	chmod -R u+w "$W" 2>/dev/null
	rm -rf "$W"
	case_end
done
case_begin 'the corpus has at least 45 cases'
expect_ok "the corpus has $n cases; it should have at least 45" [ "$n" -ge 45 ]
case_end
done_testing
