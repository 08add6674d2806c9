#!/bin/sh
# --now, the rollout clock (docs/commands.md, "Time"): strict RFC 3339 in
# UTC with seconds, years 2000-2999; never earlier than an event already
# recorded; and under identity os-user only for the read-only views, so
# that no one approves "in 2031" or promotes past a freeze window by
# naming another date. plan --at keeps taking a plain date.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

case_begin '--now must be RFC 3339 in UTC with seconds, in the years 2000-2999'
for bad in 2026-12-01 2026-12-01T09:00Z 2026-12-01T09:00:00+01:00 2026-12-01T09:00:00.5Z \
	2026-12-01t09:00:00z 2026-02-30T09:00:00Z " 2026-12-01T09:00:00Z"; do
	S version --now "$bad"
	expect_rc 129
	expect_err "error: --now '$bad' is not an RFC 3339 time in UTC with seconds; write it as 2026-12-01T09:00:00Z"
done
for far in 1999-12-31T23:59:59Z 3000-01-01T00:00:00Z 9999-12-31T23:59:59Z; do
	S version --now "$far"
	expect_rc 129
	expect_err "error: --now '$far' is outside the years 2000-2999"
done
S version --now 2026-12-01T09:00:00Z
expect_rc 0
case_end

case_begin 'plan --at still takes a plain date'
record
S plan --at 2027-01-15 --now $D0
expect_rc 0
expect_out "nothing to do by then"
S plan --at 2027-01-15 -o json --now $D0
expect_rc 0
expect_eq 2027-01-15T00:00:00Z "$(js .at)" "plan --at as a date"
case_end

case_begin 'a clock earlier than the newest recorded event is refused; nothing changes'
snapshot
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now 2026-11-30T09:00:00Z
expect_rc 3
expect_err "error: --now 2026-11-30T09:00:00Z is earlier than an event already recorded at $D0; sluice records events in time order: give a later --now"
expect_unchanged
S reconcile --now 2026-11-30T09:00:00Z
expect_rc 3
expect_err "is earlier than an event already recorded at $D0"
expect_unchanged
S freeze --as admin-ana --now 2026-12-01T08:59:59Z
expect_rc 3
expect_unchanged
# the same second as the newest event is not earlier
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D0
expect_rc 0
# a read-only view may look from any time
S status --now 2026-11-30T09:00:00Z
expect_rc 0
case_end

case_begin 'under identity os-user, an action given --now is a usage error'
ws_edit 's/identity: asserted/identity: os-user/'
snapshot
for cmd in "pause $PLUGIN" "resume $PLUGIN" "approve $PLUGIN@0.1.0 --stage backend-pilot" \
	"promote $PLUGIN --reason late" "freeze" "withdraw $PLUGIN" \
	"disable $PLUGIN --user alice" "attest $PLUGIN@0.1.0 contract-tests" "reconcile"; do
	# shellcheck disable=SC2086 # the command and its arguments
	S $cmd --now 2026-12-02T09:00:00Z
	expect_rc 129
	expect_err "error: --now is only for read-only views under identity: os-user; 'sluice ${cmd%% *}' is an action and runs on the system clock (leave out --now)"
done
S fetch --now 2026-12-02T09:00:00Z
expect_rc 129
expect_err "'sluice fetch' is an action"
expect_unchanged
case_end

case_begin 'under identity os-user, the read-only views take --now'
for cmd in "status" "plan" "plan --at 2027-01-15" "history" "resolve --group platform-devex" \
	"checklist $PLUGIN@0.1.0" "tags $PLUGIN" "audit verify" "audit head"; do
	# shellcheck disable=SC2086 # the command and its arguments
	S $cmd --now 2026-12-02T09:00:00Z
	expect_rc 0
done
case_end

done_testing
