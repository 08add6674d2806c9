#!/bin/sh
# Notifications through the outbox (docs/notifications.md): events are
# written in the transaction of the change that caused them and POSTed to
# a loopback receiver (tests/cli/webhook-receiver.py) that in turn answers
# 500, stalls past the timeout, closes the connection and accepts; every
# event arrives at least once, signed, and the receiver's deduped ids are
# the outbox's. Also the slack format, the dead letter, `sluice outbox`
# and the http publisher.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"

command -v python3 >/dev/null 2>&1 || bail "python3 is needed for the webhook receiver"

SLUICE_WEBHOOK_KEY=k3y-for-tests
SLUICE_NOTIFY_TIMEOUT_MS=1000 # the receiver stalls for 3 s
SLUICE_NOTIFY_BACKOFF_BASE=0  # a failed row is due again at once
export SLUICE_WEBHOOK_KEY SLUICE_NOTIFY_TIMEOUT_MS SLUICE_NOTIFY_BACKOFF_BASE
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

LOG=$T/received.jsonl
RECV=
trap 'tl_st=$?; [ -z "$RECV" ] || kill "$RECV" 2>/dev/null; (exit $tl_st); _tl_exit' EXIT

# got JQ-FILTER: from every request the receiver logged
got() { jq -r "$1" "$LOG" || fail "jq '$1' on $LOG failed"; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

setup_admin
start_receiver "$LOG" 500 stall close
DOWN=$(free_port) # nothing listens there
cat >>"$R/workspaces/engineering.yaml" <<EOF
notifications:
  - {url: "http://127.0.0.1:$PORT/hooks", secret_env: SLUICE_WEBHOOK_KEY, events: [release_detected,
     release_refused, stage_started, rollout_complete, approved, rejected, paused, resumed, promoted,
     rolled_back, withdrawn, frozen, unfrozen, gate_breached, tag_moved, sunset_notice,
     review_overdue, data_missing, secret_missing, publish_failed]}
  - {url: "http://127.0.0.1:$PORT/slack", format: slack, events: [stage_started]}
  - {url: "http://127.0.0.1:$DOWN/down", events: [paused]}
EOF
HOOKS=http://127.0.0.1:$PORT/hooks
# /hooks lists every kind but approval_needed, so that the receiver's
# planned failures meet the events named below; t0831 covers that kind
# and `all`

case_begin 'reconcile writes its event to the outbox and survives a receiver that fails'
record
expect_err "warning: 1 notification not delivered yet"
expect_err "answered HTTP 500"
expect_eq "release_detected|pending|1" \
	"$(sq "SELECT kind || '|' || state || '|' || attempts FROM outbox")" "the outbox after the pass"
expect_eq "$(sq "SELECT id FROM audit WHERE action = 'release.recorded'")" \
	"$(sq "SELECT audit_id FROM outbox")" "the event's audit row"
case_end

case_begin 'a stalled receiver times out and a closed connection fails: both stay pending'
S outbox deliver
expect_rc 1
expect_err "timed out"
expect_err "they stay in the outbox"
S outbox deliver
expect_rc 1
expect_err "Empty reply from server"
expect_eq "pending|3" "$(sq "SELECT state || '|' || attempts FROM outbox")" "after three failures"
S outbox deliver
expect_rc 0
expect_out "delivered 1 of 1 notification"
expect_eq "delivered|4" "$(sq "SELECT state || '|' || attempts FROM outbox")" "once it recovered"
case_end

case_begin 'every event arrives at least once, signed, and the receiver holds the outbox'
start_rollout
S outbox deliver
expect_rc 0
expect_eq 0 "$(sq "SELECT count(*) FROM outbox WHERE state != 'delivered' AND endpoint = '$HOOKS'")" \
	"rows to /hooks not delivered"
for k in release_detected approved stage_started; do
	expect_ok "no $k event was sent" [ "$(sq "SELECT count(*) FROM outbox WHERE kind = '$k' AND endpoint = '$HOOKS'")" -ge 1 ]
done
got 'select(.path == "/hooks" and .answer == "ok") | .event_id' | sort -u >"$T/acked"
sq "SELECT event_id FROM outbox WHERE endpoint = '$HOOKS'" | sort >"$T/outbox-ids"
expect_same "$T/outbox-ids" "$T/acked" "the receiver's deduped ids differ from the outbox's"
expect_eq "" "$(got 'select(.path == "/hooks" and .signature_ok != true) | .event_id')" \
	"requests whose signature does not verify"
expect_eq "" "$(got 'select(.path != "/slack" and .event_id != .body.id) | .event_id')" \
	"X-Sluice-Event-Id differs from the body's id"
expect_eq "application/json" "$(got '.content_type' | sort -u)" "Content-Type"
stalled=$(got 'select(.answer == "stall") | .event_id')
expect_ok "the stalled event was not delivered again" grep -qx "$stalled" "$T/acked"
expect_eq 4 "$(got "select(.event_id == \"$stalled\") | .answer" | wc -l | tr -d ' ')" \
	"requests of the first event (500, stall, close, ok)"
sid=$(sq "SELECT event_id FROM outbox WHERE kind = 'stage_started' AND endpoint = '$HOOKS'")
expect_eq "$(sq "SELECT id || ':' || hash FROM audit WHERE action = 'stage.started'")" \
	"$(got "select(.event_id == \"$sid\" and .answer == \"ok\") | .body.audit_head | \"\(.id):\(.hash)\"")" \
	"the stage_started event's audit_head"
expect_eq "engineering|$PLUGIN|0.1.0|devex-dogfood" \
	"$(got "select(.event_id == \"$sid\" and .answer == \"ok\") | .body | \"\(.workspace)|\(.plugin)|\(.version)|\(.stage)\"")" \
	"the stage_started event's body"
expect_eq 0 "$(grep -c present-for-tests "$LOG")" "requests that carry the secret's value"
case_end

case_begin 'a slack endpoint gets readable messages of the events it lists, unsigned'
expect_eq '["text"]' "$(got 'select(.path == "/slack") | .body | keys | tojson' | sort -u)" \
	"the slack body's keys"
expect_ok "no slack message for the stage start: $(got 'select(.path == "/slack") | .body.text')" \
	sh -c "jq -r 'select(.path == \"/slack\") | .body.text' '$LOG' | grep -q \"^\[engineering\] stage_started: $PLUGIN@0.1.0: stage started at stage 'devex-dogfood'\""
expect_eq "null" "$(got 'select(.path == "/slack") | .signature' | sort -u)" "the slack request's signature"
expect_eq "stage_started" "$(sq "SELECT group_concat(kind) FROM outbox WHERE endpoint LIKE '%/slack'")" \
	"the events the slack endpoint listed"
case_end

case_begin 'an aborted change writes no event; the same change committed does'
sq "CREATE TRIGGER outbox_full BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'outbox full'); END"
snapshot
S pause $PLUGIN --reason "check the pilot" --as admin-ana --now 2026-12-01T12:00:00Z
expect_rc 1
expect_err "outbox full"
expect_state_unchanged "a pause whose event could not be written changed the state"
expect_eq "$audit_before" "$(sq 'SELECT count(*) FROM audit')" "audit rows after the aborted pause"
sq "DROP TRIGGER outbox_full"
S pause $PLUGIN --reason "check the pilot" --as admin-ana --now 2026-12-01T12:00:00Z
expect_rc 0
expect_eq "$(sq "SELECT id FROM audit WHERE action = 'rollout.paused'")" \
	"$(sq "SELECT group_concat(DISTINCT audit_id) FROM outbox WHERE kind = 'paused'")" "the pause's events' audit row"
expect_eq 2 "$(sq "SELECT count(*) FROM outbox WHERE kind = 'paused'")" "paused events (/hooks and /down)"
case_end

case_begin 'an operator action delivers its events at once; a receiver that is down is a warning'
# the committed pause above, with no reconcile since
PAUSED=$(sq "SELECT event_id FROM outbox WHERE kind = 'paused' AND endpoint = '$HOOKS'")
expect_eq "delivered|1" "$(sq "SELECT state || '|' || attempts FROM outbox WHERE event_id = '$PAUSED'")" \
	"the pause's event for /hooks"
expect_eq 1 "$(got "select(.event_id == \"$PAUSED\" and .answer == \"ok\") | .event_id" | wc -l)" \
	"requests of the pause's event the receiver acknowledged"
expect_eq "pending|1" "$(sq "SELECT state || '|' || attempts FROM outbox WHERE kind = 'paused' AND endpoint LIKE '%/down'")" \
	"the pause's event for the endpoint that is down"
expect_err "warning: 1 of 2 notifications not delivered yet (http://127.0.0.1:$DOWN/down"
case_end

case_begin 'a missing signing key holds the event without counting an attempt'
unset SLUICE_WEBHOOK_KEY
S resume $PLUGIN --reason "pilot checked" --as admin-ana --now 2026-12-01T12:05:00Z
expect_rc 0
expect_err "warning: 1 of 1 notifications not delivered yet (http://127.0.0.1:$PORT/hooks: the signing key variable SLUICE_WEBHOOK_KEY is not set"
S outbox deliver
expect_rc 1
expect_err "error: 2 not delivered (0 now dead)"
expect_eq "pending|0" "$(sq "SELECT state || '|' || attempts FROM outbox WHERE kind = 'resumed' AND endpoint = '$HOOKS'")" \
	"the held event"
SLUICE_WEBHOOK_KEY=k3y-for-tests
export SLUICE_WEBHOOK_KEY
S outbox deliver
expect_rc 1
expect_err "Couldn't connect"
expect_eq "delivered" "$(sq "SELECT state FROM outbox WHERE kind = 'resumed' AND endpoint = '$HOOKS'")" \
	"the held event once the key is set"
expect_eq "pending|3" "$(sq "SELECT state || '|' || attempts FROM outbox WHERE endpoint LIKE '%/down'")" \
	"the event of the endpoint that is down"
case_end

case_begin 'after 12 attempts an event is dead and no longer tried'
n=3
while [ $n -lt 12 ]; do
	S outbox deliver
	expect_rc 1
	n=$((n + 1))
done
S outbox list --state dead -o json
expect_rc 0
expect_eq "1|12|paused" "$(js '[(.rows | length), .rows[0].attempts, .rows[0].kind] | map(tostring) | join("|")')" "the dead rows"
expect_ok "the dead row's error: $(js '.rows[0].last_error')" sh -c "jq -r '.rows[0].last_error' '$T/out' | grep -q \"Couldn't connect\""
DEAD=$(js '.rows[0].id')
S outbox deliver
expect_rc 0
expect_out "delivered 0 of 0 notifications"
S outbox list
expect_rc 0
expect_out "$DEAD  dead  paused  http://127.0.0.1:$DOWN/down  attempts 12"
expect_out "delivered  stage_started  $HOOKS"
case_end

D3=2026-12-01T12:30:00Z
case_begin 'retry and drop need the operator role and are audited'
snapshot
S outbox retry --dead --as admin-ben --now $D3
expect_refused access.refused "operator"
S outbox retry --dead --as admin-ana --now $D3
expect_rc 0
expect_out "1 dead row is pending again"
expect_eq "pending|0" "$(sq "SELECT state || '|' || attempts FROM outbox WHERE id = $DEAD")" "the retried row"
expect_eq "outbox.retried|admin-ana" "$(sq 'SELECT action || "|" || actor FROM audit ORDER BY id DESC LIMIT 1')" \
	"the retry's audit row"
S outbox drop "$DEAD" --as admin-ana --now $D3
expect_rc 0
expect_out "dropped outbox row $DEAD"
expect_eq 0 "$(sq "SELECT count(*) FROM outbox WHERE id = $DEAD")" "the dropped row"
expect_eq "outbox.dropped" "$(sq 'SELECT action FROM audit ORDER BY id DESC LIMIT 1')" "the drop's audit row"
snapshot
S outbox drop 999 --as admin-ana --now $D3
expect_rc 2
expect_err "there is no outbox row 999"
expect_unchanged
delivered=$(sq "SELECT id FROM outbox WHERE state = 'delivered' LIMIT 1")
S outbox retry "$delivered" --as admin-ana --now $D3
expect_rc 3
expect_err "was delivered already"
expect_state_unchanged "a refused retry changed the outbox"
case_end

case_begin 'outbox usage errors exit 129 and change nothing'
snapshot
S outbox list --state lost
expect_rc 129
expect_err "--state 'lost' is not a state of the outbox"
S outbox retry --as admin-ana
expect_rc 129
expect_err "needs one row's ID or --dead"
S outbox drop one --as admin-ana
expect_rc 129
expect_err "'one' is not an outbox row id"
S outbox list --dead
expect_rc 129
expect_err "--dead does not belong to 'sluice outbox list'"
S outbox resend
expect_rc 129
expect_err "unknown outbox command 'resend'"
expect_unchanged
case_end

case_begin 'the http publisher delivers the directory publisher'"'"'s document, signed, once'
cp "$EFFECTIVE" "$T/effective.dir.json"
ws_edit "s|^publish: .*|publish: {type: http, url: \"http://127.0.0.1:$PORT/effective\", secret_env: SLUICE_WEBHOOK_KEY}|"
S reconcile --now 2026-12-01T13:00:00Z
expect_rc 0
expect_eq "effective_state|delivered" \
	"$(sq "SELECT kind || '|' || state FROM outbox WHERE endpoint LIKE '%/effective'")" "the effective_state row"
# the same document but for when it was made: its time, the audit head and
# when each secret was last checked
same_doc='del(.generated_at, .audit_head) | walk(if type == "object" then del(.checked_at) else . end)'
got "select(.path == \"/effective\") | .body.effective | $same_doc" | jq -S . >"$T/effective.http"
jq -S "$same_doc" "$T/effective.dir.json" >"$T/effective.dir"
expect_same "$T/effective.dir" "$T/effective.http" "the http publisher's document differs from effective.json"
expect_eq "true|effective_state" "$(got 'select(.path == "/effective") | "\(.signature_ok)|\(.body.kind)"')" \
	"the effective_state request"
S reconcile --now 2026-12-01T14:00:00Z
expect_rc 0
expect_eq 1 "$(sq "SELECT count(*) FROM outbox WHERE kind = 'effective_state'")" \
	"effective_state rows after a pass that changed nothing"
case_end

done_testing
