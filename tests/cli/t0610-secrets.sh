#!/bin/sh
# Secret bindings (docs/secrets.md): a missing secret blocks the stage and
# is audited once; the env, exec and vault-kv2 providers answer with
# metadata only, and their failures are clear errors naming the provider;
# vault-kv2 is asked only for /metadata/, never /data/, over verified TLS;
# and a secret's value reaches no byte Sluice writes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
SRV=
trap 'st=$?; [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; (exit $st); _tl_exit' EXIT
MARK=canary-value-$$-7f3a9c1e
MSG="secret CODEX_PLUGIN_TOKEN: enterprise-secrets has no codex/backend-pr-reviewer/service-token"
VAR=SLUICE_SECRET_CODEX_BACKEND_PR_REVIEWER_SERVICE_TOKEN
setup_admin
unset $VAR
WS=$R/workspaces/engineering.yaml
# provider TEXT: the settings of enterprise-secrets (after "type: ")
provider() {
	sed -i "s|^  enterprise-secrets: .*|  enterprise-secrets: {$1, allowed_prefixes: [codex/]}|" "$WS"
	grep -qF "enterprise-secrets: {$1," "$WS" || bail "cannot set the provider to $1"
}
# the provider on one line, so that provider() can replace it
sed -i -e '/^  enterprise-secrets: {type: env,$/{N;s/\n */ /}' "$WS"
grep -q '^  enterprise-secrets: {type: env, allowed_prefixes: \[codex/\]}$' "$WS" || bail "cannot join the provider's lines"
audits() { sq "SELECT count(*) FROM audit WHERE action = '$1'"; }

case_begin 'env: an unset variable blocks the first stage, audited once'
record
make_ready 0.1.0 $D1
reconcile_at $D2
expect_no_out "start stage"
reconcile_at 2026-12-01T12:00:00Z
S status -o json --now 2026-12-01T12:00:00Z
expect_rc 0
expect_eq "secret $MSG" "$(js '.plugins[0].rollout.blocked_by[] | select(.kind == "secret") | "\(.kind) \(.message)"')" blocked_by
expect_eq 1 "$(audits secret.missing)" "secret.missing audited once"
S secrets check --now 2026-12-01T12:00:00Z
expect_rc 1
expect_out "enterprise-secrets has no codex/backend-pr-reviewer/service-token"
case_end

case_begin 'env: the variable set, the stage starts and secret.present is audited once'
export $VAR=$MARK
reconcile_at 2026-12-01T13:00:00Z
expect_out "start stage devex-dogfood"
reconcile_at 2026-12-01T14:00:00Z
expect_eq 1 "$(audits secret.present)" "secret.present audited once"
S secrets check -o json --now 2026-12-01T14:00:00Z
expect_rc 0
expect_eq "CODEX_PLUGIN_TOKEN enterprise-secrets true true" \
	"$(js '.bindings[0] | "\(.variable) \(.provider) \(.exists) \(.needed)"')" binding
# the publish that started the stage carries the check it started on; a
# re-check alone does not rewrite effective.json (docs/secrets.md)
expect_eq 2026-12-01T13:00:00Z "$(eff '.groups["platform-devex"][0].secrets.CODEX_PLUGIN_TOKEN.checked_at')" checked_at published
case_end

case_begin 'check_every: a present secret is not asked again within 10 minutes'
unset $VAR
reconcile_at 2026-12-01T14:05:00Z
expect_eq 1 "$(sq "SELECT present FROM secret_checks")" "still the cached answer"
S secrets check --refresh --now 2026-12-01T14:06:00Z
expect_rc 1
expect_eq 0 "$(sq "SELECT present FROM secret_checks")" "--refresh asked again"
export $VAR=$MARK
case_end

# ---- exec -------------------------------------------------------------------
H=$T/helper
cat >"$H" <<'HELPER'
#!/bin/sh
req=$(cat)
case $(cat "$(dirname "$0")/helper-mode") in
ok) echo "$req" >"$(dirname "$0")/helper-request"
    echo '{"exists": true, "version": 7, "updated_at": "2026-11-30T09:00:00Z"}' ;;
absent) echo '{"exists": false}' ;;
hang) sleep 30 ;;
crash) exit 3 ;;
garbage) echo 'this is not json' ;;
much) head -c 200000 /dev/zero | tr '\0' x ;;
esac
HELPER
chmod +x "$H"
provider "type: exec, command: [\"$H\"], timeout: 1s"
check_exec() { # MODE RC TEXT
	echo "$1" >"$T/helper-mode"
	S secrets check --refresh --now 2026-12-01T15:00:00Z
	expect_rc "$2"
	expect_out "$3"
}
case_begin 'exec: a helper that answers'
check_exec ok 0 "CODEX_PLUGIN_TOKEN"
expect_out " 7 "
expect_eq "codex/backend-pr-reviewer/service-token engineering backend-pr-reviewer" \
	"$(jq -r '"\(.name) \(.workspace) \(.plugin)"' "$T/helper-request")" request
check_exec absent 1 "enterprise-secrets has no codex/backend-pr-reviewer/service-token"
case_end
case_begin 'exec: a helper that hangs is killed after the timeout'
check_exec hang 1 "secret provider 'enterprise-secrets': helper $H did not answer within 1000 ms and was killed"
case_end
case_begin 'exec: crash, garbage, too much'
check_exec crash 1 "secret provider 'enterprise-secrets': helper $H exited with status 3"
check_exec garbage 1 "secret provider 'enterprise-secrets': helper $H did not answer with a JSON object"
check_exec much 1 "secret provider 'enterprise-secrets': helper $H printed more than 64 KiB"
case_end

# ---- vault-kv2 --------------------------------------------------------------
V=$T/vault
mkdir -p "$V"
printf '%s' "$MARK" >"$V/canary"
echo present >"$V/mode"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout "$V/ca.key" \
	-out "$V/ca.pem" 2>/dev/null || bail "openssl: cannot make the CA"
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$V/srv.key" -out "$V/srv.csr" \
	2>/dev/null || bail "openssl: cannot make the server key"
printf 'subjectAltName=IP:127.0.0.1\n' >"$V/ext"
openssl x509 -req -in "$V/srv.csr" -CA "$V/ca.pem" -CAkey "$V/ca.key" -CAcreateserial -days 2 \
	-extfile "$V/ext" -out "$V/srv.pem" 2>/dev/null || bail "openssl: cannot sign the server cert"
python3 "$SRC/tests/fixtures/secrets/vault-server.py" "$V" "$V/srv.pem" "$V/srv.key" &
SRV=$!
for i in $(seq 50); do [ -f "$V/port" ] && break; sleep 0.1; done
[ -f "$V/port" ] || bail "the vault test server did not start"
PORT=$(cat "$V/port")
export VAULT_TEST_TOKEN=tok-$MARK
provider "type: vault-kv2, address: \"https://127.0.0.1:$PORT\", mount: secret, token_env: VAULT_TEST_TOKEN, ca_bundle: $V/ca.pem, timeout: 2s"
check_vault() { # MODE RC TEXT
	echo "$1" >"$V/mode"
	S secrets check --refresh --now 2026-12-01T16:00:00Z
	expect_rc "$2"
	expect_out "$3"
}
case_begin 'vault-kv2: present, with its version and age'
check_vault present 0 "CODEX_PLUGIN_TOKEN"
S secrets check -o json --now 2026-12-01T16:00:00Z
expect_rc 0
expect_eq "true 3 2026-11-20T10:00:00Z 11" "$(js '.bindings[0] | "\(.exists) \(.version) \(.updated_at) \(.age_days)"')" metadata
expect_eq "/v1/secret/metadata/codex/backend-pr-reviewer/service-token ns=-" "$(tail -n 1 "$V/paths")" path
case_end
case_begin 'vault-kv2: 404, 403, deleted, malformed'
check_vault missing 1 "enterprise-secrets has no codex/backend-pr-reviewer/service-token"
check_vault forbidden 1 "secret provider 'enterprise-secrets': token may not read metadata for codex/backend-pr-reviewer/service-token"
check_vault deleted 1 "enterprise-secrets has no codex/backend-pr-reviewer/service-token"
check_vault malformed 1 "secret provider 'enterprise-secrets': the answer for codex/backend-pr-reviewer/service-token is not KV v2 metadata"
case_end
case_begin 'vault-kv2: 500 twice, then the retry succeeds'
rm -f "$V/count"
check_vault flaky 0 "CODEX_PLUGIN_TOKEN"
expect_eq 3 "$(cat "$V/count")" "three requests"
case_end
case_begin 'vault-kv2: slower than the timeout'
check_vault slow 1 "secret provider 'enterprise-secrets': https://127.0.0.1:$PORT did not answer within 2000 ms"
case_end
case_begin 'vault-kv2: a namespace is sent'
sed -i 's|mount: secret,|mount: secret, namespace: team-a,|' "$WS"
check_vault present 0 "CODEX_PLUGIN_TOKEN"
expect_eq "ns=team-a" "$(tail -n 1 "$V/paths" | cut -d' ' -f2)" namespace
case_end
case_begin 'vault-kv2: connection refused, and an untrusted certificate'
sed -i "s|127.0.0.1:$PORT|127.0.0.1:1|" "$WS"
check_vault present 1 "secret provider 'enterprise-secrets': cannot reach https://127.0.0.1:1"
sed -i "s|127.0.0.1:1|127.0.0.1:$PORT|; s|, ca_bundle: [^,]*,|,|" "$WS"
check_vault present 1 "secret provider 'enterprise-secrets': cannot reach https://127.0.0.1:$PORT"
sed -i "s|token_env: VAULT_TEST_TOKEN,|token_env: VAULT_TEST_TOKEN, ca_bundle: $V/ca.pem,|" "$WS"
check_vault present 0 "CODEX_PLUGIN_TOKEN"
case_end
case_begin 'vault-kv2: no request ever went to /data/'
expect_eq 0 "$(grep -c /data/ "$V/paths")" "/data/ requests"
case_end

case_begin 'file: a mode wider than 0600 is an error naming the mode, 0600 is present'
mkdir -p "$R/secrets-dir/codex/backend-pr-reviewer"
printf '%s' "$MARK" >"$R/secrets-dir/codex/backend-pr-reviewer/service-token"
chmod 644 "$R/secrets-dir/codex/backend-pr-reviewer/service-token"
provider "type: file, dir: secrets-dir"
S secrets check --refresh --now 2026-12-01T17:00:00Z
expect_rc 1
expect_out "secret provider 'enterprise-secrets': codex/backend-pr-reviewer/service-token has mode 0644, wider than 0600"
chmod 600 "$R/secrets-dir/codex/backend-pr-reviewer/service-token"
S secrets check --refresh -o json --now 2026-12-01T17:00:00Z
expect_rc 0
expect_eq "true" "$(js '.bindings[0].exists')" "file present"
case_end

case_begin 'canary: the value is in no byte Sluice wrote or printed'
# env, file, vault token and vault /data/ all hold it; a full rollout on
# the file provider, then every reader
S reconcile -v --now 2026-12-02T09:00:00Z
expect_rc 0
cp "$T/out" "$T/all"; cat "$T/err" >>"$T/all"
S promote $PLUGIN --reason pilot --as admin-ana --now 2026-12-02T10:00:00Z
expect_rc 0
cat "$T/out" "$T/err" >>"$T/all"
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2026-12-03T09:00:00Z
expect_rc 0
S promote $PLUGIN --reason general --as admin-ana --now 2026-12-03T09:00:00Z
expect_rc 0
cat "$T/out" "$T/err" >>"$T/all"
for cmd in "reconcile -v" "secrets check -o json" "status" "status -o json" "history $PLUGIN"; do
	# shellcheck disable=SC2086
	S $cmd --now 2026-12-03T10:00:00Z
	expect_rc 0
	cat "$T/out" "$T/err" >>"$T/all"
done
expect_eq 0 "$(grep -c "$MARK" "$T/all")" "marker in stdout/stderr"
expect_eq "" "$(grep -rl --exclude-dir=secrets-dir "$MARK" "$R")" "files under the root holding the marker"
expect_eq 0 "$(cat "$R"/.sluice/sluice.db* | grep -c "$MARK")" "marker in the database and its WAL"
case_end

kill "$SRV" 2>/dev/null
SRV=
done_testing
