#!/bin/sh
# Turns examples/plugins/backend-pr-reviewer into the bare git repository
# that the example workspace watches, with its releases as annotated tags.
#
# Usage: scripts/make-example-repos.sh OUTDIR [TAG...]
#
#   Creates OUTDIR/acme/codex-plugin-backend-pr-reviewer.git, which matches
#   the workspace's url_template "file://OUTDIR/{repository}.git", and makes
#   the TAGs (default: v0.1.0 v0.1.1):
#
#     v0.1.0  the example as shipped (2026-11-30)
#     v0.1.1  every version field bumped to 0.1.1, plus one guidance rule
#             (2026-12-10)
#
#   A tag builds on the ones before it, so asking for v0.1.1 makes v0.1.0
#   too. Tags that already exist are left alone, so the script can be run
#   again: `make-example-repos.sh DIR v0.1.0` now and `make-example-repos.sh
#   DIR` later adds v0.1.1 "mid-rollout" on top of the same v0.1.0.
#
#   Authors, committers, taggers and dates are fixed, and no user or system
#   git configuration is read, so the commit and tag ids are the same on
#   every machine. The tagger is devex-lead@acme.example, an operator of the
#   example workspace but not an approver. Prints one line per tag:
#   "TAG COMMIT created|exists". Needs only git; no network.
set -eu

usage() {
	sed -n '4,24s/^# \{0,1\}//p' "$0"
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
'' | -*) usage >&2; exit 129 ;;
esac
outdir=$1
shift
[ $# -gt 0 ] || set -- v0.1.0 v0.1.1

here=$(cd "$(dirname "$0")" && pwd)
src=$here/../examples/plugins/backend-pr-reviewer
[ -f "$src/plugin.yaml" ] || {
	echo "make-example-repos: $src/plugin.yaml is missing; run from a Sluice source tree" >&2
	exit 1
}

# The newest tag asked for decides how far the history goes.
want=0
for tag in "$@"; do
	case $tag in
	v0.1.0) [ $want -ge 1 ] || want=1 ;;
	v0.1.1) want=2 ;;
	*) echo "make-example-repos: unknown tag '$tag' (known: v0.1.0 v0.1.1)" >&2; exit 129 ;;
	esac
done

# Ignore the user's and the system's git configuration: a commit.gpgSign or
# core.autocrlf there would change the ids or stop for a passphrase.
GIT_CONFIG_NOSYSTEM=1
GIT_CONFIG_GLOBAL=/dev/null
GIT_AUTHOR_NAME="Devex Lead"
GIT_AUTHOR_EMAIL=devex-lead@acme.example
GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME
GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
	GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY \
	GIT_ALTERNATE_OBJECT_DIRECTORIES 2>/dev/null || true

repo=$outdir/acme/codex-plugin-backend-pr-reviewer.git
if [ ! -d "$repo" ]; then
	mkdir -p "$repo"
	git init -q --bare --initial-branch=main "$repo"
fi
repo=$(cd "$repo" && pwd)
g() { git --git-dir="$repo" "$@"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/make-example-repos.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# make_release TAG VERSION DATE PARENT MESSAGE: commits $tmp/stage on top of
# PARENT (empty for none), tags it, moves main there, prints the commit id.
make_release() {
	rm -f "$tmp/index"
	GIT_INDEX_FILE=$tmp/index git -C "$tmp/stage" --git-dir="$repo" \
		--work-tree=. -c core.autocrlf=false add -A .
	tree=$(GIT_INDEX_FILE=$tmp/index g write-tree)
	export GIT_AUTHOR_DATE="$3" GIT_COMMITTER_DATE="$3"
	if [ -n "$4" ]; then
		commit=$(printf '%s\n' "$5" | g commit-tree --no-gpg-sign -p "$4" "$tree")
	else
		commit=$(printf '%s\n' "$5" | g commit-tree --no-gpg-sign "$tree")
	fi
	g tag -a --no-sign -m "backend-pr-reviewer $2" "$1" "$commit"
	g update-ref refs/heads/main "$commit"
	unset GIT_AUTHOR_DATE GIT_COMMITTER_DATE
	echo "$commit"
}

# ensure TAG VERSION DATE PARENT MESSAGE EDIT: makes TAG unless it exists;
# EDIT is a function that turns the staged copy of the example into TAG's
# tree. Sets $head to the tag's commit.
ensure() {
	if g rev-parse -q --verify "refs/tags/$1" >/dev/null; then
		head=$(g rev-parse "$1^{commit}")
		echo "$1 $head exists"
		return 0
	fi
	rm -rf "$tmp/stage"
	mkdir "$tmp/stage"
	cp -R "$src/." "$tmp/stage/"
	"$6" "$tmp/stage"
	head=$(make_release "$1" "$2" "$3" "$4" "$5")
	echo "$1 $head created"
}

as_shipped() { :; }

bump_to_0_1_1() {
	sed -e 's/^version: 0\.1\.0$/version: 0.1.1/' \
		"$1/plugin.yaml" >"$1/plugin.yaml.new"
	mv "$1/plugin.yaml.new" "$1/plugin.yaml"
	sed -e 's/^  version: 0\.1\.0$/  version: 0.1.1/' \
		-e 's|refs/tags/v0\.1\.0|refs/tags/v0.1.1|' \
		"$1/deploy/workspace-config.yaml" >"$1/deploy/workspace-config.yaml.new"
	mv "$1/deploy/workspace-config.yaml.new" "$1/deploy/workspace-config.yaml"
	cat >>"$1/guidance/escalation.md" <<'EOF'

## Added in 0.1.1

- **Feature flags that default to on.** A new flag whose default enables the
  change in production skips the gradual rollout the flag exists for:
  escalate, and suggest defaulting it to off.
EOF
	# The bump must have touched every version field, or the release would
	# fail validation for a reason the demo does not mean to show.
	for f in plugin.yaml deploy/workspace-config.yaml; do
		if grep -q '0\.1\.0' "$1/$f"; then
			echo "make-example-repos: $f still names 0.1.0 after the bump; update bump_to_0_1_1" >&2
			exit 1
		fi
	done
}

head=
ensure v0.1.0 0.1.0 "2026-11-30T10:00:00Z" "" \
	"Release backend-pr-reviewer 0.1.0" as_shipped
if [ $want -ge 2 ]; then
	ensure v0.1.1 0.1.1 "2026-12-10T10:00:00Z" "$head" \
		"Release backend-pr-reviewer 0.1.1

Adds an escalation rule for feature flags that default to on." bump_to_0_1_1
fi
