#!/bin/sh
# A publish that fails makes reconcile exit 1 and shows in `status` (text
# and `"publish": {"ok", "at", "error"}` in -o json) until a later publish
# succeeds; the outcome of every publish is in the store (publish_state).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin 'status before any publish has no outcome; the first publish is recorded'
S reconcile --no-publish --now $D0
expect_rc 0
S status -o json --now $D0
expect_rc 0
expect_eq null "$(js .publish)" "no publish yet"
S reconcile --no-fetch --now $D0
expect_rc 0
S status -o json --now $D0
expect_rc 0
expect_eq true "$(js .publish.ok)" "the first reconcile published"
expect_eq "$D0" "$(js .publish.at)" "when"
expect_eq null "$(js .publish.error)" "no error"
case_end

case_begin 'a publish that fails: reconcile exits 1 and says why'
# the publish directory cannot be made: a file stands where it goes
ws_edit 's|publish: {type: directory, path: .sluice/published}|publish: {type: directory, path: blocked/published}|'
echo "not a directory" >"$R/blocked"
S reconcile --no-fetch --now $D1
expect_rc 1
expect_err "error: cannot publish: cannot create $R/blocked/published"
expect_eq "0|$D1" "$(sq "SELECT ok || '|' || strftime('%Y-%m-%dT%H:%M:%SZ', at, 'unixepoch') FROM publish_state")" "stored outcome"
S reconcile --no-fetch --now $D1 -o json
expect_rc 1
expect_eq "cannot create $R/blocked/published: Not a directory" "$(js .publish_error)" "json publish_error"
case_end

case_begin 'status shows the failure, in json and in text'
S status -o json --now $D1
expect_rc 0
expect_eq "false $D1" "$(js '"\(.publish.ok) \(.publish.at)"')" "publish ok and at"
expect_eq "cannot create $R/blocked/published: Not a directory" "$(js .publish.error)" "publish error"
S status --now $D1
expect_rc 0
expect_out "publish failed at $D1: cannot create $R/blocked/published: Not a directory; users still get what was published before; fix it and run 'sluice reconcile'"
case_end

case_begin 'a pass that cannot publish keeps failing, and says so each time'
S reconcile --no-fetch --now $D2
expect_rc 1
expect_err "cannot publish"
S status -o json --now $D2
expect_rc 0
expect_eq "false $D2" "$(js '"\(.publish.ok) \(.publish.at)"')" "still failing"
case_end

case_begin 'a later publish that succeeds clears it'
rm "$R/blocked"
S reconcile --no-fetch --now $D2
expect_rc 0
expect_ok "published at the new path" [ -f "$R/blocked/published/effective.json" ]
S status -o json --now $D2
expect_rc 0
expect_eq "true $D2 null" "$(js '"\(.publish.ok) \(.publish.at) \(.publish.error)"')" "publish cleared"
S status --now $D2
expect_rc 0
expect_no_out "publish failed"
case_end

case_begin 'a pass with nothing to publish keeps the last outcome'
S reconcile --no-fetch --now 2026-12-01T12:00:00Z
expect_rc 0
S status -o json --now 2026-12-01T12:00:00Z
expect_rc 0
expect_eq "true $D2" "$(js '"\(.publish.ok) \(.publish.at)"')" "unchanged outcome"
case_end

done_testing
