/* The thread-local last error: set, wrap, and arguments that alias the
 * message buffer (sluice_error_set(..., sluice_error_last()) must give the
 * intended message, not a garbled one; ASan flags an overlapping copy). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sluice/error.h"

static void test_set_returns_code_and_message(void **state)
{
	(void)state;
	sluice_error_clear();
	assert_string_equal(sluice_error_last(), "");
	assert_int_equal(sluice_error_code(), SLUICE_OK);
	assert_int_equal(sluice_error_set(SLUICE_EIO, "cannot read %s: %d", "x.yaml", 5), SLUICE_EIO);
	assert_string_equal(sluice_error_last(), "cannot read x.yaml: 5");
	assert_int_equal(sluice_error_code(), SLUICE_EIO);
}

static void test_set_with_the_last_message_as_argument(void **state)
{
	(void)state;
	sluice_error_set(SLUICE_EIO, "no such file");
	/* the pattern that used to pass the buffer being written */
	sluice_error_set(SLUICE_EINVAL, "cannot load p@1.0.0: %s", sluice_error_last());
	assert_string_equal(sluice_error_last(), "cannot load p@1.0.0: no such file");
	sluice_error_set(SLUICE_EINVAL, "%s, %s", sluice_error_last(), sluice_error_last());
	assert_string_equal(sluice_error_last(),
			    "cannot load p@1.0.0: no such file, cannot load p@1.0.0: no such file");
	/* the message is an argument after other text that is longer than it */
	sluice_error_set(SLUICE_EIO, "ab");
	sluice_error_set(SLUICE_EIO, "0123456789 %s %s", sluice_error_last(), "end");
	assert_string_equal(sluice_error_last(), "0123456789 ab end");
}

static void test_wrap_puts_context_in_front(void **state)
{
	(void)state;
	sluice_error_set(SLUICE_ENOTFOUND, "'plugin.yaml' does not exist");
	assert_int_equal(sluice_error_wrap(SLUICE_EINVAL, "cannot load %s@%s", "p", "0.1.0"),
			 SLUICE_EINVAL);
	assert_string_equal(sluice_error_last(), "cannot load p@0.1.0: 'plugin.yaml' does not exist");
	assert_int_equal(sluice_error_code(), SLUICE_EINVAL);
	/* twice: each layer in front of the one before */
	sluice_error_wrap(SLUICE_EIO, "cannot publish");
	assert_string_equal(sluice_error_last(),
			    "cannot publish: cannot load p@0.1.0: 'plugin.yaml' does not exist");
	/* no previous message: only the context, no dangling ": " */
	sluice_error_clear();
	sluice_error_wrap(SLUICE_EIO, "cannot read %s", "x");
	assert_string_equal(sluice_error_last(), "cannot read x");
	/* a wrapped argument may itself be the last message */
	sluice_error_set(SLUICE_EIO, "inner");
	sluice_error_wrap(SLUICE_EIO, "[%s]", sluice_error_last());
	assert_string_equal(sluice_error_last(), "[inner]: inner");
}

static void test_long_messages_are_cut_not_overrun(void **state)
{
	char big[3000];

	(void)state;
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	sluice_error_set(SLUICE_EIO, "%s", big);
	assert_int_equal(strlen(sluice_error_last()), 1023);
	sluice_error_wrap(SLUICE_EIO, "context");
	assert_int_equal(strlen(sluice_error_last()), 1023);
	assert_memory_equal(sluice_error_last(), "context: aaa", 12);
	sluice_error_set(SLUICE_EIO, "%s%s", sluice_error_last(), sluice_error_last());
	assert_int_equal(strlen(sluice_error_last()), 1023);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_returns_code_and_message),
		cmocka_unit_test(test_set_with_the_last_message_as_argument),
		cmocka_unit_test(test_wrap_puts_context_in_front),
		cmocka_unit_test(test_long_messages_are_cut_not_overrun),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
