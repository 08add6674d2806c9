#!/bin/sh
# validate --repo fetches a watched repository the way fetch and reconcile
# do: a plain relative path in its URL resolves against --root, not
# against the directory sluice runs in.
. "$(dirname "$0")/lib.sh"

A=$T/admin
mkdir -p "$A" "$T/elsewhere"
"$SRC/scripts/make-example-repos.sh" "$A/git" >/dev/null || bail "scripts/make-example-repos.sh $A/git failed"
cp -r "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$A/"
sed -i 's|file:///srv/git/|git/|' "$A/workspaces/engineering.yaml"
grep -q 'url_template: "git/{repository}.git"' "$A/workspaces/engineering.yaml" ||
	bail "the workspace's url_template was not made relative"
cd "$T/elsewhere" || bail "cannot cd to $T/elsewhere"

case_begin 'validate --repo from another directory: the URL is under --root'
run "$SLUICE" --root "$A" validate --repo acme/codex-plugin-backend-pr-reviewer --tag v0.1.1
expect_rc 0
expect_no_err "cannot fetch"
expect_eq 2 "$(grep -c ': warning: ' "$T/out")" "warnings"
expect_ok "the mirror is not in --root's cache" test -d "$A/.sluice/cache/acme+codex-plugin-backend-pr-reviewer.git"
expect_not "validate wrote into the working directory" test -e "$T/elsewhere/.sluice"
case_end

case_begin 'fetch reads the same URL the same way'
run "$SLUICE" --root "$A" fetch -o json
expect_rc 0
expect_eq "$A/git/acme/codex-plugin-backend-pr-reviewer.git" "$(jq -r .url "$T/out")" "fetch url"
case_end

case_begin 'a relative path that exists only under the working directory is not used'
rm -rf "$A/git"
mkdir -p "$T/elsewhere/git/acme"
"$SRC/scripts/make-example-repos.sh" "$T/elsewhere/git" >/dev/null ||
	bail "scripts/make-example-repos.sh $T/elsewhere/git failed"
rm -rf "$A/.sluice/cache"
run "$SLUICE" --root "$A" validate --repo acme/codex-plugin-backend-pr-reviewer --tag v0.1.1
expect_rc 1
expect_err "error: cannot fetch acme/codex-plugin-backend-pr-reviewer: cannot reach '$A/git/acme/codex-plugin-backend-pr-reviewer.git'"
case_end

done_testing
