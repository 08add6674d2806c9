#!/bin/sh
# Lifecycle comes from the release users have (docs/concepts.md,
# Lifecycle): a newer tag whose lifecycle says the plugin is sunset or
# deprecated withdraws nothing while it is pending, refused or rolling out;
# once it is the stable release its sunset withdraws the plugin once, and
# an operator's restore after that stands.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

# tag_lifecycle VERSION SED...: a release of the example plugin like
# tag_release, with `deprecated` and `sunset` dates in the past and the
# extra sed expressions applied to plugin.yaml
tag_lifecycle() {
	v=$1
	shift
	w=$T/tag-$v
	rm -rf "$w"
	git clone -q "$GIT/acme/codex-plugin-backend-pr-reviewer.git" "$w" || bail "cannot clone"
	sed -i "s/^version: .*/version: $v/" "$w/plugin.yaml"
	printf '  deprecated: "2026-11-01"\n  sunset: "2026-12-02"\n' >>"$w/plugin.yaml"
	for e in "$@"; do sed -i "$e" "$w/plugin.yaml"; done
	sed -i -e "s/^  version: .*/  version: $v/" -e "s|ref: refs/tags/v.*|ref: refs/tags/v$v|" \
		"$w/deploy/workspace-config.yaml"
	git -C "$w" add -A
	GIT_AUTHOR_EMAIL=devex-lead@acme.example GIT_COMMITTER_EMAIL=devex-lead@acme.example \
		git -C "$w" commit -qm "release $v"
	GIT_COMMITTER_EMAIL=devex-lead@acme.example git -C "$w" tag -a -m "$v" "v$v"
	git -C "$w" push -q origin "HEAD:refs/heads/main" "v$v" || bail "cannot push v$v"
}
live_withdrawals() { sq "SELECT count(*) FROM withdrawals WHERE restored_at IS NULL"; }

case_begin 'a pending newer release whose sunset passed withdraws nothing'
complete_010
reconcile_at 2026-12-03T10:00:00Z
tag_lifecycle 0.1.1
reconcile_at 2026-12-04T09:00:00Z
expect_out "recorded release 0.1.1"
expect_no_out "withdraw"
expect_no_out "sunset"
expect_eq 0 "$(live_withdrawals)" "withdrawals"
expect_eq pending "$(sq "SELECT state FROM releases WHERE version = '0.1.1'")" "0.1.1 state"
expect_eq 0.1.0 "$(group_version backend-engineers)" "published for backend-engineers"
S status -o json --now 2026-12-04T09:00:00Z
expect_rc 0
expect_eq false "$(js ".plugins[] | select(.id == \"$PLUGIN\") | .withdrawn")" "status withdrawn"
case_end

case_begin 'a refused release whose sunset passed withdraws nothing'
tag_lifecycle 0.1.2 '0,/^    write: false/s//    write: true/'
reconcile_at 2026-12-04T09:30:00Z
expect_out "refused release 0.1.2"
expect_no_out "withdraw"
expect_eq 0 "$(live_withdrawals)" "withdrawals"
expect_eq 0.1.0 "$(group_version backend-engineers)" "published for backend-engineers"
case_end

case_begin 'the newer release in flight: the stable one still counts'
make_ready 0.1.1 2026-12-04T10:00:00Z
reconcile_at 2026-12-04T11:00:00Z
expect_out "$PLUGIN@0.1.1: start stage devex-dogfood"
expect_no_out "withdraw"
expect_eq 0 "$(live_withdrawals)" "withdrawals"
expect_eq 0.1.0 "$(group_version backend-engineers)" "published for backend-engineers"
case_end

case_begin 'once the newer release is stable, its sunset withdraws the plugin once'
S promote $PLUGIN --reason pilot --as admin-ana --now 2026-12-05T09:00:00Z
expect_rc 0
S approve $PLUGIN@0.1.1 --stage backend-general --as admin-ben --now 2026-12-05T09:00:00Z
expect_rc 0
S promote $PLUGIN --reason general --as admin-ana --now 2026-12-05T09:00:00Z
expect_rc 0
reconcile_at 2026-12-05T10:00:00Z
expect_out "withdraw: sunset date 2026-12-02 reached: withdrawn from every group"
expect_eq 1 "$(live_withdrawals)" "withdrawals"
expect_eq - "$(group_version backend-engineers)" "published for backend-engineers"
case_end

case_begin 'a restore after the sunset stands: the next reconcile does not withdraw again'
S restore $PLUGIN --reason "kept past its sunset" --as admin-ana --now 2026-12-05T11:00:00Z
expect_rc 0
reconcile_at 2026-12-06T09:00:00Z
expect_no_out "withdraw"
expect_eq 0 "$(live_withdrawals)" "withdrawals after the restore"
expect_eq 0.1.1 "$(group_version backend-engineers)" "published for backend-engineers"
reconcile_at 2026-12-20T09:00:00Z
expect_eq 0 "$(live_withdrawals)" "withdrawals two weeks on"
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'plugin.withdrawn'")" "sunset withdrawals audited"
expect_sound_db
case_end

done_testing
