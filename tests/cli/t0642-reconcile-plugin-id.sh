#!/bin/sh
# Plugin id ownership (docs/sources.md, plugin ids): the first repository
# whose release validated owns its id. Another repository declaring the
# same id is refused and audited, and never touches the owner's tags or
# releases; a release that fails validation never gives a repository its
# id.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
REAL=acme/codex-plugin-backend-pr-reviewer

# new_repo REPO ID VERSION [SED]: a bare repository $GIT/REPO.git holding a
# copy of the example plugin with id ID, tagged vVERSION (plugin.yaml
# edited by SED); added to the workspace. Again with the same REPO: one
# more tag on top.
new_repo() {
	w=$T/src-$(echo "$1" | tr / -)
	if [ ! -d "$w" ]; then
		cp -R "$SRC/examples/plugins/backend-pr-reviewer" "$w"
		git -C "$w" init -q
		sed -i "s|^plugins:|plugins:\n  - {repository: $1, versions: \">=0.1.0 <1.0.0\", environment: {CODEX_PLUGIN_SERVICE_URL: https://x.acme.example}}|" \
			"$R/workspaces/engineering.yaml"
	fi
	sed -i "s/^id: .*/id: $2/" "$w/plugin.yaml"
	sed -i "s/^version: .*/version: $3/" "$w/plugin.yaml"
	[ -z "${4:-}" ] || sed -i "$4" "$w/plugin.yaml"
	sed -i -e "s/^  id: .*/  id: $2/" -e "s/^  version: .*/  version: $3/" \
		-e "s|ref: refs/tags/v.*|ref: refs/tags/v$3|" "$w/deploy/workspace-config.yaml"
	git -C "$w" add -A
	GIT_AUTHOR_EMAIL=devex-lead@acme.example GIT_COMMITTER_EMAIL=devex-lead@acme.example \
		git -C "$w" commit -qm "$3" || bail "cannot commit $1 $3"
	GIT_COMMITTER_EMAIL=devex-lead@acme.example git -C "$w" tag -a -m "$3" "v$3"
	rm -rf "$GIT/$1.git"
	git clone -q --bare "$w" "$GIT/$1.git" || bail "cannot make $GIT/$1.git"
}
real_state() {
	sq "SELECT version, commit_id, state, coalesce(refused_reason, '') FROM releases
		WHERE plugin = '$PLUGIN' ORDER BY version"
	sq "SELECT tag, commit_id, coalesce(moved_to_commit, '') FROM tags
		WHERE plugin = '$PLUGIN' ORDER BY tag"
}

case_begin 'the first repository whose release validated owns the id'
start_rollout
expect_eq "$PLUGIN" "$(sq "SELECT plugin FROM sources WHERE repository = '$REAL'")" "owner"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'source.claimed' AND plugin = '$PLUGIN'")" "claim audited"
case_end

case_begin 'another repository declaring the id is refused, naming the owner; the owner is untouched'
real_state >"$T/real.before"
new_repo acme/impostor $PLUGIN 0.1.0
new_repo acme/impostor $PLUGIN 0.9.0
reconcile_at 2026-12-01T12:00:00Z
expect_out "refused release 0.1.0: plugin id '$PLUGIN' belongs to repository $REAL, the first whose release validated"
expect_out "refused release 0.9.0: plugin id '$PLUGIN' belongs to repository $REAL"
expect_no_out "moved"
expect_no_out "superseded"
real_state >"$T/real.after"
expect_same "$T/real.before" "$T/real.after" "the owner's releases and tags"
expect_eq "acme/impostor" "$(sq "SELECT plugin FROM sources WHERE repository = 'acme/impostor'")" "impostor's id"
expect_eq "0.1.0 pending refused
0.9.0 pending refused" "$(sq "SELECT version, state, CASE WHEN refused_reason LIKE '%belongs to repository $REAL%' THEN 'refused' END FROM releases WHERE plugin = 'acme/impostor' ORDER BY version" | tr '|' ' ')" "impostor's releases"
expect_eq 2 "$(sq "SELECT count(*) FROM audit WHERE action = 'release.refused' AND plugin = 'acme/impostor' AND details LIKE '%belongs to repository $REAL%'")" "refusals audited"
expect_eq "0.1.0 in_progress devex-dogfood" "$(rollout_of 2026-12-01T12:00:00Z)" "the owner's rollout"
expect_eq 0.1.0 "$(group_version platform-devex)" "published for platform-devex"
expect_eq 1 "$(eff "[.groups[\"platform-devex\"][] | select(.id == \"$PLUGIN\")] | length")" "one entry for the id"
case_end

case_begin 'a release that fails validation never gives a repository its id'
new_repo acme/fresh 'bad\e[31mid' 0.1.0
sed -i 's/^id: .*/id: "bad\\e[31mid"/' "$T/src-acme-fresh/plugin.yaml"
git -C "$T/src-acme-fresh" commit -qam "escape" && git -C "$T/src-acme-fresh" tag -f -a -m 0.1.0 v0.1.0 >/dev/null
rm -rf "$GIT/acme/fresh.git" && git clone -q --bare "$T/src-acme-fresh" "$GIT/acme/fresh.git"
reconcile_at 2026-12-01T13:00:00Z
expect_out "refused release 0.1.0"
expect_eq "acme/fresh" "$(sq "SELECT plugin FROM sources WHERE repository = 'acme/fresh'")" "no id from a refused release"
expect_eq 0 "$(sq "SELECT count(*) FROM tags WHERE plugin LIKE 'bad%'")" "nothing recorded under the bad id"
new_repo acme/fresh fresh-reviewer 0.1.1
reconcile_at 2026-12-01T14:00:00Z
expect_out "recorded release 0.1.1"
expect_no_out "is not 'bad"
expect_eq "fresh-reviewer" "$(sq "SELECT plugin FROM sources WHERE repository = 'acme/fresh'")" "the id of the first release that validated"
expect_eq "0.1.0 1
0.1.1 0" "$(sq "SELECT version, refused_reason IS NOT NULL FROM releases WHERE plugin = 'fresh-reviewer' ORDER BY version" | tr '|' ' ')" "its releases under its id"
expect_sound_db
case_end

done_testing
