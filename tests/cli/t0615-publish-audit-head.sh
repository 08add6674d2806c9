#!/bin/sh
# Every publish carries the audit log's head (`audit_head`: id and hash in
# effective.json), so a copy of it lives outside the database: it is the
# head `sluice audit head` shows after the pass, and `audit verify --head`
# proves the log still holds it - and finds the log cut below it. The head
# is not part of what decides whether to publish: a pass where only the
# audit log grew rewrites nothing; the next publish carries the new head.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

published_head() { jq -r '"\(.audit_head.id):\(.audit_head.hash)"' "$EFFECTIVE" || fail "no audit_head in $EFFECTIVE"; }

case_begin 'the published head is the head after the pass'
start_rollout
S audit head
expect_rc 0
expect_eq "$(cat "$T/out")" "$(published_head)" "published head"
expect_eq number "$(jq -r '.audit_head.id | type' "$EFFECTIVE")" "id is a number"
S audit verify --head "$(published_head)"
expect_rc 0
expect_out "it still holds row $(jq -r .audit_head.id "$EFFECTIVE") of the given head unchanged"
case_end

case_begin 'a pass that changed only the audit log rewrites nothing'
cp "$EFFECTIVE" "$T/before.json"
S approve $PLUGIN@0.1.0 --stage nope --as admin-ana --now $D2
expect_rc 2
S reconcile --no-fetch --now 2026-12-01T12:00:00Z
expect_rc 0
expect_same "$T/before.json" "$EFFECTIVE" "effective.json after an audit-only change"
case_end

case_begin 'the next publish carries the new head'
S disable $PLUGIN --user alice --as alice --now $D2
expect_rc 0
S reconcile --no-fetch --now $D2
expect_rc 0
S audit head
expect_rc 0
expect_eq "$(cat "$T/out")" "$(published_head)" "head after the next publish"
not_before=$(jq -r .audit_head.id "$T/before.json")
[ "$(jq -r .audit_head.id "$EFFECTIVE")" -gt "$not_before" ] || fail "the head did not move on"
check_counted
case_end

case_begin 'the published head finds rows cut from the log'
HEAD=$(published_head)
ID=${HEAD%%:*}
sq "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id = $ID; UPDATE sqlite_sequence SET seq = $((ID - 1)) WHERE name = 'audit'"
S audit verify --head "$HEAD"
expect_rc 1
expect_err "the given head, row $ID, is not in the log"
case_end

done_testing
