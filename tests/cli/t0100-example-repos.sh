#!/bin/sh
# scripts/make-example-repos.sh makes the example plugin's repository with
# annotated, correctly versioned tags, is safe to re-run, can add v0.1.1
# later, and gives the same ids everywhere.
. "$(dirname "$0")/lib.sh"

MAKE="$SRC/scripts/make-example-repos.sh"
EX="$SRC/examples/plugins/backend-pr-reviewer"
NAME=acme/codex-plugin-backend-pr-reviewer.git

# A user's git configuration must not reach the script: signing would stop
# for a key, autocrlf or another default branch would change the ids.
git config --global commit.gpgSign true
git config --global tag.gpgSign true
git config --global core.autocrlf true
git config --global init.defaultBranch trunk

# refs DIR: every ref with the object it names, and tags peeled to commits
refs() {
	git --git-dir="$1/$NAME" for-each-ref \
		--format='%(refname) %(objectname) %(*objectname)'
}

case_begin 'the first run makes a bare repository with both tags'
run "$MAKE" "$T/a"
expect_rc 0
expect_out "v0.1.0 "
expect_out "v0.1.1 "
expect_eq 2 "$(grep -c ' created$' "$T/out")" "tags created on the first run"
G="git --git-dir=$T/a/$NAME"
expect_ok "no bare repository at $T/a/$NAME" [ -f "$T/a/$NAME/HEAD" ]
expect_eq true "$($G rev-parse --is-bare-repository)" "bare repository"
expect_eq "refs/heads/main" "$($G symbolic-ref HEAD)" "HEAD"
case_end

case_begin 'each tag is annotated by devex-lead and versioned in all three places'
for v in 0.1.0 0.1.1; do
	tag=v$v
	expect_eq tag "$($G cat-file -t "refs/tags/$tag")" "$tag is annotated"
	expect_eq "<devex-lead@acme.example>" \
		"$($G for-each-ref --format='%(taggeremail)' "refs/tags/$tag")" "$tag tagger"
	expect_eq "version: $v" "$($G show "$tag:plugin.yaml" | grep '^version:')" \
		"$tag plugin.yaml version"
	expect_eq "  version: $v" \
		"$($G show "$tag:deploy/workspace-config.yaml" | grep '^  version:')" \
		"$tag deploy plugin.version"
	expect_eq "    ref: refs/tags/$tag" \
		"$($G show "$tag:deploy/workspace-config.yaml" | grep 'ref: ')" \
		"$tag deploy source.ref"
	expect_ok "$tag lacks guidance/role.md" $G cat-file -e "$tag:guidance/role.md"
	for t in get_pull_request_diff run_safe_checks post_review_draft; do
		expect_ok "$tag lacks tools/$t.json" $G cat-file -e "$tag:tools/$t.json"
	done
done
expect_eq 2026-11-30T10:00:00+00:00 "$($G log -1 --format=%cI v0.1.0)" "v0.1.0 commit date"
expect_eq 2026-12-10T10:00:00+00:00 "$($G log -1 --format=%cI v0.1.1)" "v0.1.1 commit date"
case_end

# v0.1.0 is the example exactly as shipped; v0.1.1 is one commit on top of
# it that changes the three version fields and one guidance file.
case_begin 'v0.1.0 is the example as shipped, v0.1.1 one commit on top'
for f in plugin.yaml deploy/workspace-config.yaml guidance/escalation.md tools/run_safe_checks.json; do
	$G show "v0.1.0:$f" >"$T/shown"
	expect_same "$EX/$f" "$T/shown" "v0.1.0:$f differs from $EX/$f"
done
expect_eq "$($G rev-parse 'v0.1.0^{commit}')" "$($G rev-parse 'v0.1.1^{commit}^')" "v0.1.1's parent"
expect_eq "$($G rev-parse 'v0.1.1^{commit}')" "$($G rev-parse main)" "main"
expect_eq "deploy/workspace-config.yaml
guidance/escalation.md
plugin.yaml" "$($G diff --name-only v0.1.0 v0.1.1)" "files changed by v0.1.1"
$G show v0.1.1:guidance/escalation.md | expect_ok "v0.1.1 lacks its guidance change" grep -q "Feature flags"
case_end

case_begin 'running again changes nothing'
refs "$T/a" >"$T/refs-a"
run "$MAKE" "$T/a"
expect_rc 0
expect_eq 2 "$(grep -c ' exists$' "$T/out")" "tags found on the second run"
expect_no_out created
refs "$T/a" >"$T/refs-a2"
expect_same "$T/refs-a" "$T/refs-a2" "a second run changed the refs"
case_end

# v0.1.0 alone, then v0.1.1 "mid-rollout": the same ids as making both at
# once, in another directory (given as a relative path).
case_begin 'v0.1.0 alone, then v0.1.1: the same ids, in a relative directory'
mkdir "$T/b"
run sh -c "cd '$T/b' && '$MAKE' out v0.1.0"
expect_rc 0
expect_out "v0.1.0 $($G rev-parse 'v0.1.0^{commit}') created"
expect_no_out v0.1.1
expect_not "v0.1.1 made although only v0.1.0 was asked for" \
	git --git-dir="$T/b/out/$NAME" rev-parse -q --verify refs/tags/v0.1.1
run "$MAKE" "$T/b/out"
expect_rc 0
expect_out "v0.1.0 $($G rev-parse 'v0.1.0^{commit}') exists"
expect_out "v0.1.1 $($G rev-parse 'v0.1.1^{commit}') created"
refs "$T/b/out" >"$T/refs-b"
expect_same "$T/refs-a" "$T/refs-b" "ids differ between two output directories"
case_end

case_begin 'asking for v0.1.1 alone brings v0.1.0 along'
run "$MAKE" "$T/c" v0.1.1
expect_rc 0
refs "$T/c" >"$T/refs-c"
expect_same "$T/refs-a" "$T/refs-c" "ids differ when only v0.1.1 is asked for"
case_end

case_begin 'usage errors exit 129 and create nothing'
run "$MAKE" "$T/d" v9.9.9
expect_rc 129
expect_err "unknown tag 'v9.9.9'"
expect_ok "an unknown tag still created $T/d" [ ! -e "$T/d" ]
run "$MAKE"
expect_rc 129
expect_err "Usage: scripts/make-example-repos.sh OUTDIR [TAG...]"
run "$MAKE" -h
expect_rc 0
expect_out "Usage: scripts/make-example-repos.sh OUTDIR [TAG...]"
case_end

done_testing
