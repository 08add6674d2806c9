#!/bin/sh
# max_age_days (docs/secrets.md): a secret older than its provider's limit
# is a warning, not a block: `secrets check` and `status` (text and -o json
# `warnings`) say so and name the provider; the stage still starts; a
# fresh secret, or a provider without the limit, gives no warning. And
# `reconcile -v` counts the checks a pass made.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
WS=$R/workspaces/engineering.yaml
SECRET=$R/secrets-dir/codex/backend-pr-reviewer/service-token
mkdir -p "$(dirname "$SECRET")"
printf x >"$SECRET"
chmod 600 "$SECRET"
touch -d 2026-08-01T00:00:00Z "$SECRET"
sed -i -e '/^  enterprise-secrets: {type: env,$/{N;s/\n */ /}' "$WS"
provider() {
	sed -i "s|^  enterprise-secrets: .*|  enterprise-secrets: {$1, allowed_prefixes: [codex/]}|" "$WS"
	grep -qF "enterprise-secrets: {$1," "$WS" || bail "cannot set the provider to $1"
}
WARN="older than 90 days (max_age_days of enterprise-secrets); rotate it"

case_begin 'a secret older than max_age_days is a warning in secrets check, not a block'
provider "type: file, dir: secrets-dir, max_age_days: 90"
record
start_rollout
expect_eq "0.1.0 in_progress devex-dogfood" "$(rollout_of $D2)" "the stage started anyway"
S secrets check -o json --now $D2
expect_rc 0
expect_eq "$WARN" "$(js '.bindings[0].warning')" "secrets check warning"
expect_eq 122 "$(js '.bindings[0].age_days')" "age_days"
S secrets check --now $D2
expect_rc 0
expect_out "warning: $WARN"
case_end

case_begin 'status shows the warning, in text and in -o json warnings'
S status -o json --now $D2
expect_rc 0
expect_eq "secret CODEX_PLUGIN_TOKEN of 0.1.0: $WARN" "$(js '.plugins[0].warnings[0]')" "status warnings"
expect_eq 1 "$(js '.plugins[0].warnings | length')" "one warning"
expect_eq 0 "$(js '[.plugins[0].rollout.blocked_by[] | select(.kind == "secret")] | length')" "no secret block"
S status --now $D2
expect_rc 0
expect_out "  warning: secret CODEX_PLUGIN_TOKEN of 0.1.0: $WARN"
case_end

case_begin 'a fresh secret gives no warning once checked again'
touch -d 2026-11-30T00:00:00Z "$SECRET"
S secrets check --refresh -o json --now $D2
expect_rc 0
expect_eq null "$(js '.bindings[0].warning')" "secrets check warning"
S status -o json --now $D2
expect_rc 0
expect_eq 0 "$(js '.plugins[0].warnings | length')" "status warnings"
case_end

case_begin 'without max_age_days an old secret gives no warning'
touch -d 2020-01-01T00:00:00Z "$SECRET"
provider "type: file, dir: secrets-dir"
S secrets check --refresh -o json --now $D2
expect_rc 0
expect_eq null "$(js '.bindings[0].warning')" "secrets check warning"
S status --now $D2
expect_rc 0
expect_no_out "warning:"
case_end
case_begin 'reconcile -v says what the secret checks did'
S reconcile -v --now 2026-12-01T11:05:00Z
expect_rc 0
expect_out "secrets: checked 0, cached 1, missing 0"
rm "$SECRET"
S reconcile -v --now 2026-12-01T11:20:00Z
expect_rc 0
expect_out "secrets: checked 1, cached 0, missing 1"
# a missing secret is asked again at every pass
S reconcile -v --now 2026-12-01T11:21:00Z
expect_rc 0
expect_out "secrets: checked 1, cached 0, missing 1"
S reconcile --now 2026-12-01T11:22:00Z
expect_rc 0
expect_no_out "secrets:"
case_end
done_testing
