/* The event contract (docs/telemetry.md): the fast scanner and jansson
 * read the same lines the same way, errors name the field, unknown fields
 * are counted, the user hash is keyed, and the latency buckets bound p95. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/error.h"
#include "sluice/telemetry.h"

#define CALL "{\"id\": \"e1\", " REST
#define CALL_ESCAPED "{\"id\": \"e\\u0031\", " REST
#define REST "\"type\": \"tool_call\", \"time\": \"2026-12-08T12:30:00Z\", " \
	     "\"workspace\": \"engineering\", \"plugin\": \"backend-pr-reviewer\", " \
	     "\"version\": \"0.1.0\", \"group\": \"platform-devex\", \"user\": \"alice\", " \
	     "\"tool\": \"repo_search\", \"outcome\": \"error\", \"error_category\": " \
	     "\"upstream_5xx\", \"latency_ms\": 229"

static int parse(sluice_event *ev, const char *line)
{
	return sluice_event_parse(ev, line, strlen(line));
}

static void test_fast_and_jansson_agree(void **state)
{
	/* the first line takes the scanner; the others (an escape, an unknown
	 * nested field, non-ASCII) go through jansson */
	static const char *const lines[] = {
		CALL "}",
		CALL_ESCAPED "}",
		CALL ", \"trace\": {\"span\": [1, 2]}}",
		CALL ", \"note\": \"caf\xc3\xa9\"}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		sluice_event ev;
		assert_int_equal(parse(&ev, lines[i]), 0);
		assert_string_equal(ev.id, "e1");
		assert_int_equal(ev.type, SLUICE_EVENT_TOOL_CALL);
		assert_int_equal(ev.time, 1796733000);
		assert_string_equal(ev.plugin, "backend-pr-reviewer");
		assert_string_equal(ev.group, "platform-devex");
		assert_string_equal(ev.user, "alice");
		assert_string_equal(ev.tool, "repo_search");
		assert_int_equal(ev.outcome, SLUICE_OUTCOME_ERROR);
		assert_string_equal(ev.error_category, "upstream_5xx");
		assert_int_equal(ev.latency_ms, 229);
		assert_int_equal(ev.unknown_fields, i >= 2 ? 1 : 0);
		sluice_event_clear(&ev);
	}
}

static void test_feedback(void **state)
{
	sluice_event ev;
	(void)state;
	assert_int_equal(parse(&ev, "{\"id\": \"f\", \"type\": \"feedback\", \"time\": "
				    "\"2026-12-08T12:30:00+01:00\", \"workspace\": \"w\", \"plugin\": "
				    "\"p\", \"version\": \"1\", \"group\": \"g\", \"rating\": 4}"),
			 0);
	assert_string_equal(ev.rating, "4");
	assert_true(sluice_rating_positive(ev.rating));
	assert_int_equal(ev.time, 1796729400);
	sluice_event_clear(&ev);
	assert_false(sluice_rating_positive("down"));
	assert_false(sluice_rating_positive("3"));
	assert_null(sluice_rating_canonical("6"));
}

static void test_errors_name_the_field(void **state)
{
	static const struct {
		const char *line, *msg;
	} cases[] = {
		{"", "not JSON"},
		{"[1]", "an event must be a JSON object"},
		{"{\"id\": \"a\", \"id\": \"b\"}", "not JSON: duplicate object key"},
		{"{\"type\": \"tool_call\"}", "missing field 'id'"},
		{"{\"id\": \"\"}", "'id' must not be empty"},
		{"{\"id\": 5}", "'id' must be a string"},
		{"{\"id\": \"a\", \"type\": \"click\"}", "unknown type 'click'"},
		{CALL ", \"latency_ms\": 1.5}", "not JSON: duplicate object key"},
		{"{\"id\": \"e1\", \"type\": \"tool_call\", \"time\": \"2026-12-08\"}",
		 "'time' must be RFC 3339"},
		{"{\"id\": \"e1\", \"type\": \"tool_call\", \"time\": \"2026-12-08T12:30:00Z\", "
		 "\"workspace\": \"w\", \"plugin\": \"p\", \"version\": \"1\", \"group\": \"g\", "
		 "\"tool\": \"t\", \"outcome\": \"ok\", \"latency_ms\": -3}",
		 "'latency_ms' must be a non-negative integer"},
		{"{\"id\": \"e1\", \"type\": \"tool_call\", \"time\": \"2026-12-08T12:30:00Z\", "
		 "\"workspace\": \"w\", \"plugin\": \"p\", \"version\": \"1\", \"group\": \"g\", "
		 "\"tool\": \"t\", \"outcome\": \"ok\", \"latency_ms\": 1.5}",
		 "'latency_ms' must be a non-negative integer"},
		{"{\"id\": \"e1\", \"type\": \"tool_call\", \"time\": \"2026-12-08T12:30:00Z\", "
		 "\"workspace\": \"w\", \"plugin\": \"p\", \"version\": \"1\", \"group\": \"g\", "
		 "\"tool\": \"t\"}",
		 "missing field 'outcome'"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		sluice_event ev;
		assert_int_equal(parse(&ev, cases[i].line), SLUICE_EINVAL);
		if (!strstr(sluice_error_last(), cases[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, sluice_error_last(), cases[i].msg);
		assert_null(ev.priv);
	}
}

static void test_user_hash_is_keyed(void **state)
{
	unsigned char k1[SLUICE_TELEMETRY_KEY_SZ] = {1}, k2[SLUICE_TELEMETRY_KEY_SZ] = {2};
	char a[SLUICE_USER_HASH_SZ], b[SLUICE_USER_HASH_SZ], c[SLUICE_USER_HASH_SZ];
	(void)state;
	assert_int_equal(sluice_telemetry_user_hash(a, k1, "alice"), 0);
	assert_int_equal(sluice_telemetry_user_hash(b, k1, "alice"), 0);
	assert_int_equal(sluice_telemetry_user_hash(c, k2, "alice"), 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 64);
	/* HMAC, not a plain hash: SHA-256("alice") */
	assert_string_not_equal(a, "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90");
}

static void test_latency_buckets(void **state)
{
	(void)state;
	for (int b = 1; b < SLUICE_LATENCY_BUCKETS; b++)
		assert_true(sluice_latency_bucket_le(b) > sluice_latency_bucket_le(b - 1));
	for (int64_t ms = 0; ms < 200000; ms += ms < 100 ? 1 : 97) {
		int b = sluice_latency_bucket(ms);
		int64_t le = sluice_latency_bucket_le(b);
		assert_true(le >= ms);
		assert_true(b == 0 || sluice_latency_bucket_le(b - 1) < ms);
		assert_true(le <= ms + ms / 20 + 1); /* within 5% above */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_and_jansson_agree),
		cmocka_unit_test(test_feedback),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_user_hash_is_keyed),
		cmocka_unit_test(test_latency_buckets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
