# The scenario and stress helpers now live in tests/cli/lib-ops.sh, with
# the administrators' repository of the command tests (setup_admin, S, sq).
# This file keeps scripts written against the former names working: source
# it after tests/cli/lib.sh. New tests source tests/cli/lib-ops.sh.
. "$SRC/tests/cli/lib-ops.sh"

sc_root() {
	example_tags v0.1.0
	mkdir -p "$R"
	cp -R "$SRC/workspaces" "$SRC/rollouts" "$SRC/groups" "$R/"
	sed -i -e "s|file:///srv/git/|file://$GIT/|" -e 's|identity: os-user|identity: asserted|' \
		"$R/workspaces/engineering.yaml"
}
sc_repos() { example_tags "$@"; }
sc_policy() { policy_edit "$@"; }
sc_ws() { ws_edit "$@"; }
sl() { "$SLUICE" --root "$R" "$@"; }
q() { sq "$@"; }
sc_ready() { make_ready "$@"; }
sc_tag() { tag_release "$@"; }
sc_dump() { dump_normalised "$@"; }
sc_make_plugins() { make_demo_plugins "$@"; }
sc_db_checks() { expect_sound_db; }
