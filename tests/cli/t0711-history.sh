#!/bin/sh
# sluice history: the audit trail as a timeline, per plugin or all, text
# or JSON; read-only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'history -h; before any reconcile'
S history -h
expect_rc 0
expect_out "usage: sluice history [PLUGIN] [--since RFC3339] [--limit N]"
S history
expect_rc 1
expect_err "run 'sluice reconcile'"
case_end

case_begin 'history of a plugin: its events, oldest first'
start_rollout
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as devex-lead --now $D2
expect_rc 3
S freeze --reason "year end" --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 0

S history $PLUGIN
expect_rc 0
expect_out "2026-12-01T10:00:00Z  ci-bot       checklist.attested     backend-pr-reviewer@0.1.0  item=contract-tests"
expect_out "2026-12-01T10:00:00Z  admin-ana    approval.given         backend-pr-reviewer@0.1.0  commit=$COMMIT"
expect_out "stage=devex-dogfood"
expect_out "2026-12-01T11:00:00Z  controller   stage.started          backend-pr-reviewer@0.1.0"
expect_out "2026-12-01T11:00:00Z  devex-lead   access.refused         backend-pr-reviewer@0.1.0"
expect_out "reason=\"'devex-lead' lacks the 'approver' role that 'approve' needs"
expect_no_out "workspace.frozen"
# oldest first
first=$(head -1 "$T/out" | cut -c1-20)
last=$(tail -1 "$T/out" | cut -c1-20)
[ "$first" \< "$last" ] || [ "$first" = "$last" ] || fail "history is not oldest first: $first .. $last"
case_end

case_begin 'all plugins, and --limit'
S history
expect_rc 0
expect_out "2026-12-02T09:00:00Z  admin-ana    workspace.frozen       -  reason=\"year end\", workspace=engineering"
S history --limit 2
expect_rc 0
expect_eq 2 "$(wc -l <"$T/out")" "limit"
expect_eq "workspace.frozen" "$(tail -1 "$T/out" | awk '{print $3}')" "newest last"
case_end

case_begin '-o json --since'
S history $PLUGIN -o json --since 2026-12-01T11:00:00Z
expect_rc 0
expect_eq "backend-pr-reviewer" "$(jq -r .plugin "$T/out")" plugin
expect_eq "stage.started controller devex-dogfood" \
	"$(jq -r '.events[] | select(.action == "stage.started") | "\(.action) \(.actor) \(.details.stage)"' "$T/out")" "json event"
expect_eq 0 "$(jq '[.events[] | select(.at < "2026-12-01T11:00:00Z")] | length' "$T/out")" since
expect_eq "$(sq "SELECT count(*) FROM audit WHERE plugin = 'backend-pr-reviewer' AND at >= strftime('%s', '2026-12-01T11:00:00Z')")" \
	"$(jq '.events | length' "$T/out")" "json count"
case_end

case_begin 'an unknown plugin exits 2; a bad --limit or --since exits 129'
S history nope
expect_rc 2
expect_err "no plugin 'nope' has events, recorded tags or a watched repository"
S history --limit 0
expect_rc 129
S history --since yesterday
expect_rc 129
case_end

case_begin 'read-only: it works even when the workspace does not validate'
echo "bogus: [" >>workspaces/engineering.yaml
S history --limit 1
expect_rc 0
case_end

done_testing

