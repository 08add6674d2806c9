/* The util module: the helpers every module shares. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/util.h"

static void test_escape_controls(void **state)
{
	static const char *const cases[][2] = {
		{"v1.2.3", "v1.2.3"},
		{"\x1b[31mred", "\\x1b[31mred"},
		{"a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd"},
		{"del\x7f", "del\\x7f"},
		{"csi\xc2\x9b" "2J", "csi\\xc2\\x9b2J"},
		{"caf\xc3\xa9 \xc2\xa0nbsp", "caf\xc3\xa9 \xc2\xa0nbsp"}, /* printable UTF-8 kept */
		{"\xc2", "\xc2"},                                          /* a cut sequence is kept */
		{"back\\slash", "back\\slash"},
		{"", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = sluice_str_escape_controls(cases[i][0]);
		assert_string_equal(got, cases[i][1]);
		/* escaping twice changes nothing more */
		char *again = sluice_str_escape_controls(got);
		assert_string_equal(again, got);
		free(again);
		free(got);
	}
	assert_null(sluice_str_escape_controls(NULL));
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = sluice_xvasprintf(f, ap);
	va_end(ap);
	return s;
}

static void test_xvasprintf(void **state)
{
	(void)state;
	char *s = fmt("%s@%d", "plugin", 3);
	assert_string_equal(s, "plugin@3");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_controls),
		cmocka_unit_test(test_xvasprintf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
