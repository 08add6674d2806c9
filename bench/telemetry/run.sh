#!/bin/sh
# bench/telemetry/run.sh [SLUICE] [N]: ingest N (default 1,000,000)
# generated tool_call events from JSON lines with 'sluice telemetry ingest'
# and, in the same run, import the same rows from CSV with the sqlite3
# command-line tool into the same table (telemetry_events' schema, WITHOUT
# ROWID, one transaction). Prints events/second of each and the ratio.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SLUICE=${1:-$SRC/build-rel/sluice}
N=${2:-1000000}
W=$(mktemp -d /tmp/sluice-bench-telemetry.XXXXXX)
trap 'rm -rf "$W"' EXIT

"$SRC/scripts/make-example-repos.sh" "$W/git" v0.1.0 >/dev/null
mkdir -p "$W/admin"
cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$W/admin/"
sed -i -e "s|file:///srv/git/|file://$W/git/|" -e "s|identity: os-user|identity: asserted|" \
	"$W/admin/workspaces/engineering.yaml"
"$SLUICE" --root "$W/admin" reconcile --now 2026-12-01T09:00:00Z >/dev/null

# the same rows twice: JSON lines for sluice, CSV for sqlite3
awk -v n="$N" -v json="$W/events.jsonl" -v csv="$W/events.csv" 'BEGIN {
	split("ok ok ok ok ok ok ok error refusal escalation", oc, " ")
	split("alice bob carol dan erin sam", us, " ")
	split("platform-devex backend-engineers-pilot", gs, " ")
	srand(1)
	for (i = 1; i <= n; i++) {
		o = oc[1 + i % 10]; u = us[1 + i % 6]; g = gs[1 + i % 2]
		lat = int(50 + rand() * 400); t = 1796169600 + (i % 86400)
		ts = strftime("%Y-%m-%dT%H:%M:%SZ", t, 1)
		printf "{\"id\": \"ev-%09d\", \"type\": \"tool_call\", \"time\": \"%s\", \"workspace\": \"engineering\", \"plugin\": \"backend-pr-reviewer\", \"version\": \"0.1.0\", \"group\": \"%s\", \"user\": \"%s\", \"tool\": \"repo_search\", \"outcome\": \"%s\", \"error_category\": \"%s\", \"latency_ms\": %d}\n", i, ts, g, u, o, o == "error" ? "upstream_5xx" : "", lat > json
		printf "engineering,ev-%09d,tool_call,%d,backend-pr-reviewer,0.1.0,%s,%s,repo_search,%s,%s,%d,,\n", i, t, g, u, o, o == "error" ? "upstream_5xx" : "", lat > csv
	}
}'
# empty error_category in the JSON is not allowed by the contract: drop it
sed -i 's/, "error_category": ""//' "$W/events.jsonl"

t0=$(date +%s.%N)
"$SLUICE" --root "$W/admin" telemetry ingest "$W/events.jsonl" --now 2026-12-03T00:00:00Z >/dev/null
t1=$(date +%s.%N)
sqlite3 "$W/admin/.sluice/sluice.db" 'PRAGMA table_info(telemetry_events)' >/dev/null
sqlite3 "$W/import.db" <<SQL
PRAGMA journal_mode = WAL;
CREATE TABLE telemetry_events (workspace TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
  time INTEGER NOT NULL, plugin TEXT NOT NULL, version TEXT NOT NULL, group_name TEXT NOT NULL,
  user_hash TEXT, tool TEXT, outcome TEXT, error_category TEXT, latency_ms INTEGER, rating TEXT,
  comment TEXT, PRIMARY KEY (workspace, id)) WITHOUT ROWID;
SQL
t2=$(date +%s.%N)
sqlite3 "$W/import.db" <<SQL
.mode csv
BEGIN;
.import $W/events.csv telemetry_events
COMMIT;
SQL
t3=$(date +%s.%N)
stored=$(sqlite3 "$W/admin/.sluice/sluice.db" 'SELECT count(*) FROM telemetry_events')
imported=$(sqlite3 "$W/import.db" 'SELECT count(*) FROM telemetry_events')
awk -v n="$N" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v s="$stored" -v m="$imported" 'BEGIN {
	si = b - a; qi = d - c
	printf "sluice telemetry ingest: %d events stored in %.2f s: %.0f events/s\n", s, si, n / si
	printf "sqlite3 .import (CSV):   %d rows imported in %.2f s: %.0f rows/s\n", m, qi, n / qi
	printf "ratio (sluice / sqlite3): %.2fx\n", qi / si
}'
