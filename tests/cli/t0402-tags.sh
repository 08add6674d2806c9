#!/bin/sh
# sluice tags: each tag, the version it parses to, whether the range admits
# it, and the candidate; with require_signed_tags, why a tag is refused.
. "$(dirname "$0")/lib.sh"

R=$T/root
G=$T/git
mkdir -p "$R/workspaces" "$G/acme"
git init -q -b main "$G/acme/codex-plugin-reviewer"
(
	cd "$G/acme/codex-plugin-reviewer" &&
	printf 'id: reviewer\nversion: 0.1.0\n' >plugin.yaml && git add -A && git commit -qm one &&
	git tag v0.1.0 && git tag v0.2.0 && git tag v0.3.0-rc.1 && git tag v1.0.0 &&
	git tag latest && git tag v01.0.0
) >/dev/null
cat >"$R/workspaces/eng.yaml" <<YAML
workspace: eng
groups: {devs: {members: [alice]}}
admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]
repositories: {url_template: "file://$G/{repository}"}
plugins:
  - {repository: acme/codex-plugin-reviewer, versions: ">=0.1.0 <1.0.0"}
YAML
S() { "$SLUICE" --root "$R" "$@"; }

case_begin 'before any fetch: exit 1, told to fetch'
run S tags acme/codex-plugin-reviewer
expect_rc 1
expect_err "error: no mirror of 'acme/codex-plugin-reviewer'"
expect_err "run 'sluice fetch' first"
case_end

case_begin 'named by owner/name, -o json reports the plugin id, each tag and the candidate'
run S fetch -q
expect_rc 0
run S tags acme/codex-plugin-reviewer -o json
expect_rc 0
expect_eq '{"plugin":"reviewer","range":">=0.1.0 <1.0.0","tags":[{"tag":"v0.1.0","version":"0.1.0","in_range":true},{"tag":"v0.2.0","version":"0.2.0","in_range":true},{"tag":"v0.3.0-rc.1","version":"0.3.0-rc.1","in_range":false},{"tag":"v1.0.0","version":"1.0.0","in_range":false},{"tag":"latest","version":null,"in_range":false},{"tag":"v01.0.0","version":null,"in_range":false}],"candidate":"v0.2.0"}' \
	"$(jq -c . "$T/out")" "tags json"
case_end

case_begin 'by plugin id (from the manifest), in text'
run S tags reviewer
expect_rc 0
expect_out 'plugin reviewer (acme/codex-plugin-reviewer), versions ">=0.1.0 <1.0.0"'
expect_out "v0.2.0       0.2.0                 yes"
expect_out "v1.0.0       1.0.0                 no"
expect_out "latest       -                     no (not a vX.Y.Z tag)"
expect_out "candidate: v0.2.0"
case_end

case_begin 'an unknown plugin: exit 2'
run S tags nope
expect_rc 2
expect_err "error: no plugin 'nope' in workspace 'eng'"
case_end

case_begin 'nothing in range: no candidate'
sed -i 's/">=0.1.0 <1.0.0"/">=2.0.0"/' "$R/workspaces/eng.yaml"
run S tags reviewer -o json
expect_rc 0
expect_eq null "$(jq -c .candidate "$T/out")" "no candidate"
run S tags reviewer
expect_rc 0
expect_out 'candidate: none (no tag in range ">=2.0.0")'
case_end

# require_signed_tags: a signed tag verifies; unsigned and lightweight ones
# are refused with the reason and are never the candidate.
case_begin 'require_signed_tags: unsigned and lightweight tags are refused, never the candidate'
ssh-keygen -q -t ed25519 -N '' -C ana -f "$T/key"
printf 'ana@acme.example namespaces="git" %s\n' "$(cat "$T/key.pub")" >"$R/allowed_signers"
git init -q -b main "$G/acme/signed"
(
	cd "$G/acme/signed" && printf 'id: signed\n' >plugin.yaml && git add -A && git commit -qm one &&
	GIT_COMMITTER_EMAIL=ana@acme.example git -c gpg.format=ssh -c user.signingkey="$T/key" \
		tag -s v1.0.0 -m 'signed 1.0.0' &&
	GIT_COMMITTER_EMAIL=ana@acme.example git tag -a v1.1.0 -m 'unsigned 1.1.0' &&
	git tag v1.2.0
) >/dev/null
cat >"$R/workspaces/eng.yaml" <<YAML
workspace: eng
groups: {devs: {members: [alice]}}
admins: [{id: ana, roles: [operator], emails: [ana@acme.example]}]
repositories: {url_template: "file://$G/{repository}"}
plugins:
  - {repository: acme/signed, versions: ">=1.0.0"}
policy: {require_signed_tags: true, allowed_signers: allowed_signers}
YAML
run S fetch -q
expect_rc 0
run S tags acme/signed
expect_rc 0
expect_out "v1.0.0  1.0.0                 yes"
expect_no_out "v1.0.0  1.0.0                 yes; refused"
expect_out "v1.1.0  1.1.0                 yes; refused: tag 'v1.1.0' of 'acme/signed' is not signed with an ssh key"
expect_out "v1.2.0  1.2.0                 yes; refused: tag 'v1.2.0' of 'acme/signed' is lightweight"
expect_out "candidate: v1.0.0"
run S tags acme/signed -o json
expect_rc 0
expect_eq null "$(jq -c '.tags[0].signature_refused' "$T/out")" "signed tag verifies"
expect_eq '"v1.0.0"' "$(jq -c .candidate "$T/out")" "signed candidate"
case_end

case_begin 'a tag signed by a key that is not in allowed_signers is refused'
ssh-keygen -q -t ed25519 -N '' -C eve -f "$T/evekey"
(cd "$G/acme/signed" && GIT_COMMITTER_EMAIL=ana@acme.example git -c gpg.format=ssh \
	-c user.signingkey="$T/evekey" tag -s v1.3.0 -m 'forged') >/dev/null
run S fetch -q
expect_rc 0
run S tags acme/signed
expect_rc 0
expect_out "v1.3.0  1.3.0                 yes; refused: the ssh signature of tag 'v1.3.0' of 'acme/signed' (tagger ana@acme.example) does not verify against '$R/allowed_signers'"
expect_out "candidate: v1.0.0"
case_end

done_testing
