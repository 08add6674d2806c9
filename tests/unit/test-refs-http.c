/* The refs-http module: the strict pkt-line parser of smart-HTTP ref
 * advertisements, row by row, and the prober's answers without a server
 * (a URL nobody listens on falls back to libgit2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sluice/error.h"
#include "sluice/refs-http.h"
#include "sluice/util.h"

#define A "1111111111111111111111111111111111111111"
#define B "2222222222222222222222222222222222222222"
#define Z "0000000000000000000000000000000000000000"

/* Frames `payload` as one pkt-line. */
static void pkt(sluice_buf *b, const char *payload, size_t n)
{
	sluice_buf_printf(b, "%04zx", n + 4);
	sluice_buf_put(b, payload, n);
}

static void pkts(sluice_buf *b, const char *s)
{
	pkt(b, s, strlen(s));
}

static const char service[] = "# service=git-upload-pack\n";

/* The advertisement git http-backend sends for two tags, one annotated. */
static void good(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	static const char first[] = A " HEAD\0multi_ack side-band-64k ofs-delta\n";
	pkt(b, first, sizeof first - 1);
	pkts(b, A " refs/heads/main\n");
	pkts(b, B " refs/tags/v0.1.0\n");
	pkts(b, A " refs/tags/v0.1.0^{}\n");
	pkts(b, A " refs/tags/v0.2.0\n");
	sluice_buf_puts(b, "0000");
}

static void test_parse_good(void **state)
{
	(void)state;
	sluice_buf b = SLUICE_BUF_INIT;
	sluice_remote_refs r;

	good(&b);
	assert_int_equal(sluice_refs_adv_parse(&r, b.ptr, b.len), 0);
	assert_int_equal(r.count, 5);
	assert_string_equal(r.items[0].name, "HEAD");
	assert_string_equal(r.items[2].name, "refs/tags/v0.1.0");
	assert_string_equal(r.items[2].id, B);
	assert_string_equal(r.items[3].name, "refs/tags/v0.1.0^{}");
	assert_string_equal(r.items[4].id, A);
	sluice_remote_refs_clear(&r);
	sluice_buf_clear(&b);
}

static void test_parse_variants(void **state)
{
	(void)state;
	sluice_buf b = SLUICE_BUF_INIT;
	sluice_remote_refs r;

	/* an empty repository: only capabilities^{} */
	pkts(&b, service);
	sluice_buf_puts(&b, "0000");
	static const char caps[] = Z " capabilities^{}\0agent=git/2\n";
	pkt(&b, caps, sizeof caps - 1);
	sluice_buf_puts(&b, "0000");
	assert_int_equal(sluice_refs_adv_parse(&r, b.ptr, b.len), 0);
	assert_int_equal(r.count, 0);
	sluice_remote_refs_clear(&r);

	/* no refs at all, upper-case hex lengths and ids, no line feeds */
	b.len = 0;
	pkt(&b, service, sizeof service - 2);
	sluice_buf_puts(&b, "0000");
	static const char one[] = "ABCDEF" "1111111111111111111111111111111111" " refs/tags/v1\0caps";
	sluice_buf_printf(&b, "%04zX", sizeof one - 1 + 4);
	sluice_buf_put(&b, one, sizeof one - 1);
	sluice_buf_puts(&b, "0000");
	assert_int_equal(sluice_refs_adv_parse(&r, b.ptr, b.len), 0);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.items[0].id, "abcdef1111111111111111111111111111111111");
	assert_string_equal(r.items[0].name, "refs/tags/v1");
	sluice_remote_refs_clear(&r);
	sluice_buf_clear(&b);
}

/* One malformed advertisement and the words its error must hold. */
typedef struct {
	const char *title;
	void (*build)(sluice_buf *b);
	const char *message;
} bad_row;

static void b_empty(sluice_buf *b)
{
	(void)b;
}
static void b_html(sluice_buf *b)
{
	sluice_buf_puts(b, "<html>login</html>");
}
static void b_no_service(sluice_buf *b)
{
	pkts(b, A " refs/tags/v1\n");
	sluice_buf_puts(b, "0000");
}
static void b_no_flush_after_service(sluice_buf *b)
{
	pkts(b, service);
	pkts(b, A " refs/tags/v1\n");
}
static void b_truncated(sluice_buf *b)
{
	good(b);
	b->len -= 4; /* the final flush */
}
static void b_len_past_end(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	sluice_buf_puts(b, "0fff" A " refs/tags/v1");
}
static void b_len_not_hex(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	sluice_buf_puts(b, "00zz");
}
static void b_len_short(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	sluice_buf_puts(b, "00");
}
static void b_delim(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	sluice_buf_puts(b, "0001");
}
static void b_too_long(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	sluice_buf_puts(b, "fff1");
}
static void b_bad_oid(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	static const char l[] = "xyz1111111111111111111111111111111111111 refs/tags/v1\0caps\n";
	pkt(b, l, sizeof l - 1);
	sluice_buf_puts(b, "0000");
}
static void b_no_name(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	static const char l[] = A " \0caps\n";
	pkt(b, l, sizeof l - 1);
	sluice_buf_puts(b, "0000");
}
static void b_no_caps(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	pkts(b, A " refs/tags/v1\n");
	sluice_buf_puts(b, "0000");
}
static void b_caps_twice(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	static const char l[] = A " refs/tags/v1\0caps\n";
	pkt(b, l, sizeof l - 1);
	pkt(b, l, sizeof l - 1);
	sluice_buf_puts(b, "0000");
}
static void b_peeled_alone(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	static const char l[] = A " refs/tags/v1\0caps\n";
	pkt(b, l, sizeof l - 1);
	pkts(b, B " refs/tags/v2^{}\n");
	sluice_buf_puts(b, "0000");
}
static void b_trailing(sluice_buf *b)
{
	good(b);
	sluice_buf_puts(b, "0000");
}
static void b_err(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	pkts(b, "ERR access denied\n");
}
static void b_newline_in_name(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	static const char l[] = A " refs/tags/v1\nrefs/tags/v2\0caps\n";
	pkt(b, l, sizeof l - 1);
	sluice_buf_puts(b, "0000");
}
static void b_ref_after_empty(sluice_buf *b)
{
	pkts(b, service);
	sluice_buf_puts(b, "0000");
	static const char l[] = Z " capabilities^{}\0caps\n";
	pkt(b, l, sizeof l - 1);
	pkts(b, A " refs/tags/v1\n");
	sluice_buf_puts(b, "0000");
}

static const bad_row bad_rows[] = {
	{"empty response", b_empty, "ends without its flush-pkt at byte 0"},
	{"an HTML page", b_html, "pkt-line length is not 4 hex digits at byte 0"},
	{"no service line", b_no_service, "does not start with '# service=git-upload-pack'"},
	{"no flush after the service line", b_no_flush_after_service,
	 "no flush-pkt after the service line at byte 30"},
	{"no final flush", b_truncated, "ends without its flush-pkt"},
	{"a length past the end", b_len_past_end, "a pkt-line of 4095 bytes passes the end"},
	{"a length not hex", b_len_not_hex, "not 4 hex digits at byte 34"},
	{"a length cut short", b_len_short, "ends inside a pkt-line length at byte 34"},
	{"a v2 delimiter", b_delim, "pkt-line length 0001 is not protocol v0"},
	{"a length over 65520", b_too_long, "over the 65520 the protocol allows"},
	{"an id not hex", b_bad_oid, "is not '<40 hex digits> <name>'"},
	{"no ref name", b_no_name, "is not '<40 hex digits> <name>'"},
	{"no capabilities on the first line", b_no_caps, "first ref line has no capabilities"},
	{"capabilities twice", b_caps_twice, "a ref line after the first has capabilities"},
	{"a peeled ref alone", b_peeled_alone,
	 "peeled ref 'refs/tags/v2^{}' does not follow the ref it peels"},
	{"data after the final flush", b_trailing, "4 bytes follow the final flush-pkt"},
	{"a server error", b_err, "the server answered 'ERR access denied' at byte 34"},
	{"a line feed inside a name", b_newline_in_name, "a ref name holds a line feed"},
	{"a ref after capabilities^{}", b_ref_after_empty, "a ref follows 'capabilities^{}'"},
};

static void test_parse_bad(void **state)
{
	(void)state;
	int failed = 0;

	for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
		const bad_row *row = &bad_rows[i];
		sluice_buf b = SLUICE_BUF_INIT;
		sluice_remote_refs r;
		row->build(&b);
		int rc = sluice_refs_adv_parse(&r, b.ptr ? b.ptr : "", b.len);
		if (rc != SLUICE_EINVAL || r.count != 0 || !strstr(sluice_error_last(), row->message)) {
			print_error("row '%s': rc %d, %zu refs, message '%s', want '%s'\n", row->title,
				    rc, r.count, sluice_error_last(), row->message);
			failed++;
		}
		sluice_remote_refs_clear(&r);
		sluice_buf_clear(&b);
	}
	assert_int_equal(failed, 0);
}

static void test_http_url(void **state)
{
	(void)state;
	assert_true(sluice_refs_http_url("https://git.acme.example/x.git"));
	assert_true(sluice_refs_http_url("http://127.0.0.1:8080/x.git"));
	assert_false(sluice_refs_http_url("ssh://git@git.acme.example/x.git"));
	assert_false(sluice_refs_http_url("file:///srv/git/x.git"));
	assert_false(sluice_refs_http_url("git@git.acme.example:x.git"));
	assert_false(sluice_refs_http_url(NULL));
}

/* Nothing listens on port 9 of the loopback address: the probe leaves it
 * to libgit2 (a fallback, not an error), and a URL with a query is never
 * requested. */
static void test_probe_fallback(void **state)
{
	(void)state;
	sluice_refs_probe p[2] = {
		{.url = "http://127.0.0.1:9/acme/x.git", .key = "acme/x"},
		{.url = "http://127.0.0.1:9/acme/y.git?x=1", .key = "acme/y"},
	};
	sluice_refs_probe_opts o = {2, NULL, 0};
	long conns = -1;

	assert_int_equal(sluice_refs_http_probe(p, 2, &o, &conns), 0);
	assert_int_equal(p[0].status, SLUICE_PROBE_FALLBACK);
	assert_non_null(p[0].why);
	assert_int_equal(p[1].status, SLUICE_PROBE_FALLBACK);
	assert_non_null(strstr(p[1].why, "query"));
	assert_int_equal(conns, 0);
	sluice_refs_probe_clear(&p[0]);
	sluice_refs_probe_clear(&p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_variants),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_http_url),
		cmocka_unit_test(test_probe_fallback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
