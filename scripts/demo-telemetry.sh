#!/bin/sh
# scripts/demo-telemetry.sh PLUGIN VERSION GROUP DATE: one day of healthy
# telemetry for the demo, as JSON lines in the event contract
# (docs/telemetry.md): 25 tool calls (one an upstream error, latencies
# 80-320 ms) and one "up" rating. Ids are unique per plugin, version, group
# and day, so ingesting a day twice changes nothing.
set -eu
awk -v p="$1" -v v="$2" -v g="$3" -v d="$4" 'BEGIN {
	for (i = 0; i < 25; i++) {
		o = i == 12 ? "error" : "ok"
		printf "{\"id\": \"demo-%s-%s-%s-%s-%d\", \"type\": \"tool_call\", \"time\": \"%sT%02d:15:00Z\", \"workspace\": \"engineering\", \"plugin\": \"%s\", \"version\": \"%s\", \"group\": \"%s\", \"user\": \"user%d\", \"tool\": \"%s\", \"outcome\": \"%s\"%s, \"latency_ms\": %d}\n", p, v, g, d, i, d, 9 + i % 8, p, v, g, i % 5, i % 2 ? "repo_search" : "post_review_comment", o, o == "error" ? ", \"error_category\": \"upstream_5xx\"" : "", 80 + (i * 37) % 240
	}
	printf "{\"id\": \"demo-%s-%s-%s-%s-fb\", \"type\": \"feedback\", \"time\": \"%sT17:00:00Z\", \"workspace\": \"engineering\", \"plugin\": \"%s\", \"version\": \"%s\", \"group\": \"%s\", \"user\": \"user0\", \"rating\": \"up\", \"comment\": \"useful review\"}\n", p, v, g, d, d, p, v, g
}'
