#!/bin/sh
# approval_needed (docs/notifications.md): the first pass in which a
# release's stage waits for approval writes one approval.needed audit row
# and, for an endpoint subscribed to it (or to `all`), one outbox row;
# later passes add none; the next stage that waits asks again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"

setup_admin
DOWN=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >>"$R/workspaces/engineering.yaml" <<EOT
notifications:
  - {url: "http://127.0.0.1:$DOWN/all", events: [all]}
  - {url: "http://127.0.0.1:$DOWN/approvals", events: [approval_needed]}
EOT

needed() { sq "SELECT count(*) FROM outbox WHERE kind = 'approval_needed' AND endpoint LIKE '%$1'"; }

case_begin 'a stage waiting for approval asks once, to both endpoints'
record
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'approval.needed'")" "approval.needed rows"
expect_eq "$PLUGIN|0.1.0|devex-dogfood" \
	"$(sq "SELECT plugin || '|' || version || '|' || json_extract(details, '$.stage') FROM audit WHERE action = 'approval.needed'")" \
	"what the row names"
expect_eq 1 "$(needed /all)" "approval_needed rows for the 'all' endpoint"
expect_eq 1 "$(needed /approvals)" "approval_needed rows for the approvals endpoint"
expect_eq 0 "$(sq "SELECT count(*) FROM outbox WHERE endpoint LIKE '%/approvals' AND kind != 'approval_needed'")" \
	"other kinds sent to the approvals endpoint"
case_end

case_begin 'later passes while it still waits add nothing'
S reconcile --no-fetch --now $D1
expect_rc 0
S reconcile --no-fetch --now $D1
expect_rc 0
expect_eq 1 "$(sq "SELECT count(*) FROM audit WHERE action = 'approval.needed'")" "approval.needed rows"
expect_eq 1 "$(needed /approvals)" "approval_needed rows for the approvals endpoint"
case_end
done_testing
