#!/bin/sh
# Scenario: an approval binds to workspace, plugin, version, commit and
# stage (docs/concepts.md). An approval for a version never recorded, or at a
# commit other than the recorded one, is refused (exit 3, audited); one for
# another stage does not open this one; one for 0.1.0 is not reused for
# 0.1.1; and when 0.1.1's tag moves, its release freezes, accept-tag-move
# voids its approvals, and it needs a new approval at the new commit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
C010=$(git --git-dir="$GIT/acme/codex-plugin-backend-pr-reviewer.git" rev-parse 'v0.1.0^{commit}')
N=2027-02-01T09:00:00Z

case_begin 'the release is recorded and its checklist attested'
reconcile_at $N
S attest $PLUGIN@0.1.0 contract-tests --evidence https://ci/1 --as ci-bot --now $N
expect_rc 0
S attest $PLUGIN@0.1.0 security-review --evidence https://sec/1 --as admin-ben --now $N
expect_rc 0
case_end

case_begin 'wrong version: invalid (exit 2), audited'
S approve $PLUGIN@0.2.0 --stage devex-dogfood --as admin-ana --now $N
expect_rc 2
expect_err "cannot approve $PLUGIN@0.2.0: no such release has been recorded"
# wrong commit: refused, audited
S approve $PLUGIN@0.1.0 --stage devex-dogfood --commit 0123456789abcdef0123456789abcdef01234567 --as admin-ana --now $N
expect_rc 3
expect_err "its recorded commit is $C010, not 0123456789abcdef0123456789abcdef01234567"
# a stage the release does not have: a wrong name too (exit 2), audited
S approve $PLUGIN@0.1.0 --stage backend-generl --as admin-ana --now $N
expect_rc 2
expect_err "no stage 'backend-generl'"
expect_eq "admin-ana admin-ana admin-ana" "$(sq "SELECT group_concat(actor, ' ') FROM audit WHERE action = 'approve.refused'")" "approve.refused rows"
expect_eq 0 "$(sq 'SELECT count(*) FROM approvals')" "approvals recorded"
case_end

case_begin 'the right version and commit, another stage: recorded, opens nothing here'
S approve $PLUGIN@0.1.0 --stage backend-general --commit $C010 --as admin-ben --now $N
expect_rc 0
reconcile_at 2027-02-01T10:00:00Z
expect_no_out "start stage"
S status -o json --now 2027-02-01T10:00:00Z
expect_rc 0
expect_eq "approval" "$(js '[.plugins[0].rollout.blocked_by[].kind] | join(",")')" "stage 1 still needs its approval"
S plan --now 2027-02-01T10:00:00Z
expect_rc 0
expect_out "devex-dogfood: needs 1 approval (approvers: admin-ana, admin-ben)"
case_end

case_begin "an approval for 0.1.0's stage 1 does not carry over to 0.1.1"
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now 2027-02-01T10:30:00Z
expect_rc 0
example_tags v0.1.0 v0.1.1
reconcile_at 2027-02-01T11:00:00Z
expect_out "$PLUGIN: recorded release 0.1.1"
expect_out "$PLUGIN@0.1.0: skip"
expect_no_out "start stage"
S attest $PLUGIN@0.1.1 contract-tests --evidence https://ci/2 --as ci-bot --now 2027-02-01T11:00:00Z
expect_rc 0
S attest $PLUGIN@0.1.1 security-review --evidence https://sec/2 --as admin-ben --now 2027-02-01T11:00:00Z
expect_rc 0
reconcile_at 2027-02-01T12:00:00Z
expect_no_out "start stage"
expect_eq "0.1.1 pending approval" \
	"$(rollout_of 2027-02-01T12:00:00Z >/dev/null; js '.plugins[0].rollout | "\(.version) \(.state) \([.blocked_by[].kind] | join(","))"')" \
	"0.1.1 needs its own approval"
case_end

case_begin '0.1.1 approved, then its tag moves before the stage starts: the release freezes'
# (a pass between would start it: the move comes first)
C011=$(git --git-dir="$GIT/acme/codex-plugin-backend-pr-reviewer.git" rev-parse 'v0.1.1^{commit}')
S approve $PLUGIN@0.1.1 --stage devex-dogfood --commit $C011 --as admin-ana --now 2027-02-01T12:10:00Z
expect_rc 0
W=$T/move
git clone -q "$GIT/acme/codex-plugin-backend-pr-reviewer.git" "$W"
git -C "$W" checkout -q v0.1.1
echo "- moved" >>"$W/guidance/role.md"
git -C "$W" commit -qam "0.1.1, again"
git -C "$W" tag -f -a -m "0.1.1 again" v0.1.1 >/dev/null
git -C "$W" push -q -f origin v0.1.1
MOVED=$(git -C "$W" rev-parse HEAD)
reconcile_at 2027-02-01T12:20:00Z
expect_out "$PLUGIN: tag v0.1.1 moved from ${C011%"${C011#????????????}"} to ${MOVED%"${MOVED#????????????}"}"
expect_no_out "start stage"
S status -o json --now 2027-02-01T12:20:00Z
expect_rc 0
expect_eq "0.1.1 frozen $C011" "$(js '.plugins[0].rollout | "\(.version) \(.state) \(.commit)"')" "frozen release"
expect_eq "v0.1.1 $MOVED" "$(js '.plugins[0].moved_tags[0] | "\(.tag) \(.moved_to)"')" "moved tag"
expect_eq tag_moved "$(js '[.plugins[0].rollout.blocked_by[].kind] | join(",")')" "blocked by"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'tag.moved'")" "tag.moved rows"
# an approval at the new commit is refused while the move is not accepted
S approve $PLUGIN@0.1.1 --stage devex-dogfood --commit $MOVED --as admin-ben --now 2027-02-01T12:30:00Z
expect_rc 3
case_end

case_begin 'accept-tag-move voids the approvals and attestations: new ones at the new commit open the stage'
S accept-tag-move $PLUGIN@0.1.1 --as admin-ana --now 2027-02-02T09:00:00Z
expect_rc 0
expect_eq "$C011|1|moved" "$(sq "SELECT commit_id, voided_at IS NOT NULL, CASE WHEN void_reason LIKE '%mov%' THEN 'moved' ELSE void_reason END FROM approvals WHERE version = '0.1.1'")" "voided approval"
reconcile_at 2027-02-02T09:10:00Z
expect_no_out "start stage"
S status -o json --now 2027-02-02T09:10:00Z
expect_rc 0
expect_eq "0.1.1 $MOVED checklist,approval" "$(js '.plugins[0].rollout | "\(.version) \(.commit) \([.blocked_by[].kind] | join(","))"')" "after the move is accepted"
S attest $PLUGIN@0.1.1 contract-tests --as ci-bot --now 2027-02-02T09:15:00Z
expect_rc 0
S attest $PLUGIN@0.1.1 security-review --as admin-ben --now 2027-02-02T09:15:00Z
expect_rc 0
S approve $PLUGIN@0.1.1 --stage devex-dogfood --commit $C011 --as admin-ben --now 2027-02-02T09:20:00Z
expect_rc 3
expect_err "its recorded commit is $MOVED"
S approve $PLUGIN@0.1.1 --stage devex-dogfood --commit $MOVED --as admin-ben --now 2027-02-02T09:30:00Z
expect_rc 0
reconcile_at 2027-02-02T10:00:00Z
expect_out "$PLUGIN@0.1.1: start stage devex-dogfood (1)"
expect_out "approved by admin-ben"
expect_eq "$MOVED" "$(eff '.groups["platform-devex"][0].commit')" "published commit"
expect_eq "" "$(started_stages 0.1.0)" "0.1.0's stages"
expect_sound_db
case_end

done_testing

