#!/bin/sh
# Client conformance: what the codex publisher writes, judged by the real
# Codex CLI (docs/testing.md, "Client conformance"). The reference plugin's
# 30-day rollout of tests/cli/t0801 is replayed with --now and published
# with `publish.type: codex`; after each stage starts, after a rollback and
# after a withdraw, every group's directory is read by Codex itself:
#
#   codex mcp list --json       the group's plugins enabled with their url,
#                               bearer token variable and tool timeout; a
#                               server the user added that the group may not
#                               run disabled "by requirements"
#   codex plugin marketplace add, plugin list, plugin add
#                               each plugin at the group's version, installable
#
# Each check runs Codex offline (its own network namespace: nothing but a
# loopback that is down) with a fresh CODEX_HOME, and /etc/codex bound to
# the group's directory in a private mount namespace, so the machine's own
# /etc/codex is never written. Needs root (unshare -m).
#
# Usage: tests/conformance/run.sh SLUICE CODEX OUTDIR
#   OUTDIR keeps the users' CODEX_HOMEs of the last run and the saved
#   `codex mcp list --json` outputs (mcp-list-<group>.json).
set -u
[ $# = 3 ] || { echo "usage: $0 SLUICE CODEX OUTDIR" >&2; exit 129; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
SLUICE=$(abs "$1")
CODEX=$(abs "$2")
OUT=$(abs "$3")
[ -x "$SLUICE" ] || { echo "conformance: no sluice binary at $SLUICE; build it first (make conformance)" >&2; exit 1; }
[ -x "$CODEX" ] || { echo "conformance: no codex binary at $CODEX; install it first (make conformance)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "conformance: needs root to bind /etc/codex in a private mount namespace (unshare -m); run as root" >&2; exit 1; }
# inside a chroot whose root is not a mount point the kernel refuses a
# private namespace: say so, rather than failing every check
unshare --mount --propagation private true 2>/dev/null || {
	echo "conformance: cannot make a private mount namespace here (unshare --mount --propagation private); in a chroot, bind-mount its root onto itself first (mount --bind ROOT ROOT)" >&2
	exit 1
}
export SLUICE
SLUICE_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
export SLUICE_SOURCE_DIR
. "$SLUICE_SOURCE_DIR/tests/cli/lib.sh"
. "$SLUICE_SOURCE_DIR/tests/cli/lib-ops.sh"

# The CODEX_HOMEs live under OUTDIR, not under $T: Codex refuses to put its
# helper binaries under the temporary directory and says so on every run.
HOMES=$OUT/homes
rm -rf "$HOMES" "$OUT"/mcp-list-*.json
mkdir -p "$HOMES" || bail "cannot make $HOMES"
# The mount point must exist; its content is never touched.
ETC_CREATED=
[ -d /etc/codex ] || { mkdir /etc/codex && ETC_CREATED=1; } || bail "cannot make /etc/codex"
etc_before=$(ls -la /etc/codex)

setup_admin
ws_edit 's|^publish: {type: directory, path: .sluice/published}|publish: {type: codex, path: .sluice/published}|'
CX=$R/.sluice/published/codex
GROUPS="platform-devex backend-engineers-pilot backend-engineers staff-engineers"
URL=https://reviewer.staging.acme.example/mcp
TOKEN=CODEX_PLUGIN_TOKEN
NOTES=https://notes.acme.example/mcp
REASON="requirements (/etc/codex/requirements.toml)"
echo "conformance: $("$CODEX" --version) judging $SLUICE"

# A user's own config.toml: the plugin's server added by hand (what a user
# of a group that does not get it yet might try) and a server of their own.
USER_CONFIG="[mcp_servers.$PLUGIN]
url = \"$URL\"

[mcp_servers.my-notes]
url = \"$NOTES\"
"

# fresh_home NAME [CONFIG]: a new, empty CODEX_HOME in $H (with CONFIG as
# its config.toml)
fresh_home() {
	H=$HOMES/$1
	rm -rf "$H"
	mkdir -p "$H" || bail "cannot make $H"
	[ $# -lt 2 ] || printf '%s' "$2" >"$H/config.toml"
}

# cx DIR ARGS...: the real Codex with CODEX_HOME=$H as a user of the group
# whose directory is DIR: /etc/codex is DIR in a private mount namespace,
# and there is no network. Through run(): check it with expect_rc.
cx() {
	cx_dir=$1
	shift
	run unshare --mount --net --propagation private sh -c \
		'mount --bind "$1" /etc/codex && cd "$2" && shift 2 && exec "$@"' \
		cx "$cx_dir" "$H" env CODEX_HOME="$H" "$CODEX" "$@"
}

# mcp_view: the servers of the last `codex mcp list --json`, one a line
mcp_view() {
	js '.[] | "\(.name) enabled=\(.enabled) url=\(.transport.url // .transport.command)" +
		" token=\(.transport.bearer_token_env_var) timeout=\(.tool_timeout_sec) reason=\(.disabled_reason)"'
}
ENABLED="$PLUGIN enabled=true url=$URL token=$TOKEN timeout=30 reason=null"
REFUSED="$PLUGIN enabled=false url=$URL token=null timeout=null reason=$REASON"
NOTES_REFUSED="my-notes enabled=false url=$NOTES token=null timeout=null reason=$REASON"

# check_group GROUP VERSION: what Codex shows a user of GROUP, which gets the
# plugin at VERSION ("-": not at all)
check_group() {
	g=$1
	v=$2
	d=$CX/$g
	market=engineering-$g
	# the managed servers alone: exactly the group's plugins, enabled
	fresh_home "$g"
	cx "$d" mcp list --json
	expect_rc 0
	if [ "$v" = - ]; then want=; else want=$ENABLED; fi
	expect_eq "$want" "$(mcp_view)" "$g: codex mcp list, no user config"
	# the user's own servers: only what requirements.toml allows runs
	fresh_home "$g-user" "$USER_CONFIG"
	cx "$d" mcp list --json
	expect_rc 0
	if [ "$v" = - ]; then want=$REFUSED; else want=$ENABLED; fi
	expect_eq "$want
$NOTES_REFUSED" "$(mcp_view)" "$g: codex mcp list with the user's own servers"
	# the marketplace: the plugin at the group's version, and installable
	fresh_home "$g-market"
	cx "$d" plugin marketplace add "$d/marketplace" --json
	expect_rc 0
	expect_eq "$market" "$(js .marketplaceName)" "$g: marketplace name"
	cx "$d" plugin list --json --available
	expect_rc 0
	if [ "$v" = - ]; then want=; else want="$PLUGIN@$market $v INSTALLED_BY_DEFAULT"; fi
	expect_eq "$want" "$(js '.available[] | "\(.pluginId) \(.version) \(.installPolicy)"')" \
		"$g: codex plugin list --available"
	[ "$v" != - ] || return 0
	cx "$d" plugin add "$PLUGIN@$market" --json
	expect_rc 0
	expect_eq "$v" "$(js .version)" "$g: codex plugin add installs"
	cx "$d" plugin list --json
	expect_rc 0
	expect_eq "$PLUGIN@$market $v installed=true enabled=true" \
		"$(js '.installed[] | "\(.pluginId) \(.version) installed=\(.installed) enabled=\(.enabled)"')" \
		"$g: codex plugin list after plugin add"
	cx "$d" mcp list --json
	expect_rc 0
	expect_eq "$ENABLED" "$(mcp_view)" "$g: codex mcp list with the plugin installed"
}

# check_groups GROUP=VERSION...: check_group for each; the groups not named
# get nothing
check_groups() {
	for cg in $GROUPS; do
		cv=-
		for cs in "$@"; do
			[ "${cs%%=*}" != "$cg" ] || cv=${cs#*=}
		done
		check_group "$cg" "$cv"
	done
}

# save_mcp_list GROUP: the user's `codex mcp list --json` in OUTDIR, printed
save_mcp_list() {
	fresh_home "$1-saved" "$USER_CONFIG"
	cx "$CX/$1" mcp list --json
	expect_rc 0
	cp "$T/out" "$OUT/mcp-list-$1.json" || fail "cannot save $OUT/mcp-list-$1.json"
	echo "--- $OUT/mcp-list-$1.json (codex mcp list --json, $1, $2)"
	cat "$OUT/mcp-list-$1.json"
}

case_begin '12-01, recorded, no stage yet: no group may run any MCP server'
record
check_groups
case_end

case_begin '12-01, stage 1 (devex-dogfood) starts: platform-devex gets 0.1.0'
start_rollout
check_groups platform-devex=0.1.0
case_end

case_begin '12-08, stage 2 (backend-pilot) starts: the pilot group gets 0.1.0 too'
reconcile_at 2026-12-08T11:00:00Z
expect_out "start stage backend-pilot (2)"
check_groups platform-devex=0.1.0 backend-engineers-pilot=0.1.0
save_mcp_list backend-engineers-pilot "12-08, stage 2"
save_mcp_list backend-engineers "12-08, stage 2"
case_end

case_begin '12-31, day 30: the freeze window holds stage 3; nothing changed for Codex'
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2026-12-23T15:00:00Z
expect_rc 0
reconcile_at 2026-12-31T09:00:00Z
expect_eq "" "$(cat "$T/out")" "pass on day 30"
check_groups platform-devex=0.1.0 backend-engineers-pilot=0.1.0
case_end

case_begin '2027-01-04, stage 3 (backend-general) starts: backend-engineers gets 0.1.0'
reconcile_at 2027-01-04T00:30:00Z
expect_out "start stage backend-general (3)"
expect_out "$PLUGIN@0.1.0: complete"
check_groups platform-devex=0.1.0 backend-engineers-pilot=0.1.0 backend-engineers=0.1.0
case_end

case_begin '01-05, 0.1.1 stage 1 starts: platform-devex gets 0.1.1, the others keep 0.1.0'
example_tags v0.1.1
reconcile_at 2027-01-05T09:00:00Z
expect_out "recorded release 0.1.1"
make_ready 0.1.1 2027-01-05T09:10:00Z
reconcile_at 2027-01-05T10:00:00Z
expect_out "$PLUGIN@0.1.1: start stage devex-dogfood (1)"
check_groups platform-devex=0.1.1 backend-engineers-pilot=0.1.0 backend-engineers=0.1.0
case_end

case_begin '01-06, rollback of 0.1.1: platform-devex is back on 0.1.0'
S rollback $PLUGIN --reason "error rate" --as admin-ana --now 2027-01-06T09:00:00Z
expect_rc 0
reconcile_at 2027-01-06T09:05:00Z
check_groups platform-devex=0.1.0 backend-engineers-pilot=0.1.0 backend-engineers=0.1.0
case_end

case_begin '01-07, withdraw: no group may run the plugin any more'
S withdraw $PLUGIN --reason incident --as admin-ana --now 2027-01-07T09:00:00Z
expect_rc 0
reconcile_at 2027-01-07T09:05:00Z
check_groups
case_end

case_begin 'the machine'"'"'s own /etc/codex is untouched'
expect_eq "$etc_before" "$(ls -la /etc/codex)" "/etc/codex after the suite"
expect_not "/etc/codex is not a mount point outside the namespaces" mountpoint -q /etc/codex
case_end

[ -z "$ETC_CREATED" ] || rmdir /etc/codex 2>/dev/null
done_testing
