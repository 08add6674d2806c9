#!/bin/sh
# The environment a release runs with (docs/secrets.md "Environment"): the
# workspace's plugins[].environment wins over the deploy file's in what is
# published and in what reconcile checks when it records a release;
# runtime.base_url_env must end up bound to an https URL, and a service URL
# may be plain http only when policy.allow_http_services lists it. An http
# override is the workspace's error (no pass runs); a release that breaks
# a rule with the deploy file is refused with the variable's name, never
# started, never published.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
OVER='environment: {CODEX_PLUGIN_SERVICE_URL: https://reviewer.staging.acme.example}'
grep -qF "$OVER" "$R/workspaces/engineering.yaml" || bail "the workspace has no override to edit"
# fresh: forget what an earlier case recorded
fresh() { rm -rf "$R/.sluice"; }
refused_reason() { sq "SELECT coalesce(refused_reason, '') FROM releases WHERE version = '0.1.0'"; }

case_begin 'an http override is a workspace error: reconcile stops, nothing recorded'
ws_edit "s|$OVER|environment: {CODEX_PLUGIN_SERVICE_URL: http://reviewer.staging.acme.example}|"
S reconcile --now $D0
expect_rc 2
expect_err "workspaces/engineering.yaml:29:45: error: environment value of 'CODEX_PLUGIN_SERVICE_URL' is an http:// service URL"
expect_err "engineering.yaml' is not valid (1 error); run 'sluice validate'"
expect_ok "the refused pass made a database" [ ! -e "$DB" ]
expect_ok "the refused pass published" [ ! -e "$EFFECTIVE" ]
case_end

case_begin 'policy.allow_http_services lets the listed host through, and the override is published'
fresh
ws_edit 's|^  rollout_policy: standard$|  rollout_policy: standard\n  allow_http_services: [reviewer.staging.acme.example]|'
record
expect_eq "" "$(refused_reason)" "refused_reason"
start_rollout
expect_eq http://reviewer.staging.acme.example \
	"$(eff '.groups["platform-devex"][0].environment.CODEX_PLUGIN_SERVICE_URL')" "the override in effective.json"
expect_eq info "$(eff '.groups["platform-devex"][0].environment.LOG_LEVEL')" "the deploy file's value kept"
case_end

case_begin 'another host is not let through by the list, even after a release was recorded'
cp "$DB" "$T/db.before"
ws_edit 's|http://reviewer.staging.acme.example|http://reviewer.other.acme.example|'
S reconcile --now $D2
expect_rc 2
expect_err "environment value of 'CODEX_PLUGIN_SERVICE_URL' is an http:// service URL"
expect_eq http://reviewer.staging.acme.example \
	"$(eff '.groups["platform-devex"][0].environment.CODEX_PLUGIN_SERVICE_URL')" "effective.json unchanged"
expect_ok "the refused pass changed the database" cmp -s "$DB" "$T/db.before"
case_end

case_begin 'an empty override of base_url_env leaves it unbound: refused, naming the variable'
fresh
ws_edit 's|http://reviewer.other.acme.example|""|'
S reconcile --now $D0
expect_rc 0
expect_out "runtime.base_url_env names 'CODEX_PLUGIN_SERVICE_URL', which is set to an empty value"
expect_ok "the release was recorded as not refused" [ -n "$(refused_reason)" ]
S status -o json --now $D0
expect_rc 0
# a refused release is listed as refused, never as the rollout
expect_eq "null 0.1.0" "$(js '"\(.plugins[0].rollout) \(.plugins[0].refused[0].version)"')" "rollout and refused"
case_end

case_begin 'an override of a variable bound to a secret is refused'
fresh
ws_edit 's|CODEX_PLUGIN_SERVICE_URL: ""|CODEX_PLUGIN_SERVICE_URL: https://reviewer.staging.acme.example, CODEX_PLUGIN_TOKEN: dev|'
S reconcile --now $D0
expect_rc 0
expect_out "sets 'CODEX_PLUGIN_TOKEN', which the deploy file binds to a secret"
expect_ok "the release was recorded as not refused" [ -n "$(refused_reason)" ]
case_end

case_begin 'validate reports the same rule for the workspace'
ws_edit 's|, CODEX_PLUGIN_TOKEN: dev||'
ws_edit 's|https://reviewer.staging.acme.example|http://reviewer.staging.acme.example:8080|'
ws_edit '/^  allow_http_services:/d'
git -C "$GIT/acme/codex-plugin-backend-pr-reviewer.git" archive v0.1.0 2>/dev/null | (mkdir -p "$T/plugin" && tar -x -C "$T/plugin") ||
	bail "cannot export v0.1.0"
S validate --plugin "$T/plugin"
expect_rc 2
expect_out "error: environment value of 'CODEX_PLUGIN_SERVICE_URL' is an http:// service URL"
case_end
done_testing
