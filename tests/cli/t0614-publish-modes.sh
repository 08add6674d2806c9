#!/bin/sh
# Published files are 0644 and directories 0755 whatever the umask, unless
# publish.mode says otherwise ("0640": files 0640, directories 0750); a
# release published before takes the new mode too. A publish.mode that is
# not an octal mode the owner can read and write is a validation error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-ops.sh"
setup_admin
P=$R/.sluice/published
REL=$P/releases/$PLUGIN/0.1.0

# modes WHAT FILE-MODE DIR-MODE: every published file and directory
modes() {
	find "$P/effective.json" "$P/.cache.json" "$P/.sluice-published.json" "$P/releases" \
		-type f -exec stat -c '%a %n' {} + | awk '{print $1}' | sort -u >"$T/fmodes"
	expect_eq "$2" "$(cat "$T/fmodes")" "$1: file modes"
	find "$P" -mindepth 1 -type d -exec stat -c '%a' {} + | sort -u >"$T/dmodes"
	expect_eq "$3" "$(cat "$T/dmodes")" "$1: directory modes"
}

case_begin 'under umask 077 files are 0644 and directories 0755'
umask 077
start_rollout
expect_ok "a release is published" [ -f "$REL/plugin.yaml" ]
expect_ok "with its tools" [ -d "$REL/tools" ]
modes "default" 644 755
case_end

case_begin 'publish.mode "0640": files 0640 and directories 0750, also for a release published before'
ws_edit 's|path: .sluice/published}|path: .sluice/published, mode: "0640"}|'
S reconcile --no-fetch --now $D2
expect_rc 0
modes "0640" 640 750
case_end

case_begin 'a new publish directory under umask 077 gets the mode too'
umask 077
ws_edit 's|path: .sluice/published, mode: "0640"}|path: out/published}|'
S reconcile --no-fetch --now $D2
expect_rc 0
P=$R/out/published
expect_eq 755 "$(stat -c %a "$R/out")" "a directory it made above the publish directory"
modes "new directory" 644 755
case_end

case_begin 'a publish.mode that is not a mode the owner can read and write is refused'
for m in '"0999"' '"644x"' '"0400"' '"00644"' '"u+rw"'; do
	ws_edit "s|path: out/published[^}]*}|path: out/published, mode: $m}|"
	S validate
	expect_rc 2
	expect_out "workspaces/engineering.yaml:47:"
	expect_out "error: 'publish.mode' must be an octal file mode such as \"0644\" or \"0640\" that lets the owner read and write (got $m)"
done
case_end

done_testing
