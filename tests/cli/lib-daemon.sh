# Helpers for the tests of `sluice run` (t09xx): start a daemon in the
# background with its log in a file, wait for a line, stop it. Source after
# lib.sh and lib-ops.sh.

# daemon_start NAME ARGS...: starts `sluice --root $R run ARGS...` with its
# stderr in $T/NAME.log; its pid in $T/NAME.pid and $DAEMON_PID
daemon_start() {
	_dn=$1
	shift
	"$SLUICE" --root "$R" run "$@" >"$T/$_dn.out" 2>"$T/$_dn.log" &
	DAEMON_PID=$!
	echo "$DAEMON_PID" >"$T/$_dn.pid"
}

# wait_log NAME TEXT [SECONDS]: waits (default 10 s) until $T/NAME.log has a
# line containing TEXT; returns 1 when it never came
wait_log() {
	_wl_n=$((${3:-10} * 10))
	while [ "$_wl_n" -gt 0 ]; do
		grep -qF -- "$2" "$T/$1.log" 2>/dev/null && return 0
		sleep 0.1
		_wl_n=$((_wl_n - 1))
	done
	echo "--- $T/$1.log" >&2
	cat "$T/$1.log" >&2
	return 1
}

# log_count NAME TEXT: how many lines of $T/NAME.log contain TEXT
log_count() { grep -cF -- "$2" "$T/$1.log" 2>/dev/null || true; }

# daemon_stop NAME: SIGTERM, then waits at most 10 s; sets $rc to its exit
# status (137 when it had to be killed) and $stop_ms to how long it took
daemon_stop() {
	_ds_pid=$(cat "$T/$1.pid")
	_ds_t0=$(now_ms)
	kill -TERM "$_ds_pid" 2>/dev/null
	_ds_n=100
	while [ "$_ds_n" -gt 0 ] && kill -0 "$_ds_pid" 2>/dev/null; do
		# a zombie has exited: wait reaps it below
		[ "$(ps -o stat= -p "$_ds_pid" 2>/dev/null | cut -c1)" = Z ] && break
		sleep 0.1
		_ds_n=$((_ds_n - 1))
	done
	kill -0 "$_ds_pid" 2>/dev/null && [ "$(ps -o stat= -p "$_ds_pid" | cut -c1)" != Z ] &&
		kill -9 "$_ds_pid" 2>/dev/null
	rc=0
	wait "$_ds_pid" 2>/dev/null || rc=$?
	tl_run_cmd="sluice run ($1), stopped by SIGTERM"
	stop_ms=$(($(now_ms) - _ds_t0))
}

# daemon_kill NAME: kill -9 and reap
daemon_kill() {
	_dk_pid=$(cat "$T/$1.pid")
	kill -9 "$_dk_pid" 2>/dev/null
	wait "$_dk_pid" 2>/dev/null || true
}

# No daemon outlives its test, whatever failed: every one started is
# killed before lib.sh's exit trap removes $T.
_daemon_reap() {
	for _dr in "$T"/*.pid; do
		[ -f "$_dr" ] && kill -9 "$(cat "$_dr")" 2>/dev/null
	done
	return 0
}
trap '_dr_st=$?; _daemon_reap; (exit $_dr_st); _tl_exit' EXIT
