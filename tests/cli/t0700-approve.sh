#!/bin/sh
# sluice approve: an approval binds to workspace, plugin, version, the
# recorded commit and the stage; every refusal exits 3, says what is
# missing, changes nothing and is audited.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'approve -h prints the usage and the options'
S approve -h
expect_rc 0
expect_out "usage: sluice approve PLUGIN@VERSION --stage NAME [--comment TEXT] [--commit SHA]"
expect_out "--comment TEXT"
case_end

case_begin 'a recorded release waits for an approval'
record
S status --now $D1
expect_rc 0
expect_out "needs 1 approval (approvers: admin-ana, admin-ben)"
case_end

case_begin 'usage errors: nothing written, not even an audit row'
snapshot
S approve $PLUGIN@0.1.0 --as admin-ana --now $D1
expect_rc 129
expect_err "approve needs the stage: give --stage NAME"
S approve $PLUGIN --stage devex-dogfood --as admin-ana --now $D1
expect_rc 129
expect_err "'backend-pr-reviewer' is not PLUGIN@VERSION"
S approve $PLUGIN@soon --stage devex-dogfood --as admin-ana --now $D1
expect_rc 129
expect_unchanged
case_end

case_begin 'the wrong role, or nobody named under identity: asserted'
snapshot
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as devex-lead --now $D1
expect_refused access.refused "error: 'devex-lead' lacks the 'approver' role that 'approve' needs (held by: admin-ana, admin-ben)"
snapshot
S approve $PLUGIN@0.1.0 --stage devex-dogfood --now $D1
expect_rc 129
expect_err "say who is acting with --as ID or \$SLUICE_ACTOR"
expect_unchanged
snapshot
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as mallory --now $D1
expect_refused access.refused "'mallory' is not an admin of workspace 'engineering'"
case_end

case_begin 'unknown plugin, version, stage; another commit than the recorded one'
snapshot
S approve nope@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
expect_invalid approve.refused "error: no plugin 'nope' is watched by workspace 'engineering'"
snapshot
S approve $PLUGIN@0.9.9 --stage devex-dogfood --as admin-ana --now $D1
expect_invalid approve.refused "error: cannot approve backend-pr-reviewer@0.9.9: no such release has been recorded"
expect_eq "0.9.9" "$(sq "SELECT version FROM audit ORDER BY id DESC LIMIT 1")" "refusal names the version"
snapshot
S approve $PLUGIN@0.1.0 --stage backend-everyone --as admin-ana --now $D1
expect_invalid approve.refused "error: cannot approve backend-pr-reviewer@0.1.0: it has no stage 'backend-everyone' (its stages: devex-dogfood, backend-pilot, backend-general)"
snapshot
S approve $PLUGIN@0.1.0 --stage devex-dogfood --commit deadbeefdead --as admin-ana --now $D1
expect_refused approve.refused "error: cannot approve backend-pr-reviewer@0.1.0: its recorded commit is $COMMIT, not deadbeefdead"
expect_eq "admin-ana approve.refused backend-pr-reviewer 0.1.0" \
	"$(sq "SELECT actor || ' ' || action || ' ' || plugin || ' ' || version FROM audit ORDER BY id DESC LIMIT 1")" "refusal row"
case_end

case_begin "self-approval: the tagger (in any case) or a lightweight tag's author may not approve"
cp workspaces/engineering.yaml "$T/ws.orig"
ws_edit 's/{id: devex-lead, roles: \[operator\], emails: \[devex-lead@acme.example\]}/{id: devex-lead, roles: [approver, operator], emails: [DevEx-Lead@ACME.example]}/'
expect_ok "workspace edit" grep -q 'DevEx-Lead@ACME.example' workspaces/engineering.yaml
snapshot
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as devex-lead --now $D1
expect_refused approve.refused "error: cannot approve backend-pr-reviewer@0.1.0: devex-lead tagged this release (devex-lead@acme.example) and policy.prevent_self_approval is set; another approver must approve it (admin-ana, admin-ben)"
# without prevent_self_approval it is allowed (and counts)
ws_edit 's/prevent_self_approval: true/prevent_self_approval: false/'
S approve $PLUGIN@0.1.0 --stage backend-pilot --as devex-lead --now $D1
expect_rc 0
cp "$T/ws.orig" workspaces/engineering.yaml
# a lightweight tag is attributed to its commit's author and committer
# ("author, committer" when they differ): either may not approve
sq "UPDATE releases SET tagger_email = 'dev@acme.example, Ben@ACME.example' WHERE version = '0.1.0'"
snapshot
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ben --now $D1
expect_refused approve.refused "error: cannot approve backend-pr-reviewer@0.1.0: admin-ben tagged this release (Ben@ACME.example)"
sq "UPDATE releases SET tagger_email = 'devex-lead@acme.example' WHERE version = '0.1.0'"
case_end

case_begin 'success, bound to the recorded commit (--commit takes a prefix)'
S approve $PLUGIN@v0.1.0 --stage devex-dogfood --comment "reviewed the diff" --commit "$(echo "$COMMIT" | cut -c1-12)" --as admin-ana --now $D1
expect_rc 0
expect_out "approved backend-pr-reviewer@0.1.0 (commit $(echo "$COMMIT" | cut -c1-12)) for stage devex-dogfood by admin-ana: 1 of 1 approval"
expect_eq "engineering|backend-pr-reviewer|0.1.0|$COMMIT|devex-dogfood|admin-ana|reviewed the diff" \
	"$(sq "SELECT workspace || '|' || plugin || '|' || version || '|' || commit_id || '|' || stage || '|' || approver || '|' || comment FROM approvals WHERE approver = 'admin-ana'")" "approval row"
expect_eq "admin-ana approval.given devex-dogfood" \
	"$(sq "SELECT actor || ' ' || action || ' ' || json_extract(details, '$.stage') FROM audit ORDER BY id DESC LIMIT 1")" "audit row"
S status --now $D1
expect_rc 0
expect_no_out "needs 1 approval"
expect_out "checklist items not done: contract-tests, security-review"
case_end

case_begin 'the same admin again: refused, the first approval stays'
snapshot
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
expect_refused approve.refused "error: admin-ana already approved backend-pr-reviewer@0.1.0 for stage 'devex-dogfood' on 2026-12-01T10:00:00Z; a second approval by the same admin does not count (other approvers: admin-ben)"
case_end

case_begin '-o json, another approver, another stage'
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben -o json --now $D1
expect_rc 0
expect_eq "backend-pr-reviewer 0.1.0 $COMMIT backend-general 2 admin-ben 1 1 2026-12-01T10:00:00Z" \
	"$(jq -r '"\(.plugin) \(.version) \(.commit) \(.stage) \(.stage_index) \(.approver) \(.approvals) \(.needed) \(.at)"' "$T/out")" json
case_end

case_begin 'a stage that already started needs no approval'
S attest $PLUGIN@0.1.0 contract-tests --as ci-bot --now $D1
expect_rc 0
S attest $PLUGIN@0.1.0 security-review --as admin-ben --now $D1
expect_rc 0
S reconcile --now $D2
expect_rc 0
expect_out "start stage devex-dogfood"
snapshot
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ben --now $D2
expect_refused approve.refused "cannot approve backend-pr-reviewer@0.1.0 for stage 'devex-dogfood': that stage already started"
case_end

case_begin 'a moved tag: approvals bind to the recorded commit, so none is taken'
REPO=$T/git/acme/codex-plugin-backend-pr-reviewer.git
moved=$(git -C "$REPO" commit-tree -p "v0.1.0^{commit}" -m moved "v0.1.0^{tree}")
git -C "$REPO" tag -f -a -m moved v0.1.0 "$moved" >/dev/null
S reconcile --now 2026-12-02T09:00:00Z
expect_rc 0
snapshot
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ana --now 2026-12-02T09:00:00Z
expect_refused approve.refused "cannot approve backend-pr-reviewer@0.1.0: its tag v0.1.0 moved away from the recorded commit $COMMIT; an operator must run 'sluice accept-tag-move backend-pr-reviewer@0.1.0'"
case_end

case_begin 'a rejected release takes no approvals'
S reject $PLUGIN@0.1.0 --as admin-ben --now 2026-12-02T10:00:00Z
expect_rc 0
snapshot
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ana --now 2026-12-02T10:00:00Z
expect_refused approve.refused "cannot approve backend-pr-reviewer@0.1.0: the release is rejected and will not roll out again"
case_end

done_testing

