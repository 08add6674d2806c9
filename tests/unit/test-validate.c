/* The secret-looking value detector (validate.h): what it finds, where,
 * and the ordinary text it must leave alone (docs/configuration.md,
 * "Secret-looking values"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/validate.h"

static void finds_secrets(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *why;
		unsigned line, col;
	} rows[] = {
		/* whole values, as before */
		{"ghp_R8x2mQ7vLk3N9pT4wZ6yB1cF5hJ0aS2dE8gU", "it starts like an access token", 1, 1},
		{"q7Z2vK9xR4mT1pW8nL3bY6cH0sD5fG", "it is a long random-looking string", 1, 1},
		{"https://u:p4ss@db.acme.example/x", "it is a URL with a password in it", 1, 9},
		{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----",
		 "it holds a private key", 1, 1},
		{"AKIAIOSFODNN7EXAMPLE", "it holds what looks like a cloud access key", 1, 1},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZXZpZXdlciJ9.c2lnbmF0dXJlLXRoYXQ",
		 "it looks like a JSON web token", 1, 1},
		/* inside longer strings */
		{"Bearer 7f3kQ9zL2mX8vB4nR1tY6wE0", "it holds a bearer or basic credential", 1, 8},
		{"Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==",
		 "it holds a bearer or basic credential", 1, 22},
		{"id=reviewer secret=Zk8rT2mQ9vX4pL7n sslmode=require",
		 "it sets a password or secret inline", 1, 20},
		{"DB_PASSWORD=correct-horse-battery", "it sets a password or secret inline", 1, 13},
		{"use token ghp_R8x2mQ7vLk3N9pT4wZ6yB1cF5hJ0aS2dE8gU here",
		 "it holds what looks like an access token", 1, 11},
		{"see https://x.example/?k=AKIAIOSFODNN7EXAMPLE",
		 "it holds what looks like a cloud access key", 1, 26},
		/* on a later line of a multi-line value; columns count characters */
		{"retries=3\n\xc3\xa9t\xc3\xa9 xoxb-4821907731-R8x2mQ7vLk3N9pT4wZ6y\n",
		 "it holds what looks like an access token", 2, 5},
		{"a\r\nb\r\n-----BEGIN RSA PRIVATE KEY-----", "it holds a private key", 3, 1},
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		unsigned line = 0, col = 0;
		const char *why = sluice_secret_find(rows[i].text, strlen(rows[i].text), &line, &col);
		if (!why || strcmp(why, rows[i].why) != 0 || line != rows[i].line ||
		    col != rows[i].col) {
			print_error("row %zu: got '%s' at %u:%u, want '%s' at %u:%u\n", i,
				    why ? why : "(nothing)", line, col, rows[i].why, rows[i].line,
				    rows[i].col);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void leaves_ordinary_text(void **state)
{
	(void)state;
	static const char *const rows[] = {
		"https://codex-backend-pr-reviewer.company.internal",
		"https://reviewer.staging.acme.example",
		"codex/backend-pr-reviewer/service-token",
		"devex-support@acme.example",
		"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
		"^[0-9a-f]{40}$",
		"cf594488ecfa67ac33b478b10f2776ed9995c978",    /* a commit id */
		"123e4567-e89b-12d3-a456-426614174000",        /* a UUID */
		"t0805-scenario-approval-binding",
		"ELBSecurityPolicy-TLS13-1-2-2021-06",
		"EC2InstanceProfileForImageFactory",
		"CODEX_PLUGIN_SERVICE_URL",
		"Bearer tokens are never logged.",
		"Pass the token: it is read from the environment.",
		"secret=${SERVICE_SECRET}",
		"password=<your password>",
		"sk-learn based classifier",
		"s.example.com",
		"Returns the title, description and unified diff of one pull request, file by "
		"file, truncated to a size limit.",
		"",
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *why = sluice_secret_looking(rows[i]);
		if (why) {
			print_error("row %zu ('%s'): %s\n", i, rows[i], why);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_secrets),
		cmocka_unit_test(leaves_ordinary_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
