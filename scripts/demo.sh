#!/bin/sh
# Replays a staged rollout of the reference plugin with --now: a temporary
# administrators' root, the example repositories (v0.1.0, then v0.1.1
# mid-rollout), checklist attestations and approvals by admin-ana at the
# right moments, the year-end freeze window holding a stage, and the final
# status and what one user gets.
#
# Usage: scripts/demo.sh path/to/sluice
# Leaves the administrators' repository in <dir of sluice>/demo/admin.
set -eu

S=${1:?usage: scripts/demo.sh path/to/sluice}
case $S in /*) ;; *) S=$(pwd)/$S ;; esac
[ -x "$S" ] || { echo "demo: $S is not an executable; run 'make demo'" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
src=$here/..

# The replayed workspace stays next to the binary (build/demo), so that it
# can be explored afterwards; each run starts it afresh.
D=$(cd "$(dirname "$S")" && pwd)/demo
rm -rf "$D"
mkdir -p "$D"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C TZ=UTC
unset SLUICE_ACTOR

R=$D/admin
mkdir -p "$R"
cp -R "$src/workspaces" "$src/rollouts" "$src/groups" "$R/"
sed -e "s|file:///srv/git|file://$D/git|" -e 's|identity: os-user|identity: asserted|' \
	"$src/workspaces/engineering.yaml" >"$R/workspaces/engineering.yaml"
# the example's Vault does not exist here: the env provider binds the
# plugin's secret instead (docs/secrets.md)
sed -i -e 's|{type: vault-kv2, address: https://vault.acme.example, mount: secret,|{type: env,|' \
	-e 's|^\( *\)token_env: VAULT_TOKEN, allowed_prefixes|\1allowed_prefixes|' "$R/workspaces/engineering.yaml"
grep -q 'enterprise-secrets: {type: env,' "$R/workspaces/engineering.yaml" ||
	{ echo "demo: cannot point enterprise-secrets at the env provider" >&2; exit 1; }
SLUICE_SECRET_CODEX_BACKEND_PR_REVIEWER_SERVICE_TOKEN=demo-token-not-a-secret
export SLUICE_SECRET_CODEX_BACKEND_PR_REVIEWER_SERVICE_TOKEN
# the webhook endpoint of the example is not running here
sed -i '/^notifications:/,$d' "$R/workspaces/engineering.yaml"

has() { "$S" "$1" -h >/dev/null 2>&1; }
sl() { "$S" --root "$R" "$@"; }
P=backend-pr-reviewer

say() { printf '\n%s\n' "$*"; }
# act DATE WHO CMD...: an administrator's action, shown as typed
act() {
	when=$1 who=$2
	shift 2
	if ! has "$1"; then
		echo "  (skipped: 'sluice $1' is not in this build yet)"
		return 0
	fi
	echo "  \$ sluice $* --as $who"
	sl "$@" --as "$who" --now "$when" 2>&1 | sed 's/^/    /'
}

# telemetry_day DATE: the day's telemetry from every group that has the
# plugin (scripts/demo-telemetry.sh writes it: 25 tool calls with one error
# and one "up" rating per group and version), ingested before the day's
# reconcile so that the policy's health gates have data to decide on
# (docs/telemetry.md). A real workspace gets these from its producers.
telemetry_day() {
	has telemetry || return 0
	f=$D/telemetry-$1.jsonl
	: >"$f"
	for g in platform-devex backend-engineers-pilot backend-engineers staff-engineers; do
		sl resolve --group "$g" -o json --now "$1T08:00:00Z" 2>/dev/null |
			sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' |
			while read -r v; do
				"$here/demo-telemetry.sh" "$P" "$v" "$g" "$1" >>"$f"
			done
	done
	[ -s "$f" ] && sl telemetry ingest "$f" -q --now "$1T08:00:00Z"
	return 0
}

say "== the example repository: v0.1.0 =="
"$src/scripts/make-example-repos.sh" "$D/git" v0.1.0 | sed 's/^/  /'

say "== a day-by-day replay from 2026-12-01 (freeze window 2026-12-20 .. 2027-01-04) =="
start=$(date -u -d 2026-12-01T09:00:00Z +%s)
day=0
while [ $day -le 40 ]; do
	now=$(date -u -d "@$((start + day * 86400))" +%Y-%m-%dT%H:%M:%SZ)
	d=${now%%T*}
	case $d in 2026-12-01 | 2026-12-10 | 2026-12-11 | 2026-12-21) echo "-- $d" ;; esac
	case $d in
	2026-12-01)
		sl reconcile --now "$now" | sed 's/^/  /'
		echo "  what holds it:"
		sl plan --now "$now" | sed -n 's/^  /    /p'
		act "$now" ci-bot attest "$P@0.1.0" contract-tests --evidence https://ci.acme.example/runs/101
		act "$now" admin-ana attest "$P@0.1.0" security-review --evidence https://sec.acme.example/reviews/7
		act "$now" admin-ana approve "$P@0.1.0" --stage devex-dogfood --comment "dogfood on platform-devex"
		;;
	2026-12-10)
		echo "  a new release is tagged mid-rollout:"
		"$src/scripts/make-example-repos.sh" "$D/git" v0.1.1 | sed 's/^/    /'
		;;
	2026-12-11)
		act "$now" ci-bot attest "$P@0.1.1" contract-tests --evidence https://ci.acme.example/runs/118
		act "$now" admin-ana attest "$P@0.1.1" security-review --evidence https://sec.acme.example/reviews/9
		act "$now" admin-ana approve "$P@0.1.1" --stage devex-dogfood
		;;
	2026-12-21)
		act "$now" admin-ana approve "$P@0.1.0" --stage backend-general --comment "pilot went well"
		echo "  what holds it:"
		sl plan --now "$now" | sed -n 's/^  /    /p'
		;;
	esac
	telemetry_day "$d"
	out=$(sl reconcile --now "$now")
	if [ -n "$out" ]; then
		case $d in 2026-12-01 | 2026-12-10 | 2026-12-11 | 2026-12-21) ;; *) echo "-- $d" ;; esac
		printf '%s\n' "$out" | sed 's/^/  /'
	fi
	day=$((day + 1))
done

say "== what happens next if nothing changes (plan --at 2027-02-15) =="
sl plan --now "$now" --at 2027-02-15 | sed 's/^/  /'

say "== status =="
sl status --now "$now" | sed 's/^/  /'

if has resolve; then
	say "== what carol gets =="
	sl resolve --user carol --now "$now" | sed 's/^/  /'
else
	say "(skipped 'sluice resolve --user carol': not in this build yet)"
fi

say "== published: $R/.sluice/published/effective.json (groups) =="
if command -v jq >/dev/null 2>&1; then
	jq -r '.groups | to_entries[] | "  \(.key): \([.value[] | "\(.id)@\(.version)"] | join(", "))"' \
		"$R/.sluice/published/effective.json"
fi
sl audit verify --now "$now" | sed 's/^/  /'

say "== explore it yourself =="
echo "  the replayed workspace is in $R (its clock is $now):"
echo "  $S --root $R status --now $now"
echo "  $S --root $R resolve --user carol --now $now"
echo "  $S --root $R history $P --now $now"
