#!/bin/sh
# docs/sluice.1 documents what the binary does: every command of 'sluice -h'
# has a section whose usage line and options are those 'sluice CMD -h'
# prints, the global flags are those of 'sluice -h', nothing is documented
# that the binary lacks; and 'cmake --install' installs the page.
. "$(dirname "$0")/lib.sh"

MAN=$SRC/docs/sluice.1
[ -f "$MAN" ] || bail "no $MAN"

# The page as text: font escapes dropped, \- and \& undone.
sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g' "$MAN" >"$T/man"

# section NAME: the lines of section .SH NAME
section() { awk -v s=".SH $1" '$0 == s {on = 1; next} on && /^\.SH/ {exit} on' "$T/man"; }

case_begin 'the page documents every command, usage line and option of the help'
# What the binary says: "CMD usage USAGE" and "CMD option SYNOPSIS" lines
# from 'sluice -h' (CMD "-": the global flags) and every 'sluice CMD -h'.
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
	/^usage: / && cmd != "-" {sub(/^usage: /, ""); print cmd " usage " $0; next}
	$0 == "options:" || $0 == "global flags (before or after the command):" {on = 1; next}
	/^$/ {on = 0; next}
	on {sub(/^ +/, ""); sub(/  .*/, ""); print cmd " option " $0}' "$T/help" | sort >"$T/want"

# What the page says: each .SS of COMMANDS is a command, its first line the
# usage, the line after each .TP an option; GLOBAL OPTIONS likewise.
awk '/^\.SH / {sec = substr($0, 5); cmd = sec == "GLOBAL OPTIONS" ? "-" : ""; next}
	/^\.SS / && sec == "COMMANDS" {cmd = $2; usage = 1; next}
	usage {print cmd " usage " $0; usage = 0; next}
	tp {if (cmd != "") print cmd " option " $0; tp = 0; next}
	/^\.TP/ {tp = 1}' "$T/man" | sort >"$T/got"
expect_ok "the binary's help yields no usage line" grep -q ' usage ' "$T/want"
expect_same "$T/want" "$T/got" "docs/sluice.1 differs from the binary's help"
case_end

case_begin 'the page is of this version'
run "$SLUICE" version
expect_rc 0
expect_eq "$(awk '{print $1 " " $2; exit}' "$T/out")" \
	"$(sed -n 's/^\.TH SLUICE 1 [0-9-]* "\([^"]*\)".*/\1/p' "$T/man")" "the version in .TH"
case_end

case_begin 'EXIT STATUS, FILES and ENVIRONMENT say what the binary does'
for status in 0 1 2 3 129; do
	section "EXIT STATUS" | expect_ok "EXIT STATUS lacks $status" grep -qx ".B $status"
done
section FILES | expect_ok "FILES lacks the database" grep -q '<root>/.sluice/sluice.db'
section FILES | expect_ok "FILES lacks the cache" grep -q '<root>/.sluice/cache'
section ENVIRONMENT | expect_ok "ENVIRONMENT lacks SLUICE_ACTOR" grep -qx '.B SLUICE_ACTOR'
case_end

# Where groff is installed, the page also formats without a warning.
if command -v groff >/dev/null 2>&1; then
	case_begin 'groff formats the page without a warning'
	run groff -man -Tutf8 -ww -z "$MAN"
	expect_rc 0
	expect_ok "groff warns about docs/sluice.1: $(cat "$T/err")" [ ! -s "$T/err" ]
	case_end
fi

if [ -n "${SLUICE_BUILD_DIR:-}" ]; then
	case_begin 'cmake --install puts the binary, the page and the completion in place'
	run cmake --install "$SLUICE_BUILD_DIR" --prefix "$T/inst"
	expect_rc 0
	expect_ok "no bin/sluice installed" [ -x "$T/inst/bin/sluice" ]
	expect_ok "share/man/man1/sluice.1 not installed" cmp -s "$MAN" "$T/inst/share/man/man1/sluice.1"
	expect_ok "share/bash-completion/completions/sluice not installed" \
		cmp -s "$SRC/deploy/sluice.bash-completion" "$T/inst/share/bash-completion/completions/sluice"
	case_end
fi

done_testing
