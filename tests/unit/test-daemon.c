/* The daemon's parts that need no database: durations, the log line
 * formats, the metrics file's daemon block, and the hand-written sd_notify
 * (a path and an abstract socket). The loop itself is tested end to end by
 * tests/cli/t0903-t0906. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../src/lib/daemon-internal.h"
#include "sluice/error.h"
#include "sluice/util.h"

static void test_parse_duration(void **state)
{
	static const struct {
		const char *in;
		int64_t ms; /* -1: invalid */
	} rows[] = {
		{"500ms", 500}, {"10s", 10000}, {"5m", 300000}, {"1h", 3600000}, {"60s", 60000},
		{"0s", -1},     {"10", -1},     {"s", -1},      {"", -1},        {"1.5s", -1},
		{"-1s", -1},    {"10x", -1},    {"10S", -1},    {"1d", -1},      {"99999999999999999h", -1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int64_t ms = 42;
		int rc = sluice_daemon_parse_duration(&ms, rows[i].in);
		if (rows[i].ms < 0) {
			assert_int_equal(rc, SLUICE_EINVAL);
			assert_non_null(strstr(sluice_error_last(), rows[i].in));
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(ms, rows[i].ms);
		}
	}
}

static char *log_line(sluice_log_format fmt, const sluice__log_fields *f, const char *msg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	sluice__log l = {fmt, 0, mem};

	sluice__log_event(&l, "info", f, "%s", msg);
	sluice__log_event(&l, "debug", f, "not shown without -v");
	fclose(mem);
	return buf;
}

static void test_log_json(void **state)
{
	sluice__log_fields f = SLUICE__LOG_NONE;
	json_error_t err;
	json_t *o;
	char *line;

	(void)state;
	f.plugin = "backend-pr-reviewer";
	f.version = "0.1.0";
	f.duration_ms = 12;
	line = log_line(SLUICE_LOG_JSON, &f, "tag \x1b[31m moved \xff");
	assert_non_null(strchr(line, '\n'));
	assert_null(strchr(strchr(line, '\n') + 1, '\n')); /* one line: debug not shown */
	o = json_loads(line, 0, &err);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "level")), "info");
	assert_int_equal(strlen(json_string_value(json_object_get(o, "time"))), 24);
	/* a control character is escaped; a byte that is not UTF-8 becomes '?' */
	assert_string_equal(json_string_value(json_object_get(o, "msg")), "tag \\x1b[31m moved ?");
	assert_string_equal(json_string_value(json_object_get(o, "plugin")), "backend-pr-reviewer");
	assert_string_equal(json_string_value(json_object_get(o, "version")), "0.1.0");
	assert_int_equal(json_integer_value(json_object_get(o, "duration_ms")), 12);
	assert_null(json_object_get(o, "stage")); /* unknown fields are absent */
	assert_null(json_object_get(o, "error"));
	json_decref(o);
	free(line);
}

static void test_log_text(void **state)
{
	sluice__log_fields f = SLUICE__LOG_NONE;
	char *line;

	(void)state;
	f.stage = "devex dogfood";
	f.duration_ms = 0;
	line = log_line(SLUICE_LOG_TEXT, &f, "a\nb");
	/* 2026-12-02T07:07:17.901Z info  a\x0ab stage="devex dogfood" duration_ms=0 */
	assert_int_equal(line[23], 'Z');
	assert_string_equal(line + 24, " info  a\\x0ab stage=\"devex dogfood\" duration_ms=0\n");
	free(line);
}

static void test_metrics_daemon_block(void **state)
{
	char dir[] = "/tmp/sluice-test-daemon-XXXXXX";
	sluice__metrics m = {0};
	char *path, *text = NULL, *help, *line, *save = NULL;
	size_t len, nhelp = 0, ntype = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = sluice_path_join(dir, "sluice.prom");
	m.lease_held = true;
	m.ticks = 3;
	m.ran = true;
	m.result = "ok";
	m.reconcile_seconds = 0.25;
	m.runs_ok = 3;
	assert_int_equal(sluice__metrics_write(path, &m, NULL), 0);
	assert_int_equal(sluice_file_read(&text, &len, path, 1 << 20), 0);
	help = sluice_xstrdup(text);
	for (line = strtok_r(help, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		nhelp += strncmp(line, "# HELP ", 7) == 0;
		ntype += strncmp(line, "# TYPE ", 7) == 0;
	}
	assert_true(nhelp > 10);
	assert_int_equal(nhelp, ntype);
	assert_non_null(strstr(text, "\nsluice_daemon_lease_held 1\n"));
	assert_non_null(strstr(text, "\nsluice_reconcile_success 1\n"));
	assert_non_null(strstr(text, "\nsluice_reconcile_duration_seconds 0.250\n"));
	assert_non_null(strstr(text, "\nsluice_reconcile_runs_total{result=\"ok\"} 3\n"));
	assert_non_null(strstr(text, "\nsluice_outbox_pending 0\n"));
	assert_non_null(strstr(text, "# TYPE sluice_daemon_ticks_total counter\n"));
	free(help);
	free(text);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* Binds a datagram socket at name ('@' for abstract), sends through
 * NOTIFY_SOCKET=name, and returns what arrived. */
static void notify_round_trip(const char *name)
{
	struct sockaddr_un sa = {0};
	socklen_t salen;
	char got[64];
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name) + (name[0] == '/'));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, salen), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sluice__sd_notify("READY=1\nSTATUS=acting"), 0);
	n = recv(fd, got, sizeof got - 1, MSG_DONTWAIT);
	assert_int_equal(n, 21);
	got[n] = '\0';
	assert_string_equal(got, "READY=1\nSTATUS=acting");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_sd_notify(void **state)
{
	char dir[] = "/tmp/sluice-test-notify-XXXXXX", *path, abs[64];

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sluice__sd_notify("READY=1"), 0); /* not under systemd */
	assert_non_null(mkdtemp(dir));
	path = sluice_path_join(dir, "notify");
	notify_round_trip(path);
	unlink(path);
	rmdir(dir);
	free(path);
	snprintf(abs, sizeof abs, "@sluice-test-%ld", (long)getpid());
	notify_round_trip(abs);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sluice__sd_notify("READY=1"), SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "NOTIFY_SOCKET 'relative/path'"));
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog(void **state)
{
	char pid[32];

	(void)state;
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(sluice__sd_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "400000", 1);
	assert_int_equal(sluice__sd_watchdog_ms(), 200);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sluice__sd_watchdog_ms(), 200);
	setenv("WATCHDOG_PID", "1", 1); /* another process's watchdog */
	assert_int_equal(sluice__sd_watchdog_ms(), 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "soon", 1);
	assert_int_equal(sluice__sd_watchdog_ms(), 0);
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_log_json),
		cmocka_unit_test(test_log_text),
		cmocka_unit_test(test_metrics_daemon_block),
		cmocka_unit_test(test_sd_notify),
		cmocka_unit_test(test_watchdog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
