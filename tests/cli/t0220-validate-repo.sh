#!/bin/sh
# validate --repo --tag reads a tagged release straight from git, exactly as
# it would be deployed: the tag must equal source.ref and the versions.
. "$(dirname "$0")/lib.sh"

"$SRC/scripts/make-example-repos.sh" "$T/git" >/dev/null || bail "make-example-repos"
repo=$T/git/acme/codex-plugin-backend-pr-reviewer.git
mkdir -p "$T/admin"
cp -r "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$T/admin/"
sed -i "s|file:///srv/git/|file://$T/git/|" "$T/admin/workspaces/engineering.yaml"
cd "$T/admin" || bail "cd $T/admin"

case_begin 'a watched repository by owner/name, a tag in range: the two known warnings'
run "$SLUICE" validate --repo acme/codex-plugin-backend-pr-reviewer --tag v0.1.1
expect_rc 0
expect_eq 2 "$(grep -c ': warning: ' "$T/out")" "warnings"
expect_out "acme/codex-plugin-backend-pr-reviewer@v0.1.1/plugin.yaml:51:47: warning: availability group 'staff-engineers'"
expect_ok "the mirror was not kept in the cache" [ -d .sluice/cache ]
expect_ok "validate created a database" [ ! -e .sluice/sluice.db ]
case_end

case_begin 'a tag whose name disagrees with the versions inside, and outside the range'
git -C "$repo" tag v1.0.0 v0.1.0
run "$SLUICE" validate --repo acme/codex-plugin-backend-pr-reviewer --tag v1.0.0
expect_rc 2
expect_out "plugin.yaml:6:10: error: version '0.1.0' does not match the tag 'v1.0.0'; tag the release v0.1.0 or fix the version"
expect_out "deploy/workspace-config.yaml:9:10: error: plugin.source.ref is 'refs/tags/v0.1.0' but the release is v1.0.0; set it to 'refs/tags/v1.0.0'"
expect_out "workspaces/engineering.yaml:28:15: warning: tag 'v1.0.0' is outside this workspace's tracked range '>=0.1.0 <1.0.0'; it would not be rolled out"

run "$SLUICE" validate -o json --repo acme/codex-plugin-backend-pr-reviewer --tag v1.0.0
expect_rc 2
expect_eq false "$(jq -r .ok "$T/out")" "json ok"
expect_eq 1 "$(jq '[.diagnostics[] | select(.code == "out-of-range")] | length' "$T/out")" "out-of-range"
case_end

case_begin 'a plain path works too; a tag that is not a release tag is refused'
run "$SLUICE" validate --repo "$repo" --tag v0.1.0
expect_rc 0
run "$SLUICE" validate --repo "$repo" --tag release-1
expect_rc 2
expect_err "release tags look like v1.2.3"
run "$SLUICE" validate --repo "$repo" --tag v9.9.9
expect_rc 2
expect_err "cannot read tag 'v9.9.9'"
run "$SLUICE" validate --repo "$repo"
expect_rc 129
expect_err "--repo and --tag go together"
case_end

case_begin "the watched repository's transport settings apply: a missing CA bundle"
cp workspaces/engineering.yaml "$T/ws.bak"
sed -i 's|^  url_template: \(.*\)|  url_template: \1\n  ca_bundle: certs/missing.pem|' workspaces/engineering.yaml
run "$SLUICE" validate --repo acme/codex-plugin-backend-pr-reviewer --tag v0.1.1
expect_rc 2
expect_err "repositories.ca_bundle"
expect_out "workspaces/engineering.yaml:24:14: error: CA bundle 'certs/missing.pem' does not exist (relative paths resolve against --root)"
cp "$T/ws.bak" workspaces/engineering.yaml
case_end

case_begin 'an unreachable remote: exit 1'
run "$SLUICE" validate --repo "file://$T/nowhere.git" --tag v0.1.0
expect_rc 1
expect_err "cannot fetch"
case_end

done_testing
