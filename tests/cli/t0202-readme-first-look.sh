#!/bin/sh
# The README's "A first look" commands, run verbatim from a copy of the
# source tree's layout: each exits 0, and the release they show is the
# example plugin's first tag, recorded and waiting for its checklist and
# approval (not a source that was never reached).
. "$(dirname "$0")/lib.sh"

# the block of indented lines under "## A first look"
sed -n '/^## A first look/,/^## /p' "$SRC/README.md" | sed -n 's/^    //p' >"$T/first-look.sh"
[ -s "$T/first-look.sh" ] || fail "README.md has no indented commands under '## A first look'"
grep -q 'sluice init --example admin' "$T/first-look.sh" ||
	fail "the first look no longer starts with 'sluice init --example admin'"

# the tree the README assumes: the source root with build/sluice and examples/
mkdir -p "$T/src/build"
ln -s "$SLUICE" "$T/src/build/sluice"
ln -s "$SRC/examples" "$T/src/examples"
(cd "$T/src" && sh -ex "$T/first-look.sh") >"$T/look.out" 2>"$T/look.err" ||
	{ cat "$T/look.out" "$T/look.err" >&2; fail "a first-look command failed"; }
TESTS=$((TESTS + 1))
grep -qF 'backend-pr-reviewer: recorded release 0.1.0 (v0.1.0' "$T/look.out" ||
	{ cat "$T/look.out" >&2; fail "reconcile did not record the example release"; }
grep -qF 'rollout 0.1.0 (commit ' "$T/look.out" ||
	{ cat "$T/look.out" >&2; fail "status does not show the pending rollout"; }
grep -qF 'devex-dogfood: checklist items not done: contract-tests, security-review' "$T/look.out" ||
	{ cat "$T/look.out" >&2; fail "status/plan do not say what holds the first stage"; }
grep -q 'never reached\|unreachable' "$T/look.out" "$T/look.err" &&
	fail "the first look reports an unreachable source"

# the workspace init --example wrote validates, and differs from the
# shipped one only in where its plugin repositories live
run "$SLUICE" --root "$T/src/admin" validate
expect_rc 0
diff "$SRC/workspaces/engineering.yaml" "$T/src/admin/workspaces/engineering.yaml" >"$T/diff" &&
	fail "init --example did not point the workspace at the example repository"
expect_eq 1 "$(grep -c '^>' "$T/diff")" "lines changed by init --example"
grep -qF "url_template: \"file://$(cd "$T/src/admin" && pwd -P)/.sluice/examples/{repository}.git\"" \
	"$T/src/admin/workspaces/engineering.yaml" || fail "url_template does not name the example repository"

# a second init --example refuses and leaves the repository alone
run "$SLUICE" init --example "$T/src/admin"
expect_rc 1
expect_err "already exists; init never overwrites files"

done_testing
