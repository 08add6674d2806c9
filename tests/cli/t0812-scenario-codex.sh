#!/bin/sh
# Scenario: the reference plugin's rollout published with `publish.type:
# codex` (docs/publishing.md). After each stage starts, after a rollback
# and after a withdraw (each followed by a reconcile, which publishes),
# each group's directory holds what Codex clients
# read: requirements.toml allows exactly the plugins the group gets now,
# managed_config.toml has their MCP servers, and the marketplace holds
# each at the group's version. The TOML is parsed with Python's tomllib,
# so a file Codex could not read fails here too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
ws_edit 's|^publish: {type: directory, path: .sluice/published}|publish: {type: codex, path: .sluice/published}|'
CX=$R/.sluice/published/codex
URL=https://reviewer.staging.acme.example/mcp
SERVER="url=$URL token=CODEX_PLUGIN_TOKEN tools=get_pull_request_diff,run_safe_checks,post_review_draft timeout=30"

# view GROUP: one line per file of the group's directory, parsed - what
# requirements.toml allows, managed_config.toml's servers, the
# marketplace's plugins at their versions and the profile's payload
view() {
	python3 - "$CX/$1" >"$T/view" 2>"$T/view.err" <<'PY' || fail "cannot read the codex files of $1: $(cat "$T/view.err")"
import base64, json, os, plistlib, sys, tomllib
d = sys.argv[1]
def server(s):
    return "url=%s token=%s tools=%s timeout=%s%s" % (s["url"], s.get("bearer_token_env_var"),
        ",".join(s["enabled_tools"]), s.get("tool_timeout_sec"),
        " enabled=%s" % s["enabled"] if "enabled" in s else "")
req = tomllib.load(open(d + "/requirements.toml", "rb"))
print("requirements:", " ".join("%s=%s" % (k, v["identity"]["url"]) for k, v in sorted(req["mcp_servers"].items())) or "-")
cfg = tomllib.load(open(d + "/managed_config.toml", "rb"))
for k, v in sorted(cfg.get("mcp_servers", {}).items()):
    print("managed:", k, server(v))
m = json.load(open(d + "/marketplace/.agents/plugins/marketplace.json"))
for p in m["plugins"]:
    root = d + "/marketplace/" + p["source"]["path"]
    pj = json.load(open(root + "/.codex-plugin/plugin.json"))
    mcp = json.load(open(root + "/.mcp.json"))["mcpServers"]
    skill = open(root + "/skills/%s/SKILL.md" % p["name"]).read()
    assert skill.startswith("---\nname: \"%s\"\ndescription: " % p["name"]), skill[:80]
    print("plugin:", m["name"], p["name"], pj["version"], p["policy"]["installation"],
          pj["interface"]["developerName"], " ".join("%s %s" % (k, server(v)) for k, v in mcp.items()))
prof = plistlib.load(open(d + "/com.openai.codex.mobileconfig", "rb"))["PayloadContent"][0]
assert base64.b64decode(prof["requirements_toml_base64"]) == open(d + "/requirements.toml", "rb").read()
assert base64.b64decode(prof["config_toml_base64"]) == open(d + "/managed_config.toml", "rb").read()
print("profile:", prof["PayloadType"])
PY
	cat "$T/view"
}

# allowed GROUP: what requirements.toml allows ("-": nothing)
allowed() { view "$1" | sed -n 's/^requirements: //p'; }

case_begin 'before any stage: every group has an empty allowlist'
record
for g in platform-devex backend-engineers-pilot backend-engineers; do
	expect_eq "-" "$(allowed $g)" "$g allows"
	expect_eq "" "$(cat "$CX/$g/managed_config.toml")" "$g managed config"
done
expect_ok "no effective.json from the codex publisher" [ ! -e "$R/.sluice/published/effective.json" ]
case_end

case_begin 'stage 1 starts: platform-devex gets the plugin, nobody else'
start_rollout
view platform-devex >/dev/null
expect_eq "requirements: $PLUGIN=$URL
managed: $PLUGIN $SERVER
plugin: engineering-platform-devex $PLUGIN 0.1.0 INSTALLED_BY_DEFAULT acme $PLUGIN $SERVER
profile: com.openai.codex" "$(cat "$T/view")" "platform-devex's files"
expect_eq "-" "$(allowed backend-engineers-pilot)" "pilot allows"
expect_eq "-" "$(allowed backend-engineers)" "backend-engineers allows"
expect_ok "SKILL.md has the role guidance" grep -q '^## Role' \
	"$CX/platform-devex/marketplace/plugins/$PLUGIN/skills/$PLUGIN/SKILL.md"
case_end

case_begin 'promote: the pilot group gets it too'
S promote $PLUGIN --reason pilot --as admin-ana --now 2026-12-02T09:00:00Z
expect_rc 0
reconcile_at 2026-12-02T09:05:00Z
expect_eq "$PLUGIN=$URL" "$(allowed backend-engineers-pilot)" "pilot allows"
expect_eq "$PLUGIN=$URL" "$(allowed platform-devex)" "platform-devex keeps it"
expect_eq "-" "$(allowed backend-engineers)" "backend-engineers allows"
case_end

case_begin 'complete, then 0.1.1 reaches platform-devex only'
S approve $PLUGIN@0.1.0 --stage backend-general --as admin-ben --now 2026-12-03T09:00:00Z
expect_rc 0
S promote $PLUGIN --reason general --as admin-ana --now 2026-12-03T09:00:00Z
expect_rc 0
reconcile_at 2026-12-03T09:05:00Z
expect_eq "$PLUGIN=$URL" "$(allowed backend-engineers)" "backend-engineers allows"
start_011
expect_eq 0.1.1 "$(view platform-devex | sed -n "s/^plugin: [^ ]* $PLUGIN \([^ ]*\) .*/\1/p")" "platform-devex version"
expect_eq 0.1.0 "$(view backend-engineers | sed -n "s/^plugin: [^ ]* $PLUGIN \([^ ]*\) .*/\1/p")" "backend-engineers version"
case_end

case_begin 'rollback: platform-devex goes back to 0.1.0 at the next pass'
S rollback $PLUGIN --reason "error rate" --as admin-ana --now 2026-12-05T09:00:00Z
expect_rc 0
reconcile_at 2026-12-05T09:05:00Z
expect_eq 0.1.0 "$(view platform-devex | sed -n "s/^plugin: [^ ]* $PLUGIN \([^ ]*\) .*/\1/p")" "platform-devex version"
expect_eq "$PLUGIN=$URL" "$(allowed platform-devex)" "platform-devex allows"
case_end

case_begin 'withdraw: the plugin leaves every allowlist at the next pass'
S withdraw $PLUGIN --reason incident --as admin-ana --now 2026-12-06T09:00:00Z
expect_rc 0
reconcile_at 2026-12-06T09:05:00Z
for g in platform-devex backend-engineers-pilot backend-engineers; do
	expect_eq "-" "$(allowed $g)" "$g allows after withdraw"
	expect_ok "$g's marketplace no longer holds it" [ ! -e "$CX/$g/marketplace/plugins/$PLUGIN" ]
done
expect_ok "no group directory left half-written" sh -c "! ls -a '$CX' | grep -q '\.tmp\.'"
case_end

case_begin 'restore: the plugin comes back; files the publisher did not write stay'
touch "$CX/not-ours"
mkdir "$CX/someone-elses"
S restore $PLUGIN --as admin-ana --now 2026-12-07T09:00:00Z
expect_rc 0
reconcile_at 2026-12-07T09:05:00Z
expect_eq "$PLUGIN=$URL" "$(allowed backend-engineers)" "backend-engineers allows after restore"
expect_ok "kept a file it did not write" [ -e "$CX/not-ours" ]
expect_ok "kept a directory it did not write" [ -d "$CX/someone-elses" ]
case_end

done_testing
