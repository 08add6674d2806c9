#!/bin/sh
# The README's "A first look" commands, run verbatim from a copy of the
# source tree's layout: each exits 0, and the release they show is the
# example plugin's first tag, recorded and waiting for its checklist and
# approval (not a source that was never reached).
. "$(dirname "$0")/lib.sh"

case_begin "the README has a first look that starts with 'sluice init --example admin'"
# the block of indented lines under "## A first look"
sed -n '/^## A first look/,/^## /p' "$SRC/README.md" | sed -n 's/^    //p' >"$T/first-look.sh"
expect_ok "README.md has no indented commands under '## A first look'" test -s "$T/first-look.sh"
expect_ok "the first look no longer starts with 'sluice init --example admin'" \
	grep -q 'sluice init --example admin' "$T/first-look.sh"
case_end

case_begin 'the first-look commands run and show the recorded, waiting release'
# the tree the README assumes: the source root with build/sluice and examples/
mkdir -p "$T/src/build"
ln -s "$SLUICE" "$T/src/build/sluice"
ln -s "$SRC/examples" "$T/src/examples"
cd "$T/src" || bail "cannot cd to $T/src"
run sh -ex "$T/first-look.sh"
expect_rc 0
cp "$T/out" "$T/look.out"
cp "$T/err" "$T/look.err"
expect_out 'backend-pr-reviewer: recorded release 0.1.0 (v0.1.0'
expect_out 'rollout 0.1.0 (commit '
expect_out 'devex-dogfood: checklist items not done: contract-tests, security-review'
expect_out 'secret CODEX_PLUGIN_TOKEN: enterprise-secrets has no codex/backend-pr-reviewer/service-token'
expect_not "the first look reports an unreachable source" \
	grep -q 'never reached\|unreachable' "$T/look.out" "$T/look.err"
case_end

case_begin 'the workspace init --example wrote validates and differs only in its url_template and secret provider'
run "$SLUICE" --root "$T/src/admin" validate
expect_rc 0
run diff "$SRC/workspaces/engineering.yaml" "$T/src/admin/workspaces/engineering.yaml"
expect_rc 1
expect_eq 2 "$(grep -c '^>' "$T/out")" "lines changed by init --example"
expect_out '>   enterprise-secrets: {type: env, allowed_prefixes: [codex/]}'
expect_ok "url_template does not name the example repository" \
	grep -qF "url_template: \"file://$(cd "$T/src/admin" && pwd -P)/.sluice/examples/{repository}.git\"" \
	"$T/src/admin/workspaces/engineering.yaml"
case_end

case_begin 'a second init --example refuses and leaves the repository alone'
cp "$T/src/admin/workspaces/engineering.yaml" "$T/ws.before"
run "$SLUICE" init --example "$T/src/admin"
expect_rc 1
expect_err "already exists; init never overwrites files"
expect_same "$T/ws.before" "$T/src/admin/workspaces/engineering.yaml" "the workspace after a refused init"
case_end

done_testing
