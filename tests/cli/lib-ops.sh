# The administrators' repository for the command (t07xx), scenario (t08xx)
# and stress (t09xx) tests: the shipped workspaces/, rollouts/ and groups/
# in $R, url_template pointed at the example plugin repository made in $GIT
# by scripts/make-example-repos.sh, identity `asserted` so that --as names
# the actor. Also what a user sees of it: `status -o json`, the database
# through sqlite3, the published effective.json; and the checks that a
# refused command changed nothing. Source after lib.sh.

R=$T/admin
GIT=$T/git
DB=$R/.sluice/sluice.db
EFFECTIVE=$R/.sluice/published/effective.json
PLUGIN=backend-pr-reviewer

# setup_admin [TAG...]: makes $GIT (the plugin repository with TAGs, default
# v0.1.0) and the administrators' repository $R, and cds into $R
setup_admin() {
	[ $# -gt 0 ] || set -- v0.1.0
	example_tags "$@"
	mkdir -p "$R"
	cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$R/"
	sed -i -e "s|file:///srv/git/|file://$GIT/|" \
		-e "s|identity: os-user|identity: asserted|" "$R/workspaces/engineering.yaml"
	grep -q 'identity: asserted' "$R/workspaces/engineering.yaml" || bail "cannot set identity: asserted"
	grep -q "file://$GIT/" "$R/workspaces/engineering.yaml" || bail "cannot point url_template at $GIT"
	dev_secrets "$R/workspaces/engineering.yaml"
	# The shipped policy's health gates need telemetry, which these tests do
	# not produce: they run without gates; gates_on puts them back (t0810).
	cp "$R/rollouts/standard.yaml" "$T/standard-with-gates.yaml"
	sed -i '/^health_gates:/,/^$/d' "$R/rollouts/standard.yaml"
	! grep -q '^health_gates:' "$R/rollouts/standard.yaml" || bail "cannot drop the health gates"
	cd "$R" || bail "cannot cd to $R"
}

# gates_on: the shipped rollout policy with its health gates
gates_on() {
	cp "$T/standard-with-gates.yaml" "$R/rollouts/standard.yaml"
}

# tel_gen FILE VERSION GROUP DATE CALLS ERRORS [FEEDBACK]: CALLS tool calls of
# VERSION by GROUP on DATE (ERRORS of them errors, 120 ms each) and FEEDBACK
# "up" ratings, appended to FILE; ids are unique per (version, group, date)
tel_gen() {
	awk -v v="$2" -v g="$3" -v d="$4" -v n="$5" -v e="$6" -v f="${7:-0}" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"id\": \"%s-%s-%s-c%d\", \"type\": \"tool_call\", \"time\": \"%sT12:00:00Z\", \"workspace\": \"engineering\", \"plugin\": \"backend-pr-reviewer\", \"version\": \"%s\", \"group\": \"%s\", \"user\": \"u%d\", \"tool\": \"repo_search\", \"outcome\": \"%s\", \"latency_ms\": 120}\n", v, g, d, i, d, v, g, i % 7, i < e ? "error" : "ok"
		for (i = 0; i < f; i++)
			printf "{\"id\": \"%s-%s-%s-f%d\", \"type\": \"feedback\", \"time\": \"%sT12:00:00Z\", \"workspace\": \"engineering\", \"plugin\": \"backend-pr-reviewer\", \"version\": \"%s\", \"group\": \"%s\", \"user\": \"u%d\", \"rating\": \"up\"}\n", v, g, d, i, d, v, g, i
	}' >>"$1"
}

# tel_ingest FILE NOW: a clean ingest of FILE
tel_ingest() {
	S telemetry ingest "$1" --now "$2"
	expect_rc 0
}

# example_tags TAG...: the example repository in $GIT with these tags
# (scripts/make-example-repos.sh; safe to call again to add v0.1.1)
example_tags() {
	"$SRC/scripts/make-example-repos.sh" "$GIT" "$@" >/dev/null ||
		bail "scripts/make-example-repos.sh $* failed"
}

# ws_edit SED-EXPRESSION: edits the workspace (and checks that it changed)
ws_edit() {
	cp "$R/workspaces/engineering.yaml" "$T/ws.before"
	sed -i "$1" "$R/workspaces/engineering.yaml"
	! cmp -s "$T/ws.before" "$R/workspaces/engineering.yaml" || fail "ws_edit '$1' changed nothing"
}

# policy_edit KEY VALUE: sets a top-level key of rollouts/standard.yaml
policy_edit() {
	sed -i "s|^$1: .*|$1: $2|" "$R/rollouts/standard.yaml"
	grep -q "^$1: $2\$" "$R/rollouts/standard.yaml" || fail "rollouts/standard.yaml has no key $1"
}

# S ARGS...: runs sluice on $R through run() (stdout in $T/out, status in
# $rc; check it with expect_rc)
S() { run "$SLUICE" --root "$R" "$@"; }

# sq SQL: one query on the database; a sqlite3 error fails the case
sq() { sqlite3 "$DB" "$@" || fail "sqlite3 $DB failed: $*"; }
# js JQ-EXPR: from the last run's stdout
js() { jq -r "$1" "$T/out" || fail "jq '$1' on the last run's stdout failed"; }
# eff JQ-EXPR: from the published effective.json
eff() { jq -r "$1" "$EFFECTIVE" || fail "jq '$1' on $EFFECTIVE failed"; }

# The tables that hold state (everything but the audit log).
STATE_TABLES="sources tags releases stage_starts approvals rejections attestations
	user_optouts workspace_state withdrawals plugin_state publish_state secret_checks outbox"

# state_dump FILE: every state row, in a stable order. Fails (and returns 1)
# when there is no database or a table is missing, so that "the state did
# not change" never compares two empty dumps.
state_dump() {
	: >"$1"
	[ -f "$DB" ] || { fail "state_dump: no database at $DB"; return 1; }
	tl_want=$(for tl_t in $STATE_TABLES; do printf "('%s')," "$tl_t"; done)
	tl_missing=$(sqlite3 "$DB" "SELECT group_concat(column1, ', ') FROM (VALUES ${tl_want%,})
		WHERE column1 NOT IN (SELECT name FROM sqlite_master WHERE type = 'table')") ||
		{ fail "state_dump: cannot read the tables of $DB"; return 1; }
	[ -z "$tl_missing" ] || { fail "state_dump: $DB has no table $tl_missing"; return 1; }
	for t in $STATE_TABLES; do
		echo "SELECT '-- $t';"
		echo "SELECT * FROM $t ORDER BY rowid;"
	done | sqlite3 -bail "$DB" >"$1" || { fail "state_dump: sqlite3 failed on $DB"; return 1; }
}

# snapshot: remembers the state and the audit log's length before a refusal
snapshot() {
	state_dump "$T/state.before"
	audit_before=$(sq 'SELECT count(*) FROM audit')
}

# expect_state_unchanged WHAT: the state is as snapshot saw it
expect_state_unchanged() {
	check_counted
	state_dump "$T/state.after" || return 1
	cmp -s "$T/state.before" "$T/state.after" || {
		diff "$T/state.before" "$T/state.after" >&2
		fail "$1"
	}
}

# expect_refused ACTION MESSAGE: the last run exited 3 saying MESSAGE, no
# state changed, and exactly one audit row was added: ACTION (e.g.
# approve.refused or access.refused)
expect_refused() {
	expect_rc 3
	expect_err "$2"
	expect_state_unchanged "state changed by a refused command"
	expect_eq $((audit_before + 1)) "$(sq 'SELECT count(*) FROM audit')" "audit rows after refusal"
	expect_eq "$1" "$(sq 'SELECT action FROM audit ORDER BY id DESC LIMIT 1')" "refusal's audit action"
}

# expect_invalid ACTION MESSAGE: like expect_refused for a wrong name (an
# unknown plugin, version, stage): exit 2, the attempt audited as ACTION
expect_invalid() {
	expect_rc 2
	expect_err "$2"
	expect_state_unchanged "state changed by a command given a wrong name"
	expect_eq $((audit_before + 1)) "$(sq 'SELECT count(*) FROM audit')" "audit rows after refusal"
	expect_eq "$1" "$(sq 'SELECT action FROM audit ORDER BY id DESC LIMIT 1')" "refusal's audit action"
}

# expect_unchanged: like expect_refused for usage errors: no state and no
# audit row changed
expect_unchanged() {
	expect_state_unchanged "state changed"
	expect_eq "$audit_before" "$(sq 'SELECT count(*) FROM audit')" "audit rows"
}

# ---- the rollout of the example plugin -------------------------------------

D0=2026-12-01T09:00:00Z # first reconcile: v0.1.0 recorded, pending
D1=2026-12-01T10:00:00Z # checklist attested, devex-dogfood approved
D2=2026-12-01T11:00:00Z # reconcile: devex-dogfood started

# record: the first reconcile, which records v0.1.0 (pending: the checklist
# and the admin approval hold its first stage)
record() {
	S reconcile --now $D0
	expect_rc 0
	expect_out "recorded release 0.1.0"
	COMMIT=$(sq "SELECT commit_id FROM releases WHERE version = '0.1.0'")
}

# start_rollout: record (unless done), then satisfy the checklist and the approval, and
# reconcile so that stage devex-dogfood of 0.1.0 starts at $D2
start_rollout() {
	[ -n "${COMMIT:-}" ] || record
	S attest $PLUGIN@0.1.0 contract-tests --as ci-bot --now $D1
	expect_rc 0
	S attest $PLUGIN@0.1.0 security-review --as admin-ben --now $D1
	expect_rc 0
	S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
	expect_rc 0
	S reconcile --now $D2
	expect_rc 0
	expect_out "start stage devex-dogfood"
	expect_eq "in_progress 0" "$(sq "SELECT state || ' ' || stage_index FROM releases WHERE version = '0.1.0'")" "rollout started"
}

# complete_010: start_rollout, then promote 0.1.0 through its last stage on
# 2026-12-02 and 2026-12-03: it becomes the stable release
complete_010() {
	start_rollout
	S promote $PLUGIN --reason "pilot" --as admin-ana --now 2026-12-02T09:00:00Z
	expect_rc 0
	S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2026-12-03T09:00:00Z
	expect_rc 0
	S promote $PLUGIN --reason "general" --as admin-ana --now 2026-12-03T09:00:00Z
	expect_rc 0
	expect_eq complete "$(sq "SELECT state FROM releases WHERE version = '0.1.0'")" "0.1.0 complete"
}

# start_011: adds tag v0.1.1 to the plugin repository and starts its first
# stage on 2026-12-04 (after complete_010)
start_011() {
	example_tags v0.1.1
	S reconcile --now 2026-12-04T09:00:00Z
	expect_rc 0
	expect_out "recorded release 0.1.1"
	S attest $PLUGIN@0.1.1 contract-tests --as ci-bot --now 2026-12-04T09:00:00Z
	expect_rc 0
	S attest $PLUGIN@0.1.1 security-review --as admin-ben --now 2026-12-04T09:00:00Z
	expect_rc 0
	S approve $PLUGIN@0.1.1 --stage devex-dogfood --as admin-ana --now 2026-12-04T09:00:00Z
	expect_rc 0
	S reconcile --now 2026-12-04T10:00:00Z
	expect_rc 0
	expect_out "backend-pr-reviewer@0.1.1: start stage devex-dogfood"
	COMMIT11=$(sq "SELECT commit_id FROM releases WHERE version = '0.1.1'")
}

# make_ready VERSION NOW: what stage 1 of the example plugin waits for under
# the standard policy - the two attested checklist items, and an admin
# approval (admin-ana) - given at NOW
make_ready() {
	S attest "$PLUGIN@$1" contract-tests --evidence https://ci.acme.example/runs/1 --as ci-bot --now "$2"
	expect_rc 0
	S attest "$PLUGIN@$1" security-review --evidence https://sec.acme.example/r/1 --as admin-ben --now "$2"
	expect_rc 0
	S approve "$PLUGIN@$1" --stage devex-dogfood --as admin-ana --now "$2"
	expect_rc 0
}

# reconcile_at NOW: a pass that must exit 0 (its output in $T/out)
reconcile_at() {
	S reconcile --now "$1"
	expect_rc 0
}

# ---- reading what a user sees ----------------------------------------------

# rollout_of NOW: "version state stage" of the plugin's rollout in
# `status -o json` ("- stable" when it has none, with the stable version)
rollout_of() {
	S status -o json --now "$1"
	expect_rc 0
	js ".plugins[] | select(.id == \"$PLUGIN\") |
		if .rollout == null then \"- \(.stable_version)\"
		else \"\(.rollout.version) \(.rollout.state) \(.rollout.stage)\" end"
}

# started_stages VERSION: the stage names started for it, in order
started_stages() {
	sq "SELECT group_concat(stage_name, ' ') FROM (SELECT s.stage_name FROM stage_starts s
		JOIN releases r ON r.id = s.release_id WHERE r.plugin = '$PLUGIN' AND r.version = '$1'
		ORDER BY s.stage_index)"
}

# group_version GROUP: the version of the plugin published for GROUP ("-": none)
group_version() {
	eff "[.groups[\"$1\"][]? | select(.id == \"$PLUGIN\") | .version] | first // \"-\""
}

# expect_sound_db: the invariants every scenario ends with - the file is
# sound, every started stage has its audit row and no stage started twice,
# and the audit chain verifies
expect_sound_db() {
	expect_eq ok "$(sq 'PRAGMA integrity_check')" "integrity_check"
	expect_eq 0 "$(sq "SELECT count(*) FROM (SELECT release_id, stage_index FROM stage_starts
		GROUP BY 1, 2 HAVING count(*) > 1)")" "stages started twice"
	expect_eq "$(sq 'SELECT count(*) FROM stage_starts')" \
		"$(sq "SELECT count(*) FROM audit WHERE action = 'stage.started'")" \
		"stage.started audit rows against stage_starts rows"
	expect_eq 0 "$(sq "SELECT count(*) FROM stage_starts s JOIN releases r ON r.id = s.release_id
		WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.action = 'stage.started'
		AND a.plugin = r.plugin AND a.version = r.version AND a.details LIKE '%\"' || s.stage_name || '\"%')")" \
		"started stages without their audit row"
	S audit verify
	expect_rc 0
}

# dump_normalised DB: the state tables in a normalised text form (no row
# ids, no real-time lease rows), for comparing two runs
dump_normalised() {
	sqlite3 -bail "$1" <<'EOF' || fail "dump_normalised: sqlite3 failed on $1"
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

# ---- more releases and plugins ---------------------------------------------

# tag_release VERSION [REF]: a new release of the example plugin in its
# repository: every version field bumped to VERSION on top of REF (default
# main), tagged vVERSION (annotated) by devex-lead@acme.example
tag_release() {
	w=$T/tag-$1
	rm -rf "$w"
	git clone -q "$GIT/acme/codex-plugin-backend-pr-reviewer.git" "$w" || bail "cannot clone the example repository"
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
		git -C "$w" push -q origin "v$1" || bail "cannot push v$1"
}

# make_demo_plugins N DIR: N copies of the example plugin (ids demo-01 ...,
# repositories acme/demo-01 ...) tagged v0.1.0 under $GIT, and added to the
# workspace. DIR is a scratch directory. Stage 1 needs no admin approval.
make_demo_plugins() {
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
		git clone -q --bare "$w" "$GIT/acme/$id.git" || bail "cannot make $GIT/acme/$id.git"
		sed -i "s|^plugins:|plugins:\n  - {repository: acme/$id, versions: \">=0.1.0 <1.0.0\"}|" \
			"$R/workspaces/engineering.yaml"
		i=$((i + 1))
	done
}

# ---- randomness and time for the stress tests ------------------------------

# rand_ms MAX KEY: a random whole number in [0, MAX), from $SEED and KEY
# (the round), so that a failing run repeats with SLUICE_STRESS_SEED=...
rand_ms() {
	awk -v s="$SEED" -v n="$2" -v m="$1" 'BEGIN { srand(s * 1000 + n); printf "%d", rand() * m }'
}
SEED=${SLUICE_STRESS_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}

# now_ms: real time in milliseconds
now_ms() { date +%s%3N; }

# start_receiver LOG [PLAN...]: the loopback webhook receiver
# (tests/cli/webhook-receiver.py) on a free port, $PORT, pid $RECV (the
# caller's EXIT trap kills it); it logs every request to LOG and answers
# its first requests by PLAN (ok, 500, stall, close), then 200
start_receiver() {
	_sr_log=$1
	shift
	rm -f "$T/port"
	python3 "$SRC/tests/cli/webhook-receiver.py" "$T/port" "$_sr_log" "$@" &
	RECV=$!
	_sr_n=0
	while [ ! -s "$T/port" ]; do
		_sr_n=$((_sr_n + 1))
		[ $_sr_n -lt 100 ] || bail "the webhook receiver did not start"
		sleep 0.1
	done
	PORT=$(cat "$T/port")
}
