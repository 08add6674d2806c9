#!/bin/sh
# The tags reconcile and fetch record (docs/sources.md, "Which tags are
# recorded"): fetch records every tag that names a commit, reconcile only
# release tags in range or already released; both flag a recorded tag that
# is gone from the mirror, even when no tag is left.
. "$(dirname "$0")/lib.sh"
R=$T/root
GIT=$T/git
mkdir -p "$R"
cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$R/"
sed -e "s|file:///srv/git|file://$GIT|" -e 's|identity: os-user|identity: asserted|' \
	-e '/rollout_policy: standard/d' "$SRC/workspaces/engineering.yaml" >"$R/workspaces/engineering.yaml"
REPO=$GIT/acme/codex-plugin-backend-pr-reviewer.git
W=$T/work
git init -q "$W"
cp -R "$SRC/examples/plugins/backend-pr-reviewer/." "$W/"
{ git -C "$W" add -A && git -C "$W" commit -qm "0.1.0" && git -C "$W" tag -a -m "0.1.0" v0.1.0 &&
	git -C "$W" tag nightly &&
	git -C "$W" tag v1.0.0 && # outside the range ">=0.1.0 <1.0.0"
	mkdir -p "$GIT/acme" && git clone -q --bare "$W" "$REPO"; } || bail "cannot make the plugin repository $REPO"
D1=2026-12-01T09:00:00Z
sl() { "$SLUICE" --root "$R" "$@"; }
tags() { sqlite3 "$R/.sluice/sluice.db" "SELECT tag FROM tags ORDER BY tag" | tr '\n' ' '; }
deleted() { sqlite3 "$R/.sluice/sluice.db" "SELECT tag FROM tags WHERE deleted_at IS NOT NULL ORDER BY tag" | tr '\n' ' '; }

case_begin 'reconcile records the release tag in range only'
run sl reconcile --now $D1
expect_rc 0
expect_out "backend-pr-reviewer: recorded release 0.1.0 (v0.1.0, commit"
expect_eq "v0.1.0 " "$(tags)" "tags recorded by reconcile"
case_end

case_begin 'fetch, into a database of its own, records every tag'
run sl --db "$T/fetch.db" --cache "$T/fetch-cache" fetch --now $D1
expect_rc 0
expect_eq "nightly v0.1.0 v1.0.0 " \
	"$(sqlite3 "$T/fetch.db" "SELECT tag FROM tags ORDER BY tag" | tr '\n' ' ')" \
	"tags recorded by fetch"
case_end

case_begin 'every tag deleted upstream: reconcile flags the one it recorded, the release stays'
for t in v0.1.0 nightly v1.0.0; do
	run git -C "$REPO" tag -d "$t"
	expect_rc 0
done
run sl reconcile --now $D1
expect_rc 0
expect_out "backend-pr-reviewer: tag v0.1.0 was deleted upstream; its release is kept"
expect_eq "v0.1.0 " "$(deleted)" "tags flagged deleted"
expect_eq 1 "$(sqlite3 "$R/.sluice/sluice.db" "SELECT count(*) FROM releases WHERE version = '0.1.0'")" "release kept"
case_end

case_begin 'a second pass flags nothing again'
run sl reconcile --now $D1
expect_rc 0
expect_no_out "deleted upstream"
case_end

done_testing
