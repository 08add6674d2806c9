#!/bin/sh
# The administrators' repository commit recorded with every decision says
# when the configuration read was not that commit: `admin_commit` is HEAD,
# or HEAD with "-dirty" when a file read (workspaces/*.yaml,
# rollouts/*.yaml, a members file, the allowed signers) has uncommitted or
# untracked changes (docs/database.md).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git init -q "$R" && printf '.sluice/\n' >"$R/.gitignore" && git -C "$R" add -A &&
	git -C "$R" -c user.name=a -c user.email=a@acme.example commit -qm config ||
	bail "cannot make the administrators' repository"
HEAD=$(git -C "$R" rev-parse HEAD)
last_commit() { sq 'SELECT admin_commit FROM audit ORDER BY id DESC LIMIT 1'; }

case_begin 'a clean tree: admin_commit is HEAD'
record
expect_eq "$HEAD" "$(last_commit)" "admin_commit of the pass"
S status -o json --now $D0
expect_rc 0
expect_eq "$HEAD" "$(js .admin_commit)" "status admin_commit"
case_end

case_begin 'a change to a file not read leaves it clean'
echo notes >"$R/NOTES.md"
S approve $PLUGIN@0.1.0 --stage devex-dogfood --as admin-ana --now $D1
expect_rc 0
expect_eq "$HEAD" "$(last_commit)" "admin_commit with an unrelated untracked file"
case_end

case_begin 'an uncommitted edit of the workspace: HEAD-dirty'
echo '# local edit' >>"$R/workspaces/engineering.yaml"
S attest $PLUGIN@0.1.0 contract-tests --as ci-bot --now $D1
expect_rc 0
expect_eq "$HEAD-dirty" "$(last_commit)" "admin_commit after editing the workspace"
S status -o json --now $D1
expect_rc 0
expect_eq "$HEAD-dirty" "$(js .admin_commit)" "status admin_commit"
git -C "$R" checkout -q -- workspaces/engineering.yaml
case_end

case_begin 'an edited members file or an untracked rollout policy: HEAD-dirty'
echo zoe >>"$R/groups/backend-engineers.txt"
S attest $PLUGIN@0.1.0 security-review --as admin-ben --now $D1
expect_rc 0
expect_eq "$HEAD-dirty" "$(last_commit)" "admin_commit after editing a members file"
git -C "$R" checkout -q -- groups/backend-engineers.txt
cp "$R/rollouts/standard.yaml" "$R/rollouts/other.yaml"
S reconcile --now $D2
expect_rc 0
expect_eq "$HEAD-dirty" "$(last_commit)" "admin_commit with an untracked rollout policy"
rm "$R/rollouts/other.yaml"
case_end

case_begin 'committed again: clean'
S withdraw $PLUGIN --reason test --as admin-ana --now $D2
expect_rc 0
expect_eq "$HEAD" "$(last_commit)" "admin_commit once the tree is clean"
case_end

done_testing
