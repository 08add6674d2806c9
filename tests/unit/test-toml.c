/* The TOML writer: hostile ids, URLs and tool names stay values, and what
 * TOML cannot carry is an error, never a broken file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/error.h"
#include "sluice/toml.h"

static char *quoted(const char *s, size_t len, int *rc)
{
	sluice_buf b = SLUICE_BUF_INIT;
	*rc = sluice_toml_quote(&b, s, len);
	char *out = b.ptr ? sluice_buf_detach(&b) : sluice_xstrdup("");
	sluice_buf_clear(&b);
	return out;
}

static void test_quote_escapes(void **state)
{
	static const char *const cases[][2] = {
		{"plain", "\"plain\""},
		{"", "\"\""},
		{"say \"hi\"", "\"say \\\"hi\\\"\""},
		{"back\\slash", "\"back\\\\slash\""},
		{"two\nlines\tand tab", "\"two\\nlines\\tand tab\""},
		{"cr\r bs\b ff\f", "\"cr\\r bs\\b ff\\f\""},
		{"esc\x1b[31m bell\x07 del\x7f", "\"esc\\u001B[31m bell\\u0007 del\\u007F\""},
		/* a value that tries to close the string and open a table */
		{"x\"\n[mcp_servers.evil]\nurl = \"http://evil",
		 "\"x\\\"\\n[mcp_servers.evil]\\nurl = \\\"http://evil\""},
		{"caf\xc3\xa9 \xe2\x9c\x93", "\"caf\xc3\xa9 \xe2\x9c\x93\""}, /* UTF-8 kept as is */
		{"'''", "\"'''\""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc;
		char *got = quoted(cases[i][0], strlen(cases[i][0]), &rc);
		assert_int_equal(rc, 0);
		assert_string_equal(got, cases[i][1]);
		free(got);
	}
}

static void test_quote_refuses(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		const char *msg;
	} cases[] = {
		{"a\0b", 3, "a NUL byte at offset 1 cannot be written to TOML"},
		{"bad \xff byte", 10, "invalid UTF-8 at byte 4 cannot be written to TOML"},
		{"cut \xc3", 5, "invalid UTF-8 at byte 4 cannot be written to TOML"},
		{"overlong \xc0\xaf", 11, "invalid UTF-8 at byte 9 cannot be written to TOML"},
		{"surrogate \xed\xa0\x80", 13, "invalid UTF-8 at byte 10 cannot be written to TOML"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc;
		char *got = quoted(cases[i].s, cases[i].len, &rc);
		assert_int_equal(rc, SLUICE_EINVAL);
		assert_string_equal(sluice_error_last(), cases[i].msg);
		assert_string_equal(got, ""); /* nothing half-written */
		free(got);
	}
}

static void test_keys(void **state)
{
	static const char *const cases[][2] = {
		{"backend-pr-reviewer", "backend-pr-reviewer"},
		{"snake_case_9", "snake_case_9"},
		{"dotted.name", "\"dotted.name\""},
		{"with space", "\"with space\""},
		{"", "\"\""},
		{"]\n[evil", "\"]\\n[evil\""},
		{"caf\xc3\xa9", "\"caf\xc3\xa9\""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sluice_buf b = SLUICE_BUF_INIT;
		assert_int_equal(sluice_toml_key(&b, cases[i][0]), 0);
		assert_string_equal(b.ptr, cases[i][1]);
		sluice_buf_clear(&b);
	}
}

static void test_document(void **state)
{
	const char *server[] = {"mcp_servers", "a.b\"c", "identity"};
	const char *tools[] = {"get_diff", "run \"safe\"", "x]\ny"};
	sluice_toml t;
	char *doc = NULL;
	size_t len;
	(void)state;

	sluice_toml_init(&t);
	sluice_toml_table(&t, server, 3);
	sluice_toml_string(&t, "url", "https://h.example/mcp?a=\"1\"");
	sluice_toml_table(&t, server, 2);
	sluice_toml_string_array(&t, "enabled_tools", tools, 3);
	sluice_toml_int(&t, "tool_timeout_sec", 30);
	sluice_toml_bool(&t, "enabled", true);
	sluice_toml_string_array(&t, "none", NULL, 0);
	assert_int_equal(sluice_toml_finish(&doc, &len, &t), 0);
	assert_string_equal(doc, "[mcp_servers.\"a.b\\\"c\".identity]\n"
				 "url = \"https://h.example/mcp?a=\\\"1\\\"\"\n"
				 "\n"
				 "[mcp_servers.\"a.b\\\"c\"]\n"
				 "enabled_tools = [\"get_diff\", \"run \\\"safe\\\"\", \"x]\\ny\"]\n"
				 "tool_timeout_sec = 30\n"
				 "enabled = true\n"
				 "none = []\n");
	assert_int_equal(len, strlen(doc));
	free(doc);

	/* an empty document is an empty string, not NULL */
	sluice_toml_init(&t);
	assert_int_equal(sluice_toml_finish(&doc, &len, &t), 0);
	assert_string_equal(doc, "");
	free(doc);
}

static void test_document_first_error_sticks(void **state)
{
	const char *bad_tools[] = {"ok", "bad\xfe"};
	const char *table[] = {"mcp_servers", "p"};
	sluice_toml t;
	char *doc = (char *)"unchanged";
	(void)state;

	sluice_toml_init(&t);
	sluice_toml_table(&t, table, 2);
	assert_int_equal(sluice_toml_string_array(&t, "enabled_tools", bad_tools, 2),
			 SLUICE_EINVAL);
	/* later calls do nothing and keep the first message */
	assert_int_equal(sluice_toml_string(&t, "url", "https://fine"), SLUICE_EINVAL);
	assert_int_equal(sluice_toml_finish(&doc, NULL, &t), SLUICE_EINVAL);
	assert_null(doc);
	assert_string_equal(sluice_error_last(),
			    "cannot write TOML key 'enabled_tools': invalid UTF-8 at byte 3 "
			    "cannot be written to TOML");

	/* a bad key in a table header is refused the same way */
	const char *bad_table[] = {"mcp_servers", "id\xc3"};
	sluice_toml_init(&t);
	assert_int_equal(sluice_toml_table(&t, bad_table, 2), SLUICE_EINVAL);
	assert_int_equal(sluice_toml_finish(&doc, NULL, &t), SLUICE_EINVAL);
	assert_null(doc);

	/* and a NUL inside a counted value */
	sluice_toml_init(&t);
	assert_int_equal(sluice_toml_stringn(&t, "url", "http://a\0b", 10), SLUICE_EINVAL);
	assert_int_equal(sluice_toml_finish(&doc, NULL, &t), SLUICE_EINVAL);
	assert_null(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_escapes),
		cmocka_unit_test(test_quote_refuses),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_document_first_error_sticks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
