#!/bin/sh
# Build metadata has no precedence (docs/versions.md): a tag
# v0.1.0+build.2 beside v0.1.0 names the same version, so reconcile records
# it refused as a duplicate, with a reason naming both tags, and never rolls
# it out as newer - whether it comes after the release or in the same pass.
. "$(dirname "$0")/lib.sh"
R=$T/root
GIT=$T/git
mkdir -p "$R"
cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$R/"
sed -e "s|file:///srv/git|file://$GIT|" -e 's|identity: os-user|identity: asserted|' \
	-e '/rollout_policy: standard/d' "$SRC/workspaces/engineering.yaml" >"$R/workspaces/engineering.yaml"
dev_secrets "$R/workspaces/engineering.yaml"
REPO=$GIT/acme/codex-plugin-backend-pr-reviewer.git
W=$T/work
git init -q "$W"
cp -R "$SRC/examples/plugins/backend-pr-reviewer/." "$W/"
sed -i 's/require_admin_approval: true/require_admin_approval: false/' "$W/deploy/workspace-config.yaml"
{ git -C "$W" add -A && git -C "$W" commit -qm "0.1.0" && git -C "$W" tag -a -m "0.1.0" v0.1.0 &&
	mkdir -p "$GIT/acme" && git clone -q --bare "$W" "$REPO"; } || bail "cannot make the plugin repository $REPO"
DB=$R/.sluice/sluice.db
D1=2026-12-01T09:00:00Z
D2=2026-12-02T09:00:00Z
sl() { "$SLUICE" --root "$R" "$@"; }
sq() { sqlite3 "$DB" "$1" || fail "sqlite3 $DB failed: $1"; }

# a release whose files all agree with its tag v$1 (so validation alone
# passes it), tagged in the work tree
release_as() {
	sed -i -e "s/^version: .*/version: $1/" "$W/plugin.yaml"
	sed -i -e "s/^  version: .*/  version: $1/" -e "s|ref: refs/tags/.*|ref: refs/tags/v$1|" \
		"$W/deploy/workspace-config.yaml"
	echo "- $1" >>"$W/guidance/workflow.md"
	git -C "$W" commit -qam "$1" && git -C "$W" tag -a -m "$1" "v$1" || bail "cannot tag v$1 in $W"
}

case_begin 'the first pass records 0.1.0 and starts its first stage'
run sl reconcile --now $D1
expect_rc 0
expect_out "backend-pr-reviewer: recorded release 0.1.0 (v0.1.0, commit"
expect_out "backend-pr-reviewer@0.1.0: start stage devex-dogfood (1)"
case_end

case_begin 'the same version with build metadata, pushed later: refused, not newer'
release_as 0.1.0+build.2
run git -C "$W" push -q "$REPO" v0.1.0+build.2
expect_rc 0
run sl reconcile --now $D2
expect_rc 0
expect_eq "0.1.0+build.2|v0.1.0+build.2 is the same version as v0.1.0, already recorded: build metadata (after '+') has no precedence, so it is not a new release; tag a new version" \
	"$(sq "SELECT version, refused_reason FROM releases WHERE version = '0.1.0+build.2'")" "refused duplicate"
expect_eq "pending" "$(sq "SELECT state FROM releases WHERE version = '0.1.0+build.2'")" "duplicate state"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'release.refused' AND version = '0.1.0+build.2' AND details LIKE '%same version as v0.1.0%'")" "release.refused audit row"
run sl status -o json --now $D2
expect_rc 0
# (which of the two `rollout` shows is status's business, issue 9 item 17;
# what matters here: the one in progress is 0.1.0 and the other is refused)
expect_eq "0.1.0 in_progress devex-dogfood" \
	"$(jq -r '[.plugins[0].rollout] + .plugins[0].also_in_flight | map(select(.state != "pending")) | .[] | "\(.version) \(.state) \(.stage)"' "$T/out")" "in progress stays 0.1.0"
expect_eq "0.1.0+build.2" "$(jq -r '.plugins[0].refused[].version' "$T/out")" "status lists the duplicate as refused"
expect_eq "0.1.0" "$(jq -r '.groups["platform-devex"][0].version' "$R/.sluice/published/effective.json")" "published version"
case_end

case_begin 'a week on, the pilot stage starts for 0.1.0: the duplicate never does'
run sl reconcile --now 2026-12-08T10:00:00Z
expect_rc 0
expect_out "backend-pr-reviewer@0.1.0: start stage backend-pilot (2)"
expect_no_out "0.1.0+build.2: start"
expect_eq 0 "$(sq "SELECT count(*) FROM stage_starts r JOIN releases x ON x.id = r.release_id WHERE x.version = '0.1.0+build.2'")" "stages of the duplicate"
expect_eq "0.1.0" "$(jq -r '.groups["backend-engineers-pilot"][0].version' "$R/.sluice/published/effective.json")" "published to the pilot"
case_end

# both tags new in one pass, in a fresh state: the first recorded owns the
# version, the other is refused
case_begin 'two tags of one version new in the same pass: the other one is refused'
rm -rf "$R/.sluice"
release_as 0.2.0
release_as 0.2.0+b.1
run git -C "$W" push -q "$REPO" v0.2.0 v0.2.0+b.1
expect_rc 0
run sl reconcile --now $D1
expect_rc 0
expect_eq "0.1.0+build.2|same version as v0.1.0
0.2.0+b.1|same version as v0.2.0" \
	"$(sq "SELECT version, CASE WHEN refused_reason LIKE '%same version as v0.1.0,%' THEN 'same version as v0.1.0' WHEN refused_reason LIKE '%same version as v0.2.0,%' THEN 'same version as v0.2.0' ELSE refused_reason END FROM releases WHERE refused_reason IS NOT NULL ORDER BY version")" "duplicates refused in one pass"
expect_eq "" "$(sq "SELECT refused_reason FROM releases WHERE version IN ('0.1.0', '0.2.0') AND refused_reason IS NOT NULL")" "the plain versions are not refused"
case_end

done_testing
