#!/bin/sh
# The directory publisher reuses what it made for a release (its entry and
# its published files) and reads git only for releases it has not
# published: the reuse never serves a stale entry. After each change below
# effective.json is byte for byte the document a publish that reads every
# release from git writes (a copy of the state without the published
# directory): a changed, added and removed environment override; a release
# directory deleted by hand, published again from git; a moved tag, frozen
# on its published copy, then accepted and published at the new commit.
# And a pass that finds a mirror unchanged still records a tag that the
# workspace's `versions` range admits since it was edited.
. "$(dirname "$0")/lib.sh"
R=$T/root
GIT=$T/git
mkdir -p "$R"
cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$R/"
WS=$R/workspaces/engineering.yaml
sed -e "s|file:///srv/git|file://$GIT|" -e 's|identity: os-user|identity: asserted|' \
	-e '/rollout_policy: standard/d' "$SRC/workspaces/engineering.yaml" >"$WS"
dev_secrets "$WS"
REPO=$GIT/acme/codex-plugin-backend-pr-reviewer.git
W=$T/work
git init -q "$W"
cp -R "$SRC/examples/plugins/backend-pr-reviewer/." "$W/"
sed -i 's/require_admin_approval: true/require_admin_approval: false/' "$W/deploy/workspace-config.yaml"
git -C "$W" add -A && git -C "$W" commit -qm "0.1.0" && git -C "$W" tag -a -m "0.1.0" v0.1.0
mkdir -p "$GIT/acme" && git clone -q --bare "$W" "$REPO"
D1=2026-12-01T09:00:00Z
sl() { "$SLUICE" --root "$R" "$@"; }
P=$R/.sluice/published
E=$P/effective.json
REL=$P/releases/backend-pr-reviewer/0.1.0
devex() { jq -r ".groups[\"platform-devex\"][0]$1" "$E"; }

# same_as_fresh WHAT: effective.json equals the one a publish without
# anything published before writes from the same state
same_as_fresh() {
	rm -rf "$T/fresh"
	cp -R "$R" "$T/fresh"
	rm -rf "$T/fresh/.sluice/published"
	check_counted
	"$SLUICE" --root "$T/fresh" reconcile --no-fetch --now $D1 >"$T/fresh.out" 2>&1 ||
		{ cat "$T/fresh.out" >&2; fail "$1: the fresh publish failed"; }
	expect_same "$T/fresh/.sluice/published/effective.json" "$E" \
		"$1: effective.json differs from a publish that reads every release"
}

# files_from_git COMMIT: the published release holds the files of COMMIT
files_from_git() {
	expect_eq "$1" "$(jq -r .commit "$REL/release.json")" "release.json commit"
	for f in plugin.yaml deploy/workspace-config.yaml $(devex ' | .tools[], .guidance[]' |
		sed 's|^releases/backend-pr-reviewer/0.1.0/||'); do
		git -C "$REPO" show "$1:$f" >"$T/at-commit"
		expect_same "$T/at-commit" "$REL/$f" "published $f is not the file at ${1%"${1#????????????}"}"
	done
}

case_begin 'the first publish holds the files of the tag'
run sl reconcile --now $D1
expect_rc 0
expect_out "backend-pr-reviewer@0.1.0: start stage devex-dogfood (1)"
first=$(git -C "$REPO" rev-parse v0.1.0^{commit})
expect_eq https://reviewer.staging.acme.example "$(devex .environment.CODEX_PLUGIN_SERVICE_URL)" override
files_from_git "$first"
same_as_fresh "first publish"
case_end

case_begin "the workspace's override changes and gains a key: the entry follows"
sed -i 's|environment: {CODEX_PLUGIN_SERVICE_URL: https://reviewer.staging.acme.example}|environment: {CODEX_PLUGIN_SERVICE_URL: https://reviewer.prod.acme.example, FEATURE_X: "on"}|' "$WS"
run sl reconcile --no-fetch --now $D1
expect_rc 0
expect_eq https://reviewer.prod.acme.example "$(devex .environment.CODEX_PLUGIN_SERVICE_URL)" "changed override"
expect_eq on "$(devex .environment.FEATURE_X)" "added override"
expect_eq info "$(devex .environment.LOG_LEVEL)" "deploy file's value"
same_as_fresh "changed override"
case_end

case_begin "the override is removed: the deploy file's values come back"
sed -i '/environment: {CODEX_PLUGIN_SERVICE_URL/d' "$WS"
run sl reconcile --no-fetch --now $D1
expect_rc 0
expect_eq https://codex-backend-pr-reviewer.company.internal \
	"$(devex .environment.CODEX_PLUGIN_SERVICE_URL)" "deploy file's URL"
expect_eq null "$(devex .environment.FEATURE_X)" "removed override"
same_as_fresh "removed override"
case_end

case_begin "the release's published files deleted by hand are written again from git"
rm -rf "$REL"
sed -i 's|^    versions: ">=0.1.0 <1.0.0"|&\n    environment: {LOG_LEVEL: warn}|' "$WS"
run sl validate
expect_rc 0
run sl reconcile --no-fetch --now $D1
expect_rc 0
expect_eq warn "$(devex .environment.LOG_LEVEL)" "override after the deletion"
files_from_git "$first"
same_as_fresh "files deleted by hand"
case_end

case_begin 'a moved tag: the release is frozen and groups keep the first commit'
# the tag moves to a commit with another deploy file and guidance: the
# release is frozen and groups keep the published copy of the first commit
sed -i 's/LOG_LEVEL: info/LOG_LEVEL: debug/' "$W/deploy/workspace-config.yaml"
echo "Second commit's role." >>"$W/guidance/role.md"
git -C "$W" commit -qam "0.1.0 again" && git -C "$W" tag -f -a -m "0.1.0 again" v0.1.0 >/dev/null
git -C "$W" push -q -f "$REPO" v0.1.0
second=$(git -C "$REPO" rev-parse v0.1.0^{commit})
sed -i '/environment: {LOG_LEVEL: warn}/d' "$WS"
run sl reconcile --now $D1
expect_rc 0
expect_out "backend-pr-reviewer: tag v0.1.0 moved from"
expect_out "backend-pr-reviewer@0.1.0: freeze"
expect_eq "$first" "$(devex .commit)" "commit of the frozen release"
expect_eq info "$(devex .environment.LOG_LEVEL)" "deploy file of the first commit"
files_from_git "$first"
case_end

case_begin 'the move accepted: the entry and the files are those of the new commit'
run sl accept-tag-move --as admin-ana backend-pr-reviewer@0.1.0 --now $D1
expect_rc 0
run sl reconcile --no-fetch --now $D1
expect_rc 0
expect_eq "$second" "$(devex .commit)" "commit after the move was accepted"
expect_eq debug "$(devex .environment.LOG_LEVEL)" "deploy file of the new commit"
files_from_git "$second"
expect_ok "role.md is not the new commit's" grep -q "Second commit's role." "$REL/guidance/role.md"
same_as_fresh "accepted tag move"
case_end

case_begin 'a tag admitted by an edited range is recorded by a pass that fetches nothing'
# a new tag outside the `versions` range is fetched, not recorded; once the
# range admits it, a pass that fetches nothing records it
sed -i 's/version: 0.1.0/version: 0.2.0/; s|refs/tags/v0.1.0|refs/tags/v0.2.0|' \
	"$W/plugin.yaml" "$W/deploy/workspace-config.yaml"
git -C "$W" commit -qam "0.2.0" && git -C "$W" tag -a -m "0.2.0" v0.2.0
git -C "$W" push -q "$REPO" v0.2.0
sed -i 's|versions: ">=0.1.0 <1.0.0"|versions: ">=0.1.0 <0.2.0"|' "$WS"
run sl fetch -q --now $D1
expect_rc 0
run sl reconcile --no-fetch --now $D1
expect_rc 0
expect_no_out "0.2.0"
sed -i 's|versions: ">=0.1.0 <0.2.0"|versions: ">=0.1.0 <1.0.0"|' "$WS"
run sl reconcile --no-fetch --now $D1
expect_rc 0
expect_out "backend-pr-reviewer: recorded release 0.2.0 (v0.2.0, commit"
expect_eq 1 "$(sqlite3 "$R/.sluice/sluice.db" "SELECT count(*) FROM releases WHERE version = '0.2.0'")" "0.2.0 row"
case_end
done_testing
