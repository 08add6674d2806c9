#!/bin/sh
# deploy/: `make install` (cmake --install) puts the systemd units and the
# cron line where docs/operations.md says, naming the binary it installed;
# `systemd-analyze verify` finds nothing to say about any unit, and
# `systemd-analyze security --offline=yes` rates every service at most 2.0
# ("OK"). The units are verified as installed: their ExecStart names the
# binary installed beside them, which verify requires to exist.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 || bail "systemd-analyze is needed (scripts/install-deps.sh test)"
: "${SLUICE_BUILD_DIR:?run through ctest, or set SLUICE_BUILD_DIR to the build directory}"
P=$T/prefix
UNITS=$P/lib/systemd/system
SERVICES="sluice.service sluice@.service sluice-reconcile.service"

case_begin 'cmake --install puts the units, the cron line and the docs under the prefix'
run cmake --install "$SLUICE_BUILD_DIR" --prefix "$P"
expect_rc 0
for u in $SERVICES sluice-reconcile.timer; do
	expect_ok "$UNITS/$u installed" [ -f "$UNITS/$u" ]
done
expect_ok "sluice.cron installed" [ -f "$P/share/sluice/sluice.cron" ]
expect_ok "operations.md installed (the units' Documentation=)" [ -f "$P/share/doc/sluice/operations.md" ]
expect_ok "man page installed" [ -f "$P/share/man/man1/sluice.1" ]
expect_ok "completion installed" [ -f "$P/share/bash-completion/completions/sluice" ]
case_end

case_begin 'installed units and the cron line start the installed binary'
for u in $SERVICES; do
	expect_eq "$P/bin/sluice" "$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$UNITS/$u")" "$u ExecStart binary"
	expect_ok "$u points at the installed operations.md" \
		grep -q "^Documentation=.*file://$P/share/doc/sluice/operations.md" "$UNITS/$u"
done
expect_eq "sluice $P/bin/sluice --root /srv/sluice reconcile -q" \
	"$(grep -v '^#' "$P/share/sluice/sluice.cron" | sed 's/^\* \* \* \* \* //')" "cron line"
expect_eq "$(sed -n 's/^ExecStart=//p' "$UNITS/sluice-reconcile.service")" \
	"$(grep -v '^#' "$P/share/sluice/sluice.cron" | sed 's/^\* \* \* \* \* sluice //')" \
	"the cron line runs what the timer's service runs"
expect_ok "the source units name /usr/local/bin/sluice" grep -q '^ExecStart=/usr/local/bin/sluice ' "$SRC/deploy/sluice.service"
case_end

case_begin 'systemd-analyze verify passes on every unit, with nothing to say'
cd "$UNITS" || bail "cannot cd to $UNITS"
for u in $SERVICES sluice@engineering.service sluice-reconcile.timer; do
	run systemd-analyze verify --man=no "./$u"
	expect_rc 0
	expect_ok "verify $u said: $(cat "$T/err")" [ ! -s "$T/err" ]
done
case_end

case_begin 'the verify check above can fail: a misspelt key is reported'
sed 's/^NoNewPrivileges=/NoNewPrivilegez=/' "$UNITS/sluice.service" >"$T/misspelt.service"
run systemd-analyze verify --man=no "$T/misspelt.service"
expect_rc 0
expect_err "Unknown key 'NoNewPrivilegez'"
case_end

# exposure UNIT: the overall exposure of `systemd-analyze security` for UNIT
exposure() {
	run systemd-analyze security --offline=yes "$1"
	expect_rc 0
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/out"
}

case_begin 'systemd-analyze security rates every service at most 2.0'
for u in $SERVICES sluice@engineering.service; do
	x=$(exposure "./$u")
	expect_ok "$u has an overall exposure level (got '$x')" [ -n "$x" ]
	expect_ok "$u exposure $x is at most 2.0" awk -v x="${x:-99}" 'BEGIN { exit !(x <= 2.0) }'
done
case_end

case_begin 'the security check above can fail: an unhardened service rates above 2.0'
printf '[Service]\nExecStart=%s version\n' "$P/bin/sluice" >"$T/plain.service"
x=$(exposure "$T/plain.service")
expect_ok "an unhardened service rates above 2.0 (got '$x')" awk -v x="${x:-0}" 'BEGIN { exit !(x > 2.0) }'
case_end

done_testing
