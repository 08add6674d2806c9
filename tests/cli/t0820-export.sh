#!/bin/sh
# sluice export (docs/export.md): a replayed rollout of the example plugin
# with ingested telemetry - dogfood healthy, a 20% error rate in the pilot
# that pauses it - exported as HTML, JSON and CSV. The sections carry the
# rows a user stored, every string a plugin team or an approver wrote is
# escaped, and the HTML references nothing outside itself. Then the
# dashboard is opened in headless Chromium: a screenshot is kept in
# $SLUICE_BUILD_DIR/test-artifacts/dashboard.png.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
gates_on

HOSTILE='<script>alert("x")</script> & <img src=x onerror=alert(1)>'

# gen FILE VERSION GROUP DATE CALLS ERRORS REFUSALS ESCALATIONS [FEEDBACK]:
# tool calls of VERSION by GROUP on DATE and FEEDBACK ratings (the first
# "down" when FEEDBACK > 1, the rest "up"), appended to FILE
gen() {
	awk -v v="$2" -v g="$3" -v d="$4" -v n="$5" -v e="$6" -v r="$7" -v x="$8" -v f="${9:-0}" 'BEGIN {
		for (i = 0; i < n; i++) {
			o = i < e ? "error" : i < e + r ? "refusal" : i < e + r + x ? "escalation" : "ok"
			printf "{\"id\": \"%s-%s-%s-c%d\", \"type\": \"tool_call\", \"time\": \"%sT12:00:00Z\", \"workspace\": \"engineering\", \"plugin\": \"backend-pr-reviewer\", \"version\": \"%s\", \"group\": \"%s\", \"user\": \"u%d\", \"tool\": \"repo_search\", \"outcome\": \"%s\", \"latency_ms\": 120}\n", v, g, d, i, d, v, g, i % 7, o
		}
		for (i = 0; i < f; i++)
			printf "{\"id\": \"%s-%s-%s-f%d\", \"type\": \"feedback\", \"time\": \"%sT12:00:00Z\", \"workspace\": \"engineering\", \"plugin\": \"backend-pr-reviewer\", \"version\": \"%s\", \"group\": \"%s\", \"user\": \"u%d\", \"rating\": \"%s\"}\n", v, g, d, i, d, v, g, i, (i == 0 && f > 1 ? "down" : "up")
	}' >>"$1"
}

ingest() {
	S telemetry ingest "$1" --now "$2"
	expect_rc 0
}

case_begin 'a replayed rollout: approved with a hostile comment, paused by a gate breach'
record
S attest $PLUGIN@0.1.0 contract-tests --as ci-bot --now $D1
expect_rc 0
S attest $PLUGIN@0.1.0 security-review --as admin-ben --now $D1
expect_rc 0
S approve $PLUGIN@0.1.0 --stage devex-dogfood --comment "$HOSTILE" --as admin-ana --now $D1
expect_rc 0
reconcile_at $D2
expect_out "start stage devex-dogfood"
: >"$T/days.jsonl"
for d in 02 03 04 05 06 07; do
	gen "$T/days.jsonl" 0.1.0 platform-devex 2026-12-$d 40 1 1 0 3
done
ingest "$T/days.jsonl" 2026-12-07T13:00:00Z
reconcile_at 2026-12-08T12:00:00Z
expect_out "start stage backend-pilot (2)"
: >"$T/pilot.jsonl"
gen "$T/pilot.jsonl" 0.1.0 backend-engineers-pilot 2026-12-09 100 20 3 2 2
ingest "$T/pilot.jsonl" 2026-12-09T13:00:00Z
reconcile_at 2026-12-09T14:00:00Z
expect_out "pause: tool error rate"
case_end

NOW=2026-12-10T09:00:00Z
HTML=$T/dashboard.html

case_begin 'export --format html --out FILE writes the dashboard and says so'
S export --format html --out "$HTML" --now $NOW
expect_rc 0
expect_out "wrote $HTML: 1 plugins"
expect_out "audit chain verified, head $(sqlite3 "$DB" "SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1")"
expect_ok "no temporary file is left" [ -z "$(ls "$T" | grep 'dashboard.html.tmp')" ]
grep -q '<title>ai-tooling-audit</title>' "$HTML" || fail "not titled by controls.audit_dashboard"
for h in '>Rollout timeline<' '>Releases<' '>Approvals and rejections<' '>Tool health and feedback<' \
	'>Daily tool calls<' '>Daily feedback<' '>Gate evaluations<' 'id="audit-trail">Audit trail<' \
	'<strong>Audit chain verified</strong>'; do
	grep -qF "$h" "$HTML" || fail "the dashboard lacks $h"
done
check_counted
expect_eq 4 "$(grep -c '<figure class="chart">' "$HTML")" "charts"
for m in error_rate refusal_rate escalation_rate positive_ratio; do
	grep -q "data-metric=\"$m\"" "$HTML" || fail "no $m chart"
done
check_counted
case_end

case_begin 'the dashboard holds the rows: stages, approval, daily rates, the breach, the trail'
grep -q 'class="bar"><title>0.1.0 devex-dogfood: 2026-12-01T11:00:00Z to 2026-12-08T12:00:00Z' "$HTML" ||
	fail "no devex-dogfood bar"
grep -q 'class="bar"><title>0.1.0 backend-pilot: 2026-12-08T12:00:00Z to now (running)' "$HTML" ||
	fail "no running backend-pilot bar"
grep -q '<td>approval</td><td>devex-dogfood</td><td>admin-ana</td><td>2026-12-01T10:00:00Z</td>' "$HTML" ||
	fail "no approval row"
grep -q '<td>0.1.0</td><td>2026-12-09</td><td>100</td><td>20</td><td>20.0%</td><td>3</td><td>3.0%</td><td>2</td><td>2.0%</td>' "$HTML" ||
	fail "no daily row of the pilot"
grep -q '<td class="breach">breach</td><td>pause</td><td>tool error rate 20.0% (20 of 100 calls) in backend-pilot' "$HTML" ||
	fail "no breach row"
grep -q '<path class="breach"' "$HTML" || fail "the breach is not marked on the timeline"
grep -q '<path class="approval"' "$HTML" || fail "the approval is not marked on the timeline"
expect_eq "$(sq 'SELECT count(*) FROM audit')" "$(sed -n '/id="audit-trail"/,$p' "$HTML" | grep -c '^<tr><td>')" "audit trail rows"
case_end

case_begin 'every string is escaped: the hostile comment is text, never markup'
expect_eq 0 "$(grep -c '<script' "$HTML")" "script tags"
expect_eq 0 "$(grep -c '<img' "$HTML")" "img tags"
grep -qF '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;' "$HTML" ||
	fail "the comment is not shown escaped"
check_counted
case_end

case_begin 'the HTML references nothing outside itself'
expect_eq 0 "$(grep -Eoi '(src|href|action|xlink:href)="[^#"][^"]*"' "$HTML" | wc -l)" "external references"
expect_eq 0 "$(grep -Eoi 'url\(' "$HTML" | wc -l)" "css url()"
expect_eq 0 "$(grep -Eoi '<(link|script|iframe|object|embed|img)[ >]' "$HTML" | wc -l)" "external elements"
# http(s):// only as text in a table cell, never as an attribute value
expect_eq 0 "$(grep -Eo '="https?://' "$HTML" | wc -l)" "http attributes"
grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$HTML" || fail "no CSP"
check_counted
case_end

case_begin 'export --format json carries the same sections, parsed by jq'
S export --format json --now $NOW
expect_rc 0
cp "$T/out" "$T/export.json"
expect_eq "ai-tooling-audit true" "$(js '"\(.title) \(.audit.verified)"')" "title and audit"
expect_eq "$(sq "SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1")" "$(js .audit.head)" "head"
expect_eq "backend-pr-reviewer ai-tooling-audit" "$(js '.plugins[] | "\(.plugin) \(.audit_dashboard)"')" "plugins"
expect_eq "0.1.0 paused backend-pilot" "$(js '.rollouts[] | "\(.version) \(.state) \(.stage)"')" "rollouts"
expect_eq "devex-dogfood 2026-12-08T12:00:00Z|backend-pilot null" \
	"$(js '[.stages[] | "\(.stage) \(.ended_at)"] | join("|")')" "stages"
expect_eq "$HOSTILE" "$(js '.approvals[0].comment')" "approval comment kept as sent"
expect_eq "7 0.2" "$(js '"\(.telemetry_daily | length) \(.telemetry_daily[] | select(.day == "2026-12-09") | .error_rate)"')" "daily rows"
expect_eq "2026-12-09 2 1 0.5" "$(js '.feedback_daily[] | select(.day == "2026-12-09") | "\(.day) \(.ratings) \(.positive) \(.positive_ratio)"')" "feedback"
expect_eq "pass|breach" "$(js '[.gate_evaluations[].outcome] | join("|")')" "gates"
expect_eq "$(sq 'SELECT count(*) FROM audit')" "$(js '.audit_trail | length')" "audit rows"
expect_eq "stage.started devex-dogfood" "$(js '.audit_trail[] | select(.action == "stage.started") | "\(.action) \(.details.stage)"' | head -1)" "details as JSON"
case_end

case_begin 'export --format csv: one block per section, a row per stored row'
S export --format csv --now $NOW
expect_rc 0
cp "$T/out" "$T/export.csv"
expect_out "audit,verified,true"
expect_out "export,title,ai-tooling-audit"
expect_out "section,plugin,version,day,calls,errors,refusals,escalations,error_rate"
expect_out "telemetry_daily,backend-pr-reviewer,0.1.0,2026-12-09,100,20,3,2,0.2,0.03,0.02"
expect_eq 7 "$(grep -c '^telemetry_daily,' "$T/out")" "daily rows"
expect_eq "$(sq 'SELECT count(*) FROM audit')" "$(grep -c '^audit_trail,' "$T/out")" "audit rows"
expect_eq 1 "$(grep -c '^approvals,backend-pr-reviewer,0.1.0,approval,devex-dogfood,admin-ana,2026-12-01T10:00:00Z' "$T/out")" "approval row"
case_end

case_begin 'filters: --since/--until keep the days asked for, --plugin an unknown plugin fails'
S export --format json --since 2026-12-09 --until 2026-12-09 --now $NOW
expect_rc 0
expect_eq "2026-12-09" "$(js '[.telemetry_daily[].day] | unique | join(",")')" "days"
expect_eq 0 "$(js '.approvals | length')" "approvals before --since"
S export --plugin no-such-plugin --now $NOW
expect_rc 1
expect_err "error: no release of plugin 'no-such-plugin' is recorded"
S export --format pdf
expect_rc 129
expect_err "unknown export format 'pdf'; use html, json or csv"
S export --since yesterday
expect_rc 129
expect_err "--since 'yesterday' is not a date"
S export --since 2026-12-09 --until 2026-12-01
expect_rc 129
expect_err "is not after --since"
case_end

case_begin 'a broken audit chain is stated in the banner, in JSON and in the summary'
cp "$DB" "$T/broken.db"
sqlite3 "$T/broken.db" "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE id = 2" ||
	fail "cannot edit the copy"
S --db "$T/broken.db" export --out "$T/broken.html" --now $NOW
expect_rc 0
expect_out "audit chain DOES NOT VERIFY"
grep -q '<div class="banner bad" id="audit-status"><strong>Audit chain does NOT verify</strong> at row 2' "$T/broken.html" ||
	fail "no red banner naming row 2"
S --db "$T/broken.db" export --format json --now $NOW
expect_rc 0
expect_eq "false 2" "$(js '"\(.audit.verified) \(.audit.bad_id)"')" "json audit"
case_end

case_begin 'the views answer dashboards: v_telemetry_daily, v_feedback_daily, v_gate_evaluations'
expect_eq 3 "$(sq "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name IN ('v_telemetry_daily', 'v_feedback_daily', 'v_gate_evaluations')")" "the dashboard views exist"
expect_eq "2026-12-09|backend-engineers-pilot|100|20|0.2" \
	"$(sq "SELECT day, group_name, calls, errors, error_rate FROM v_telemetry_daily WHERE day = '2026-12-09'")" "v_telemetry_daily"
expect_eq "2026-12-09|2|1|1|0.5" \
	"$(sq "SELECT day, ratings, positive, negative, positive_ratio FROM v_feedback_daily WHERE day = '2026-12-09'")" "v_feedback_daily"
expect_eq "breach|pause|backend-pilot" \
	"$(sq "SELECT outcome, effect, stage FROM v_gate_evaluations WHERE outcome = 'breach'")" "v_gate_evaluations"
expect_eq 1 "$(sq "SELECT count(*) FROM v_approvals WHERE kind = 'approval'")" "v_approvals"
expect_eq "paused" "$(sq "SELECT state FROM v_rollouts")" "v_rollouts"
case_end

# headless Chromium, offline: no network, no extensions, a fresh profile
chrome() {
	run chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run \
		--user-data-dir="$T/chrome" "$@"
}

case_begin 'headless Chromium renders the dashboard: headings, charts and rows in the DOM'
if ! command -v chromium >/dev/null 2>&1; then
	fail "chromium is not installed; run scripts/install-deps.sh test (as root) or make test"
else
	chrome --enable-logging=stderr --dump-dom "file://$HTML"
	expect_rc 0
	# console messages and blocked loads (the page's policy refuses any) are logged
	expect_no_err 'CONSOLE'
	expect_no_err 'Refused to'
	expect_no_err 'net::ERR'
	expect_out '<h1>ai-tooling-audit</h1>'
	expect_out '<strong>Audit chain verified</strong>'
	expect_out '<h3>Rollout timeline</h3>'
	expect_out '<h3>Gate evaluations</h3>'
	expect_out '<h2 id="audit-trail">Audit trail</h2>'
	expect_out 'data-metric="error_rate"'
	expect_out 'data-metric="positive_ratio"'
	expect_out '<td class="breach">breach</td>'
	expect_out '&lt;script&gt;alert("x")&lt;/script&gt;'
	expect_eq 0 "$(grep -c '<script' "$T/out")" "script elements in the DOM"
	expect_eq 4 "$(grep -o '<figure class="chart">' "$T/out" | wc -l)" "charts in the DOM"
	chrome --screenshot="$T/dashboard.png" --window-size=1280,2000 "file://$HTML"
	expect_rc 0
	expect_ok "no screenshot written" [ -s "$T/dashboard.png" ]
	expect_eq PNG "$(head -c 4 "$T/dashboard.png" | tail -c 3)" "screenshot format"
fi
case_end

# The files for a person to look at, kept with the build.
if [ -n "${SLUICE_BUILD_DIR:-}" ]; then
	mkdir -p "$SLUICE_BUILD_DIR/test-artifacts"
	cp "$HTML" "$T/export.json" "$T/export.csv" "$SLUICE_BUILD_DIR/test-artifacts/" 2>/dev/null
	[ ! -s "$T/dashboard.png" ] || cp "$T/dashboard.png" "$SLUICE_BUILD_DIR/test-artifacts/"
fi

done_testing
