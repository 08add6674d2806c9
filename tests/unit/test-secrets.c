/* The secret providers (docs/secrets.md): the env provider's variable
 * names; the file provider's modes, symbolic links and versions; the exec
 * provider against small helpers written here (an answer, a hang past the
 * timeout, a crash, garbage, too much output); the vault-kv2 answer
 * parsing; and the max_age_days warning. Every failure is asserted by
 * its code and message, and no message repeats what a helper printed. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/lib/secrets/secrets-internal.h"
#include "sluice/error.h"
#include "sluice/util.h"

static char tmpdir[] = "/tmp/sluice-test-secrets-XXXXXX";

static void put_file(const char *rel, const char *text, mode_t mode)
{
	char *path = sluice_xasprintf("%s/%s", tmpdir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static sluice_secret_provider provider(const char *type)
{
	sluice_secret_provider p;
	memset(&p, 0, sizeof p);
	p.name.s = "test-provider";
	p.type.s = type;
	return p;
}

static void expect_error(int rc, int code, const char *part)
{
	assert_int_equal(rc, code);
	if (!strstr(sluice_error_last(), part))
		fail_msg("message '%s' lacks '%s'", sluice_error_last(), part);
	sluice_error_clear();
}

/* ---- env ---------------------------------------------------------------- */

static void env_names(void **state)
{
	(void)state;
	const struct {
		const char *name, *var;
	} rows[] = {
		{"codex/x/token", "SLUICE_SECRET_CODEX_X_TOKEN"},
		{"codex/backend-pr-reviewer/service-token",
		 "SLUICE_SECRET_CODEX_BACKEND_PR_REVIEWER_SERVICE_TOKEN"},
		{"Already_UPPER9", "SLUICE_SECRET_ALREADY_UPPER9"},
		{"a.b c:d", "SLUICE_SECRET_A_B_C_D"},
		{"caf\xc3\xa9", "SLUICE_SECRET_CAF__"},
		{"", "SLUICE_SECRET_"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char *v = sluice_secret_env_name(rows[i].name);
		assert_string_equal(v, rows[i].var);
		free(v);
	}
}

static void env_presence(void **state)
{
	(void)state;
	sluice_secret_provider p = provider("env");
	sluice_secret_query q = {"codex/unit/token", "eng", "pl", NULL};
	sluice_secret_meta m;

	unsetenv("SLUICE_SECRET_CODEX_UNIT_TOKEN");
	assert_int_equal(sluice_secret_check(&m, &p, &q), 0);
	assert_false(m.exists);
	setenv("SLUICE_SECRET_CODEX_UNIT_TOKEN", "", 1);
	assert_int_equal(sluice_secret_check(&m, &p, &q), 0);
	assert_false(m.exists); /* set but empty is missing */
	setenv("SLUICE_SECRET_CODEX_UNIT_TOKEN", "value", 1);
	assert_int_equal(sluice_secret_check(&m, &p, &q), 0);
	assert_true(m.exists);
	assert_null(m.version);
	sluice_secret_meta_clear(&m);
	unsetenv("SLUICE_SECRET_CODEX_UNIT_TOKEN");
}

static void unknown_type(void **state)
{
	(void)state;
	sluice_secret_provider p = provider("keyring");
	sluice_secret_query q = {"x", NULL, NULL, NULL};
	sluice_secret_meta m;
	expect_error(sluice_secret_check(&m, &p, &q), SLUICE_EINVAL, "unknown type 'keyring'");
}

/* ---- file --------------------------------------------------------------- */

static void file_modes_and_links(void **state)
{
	(void)state;
	sluice_secret_provider p = provider("file");
	sluice_secret_meta m;
	char *outside = sluice_xasprintf("%s/outside", tmpdir);
	char *link_in = sluice_xasprintf("%s/sec/codex/alias", tmpdir);
	char *link_out = sluice_xasprintf("%s/sec/codex/escape", tmpdir);
	char *sub = sluice_xasprintf("%s/sec/codex/dir", tmpdir);
	char *tok = sluice_xasprintf("%s/sec/codex/token", tmpdir);

	p.dir.s = "sec"; /* relative: resolved against the root */
	put_file("sec/codex/token", "s3cret", 0600);
	struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
	assert_int_equal(utimensat(AT_FDCWD, tok, times, 0), 0);

	sluice_secret_query q = {"codex/token", "eng", "pl", tmpdir};
	assert_int_equal(sluice_secret_check(&m, &p, &q), 0);
	assert_true(m.exists);
	assert_string_equal(m.version, "1700000000");
	assert_int_equal(m.updated_at, 1700000000);
	sluice_secret_meta_clear(&m);

	assert_int_equal(chmod(tok, 0400), 0);
	assert_int_equal(sluice_secret_check(&m, &p, &q), 0);
	assert_true(m.exists); /* narrower than 0600 is fine */
	sluice_secret_meta_clear(&m);
	assert_int_equal(chmod(tok, 0644), 0);
	expect_error(sluice_secret_check(&m, &p, &q), SLUICE_EREFUSED,
		     "codex/token has mode 0644, wider than 0600");
	assert_int_equal(chmod(tok, 0660), 0);
	expect_error(sluice_secret_check(&m, &p, &q), SLUICE_EREFUSED, "mode 0660");
	assert_int_equal(chmod(tok, 0600), 0);

	/* absent: missing, not an error */
	sluice_secret_query qa = {"codex/absent", "eng", "pl", tmpdir};
	assert_int_equal(sluice_secret_check(&m, &p, &qa), 0);
	assert_false(m.exists);
	sluice_secret_query qn = {"codex/token/below", "eng", "pl", tmpdir};
	assert_int_equal(sluice_secret_check(&m, &p, &qn), 0);
	assert_false(m.exists);

	/* a link that stays inside dir is the file it names */
	assert_int_equal(symlink("token", link_in), 0);
	sluice_secret_query ql = {"codex/alias", "eng", "pl", tmpdir};
	assert_int_equal(sluice_secret_check(&m, &p, &ql), 0);
	assert_true(m.exists);
	sluice_secret_meta_clear(&m);

	/* a link out of dir is refused, even to a file with a good mode */
	put_file("outside", "elsewhere", 0600);
	assert_int_equal(symlink(outside, link_out), 0);
	sluice_secret_query qo = {"codex/escape", "eng", "pl", tmpdir};
	expect_error(sluice_secret_check(&m, &p, &qo), SLUICE_EREFUSED,
		     "codex/escape is a symbolic link that leads out of");
	sluice_secret_query qd = {"codex/../../outside", "eng", "pl", tmpdir};
	expect_error(sluice_secret_check(&m, &p, &qd), SLUICE_EREFUSED, "leads out of");

	assert_int_equal(mkdir(sub, 0700), 0);
	sluice_secret_query qs = {"codex/dir", "eng", "pl", tmpdir};
	expect_error(sluice_secret_check(&m, &p, &qs), SLUICE_EINVAL, "is not a regular file");

	p.dir.s = "no-such-dir";
	expect_error(sluice_secret_check(&m, &p, &q), SLUICE_EIO, "cannot use dir");
	free(outside);
	free(link_in);
	free(link_out);
	free(sub);
	free(tok);
}

/* ---- exec --------------------------------------------------------------- */

/* The helper: a shell script doing `body`, made executable. */
static char *helper(const char *name, const char *body)
{
	char *rel = sluice_xasprintf("%s.sh", name);
	char *text = sluice_xasprintf("#!/bin/sh\n%s\n", body);
	put_file(rel, text, 0700);
	char *path = sluice_xasprintf("%s/%s", tmpdir, rel);
	free(rel);
	free(text);
	return path;
}

static int run_exec(sluice_secret_meta *m, const char *path, int64_t timeout_ms)
{
	sluice_secret_provider p = provider("exec");
	sluice_str argv[2] = {{path, {0}}, {"--flag with space", {0}}};
	p.command.items = argv;
	p.command.count = 2;
	p.timeout_ms = timeout_ms;
	sluice_secret_query q = {"codex/x/token", "engineering", "backend-pr-reviewer", tmpdir};
	return sluice_secret_check(m, &p, &q);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void exec_answers(void **state)
{
	(void)state;
	sluice_secret_meta m;
	char *req = sluice_xasprintf("%s/request", tmpdir);
	char *body = sluice_xasprintf(
		"cat >'%s'; printf '%%s\\n' \"$1\" >'%s.arg'\n"
		"echo '{\"exists\": true, \"version\": 7, \"updated_at\": \"2026-11-30T09:00:00Z\"}'",
		req, req);
	char *ok = helper("ok", body);

	assert_int_equal(run_exec(&m, ok, 0), 0);
	assert_true(m.exists);
	assert_string_equal(m.version, "7");
	assert_int_equal(m.updated_at, 1796029200); /* 2026-11-30T09:00:00Z */
	sluice_secret_meta_clear(&m);
	/* the request is one JSON object, and argv reached it unsplit */
	char *argf = sluice_xasprintf("%s.arg", req);
	FILE *f = fopen(req, "r"), *g = fopen(argf, "r");
	char line[512] = "", arg[64] = "";
	assert_non_null(f);
	assert_non_null(g);
	assert_non_null(fgets(line, sizeof line, f));
	assert_non_null(fgets(arg, sizeof arg, g));
	fclose(f);
	fclose(g);
	free(argf);
	assert_non_null(strstr(line, "\"name\":\"codex/x/token\""));
	assert_non_null(strstr(line, "\"workspace\":\"engineering\""));
	assert_non_null(strstr(line, "\"plugin\":\"backend-pr-reviewer\""));
	assert_string_equal(arg, "--flag with space\n");

	char *absent = helper("absent", "echo '{\"exists\": false}'");
	assert_int_equal(run_exec(&m, absent, 0), 0);
	assert_false(m.exists);
	assert_null(m.version);

	char *sver = helper("sver", "echo '{\"exists\": true, \"version\": \"v3\"}'");
	assert_int_equal(run_exec(&m, sver, 0), 0);
	assert_string_equal(m.version, "v3");
	assert_int_equal(m.updated_at, 0);
	sluice_secret_meta_clear(&m);
	free(req);
	free(body);
	free(ok);
	free(absent);
	free(sver);
}

static void exec_failures(void **state)
{
	(void)state;
	sluice_secret_meta m;
	const char *marker = "marker-5d1e0c";
	char *hang = helper("hang", "exec sleep 30");
	char *crash = helper("crash", "echo '{\"exists\": true}'; exit 3");
	char *sig = helper("signal", "kill -9 $$");
	char *garbage = helper("garbage", "echo 'marker-5d1e0c is not json'");
	char *array = helper("array", "echo '[true]'");
	char *noexists = helper("noexists", "echo '{\"version\": 1}'");
	char *badver = helper("badver", "echo '{\"exists\": true, \"version\": [1]}'");
	char *badtime = helper("badtime",
			       "echo '{\"exists\": true, \"updated_at\": \"yesterday marker-5d1e0c\"}'");
	char *much = helper("much", "head -c 200000 /dev/zero | tr '\\0' x");
	char *dup = helper("dup", "echo '{\"exists\": true, \"exists\": false}'");

	int64_t t0 = mono_ms();
	expect_error(run_exec(&m, hang, 300), SLUICE_EIO,
		     "helper " "/tmp/sluice-test-secrets-");
	int64_t took = mono_ms() - t0;
	if (took < 250 || took > 3000)
		fail_msg("the hanging helper was killed after %lld ms, not about 300",
			 (long long)took);
	assert_int_equal(run_exec(&m, hang, 300), SLUICE_EIO);
	assert_non_null(strstr(sluice_error_last(), "did not answer within 300 ms and was killed"));
	sluice_error_clear();

	expect_error(run_exec(&m, crash, 0), SLUICE_EIO, "exited with status 3");
	expect_error(run_exec(&m, sig, 0), SLUICE_EIO, "died of signal 9");
	assert_int_equal(run_exec(&m, garbage, 0), SLUICE_EINVAL);
	assert_null(strstr(sluice_error_last(), marker)); /* never repeated */
	expect_error(SLUICE_EINVAL, SLUICE_EINVAL, "did not answer with a JSON object");
	expect_error(run_exec(&m, array, 0), SLUICE_EINVAL, "did not answer with a JSON object");
	expect_error(run_exec(&m, noexists, 0), SLUICE_EINVAL, "without a boolean \"exists\"");
	expect_error(run_exec(&m, badver, 0), SLUICE_EINVAL, "\"version\" that is neither");
	assert_int_equal(run_exec(&m, badtime, 0), SLUICE_EINVAL);
	assert_null(strstr(sluice_error_last(), marker));
	expect_error(SLUICE_EINVAL, SLUICE_EINVAL, "not an RFC 3339 time");
	expect_error(run_exec(&m, much, 0), SLUICE_ELIMIT, "printed more than 64 KiB");
	expect_error(run_exec(&m, dup, 0), SLUICE_EINVAL, "did not answer with a JSON object");
	expect_error(run_exec(&m, "/nonexistent/helper", 0), SLUICE_EIO, "cannot run");
	/* every message names the provider */
	assert_int_equal(run_exec(&m, crash, 0), SLUICE_EIO);
	assert_non_null(strstr(sluice_error_last(), "secret provider 'test-provider'"));
	sluice_error_clear();

	sluice_secret_provider p = provider("exec");
	sluice_secret_query q = {"x", NULL, NULL, NULL};
	expect_error(sluice_secret_check(&m, &p, &q), SLUICE_EINVAL, "has no command");
	free(hang);
	free(crash);
	free(sig);
	free(garbage);
	free(array);
	free(noexists);
	free(badver);
	free(badtime);
	free(much);
	free(dup);
}

/* ---- vault-kv2 answers -------------------------------------------------- */

#define NOW 1796029200 /* 2026-11-30T09:00:00Z */

static int vault(sluice_secret_meta *m, const char *json)
{
	return sluice__secret_vault_parse(m, "vault", "secret", "codex/x/token", json,
					  json ? strlen(json) : 0, NOW);
}

static void vault_answers(void **state)
{
	(void)state;
	sluice_secret_meta m;
	const struct {
		const char *json;
		bool exists;
		const char *version;
		int64_t updated_at;
	} rows[] = {
		{"{\"data\": {\"current_version\": 3, \"updated_time\": \"2026-11-01T00:00:00Z\","
		 " \"versions\": {\"3\": {\"deletion_time\": \"\", \"destroyed\": false}}}}",
		 true, "3", 1793491200},
		/* no versions map at all: present */
		{"{\"data\": {\"current_version\": 1}}", true, "1", 0},
		/* the current version deleted before now */
		{"{\"data\": {\"current_version\": 2, \"versions\": {\"2\": "
		 "{\"deletion_time\": \"2026-11-29T00:00:00Z\"}}}}",
		 false, "2", 0},
		/* a delete scheduled after now: still there */
		{"{\"data\": {\"current_version\": 2, \"versions\": {\"2\": "
		 "{\"deletion_time\": \"2027-01-01T00:00:00Z\"}}}}",
		 true, "2", 0},
		/* destroyed */
		{"{\"data\": {\"current_version\": 4, \"versions\": {\"4\": "
		 "{\"destroyed\": true}, \"3\": {\"destroyed\": false}}}}",
		 false, "4", 0},
		/* an older version deleted does not matter */
		{"{\"data\": {\"current_version\": 5, \"versions\": {\"4\": "
		 "{\"destroyed\": true}}}}",
		 true, "5", 0},
		/* nothing written yet */
		{"{\"data\": {\"current_version\": 0}}", false, "0", 0},
		/* an updated_time that is not a time is no age, not an error */
		{"{\"data\": {\"current_version\": 1, \"updated_time\": \"soon\"}}", true, "1", 0},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (vault(&m, rows[i].json) != 0)
			fail_msg("row %zu: %s", i, sluice_error_last());
		assert_int_equal(m.exists, rows[i].exists);
		assert_string_equal(m.version, rows[i].version);
		assert_int_equal(m.updated_at, rows[i].updated_at);
		sluice_secret_meta_clear(&m);
	}
	const char *bad[] = {
		"",
		"not json",
		"{\"data\": {\"current_version\": \"3\"}}",
		"{\"data\": [1]}",
		"{\"errors\": []}",
		"{\"data\": {\"data\": {\"password\": \"x\"}}}",
		NULL,
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(vault(&m, bad[i]), SLUICE_EINVAL);
		assert_false(m.exists);
		assert_null(m.version);
		expect_error(SLUICE_EINVAL, SLUICE_EINVAL,
			     "secret provider 'vault': the answer for codex/x/token is not KV v2 "
			     "metadata (no data.current_version); is 'secret' a KV version 2 mount?");
	}
}

/* ---- max_age_days ------------------------------------------------------- */

static void age_warning(void **state)
{
	(void)state;
	sluice_secret_provider p = provider("env");
	int64_t day = 86400;
	char *w;

	p.max_age_days = 30;
	assert_null(sluice_secret_age_warning(&p, true, NOW - 30 * day, NOW)); /* at the limit */
	w = sluice_secret_age_warning(&p, true, NOW - 30 * day - 1, NOW);
	assert_non_null(w);
	assert_string_equal(w, "older than 30 days (max_age_days of test-provider); rotate it");
	free(w);
	assert_null(sluice_secret_age_warning(&p, false, NOW - 90 * day, NOW)); /* missing */
	assert_null(sluice_secret_age_warning(&p, true, 0, NOW));                /* no age */
	assert_null(sluice_secret_age_warning(&p, true, NOW + day, NOW));        /* future */
	assert_null(sluice_secret_age_warning(NULL, true, NOW - 90 * day, NOW));
	p.max_age_days = 0;
	assert_null(sluice_secret_age_warning(&p, true, NOW - 9000 * day, NOW));
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	char *sec = sluice_xasprintf("%s/sec", tmpdir), *codex = sluice_xasprintf("%s/sec/codex", tmpdir);
	int rc = mkdir(sec, 0700) || mkdir(codex, 0700) ? -1 : 0;
	free(sec);
	free(codex);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = sluice_xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(env_names),
		cmocka_unit_test(env_presence),
		cmocka_unit_test(unknown_type),
		cmocka_unit_test(file_modes_and_links),
		cmocka_unit_test(exec_answers),
		cmocka_unit_test(exec_failures),
		cmocka_unit_test(vault_answers),
		cmocka_unit_test(age_warning),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
