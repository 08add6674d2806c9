#!/bin/sh
# Runs each loader's fuzzer for SECONDS on its corpus, then merges what it
# found that adds coverage back into tests/fuzz/corpus/{yaml,json}/.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS
# Crashes are left as BUILD_DIR/fuzz-out/<kind>/crash-* and make it fail.
set -eu
build=${1:?usage: run.sh BUILD_DIR SECONDS}
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for kind in yaml json; do
	out=$build/fuzz-out/$kind
	rm -rf "$out/new"
	mkdir -p "$out/new"
	echo "fuzz-$kind: ${secs}s" >&2
	"$build/fuzz-$kind" -max_total_time="$secs" -max_len=8192 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/" \
		-dict="$here/$kind.dict" \
		"$out/new" "$here/corpus/$kind" 2>"$out/log" || status=1
	grep -E '^stat::number_of_executed_units|^Done|ERROR' "$out/log" >&2 || true
	# keep only inputs that add coverage; the committed corpus stays small
	"$build/fuzz-$kind" -merge=1 -max_len=8192 "$here/corpus/$kind" "$out/new" \
		>/dev/null 2>&1 || true
done
echo "corpus: $(find "$here/corpus" -type f | wc -l) files, $(du -sb "$here/corpus" | cut -f1) bytes" >&2
exit $status
