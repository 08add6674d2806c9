#!/bin/sh
# accept-tag-move trusts a new commit only as far as a new tag would be
# trusted (docs/sources.md): it re-reads the commit the tag moved to,
# re-validates it and, under require_signed_tags, re-verifies its
# signature. A commit that fails leaves the release frozen at its first
# commit (exit 3, the reasons shown, the refusal audited, nothing else
# changed); accepting one that passes voids the release's approvals and
# its attestations, which were made for the old commit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

# move_tag SED: moves tag v0.1.0 of the example repository to a new commit
# on top of it whose plugin.yaml is edited by SED
move_tag() {
	w=$T/move
	rm -rf "$w"
	git clone -q "$GIT/acme/codex-plugin-backend-pr-reviewer.git" "$w" || bail "cannot clone"
	git -C "$w" checkout -q "$COMMIT" 2>/dev/null || bail "cannot check out $COMMIT"
	sed -i "$1" "$w/plugin.yaml"
	echo "- moved" >>"$w/guidance/escalation.md"
	git -C "$w" add -A
	GIT_AUTHOR_EMAIL=devex-lead@acme.example GIT_COMMITTER_EMAIL=devex-lead@acme.example \
		git -C "$w" commit -qm "moved" || bail "cannot commit"
	GIT_COMMITTER_EMAIL=devex-lead@acme.example git -C "$w" tag -f -a -m moved v0.1.0 >/dev/null
	git -C "$w" push -q -f origin v0.1.0 || bail "cannot push the moved tag"
	git -C "$w" rev-parse HEAD
}
trusted() { sq "SELECT commit_id FROM tags WHERE tag = 'v0.1.0'"; }

case_begin 'a moved tag whose new commit fails validation stays frozen'
record
make_ready 0.1.0 $D1
BAD=$(move_tag '0,/^    write: false/s//    write: true/')
reconcile_at $D2
expect_out "tag v0.1.0 moved"
expect_eq frozen "$(sq "SELECT state FROM releases WHERE version = '0.1.0'")" "frozen"
snapshot
S accept-tag-move $PLUGIN@0.1.0 --as admin-ana --now $D2
expect_refused tag.move_refused "cannot accept the move of tag v0.1.0 of '$PLUGIN' to $BAD"
expect_err "permissions.repository.write"
expect_err "the release stays frozen at $COMMIT"
expect_eq "$COMMIT" "$(trusted)" "trusted commit"
expect_ok "the reasons are in the audit row" test -n "$(sq "SELECT 1 FROM audit WHERE action = 'tag.move_refused' AND details LIKE '%permissions.repository.write%'")"
case_end

case_begin 'under require_signed_tags, an unsigned new commit stays frozen'
GOOD=$(move_tag 's/^description: >-$/description: >-\n  Moved./')
reconcile_at 2026-12-01T12:00:00Z
expect_eq "$GOOD" "$(sq "SELECT moved_to_commit FROM tags WHERE tag = 'v0.1.0'")" "the newest target"
printf '# no signer yet\n' >"$R/allowed_signers"
ws_edit 's|require_signed_tags: false|require_signed_tags: true\n  allowed_signers: allowed_signers|'
snapshot
S accept-tag-move $PLUGIN@0.1.0 --as admin-ana --now 2026-12-01T12:10:00Z
expect_refused tag.move_refused "tag v0.1.0 is not signed by an allowed signer"
expect_eq "$COMMIT" "$(trusted)" "trusted commit"
ws_edit 's|require_signed_tags: true|require_signed_tags: false|'
case_end

case_begin 'a new commit that passes is trusted; approvals and attestations are void'
S accept-tag-move $PLUGIN@0.1.0 --as admin-ana --now 2026-12-01T12:20:00Z
expect_rc 0
expect_out "accepted: $PLUGIN v0.1.0 now trusts commit $GOOD (was $COMMIT); the release's approvals and attestations are void"
expect_eq "$GOOD" "$(trusted)" "trusted commit"
expect_eq "$GOOD pending" "$(sq "SELECT commit_id, state FROM releases WHERE version = '0.1.0'" | tr '|' ' ')" "release"
expect_eq 0 "$(sq "SELECT count(*) FROM approvals WHERE voided_at IS NULL")" "live approvals"
expect_eq 0 "$(sq "SELECT count(*) FROM attestations WHERE commit_id = '$GOOD'")" "attestations for the new commit"
expect_eq '{"approvals_voided":1,"attestations_voided":2}' \
	"$(sq "SELECT json_object('approvals_voided', json_extract(details, '\$.approvals_voided'), 'attestations_voided', json_extract(details, '\$.attestations_voided')) FROM audit WHERE action = 'tag.move_accepted'")" "audited"
reconcile_at 2026-12-01T12:30:00Z
expect_no_out "start stage"
S status -o json --now 2026-12-01T12:30:00Z
expect_rc 0
expect_eq "checklist,approval" "$(js ".plugins[0].rollout | [.blocked_by[].kind] | join(\",\")")" "what holds it"
make_ready 0.1.0 2026-12-01T13:00:00Z
reconcile_at 2026-12-01T13:10:00Z
expect_out "$PLUGIN@0.1.0: start stage devex-dogfood (1)"
expect_eq "$GOOD" "$(eff '.groups["platform-devex"][0].commit')" "published commit"
expect_sound_db
case_end

done_testing
