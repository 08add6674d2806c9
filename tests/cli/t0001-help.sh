#!/bin/sh
# Every command answers -h with its usage and exit 0; usage errors exit 129.
. "$(dirname "$0")/lib.sh"

case_begin 'sluice -h prints the usage and the commands'
run "$SLUICE" -h
expect_rc 0
expect_out "usage: sluice"
cmds=$(awk '/^commands:/{on=1;next} /^$/{on=0} on{print $1}' "$T/out")
expect_ok "sluice -h lists no command" [ -n "$cmds" ]
case_end

for cmd in $cmds; do
	case_begin "sluice $cmd -h and sluice -h $cmd print its usage"
	run "$SLUICE" "$cmd" -h
	expect_rc 0
	expect_out "usage: sluice $cmd"
	run "$SLUICE" -h "$cmd"
	expect_rc 0
	expect_out "usage: sluice $cmd"
	case_end
done

case_begin 'an unknown command exits 129, with a suggestion when one is near'
run "$SLUICE" frobnicate
expect_rc 129
expect_err "error: unknown command 'frobnicate'"
run "$SLUICE" valdate
expect_rc 129
expect_err "did you mean 'validate'?"
case_end

case_begin 'an unknown option, or an option without its value, exits 129'
run "$SLUICE" validate --no-such-flag
expect_rc 129
expect_err "unknown option '--no-such-flag'"
run "$SLUICE" validate --plugin
expect_rc 129
expect_err "option '--plugin' needs a value"
case_end

case_begin 'bad global flag values exit 129'
run "$SLUICE" version -o yaml
expect_rc 129
expect_err "unknown output format 'yaml'"
run "$SLUICE" version --now yesterday
expect_rc 129
expect_err "--now 'yesterday' is not an RFC 3339 time"
case_end

case_begin 'no command at all exits 129'
run "$SLUICE"
expect_rc 129
case_end

done_testing
