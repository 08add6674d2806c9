#!/bin/sh
# Every command answers -h with its usage and exit 0; usage errors exit 129.
. "$(dirname "$0")/lib.sh"

run "$SLUICE" -h
expect_rc 0
expect_out "usage: sluice"
for cmd in $("$SLUICE" -h | awk '/^commands:/{on=1;next} /^$/{on=0} on{print $1}'); do
	run "$SLUICE" "$cmd" -h
	expect_rc 0
	expect_out "usage: sluice $cmd"
	run "$SLUICE" -h "$cmd"
	expect_rc 0
	expect_out "usage: sluice $cmd"
done

run "$SLUICE" frobnicate
expect_rc 129
expect_err "error: unknown command 'frobnicate'"

run "$SLUICE" valdate
expect_rc 129
expect_err "did you mean 'validate'?"

run "$SLUICE" validate --no-such-flag
expect_rc 129
expect_err "unknown option '--no-such-flag'"

run "$SLUICE" validate --plugin
expect_rc 129
expect_err "option '--plugin' needs a value"

run "$SLUICE" version -o yaml
expect_rc 129
expect_err "unknown output format 'yaml'"

run "$SLUICE" version --now yesterday
expect_rc 129
expect_err "--now 'yesterday' is not an RFC 3339 time"

run "$SLUICE"
expect_rc 129

done_testing
