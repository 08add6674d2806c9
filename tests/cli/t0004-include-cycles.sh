#!/bin/sh
# No cycles between library modules: the #include lines of src/lib and
# include/sluice, read as "module A uses module B", must sort
# topologically. A module is a public header and the files that implement
# it: include/sluice/X.h, src/lib/X.c and src/lib/X-*.c (store-rollout.c is
# the store), unless X-*.h is a header of its own (release-snapshot.h).
. "$(dirname "$0")/lib.sh"

cd "$SRC" || bail "no source directory $SRC"

module() {
	b=$(basename "$1")
	b=${b%.c}
	b=${b%.h}
	b=${b%-internal}
	case $b in
	# declared in source.h (docs/sources.md)
	sign | tree-git) echo source; return ;;
	# the store's audit-log SQL, behind store.h
	audit) echo store; return ;;
	# typed getters for the configuration's nodes
	schema) echo config; return ;;
	esac
	while [ ! -f "include/sluice/$b.h" ] && [ "$b" != "${b%-*}" ]; do
		b=${b%-*}
	done
	echo "$b"
}

case_begin 'the include lines are read: known module dependencies are there'
for f in src/lib/*.c src/lib/*.h include/sluice/*.h; do
	m=$(module "$f")
	sed -n 's/^#include "\(.*\)"/\1/p' "$f" | while read -r h; do
		n=$(module "$h")
		[ "$m" = "$n" ] || echo "$m $n"
	done
done | sort -u >"$T/edges"
expect_ok "no edge reconcile -> engine in: $(cat "$T/edges")" grep -qx "reconcile engine" "$T/edges"
expect_ok "no edge reconcile -> publish" grep -qx "reconcile publish" "$T/edges"
expect_ok "no edge store -> rollout" grep -qx "store rollout" "$T/edges"
case_end

case_begin 'the modules sort topologically: no include cycle'
run tsort "$T/edges"
expect_rc 0
expect_no_err "loop"
case_end

case_begin 'the publishers get a context, never the engine'
run grep -l 'sluice/engine.h\|sluice_engine' include/sluice/publish.h src/lib/publish.c \
	src/lib/publish-directory.c
expect_rc 1
case_end

case_begin 'below reconcile nothing includes reconcile.h'
# the daemon (sluice run) is the one library module above reconcile: its
# ticks run passes
run grep -l 'sluice/reconcile.h' src/lib/*.c include/sluice/*.h
expect_rc 0
expect_eq "src/lib/daemon.c
src/lib/reconcile.c" "$(cat "$T/out")" "files that include reconcile.h"
case_end

done_testing
