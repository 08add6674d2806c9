#!/bin/sh
# sluice reconcile, status, plan and the directory publisher on real
# repositories made here: the first stage starts when nothing holds it, the
# effective state is published, a second pass changes nothing, a release
# that fails validation is refused, an unreachable remote does not block
# another plugin, and a moved tag freezes its release.
. "$(dirname "$0")/lib.sh"
R=$T/root
GIT=$T/git
mkdir -p "$R"
cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$R/"
# asserted identity; repositories under $GIT; no rollout policy (the
# built-in default: no checklist) so that nothing but the deploy file's
# own settings holds the first stage
sed -e "s|file:///srv/git|file://$GIT|" -e 's|identity: os-user|identity: asserted|' \
	-e '/rollout_policy: standard/d' "$SRC/workspaces/engineering.yaml" >"$R/workspaces/engineering.yaml"
dev_secrets "$R/workspaces/engineering.yaml"
REPO=$GIT/acme/codex-plugin-backend-pr-reviewer.git
W=$T/work
git init -q "$W"
cp -R "$SRC/examples/plugins/backend-pr-reviewer/." "$W/"
# no admin approval for the first stage
sed -i 's/require_admin_approval: true/require_admin_approval: false/' "$W/deploy/workspace-config.yaml"
git -C "$W" add -A && git -C "$W" commit -qm "0.1.0" && git -C "$W" tag -a -m "0.1.0" v0.1.0
mkdir -p "$GIT/acme" && git clone -q --bare "$W" "$REPO"
D1=2026-12-01T09:00:00Z
sl() { "$SLUICE" --root "$R" "$@"; }
audit_rows() { sqlite3 "$R/.sluice/sluice.db" "SELECT count(*) FROM audit" || fail "cannot count audit rows"; }
db() { sqlite3 "$R/.sluice/sluice.db" "$1" || fail "sqlite3 failed: $1"; }

case_begin 'status before any pass: the workspace with nothing recorded, exit 0'
run sl status --now $D1
expect_rc 0
expect_out "nothing recorded yet: 'sluice reconcile' fetches the plugins"
expect_not "status created no database" test -e "$R/.sluice/sluice.db"
case_end

case_begin 'the first pass records the release and starts its first stage'
run sl reconcile --now $D1
expect_rc 0
expect_out "backend-pr-reviewer: recorded release 0.1.0 (v0.1.0, commit"
expect_out "backend-pr-reviewer@0.1.0: start stage devex-dogfood (1)"
run sl status -o json --now $D1
expect_rc 0
expect_eq engineering "$(jq -r .workspace "$T/out")" workspace
expect_eq false "$(jq -r .frozen "$T/out")" frozen
expect_eq backend-pr-reviewer "$(jq -r '.plugins[0].id' "$T/out")" id
expect_eq null "$(jq -r '.plugins[0].stable_version' "$T/out")" stable_version
expect_eq "0.1.0 in_progress devex-dogfood 0 2026-12-01T09:00:00Z" \
	"$(jq -r '.plugins[0].rollout | "\(.version) \(.state) \(.stage) \(.stage_index) \(.stage_started_at)"' "$T/out")" rollout
expect_eq "$(git -C "$W" rev-parse HEAD)" "$(jq -r '.plugins[0].rollout.commit' "$T/out")" commit
expect_eq "soak soak ends 2026-12-08 2026-12-08T09:00:00Z" \
	"$(jq -r '.plugins[0].rollout.blocked_by[0] | "\(.kind) \(.message) \(.opens_at)"' "$T/out")" blocked_by
run sl status --now $D1
expect_rc 0
expect_out "identity: asserted"
expect_out "rollout 0.1.0 (commit "
expect_out "in_progress, stage devex-dogfood (1 of 3) since 2026-12-01"
expect_out "waits: backend-pilot: soak ends 2026-12-08"
case_end

case_begin 'published: platform-devex has it, with the override and a secret reference'
# published: platform-devex has it, with the workspace's override and a
# secret reference (never a value)
P=$R/.sluice/published
E=$P/effective.json
expect_eq "engineering 2026-12-01T09:00:00Z" "$(jq -r '"\(.workspace) \(.generated_at)"' "$E")" effective
expect_eq "backend-pr-reviewer 0.1.0" "$(jq -r '.groups["platform-devex"][0] | "\(.id) \(.version)"' "$E")" devex entry
expect_eq 0 "$(jq '.groups["backend-engineers"] | length' "$E")" "backend-engineers (not reached)"
expect_eq https://reviewer.staging.acme.example \
	"$(jq -r '.groups["platform-devex"][0].environment.CODEX_PLUGIN_SERVICE_URL' "$E")" override
expect_eq info "$(jq -r '.groups["platform-devex"][0].environment.LOG_LEVEL' "$E")" deploy env
expect_eq "enterprise-secrets codex/backend-pr-reviewer/service-token null" \
	"$(jq -r '.groups["platform-devex"][0].secrets.CODEX_PLUGIN_TOKEN | "\(.provider) \(.name) \(.version)"' "$E")" secret ref
expect_eq "true ai-tooling-audit" \
	"$(jq -r '.groups["platform-devex"][0].controls | "\(.allow_user_disable) \(.audit_dashboard)"' "$E")" controls
expect_eq releases/backend-pr-reviewer/0.1.0/tools/get_pull_request_diff.json \
	"$(jq -r '.groups["platform-devex"][0].tools[0]' "$E")" tools
for f in $(jq -r '.groups["platform-devex"][0] | .tools[], .guidance[]' "$E"); do
	expect_same "$W/${f#releases/backend-pr-reviewer/0.1.0/}" "$P/$f" "published $f differs from the tag"
done
expect_same "$W/plugin.yaml" "$P/releases/backend-pr-reviewer/0.1.0/plugin.yaml" "manifest not published"
case_end

case_begin 'plan: nothing now; by 2026-12-09 the second stage has started'
# plan: nothing now; by 2026-12-09 the second stage has started
run sl plan --now $D1
expect_rc 0
expect_out "nothing to do now"
expect_out "  backend-pilot: soak ends 2026-12-08"
run sl plan --now $D1 --at 2026-12-09
expect_rc 0
expect_out "2026-12-08 backend-pr-reviewer@0.1.0: start stage backend-pilot (2)"
expect_out "backend-general: needs 1 approval (approvers: admin-ana, admin-ben)"
expect_no_out "start stage backend-general"
case_end

case_begin 'a second pass at the same moment changes nothing and writes no audit row'
# a second pass at the same moment changes nothing and writes no audit row
before=$(audit_rows)
cp "$E" "$T/effective.before"
run sl reconcile --now $D1
expect_rc 0
expect_eq "" "$(cat "$T/out")" "second pass output"
expect_eq "$before" "$(audit_rows)" "audit rows after a no-op pass"
expect_same "$T/effective.before" "$E" "a no-op pass rewrote effective.json"
case_end

case_begin "a week later the pilot stage starts; a killed pass's temporary file is swept"
# a week later the pilot stage starts and reaches the pilot group; the
# temporary file of a pass killed before its rename is swept away
echo partial >"$P/effective.json.tmp.99999"
run sl reconcile --now 2026-12-08T10:00:00Z
expect_rc 0
expect_out "backend-pr-reviewer@0.1.0: start stage backend-pilot (2)"
expect_ok "a killed pass's temporary file was left in $P" [ ! -e "$P/effective.json.tmp.99999" ]
expect_eq "backend-pr-reviewer 0.1.0" "$(jq -r '.groups["backend-engineers-pilot"][0] | "\(.id) \(.version)"' "$E")" pilot entry
expect_eq 1 "$(db "SELECT count(*) FROM audit WHERE action = 'stage.started' AND details LIKE '%backend-pilot%'")" "stage.started rows"
case_end

case_begin 'a release that fails validation at its tag is refused, never started'
# a release that fails validation at its tag is refused with its reasons,
# never started, and the pass still exits 0
sed -i -e 's/^version: 0.1.0$/version: 0.1.1/' "$W/plugin.yaml"
git -C "$W" commit -qam "0.1.1, deploy file not bumped" && git -C "$W" tag -a -m "0.1.1" v0.1.1
git -C "$W" push -q "$REPO" v0.1.1
run sl reconcile --now 2026-12-09T10:00:00Z
expect_rc 0
expect_out "backend-pr-reviewer: refused release 0.1.1:"
run sl status -o json --now 2026-12-09T10:00:00Z
expect_rc 0
# a refused release is never the rollout: it is listed under refused
expect_eq "0.1.0 in_progress" "$(jq -r '.plugins[0].rollout | "\(.version) \(.state)"' "$T/out")" "the rollout is the release in flight"
expect_eq "0.1.1 v0.1.1" "$(jq -r '.plugins[0].refused[0] | "\(.version) \(.tag)"' "$T/out")" "refused release"
jq -r '.plugins[0].refused[0].reason' "$T/out" | expect_ok "refusal reason does not name the version" grep -q "0.1.1"
run sl status --now 2026-12-09T10:00:00Z
expect_rc 0
expect_out "refused 0.1.1:"
expect_eq 1 "$(db "SELECT count(*) FROM releases WHERE version = '0.1.1' AND refused_reason IS NOT NULL")" "refused row"
expect_eq 0 "$(db "SELECT count(*) FROM stage_starts s JOIN releases r ON r.id = s.release_id WHERE r.version = '0.1.1'")" "stages of the refused release"
case_end

case_begin 'an unreachable remote is audited and stale; a moved tag freezes its release'
# an unreachable remote: audited, shown as stale, and the other plugin's
# pass goes on (the tag move below is still seen)
sed -i "s|^plugins:|plugins:\n  - {repository: acme/gone, url: \"file://$GIT/acme/gone.git\", versions: \">=0.1.0\"}|" "$R/workspaces/engineering.yaml"
run sl validate
expect_rc 0

# and a moved tag freezes its release
git -C "$W" tag -f -a -m "0.1.0 again" v0.1.0 HEAD >/dev/null
git -C "$W" push -q -f "$REPO" v0.1.0
run sl reconcile --now 2026-12-10T10:00:00Z
expect_rc 0
expect_out "acme/gone: source unreachable"
expect_out "backend-pr-reviewer: tag v0.1.0 moved from"
expect_out "backend-pr-reviewer@0.1.0: freeze"
expect_eq 1 "$(db "SELECT count(*) FROM audit WHERE action = 'source.unreachable'")" "source.unreachable rows"
expect_eq 1 "$(db "SELECT count(*) FROM audit WHERE action = 'tag.moved'")" "tag.moved rows"
run sl status -o json --now 2026-12-12T10:00:00Z
expect_rc 0
expect_eq frozen "$(db "SELECT state FROM releases WHERE version = '0.1.0'")" "frozen state"
expect_eq "v0.1.0" "$(jq -r '.plugins[] | select(.id == "backend-pr-reviewer") | .moved_tags[0].tag' "$T/out")" "moved tag"
expect_eq "true" "$(jq -r '.plugins[] | select(.repository == "acme/gone") | .source.stale' "$T/out")" stale
run sl status --now 2026-12-12T10:00:00Z
expect_rc 0
expect_out "source acme/gone has never been reached"
expect_out "tag v0.1.0 moved from"
# groups keep the recorded commit of the frozen release
expect_eq "$(db "SELECT commit_id FROM releases WHERE version = '0.1.0'")" \
	"$(jq -r '.groups["platform-devex"][0].commit' "$E")" "published commit of the frozen release"
case_end

case_begin 'the audit chain still verifies'
run sl audit verify
expect_rc 0
case_end
done_testing
