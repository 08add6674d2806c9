#!/bin/sh
# The secrets benchmark (issue 10): BENCH_PLUGINS (default 1000) plugins,
# each binding one secret, with the pilot stage of every release started
# (so every secret is needed by the next stage). Two roots over the same
# repositories, one whose provider is `env`, one `vault-kv2` against a
# loopback HTTPS server (tests/fixtures/secrets/vault-server.py, a CA made
# here). Timed:
#   (a) a no-op `sluice reconcile --no-fetch` with a warm cache (every
#       secret checked within check_every), best of three, per provider;
#   (b) a no-op pass after check_every ran out (every secret asked again).
# Provider calls per pass are counted in the server's request log (and in
# `reconcile -v`'s "secrets:" line).
# Target: (a) with vault-kv2 within 1.5x of (a) with env.
# Usage: bench/reconcile/secrets.sh path/to/sluice
set -eu
SLUICE=${1:?usage: bench/reconcile/secrets.sh path/to/sluice}
N=${BENCH_PLUGINS:-1000}
here=$(cd "$(dirname "$0")" && pwd)
SRC=$here/../..
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-secrets.XXXXXX")
SRV=
cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] && echo "keeping $W" || rm -rf "$W"
}
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$W/home" LC_ALL=C TZ=UTC
mkdir -p "$HOME" "$W/git/bench"

. "$here/lib.sh"
DEPLOY_EXTRA='secrets:\n  CODEX_PLUGIN_TOKEN: {provider: bench-secrets, name: codex/@ID@/service-token}\n'
make_repos

# ---- the loopback vault ------------------------------------------------------
V=$W/vault
mkdir -p "$V"
echo present >"$V/mode"
echo unused >"$V/canary"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout "$V/ca.key" \
	-out "$V/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$V/srv.key" -out "$V/srv.csr" \
	2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$V/ext"
openssl x509 -req -in "$V/srv.csr" -CA "$V/ca.pem" -CAkey "$V/ca.key" -CAcreateserial -days 2 \
	-extfile "$V/ext" -out "$V/srv.pem" 2>/dev/null
python3 "$SRC/tests/fixtures/secrets/vault-server.py" "$V" "$V/srv.pem" "$V/srv.key" &
SRV=$!
for _ in $(seq 50); do [ -f "$V/port" ] && break; sleep 0.1; done
[ -f "$V/port" ] || { echo "the vault server did not start" >&2; exit 1; }
: >"$V/paths"
export BENCH_VAULT_TOKEN=bench-token

# the env provider's variables, one per plugin
for f in "$W"/git/bench/*.git; do
	id=$(basename "$f" .git | tr '[:lower:]' '[:upper:]')
	export "SLUICE_SECRET_CODEX_BENCH_${id}_SERVICE_TOKEN=bench-value"
done

calls() { wc -l <"$V/paths" | tr -d ' '; }
D0=2027-03-01T09:00:00Z  # records every release, checks its secret, starts pilot
WARM=2027-03-01T09:05:00Z # within check_every (10 minutes) of D0
COLD=2027-03-01T09:20:00Z # after it: every present secret is asked again
WARM2=2027-03-01T09:25:00Z

for kind in env vault; do
	R=$W/root-$kind
	mkdir -p "$R/workspaces"
	if [ "$kind" = env ]; then
		p="  bench-secrets: {type: env, allowed_prefixes: [codex/]}"
	else
		p="  bench-secrets: {type: vault-kv2, address: \"https://127.0.0.1:$(cat "$V/port")\", mount: secret, token_env: BENCH_VAULT_TOKEN, ca_bundle: $V/ca.pem, allowed_prefixes: [codex/]}"
	fi
	write_workspace "$R/workspaces/bench.yaml" "secret_providers:" "$p"
	"$SLUICE" --root "$R" fetch -q
	c0=$(calls)
	timed "first pass ($kind)" "$SLUICE" --root "$R" reconcile --no-fetch -v --now "$D0"
	started=$(grep -c ': start stage pilot' "$W/out.txt" || true)
	[ "$started" -eq "$N" ] || { echo "$kind: expected $N pilot starts, got $started" >&2; tail -3 "$W/out.txt" >&2; exit 1; }
	first=$secs first_calls=$(($(calls) - c0))
	first_line=$(grep '^secrets:' "$W/out.txt")

	c0=$(calls)
	best3 "warm no-op ($kind)" "$SLUICE" --root "$R" reconcile --no-fetch --now "$WARM"
	[ ! -s "$W/out.txt" ] || { echo "$kind: the no-op pass did something:" >&2; head -3 "$W/out.txt" >&2; exit 1; }
	warm=$secs warm_rss=$rss_mb warm_calls=$((($(calls) - c0) / 3))
	timed "warm -v ($kind)" "$SLUICE" --root "$R" reconcile --no-fetch -v --now "$WARM"
	warm_line=$(grep '^secrets:' "$W/out.txt")

	c0=$(calls)
	timed "cold no-op ($kind)" "$SLUICE" --root "$R" reconcile --no-fetch -v --now "$COLD"
	cold=$secs cold_calls=$(($(calls) - c0))
	cold_line=$(grep '^secrets:' "$W/out.txt")
	c0=$(calls)
	best3 "warm no-op again ($kind)" "$SLUICE" --root "$R" reconcile --no-fetch --now "$WARM2"
	warm2=$secs
	[ "$(calls)" -eq "$c0" ] || { echo "$kind: a warm pass asked the server" >&2; exit 1; }

	eval "${kind}_warm=\$warm ${kind}_warm2=\$warm2 ${kind}_cold=\$cold"
	echo "$kind:"
	echo "  first pass (records, checks, starts pilot): ${first} s, ${first_calls} server requests; $first_line"
	echo "  warm no-op pass:  ${warm} s (again after the cold pass: ${warm2} s), peak RSS ${warm_rss} MB, ${warm_calls} server requests per pass; $warm_line"
	echo "  cold no-op pass:  ${cold} s, ${cold_calls} server requests; $cold_line"
done
grep -q /data/ "$V/paths" && { echo "a request went to /data/" >&2; exit 1; }

echo
echo "plugins: $N, one vault-kv2 or env secret each, pilot started (the secret needed)"
echo "warm no-op pass: env ${env_warm} s, vault-kv2 ${vault_warm} s: $(ratio "$vault_warm" "$env_warm")x"
echo "cold no-op pass: env ${env_cold} s, vault-kv2 ${vault_cold} s: $(ratio "$vault_cold" "$env_cold")x"
status=0
if awk -v a="$vault_warm" -v b="$env_warm" 'BEGIN { exit !(a <= 1.5 * b) }'; then
	echo "  met:    a warm no-op pass with vault-kv2 within 1.5x of env"
else
	echo "  missed: a warm no-op pass with vault-kv2 within 1.5x of env"
	status=1
fi
exit $status
