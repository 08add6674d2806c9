#!/bin/sh
# deploy/sluice.bash-completion, sourced in bash: its command and option
# lists are those of 'sluice -h' and 'sluice CMD -h'; it completes command
# names, options, option values, and plugins, versions and stages from the
# database - and quietly nothing where there is no database.
# shellcheck disable=SC2016 # bash code in single quotes, expanded by bash
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"

COMP=$SRC/deploy/sluice.bash-completion
command -v bash >/dev/null 2>&1 || bail "bash is needed"

# in_bash CODE [ARGS...]: runs CODE in bash with the completion sourced
in_bash() {
	code=$1
	shift
	bash -c ". \"\$0\" || exit 9; $code" "$COMP" "$@"
}

# comp WORD...: the completions (COMPREPLY) for the command line WORD...,
# the last word being completed, one a line, sorted; through run()
comp() {
	run in_bash 'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _sluice
		[ ${#COMPREPLY[@]} = 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort' "$@"
	expect_rc 0
	expect_ok "completion printed on stderr: $(cat "$T/err")" [ ! -s "$T/err" ]
}

# expect_comp WANT...: the last comp gave exactly WANT...
expect_comp() {
	printf '%s\n' "$@" | sed '/^$/d' | sort >"$T/want"
	expect_same "$T/want" "$T/out" "completions differ (< expected, > got)"
}

# The static lists are the binary's: "command CMD", "option CMD OPT" (CMD
# "-" for the global flags) and "value OPT 1|0" (whether OPT takes one),
# from 'sluice -h' and every 'sluice CMD -h', and from the completion.
case_begin "the completion's command and option lists are the binary's help"
run "$SLUICE" -h
expect_rc 0
cmds=$(awk '/^commands:/{on=1;next} /^$/{on=0} on{print $1}' "$T/out")
expect_ok "sluice -h lists no command" [ -n "$cmds" ]
{
	echo "== -"
	cat "$T/out"
	for cmd in $cmds; do
		echo "== $cmd"
		expect_ok "sluice $cmd -h failed" "$SLUICE" "$cmd" -h
	done
} >"$T/help"
awk '/^== / {cmd = $2; next}
	/^commands:$/ {c = 1; next}
	c && /^$/ {c = 0}
	c {print "command " $1; next}
	$0 == "options:" || $0 == "global flags (before or after the command):" {on = 1; next}
	/^$/ {on = 0; next}
	on {
		sub(/^ +/, ""); sub(/  .*/, ""); gsub(/,/, "")
		n = split($0, f, " "); v = n > 1 && f[n] ~ /^[A-Z]/
		for (i = 1; i <= n - v; i++) print "option " cmd " " f[i] "\nvalue " f[i] " " v
	}' "$T/help" | sort -u >"$T/want"
run in_bash 'for c in $_sluice_commands; do echo "command $c"; done
	for o in $_sluice_globals; do echo "option - $o"; done
	for c in $_sluice_commands; do for o in $(_sluice_cmd_opts "$c"); do echo "option $c $o"; done; done
	for o in $_sluice_globals $(for c in $_sluice_commands; do _sluice_cmd_opts "$c"; done); do
		_sluice_takes_value "$o" && echo "value $o 1" || echo "value $o 0"
	done | sort -u'
expect_rc 0
sort "$T/out" >"$T/got"
expect_same "$T/want" "$T/got" "the completion's lists differ from the binary's help (< binary, > completion)"
case_end

case_begin 'command names, options and fixed values, with no database'
cd "$T" || bail "cd $T"
comp "$SLUICE" ""
# shellcheck disable=SC2086 # one word each
expect_comp $cmds
comp "$SLUICE" --root . -q re
expect_comp reconcile reject resolve restore restore-backup resume
comp "$SLUICE" approve --
expect_comp --stage --comment --commit --workspace --root --db --cache --now --as --output --quiet --verbose --help
comp "$SLUICE" -o ""
expect_comp text json
comp "$SLUICE" status --output = j
expect_comp json
comp "$SLUICE" audit ""
expect_comp verify head prune
comp "$SLUICE" approve x@1 --comment ""
expect_comp
case_end

case_begin 'no database: no plugins, nothing printed, nothing created'
comp "$SLUICE" pause ""
expect_comp
expect_ok "completion created .sluice" [ ! -e "$T/.sluice" ]
case_end

case_begin 'with a database: plugins, versions, stages and workspaces'
setup_admin
S reconcile --no-publish
expect_rc 0
comp "$SLUICE" pause ""
expect_comp "$PLUGIN" "$PLUGIN@0.1.0"
comp "$SLUICE" tags ""
expect_comp "$PLUGIN"
comp "$SLUICE" approve ""
expect_comp "$PLUGIN@0.1.0"
comp "$SLUICE" approve "$PLUGIN@0.1.0" --stage ""
expect_comp devex-dogfood
comp "$SLUICE" attest "$PLUGIN@0.1.0" security-
expect_comp security-review
comp "$SLUICE" status -w ""
expect_comp engineering
case_end

case_begin 'the database of --root, and none with --db naming a missing file'
cd "$T" || bail "cd $T"
comp "$SLUICE" --root "$R" rollback b
expect_comp "$PLUGIN" "$PLUGIN@0.1.0"
comp "$SLUICE" --root "$R" --db "$T/none.db" rollback b
expect_comp
case_end

done_testing
