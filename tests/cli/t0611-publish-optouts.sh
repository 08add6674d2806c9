#!/bin/sh
# `disable --user` reaches what is delivered: each effective.json entry
# lists the users who opted out of its plugin and may (`disabled_users`,
# docs/publishing.md), and `resolve --user` and the published state agree
# for every user of every group: a user gets an entry of one of their
# groups unless it lists them. An enforced release (allow_user_disable:
# false) lists nobody, as `resolve` delivers it to everyone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

# effc JQ-EXPR: compact JSON from the published effective.json
effc() { jq -c "$1" "$EFFECTIVE" || fail "jq '$1' on $EFFECTIVE failed"; }

# agree USER: the plugins `resolve --user USER` delivers are the ids of the
# entries of USER's groups in effective.json that do not list USER
agree() {
	S resolve --user "$1" -o json --now $D2
	expect_rc 0
	js '[.plugins[].id] | unique | join(",")' >"$T/resolved"
	groups=$(js '.groups | join(" ")')
	for g in $groups; do
		eff ".groups[\"$g\"][] | select(.disabled_users | index(\"$1\") | not) | .id"
	done | sort -u | paste -sd, - >"$T/published"
	expect_same "$T/resolved" "$T/published" "what resolve gives $1 and what is published for $1"
}

case_begin 'an opt-out is published in the entry of its plugin'
start_rollout
expect_eq '[]' "$(effc '.groups["platform-devex"][0].disabled_users')" "no opt-out yet"
S disable $PLUGIN --user alice --as alice --now $D2
expect_rc 0
S reconcile --no-fetch --now $D2
expect_rc 0
expect_eq '["alice"]' "$(effc '.groups["platform-devex"][0].disabled_users')" "alice's opt-out"
expect_eq "info" "$(eff '.groups["platform-devex"][0].environment.LOG_LEVEL')" "the rest of the entry"
case_end

case_begin 'resolve and the published state agree for every user'
for u in alice bob carol sam; do agree $u; done
case_end

case_begin 'enable takes the user out of the list again'
S disable $PLUGIN --user bob --as admin-ana --now $D2
expect_rc 0
S enable $PLUGIN --user alice --as alice --now $D2
expect_rc 0
S reconcile --no-fetch --now $D2
expect_rc 0
expect_eq '["bob"]' "$(effc '.groups["platform-devex"][0].disabled_users')" "bob's opt-out only"
for u in alice bob; do agree $u; done
case_end

case_begin 'an enforced release lists nobody: its opt-outs do not count'
sq "UPDATE releases SET deploy_snapshot = json_set(deploy_snapshot, '$.controls.allow_user_disable', json('false'))"
S reconcile --no-fetch --now $D2
expect_rc 0
expect_eq '[]' "$(effc '.groups["platform-devex"][0].disabled_users')" "enforced: nobody listed"
expect_eq 1 "$(sq "SELECT count(*) FROM user_optouts WHERE user_id = 'bob'")" "bob's opt-out is still stored"
for u in alice bob; do agree $u; done
case_end

done_testing
