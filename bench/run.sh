#!/bin/sh
# Runs every benchmark against the given sluice binary.
# Usage: bench/run.sh path/to/sluice   (make bench does this)
set -eu
SLUICE=$(cd "$(dirname "${1:?usage: bench/run.sh path/to/sluice}")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
status=0
for b in "$here"/*/run.sh; do
	echo "== $(basename "$(dirname "$b")")"
	sh "$b" "$SLUICE" || status=1
done
exit $status
