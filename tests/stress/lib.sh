# Helpers for the scenario (t08xx) and stress (t09xx) tests, sourced after
# tests/cli/lib.sh. They build an administrators' repository in $R from the
# shipped workspaces/, rollouts/ and groups/ (url_template pointed at
# repositories generated under $GIT, identity `asserted` so that --as names
# the actor), and read what a user sees: `status -o json`, the database
# through sqlite3, the published effective.json.

R=$T/root
GIT=$T/git
DB=$R/.sluice/sluice.db
EFFECTIVE=$R/.sluice/published/effective.json
PLUGIN=backend-pr-reviewer

# sc_root: the shipped configuration, pointed at $GIT, identity asserted
sc_root() {
	mkdir -p "$R" "$GIT"
	cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$R/"
	sed -i -e "s|file:///srv/git|file://$GIT|" -e 's|identity: os-user|identity: asserted|' \
		"$R/workspaces/engineering.yaml"
}

# sc_repos TAG...: the example repository (scripts/make-example-repos.sh)
sc_repos() {
	"$SRC/scripts/make-example-repos.sh" "$GIT" "$@" >/dev/null ||
		fail "make-example-repos.sh $* failed"
}

# sc_policy KEY VALUE: sets a top-level key of rollouts/standard.yaml
sc_policy() {
	sed -i "s|^$1: .*|$1: $2|" "$R/rollouts/standard.yaml"
	grep -q "^$1: $2\$" "$R/rollouts/standard.yaml" || fail "rollouts/standard.yaml has no key $1"
}

# sc_ws SED-EXPR: edits workspaces/engineering.yaml (and checks it changed)
sc_ws() {
	cp "$R/workspaces/engineering.yaml" "$T/ws.before"
	sed -i "$1" "$R/workspaces/engineering.yaml"
	! cmp -s "$T/ws.before" "$R/workspaces/engineering.yaml" || fail "sed '$1' changed nothing"
}

sl() { "$SLUICE" --root "$R" "$@"; }
q() { sqlite3 "$DB" "$@"; }
# js JQ-EXPR: from the last run's stdout
js() { jq -r "$1" "$T/out"; }
# eff JQ-EXPR: from the published effective.json
eff() { jq -r "$1" "$EFFECTIVE"; }

# rollout_of NOW: "version state stage" of the plugin's rollout in
# `status -o json` ("- stable" when it has none, with the stable version)
rollout_of() {
	run sl status -o json --now "$1"
	expect_rc 0
	js ".plugins[] | select(.id == \"$PLUGIN\") |
		if .rollout == null then \"- \(.stable_version)\"
		else \"\(.rollout.version) \(.rollout.state) \(.rollout.stage)\" end"
}

# started_stages VERSION: the stage names started for it, in order
started_stages() {
	q "SELECT group_concat(stage_name, ' ') FROM (SELECT s.stage_name FROM stage_starts s
		JOIN releases r ON r.id = s.release_id WHERE r.plugin = '$PLUGIN' AND r.version = '$1'
		ORDER BY s.stage_index)"
}

# group_version GROUP: the version of the plugin published for GROUP ("-": none)
group_version() {
	eff "[.groups[\"$1\"][]? | select(.id == \"$PLUGIN\") | .version] | first // \"-\""
}

# reconcile_at NOW: a pass that must exit 0 (its output in $T/out)
reconcile_at() {
	run sl reconcile --now "$1"
	expect_rc 0
}

# sc_db_checks: the invariants every test ends with - the file is sound,
# every started stage has its audit row and no stage started twice, and
# the audit chain verifies
sc_db_checks() {
	expect_eq ok "$(q 'PRAGMA integrity_check')" "integrity_check"
	expect_eq 0 "$(q "SELECT count(*) FROM (SELECT release_id, stage_index FROM stage_starts
		GROUP BY 1, 2 HAVING count(*) > 1)")" "stages started twice"
	expect_eq "$(q 'SELECT count(*) FROM stage_starts')" \
		"$(q "SELECT count(*) FROM audit WHERE action = 'stage.started'")" \
		"stage.started audit rows against stage_starts rows"
	expect_eq 0 "$(q "SELECT count(*) FROM stage_starts s JOIN releases r ON r.id = s.release_id
		WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.action = 'stage.started'
		AND a.plugin = r.plugin AND a.version = r.version AND a.details LIKE '%\"' || s.stage_name || '\"%')")" \
		"started stages without their audit row"
	run sl audit verify
	expect_rc 0
}

# sc_dump DB: the state tables in a normalised text form (no row ids, no
# real-time lease rows), for comparing two runs
sc_dump() {
	sqlite3 "$1" <<'EOF'
.mode list
.separator |
SELECT 'source', repository, plugin, url, last_ok_at, last_error FROM sources ORDER BY 2;
SELECT 'tag', plugin, tag, commit_id, tag_object, tagger_email, first_seen_at, deleted_at,
       moved_to_commit, moved_at, move_accepted_at FROM tags ORDER BY 2, 3;
SELECT 'release', workspace, plugin, version, tag, commit_id, seen_at, state, state_reason,
       stage_index, stage_started_at, paused_at, paused_seconds, rolled_back, withdrawn,
       refused_reason FROM releases ORDER BY 2, 3, 4;
SELECT 'stage', r.plugin, r.version, s.stage_index, s.stage_name, s.started_at, s.started_by,
       s.actor, s.reason FROM stage_starts s JOIN releases r ON r.id = s.release_id ORDER BY 2, 3, 4;
SELECT 'approval', workspace, plugin, version, commit_id, stage, approver, comment, at, voided_at
  FROM approvals ORDER BY 2, 3, 4, 6, 7;
SELECT 'audit', at, actor, action, plugin, version, details FROM audit
 ORDER BY plugin, version, action, details, at, actor;
EOF
}

# sc_make_plugins N DIR: N copies of the reference plugin (ids demo-01 ...,
# repositories acme/demo-01 ...) tagged v0.1.0 under $GIT, and added to the
# workspace. DIR is a scratch directory. Stage 1 needs no admin approval.
sc_make_plugins() {
	n=$1
	mkdir -p "$2" "$GIT/acme"
	i=1
	while [ "$i" -le "$n" ]; do
		id=$(printf 'demo-%02d' "$i")
		w=$2/$id
		rm -rf "$w"
		cp -R "$SRC/examples/plugins/backend-pr-reviewer" "$w"
		sed -i "s/^id: backend-pr-reviewer$/id: $id/" "$w/plugin.yaml"
		sed -i -e "s/^  id: backend-pr-reviewer$/  id: $id/" \
			-e "s|repository: acme/codex-plugin-backend-pr-reviewer|repository: acme/$id|" \
			-e 's/require_admin_approval: true/require_admin_approval: false/' \
			"$w/deploy/workspace-config.yaml"
		git -C "$w" init -q
		git -C "$w" add -A
		GIT_AUTHOR_EMAIL=devex-lead@acme.example GIT_COMMITTER_EMAIL=devex-lead@acme.example \
			git -C "$w" commit -qm "$id 0.1.0"
		GIT_COMMITTER_EMAIL=devex-lead@acme.example git -C "$w" tag -a -m "$id 0.1.0" v0.1.0
		git clone -q --bare "$w" "$GIT/acme/$id.git"
		sed -i "s|^plugins:|plugins:\n  - {repository: acme/$id, versions: \">=0.1.0 <1.0.0\"}|" \
			"$R/workspaces/engineering.yaml"
		i=$((i + 1))
	done
}

# rand_ms MAX KEY: a random whole number in [0, MAX), from $SEED and KEY
# (the round), so that a failing run repeats with SLUICE_STRESS_SEED=...
rand_ms() {
	awk -v s="$SEED" -v n="$2" -v m="$1" 'BEGIN { srand(s * 1000 + n); printf "%d", rand() * m }'
}
SEED=${SLUICE_STRESS_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}

# now_ms: real time in milliseconds
now_ms() { date +%s%3N; }

# sc_ready VERSION NOW: what stage 1 of the reference plugin waits for under
# the standard policy - the two attested checklist items, and an admin
# approval (admin-ana) - given at NOW
sc_ready() {
	run sl attest "$PLUGIN@$1" contract-tests --evidence https://ci.acme.example/runs/1 --as ci-bot --now "$2"
	expect_rc 0
	run sl attest "$PLUGIN@$1" security-review --evidence https://sec.acme.example/r/1 --as admin-ben --now "$2"
	expect_rc 0
	run sl approve "$PLUGIN@$1" --stage devex-dogfood --as admin-ana --now "$2"
	expect_rc 0
}

# sc_tag VERSION [REF]: a new release of the reference plugin in its
# repository: every version field bumped to VERSION on top of REF (default
# main), tagged vVERSION (annotated) by devex-lead@acme.example
sc_tag() {
	w=$T/tag-$1
	rm -rf "$w"
	git clone -q "$GIT/acme/codex-plugin-backend-pr-reviewer.git" "$w"
	git -C "$w" checkout -q "${2:-main}"
	sed -i "s/^version: .*/version: $1/" "$w/plugin.yaml"
	sed -i -e "s/^  version: .*/  version: $1/" -e "s|ref: refs/tags/v.*|ref: refs/tags/v$1|" \
		"$w/deploy/workspace-config.yaml"
	echo "- $1" >>"$w/guidance/escalation.md"
	git -C "$w" add -A
	GIT_AUTHOR_EMAIL=devex-lead@acme.example GIT_COMMITTER_EMAIL=devex-lead@acme.example \
		git -C "$w" commit -qm "release $1"
	GIT_COMMITTER_EMAIL=devex-lead@acme.example git -C "$w" tag -a -m "$1" "v$1"
	git -C "$w" push -q origin "HEAD:refs/heads/main" "v$1" 2>/dev/null ||
		git -C "$w" push -q origin "v$1"
}
