/* Smart-HTTP ref advertisements: the pkt-line parser and the libcurl multi
 * prober (refs-http.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sluice/error.h"
#include "sluice/refs-http.h"
#include "sluice/util.h"

#define SERVICE_LINE "# service=git-upload-pack"
#define PKT_MAX 65520u
#define ADV_TYPE "application/x-git-upload-pack-advertisement"
#define DEFAULT_CONCURRENT 16u
#define CONNECT_TIMEOUT_MS 30000L
#define TRANSFER_TIMEOUT_MS 300000L

/* ---- the pkt-line parser --------------------------------------------- */

typedef struct {
	const char *d;
	size_t len, pos;
} reader;

static int bad(size_t at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(size_t at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = sluice_xvasprintf(fmt, ap);
	va_end(ap);
	sluice_error_set(SLUICE_EINVAL, "%s at byte %zu", msg, at);
	free(msg);
	return SLUICE_EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads one pkt-line: 1 with *p and *n its payload, 0 for a flush-pkt, or
 * SLUICE_EINVAL. */
static int read_pkt(reader *r, const char **p, size_t *n)
{
	size_t at = r->pos, v = 0;

	if (r->len - at == 0)
		return bad(at, "the response ends without its flush-pkt");
	if (r->len - at < 4)
		return bad(at, "the response ends inside a pkt-line length");
	for (int i = 0; i < 4; i++) {
		int h = hexval(r->d[at + (size_t)i]);
		if (h < 0)
			return bad(at, "a pkt-line length is not 4 hex digits");
		v = v * 16 + (size_t)h;
	}
	if (v == 0) {
		r->pos += 4;
		return 0;
	}
	if (v < 4)
		return bad(at, "pkt-line length %04zx is not protocol v0", v);
	if (v > PKT_MAX)
		return bad(at, "pkt-line length %zu is over the %u the protocol allows", v, PKT_MAX);
	if (v > r->len - at)
		return bad(at, "a pkt-line of %zu bytes passes the end of the response", v);
	*p = r->d + at + 4;
	*n = v - 4;
	r->pos += v;
	return 1;
}

static void refs_push(sluice_remote_refs *out, const char *name, size_t nlen, const char *hex)
{
	out->items = sluice_xrealloc(out->items, (out->count + 1) * sizeof *out->items);
	sluice_remote_ref *ref = &out->items[out->count++];
	ref->name = sluice_xstrndup(name, nlen);
	for (int i = 0; i < SLUICE_OID_HEXSZ; i++)
		ref->id[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
	ref->id[SLUICE_OID_HEXSZ] = '\0';
}

static bool all_zero(const char *hex)
{
	for (int i = 0; i < SLUICE_OID_HEXSZ; i++)
		if (hex[i] != '0')
			return false;
	return true;
}

int sluice_refs_adv_parse(sluice_remote_refs *out, const char *data, size_t len)
{
	reader r = {data, len, 0};
	const char *p = NULL;
	size_t n = 0, at;
	bool first = true, empty_repo = false;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = read_pkt(&r, &p, &n)) < 0)
		goto done;
	if (rc == 0 || n < strlen(SERVICE_LINE) || memcmp(p, SERVICE_LINE, strlen(SERVICE_LINE)) ||
	    (n != strlen(SERVICE_LINE) && !(n == strlen(SERVICE_LINE) + 1 && p[n - 1] == '\n'))) {
		rc = bad(0, "the response does not start with '%s'", SERVICE_LINE);
		goto done;
	}
	at = r.pos;
	if ((rc = read_pkt(&r, &p, &n)) < 0)
		goto done;
	if (rc != 0) {
		rc = bad(at, "no flush-pkt after the service line");
		goto done;
	}
	for (;;) {
		at = r.pos;
		if ((rc = read_pkt(&r, &p, &n)) < 0)
			goto done;
		if (rc == 0)
			break;
		if (n && p[n - 1] == '\n')
			n--;
		if (n >= 4 && memcmp(p, "ERR ", 4) == 0) {
			char *msg = sluice_xstrndup(p + 4, n - 4);
			char *shown = sluice_str_escape_controls(msg);
			rc = bad(at, "the server answered 'ERR %s'", shown);
			free(shown);
			free(msg);
			goto done;
		}
		const char *nul = memchr(p, '\0', n);
		size_t end = nul ? (size_t)(nul - p) : n;
		if (end < SLUICE_OID_HEXSZ + 2 || p[SLUICE_OID_HEXSZ] != ' ') {
			rc = bad(at, "a ref line is not '<40 hex digits> <name>'");
			goto done;
		}
		for (int i = 0; i < SLUICE_OID_HEXSZ; i++)
			if (hexval(p[i]) < 0) {
				rc = bad(at, "a ref line is not '<40 hex digits> <name>'");
				goto done;
			}
		const char *name = p + SLUICE_OID_HEXSZ + 1;
		size_t nlen = end - SLUICE_OID_HEXSZ - 1;
		if (memchr(name, '\n', nlen)) {
			rc = bad(at, "a ref name holds a line feed");
			goto done;
		}
		if (first != (nul != NULL)) {
			rc = bad(at, first ? "the first ref line has no capabilities"
					   : "a ref line after the first has capabilities");
			goto done;
		}
		if (empty_repo) {
			rc = bad(at, "a ref follows 'capabilities^{}', which stands for no refs");
			goto done;
		}
		if (nlen == strlen("capabilities^{}") && memcmp(name, "capabilities^{}", nlen) == 0) {
			if (!first || !all_zero(p)) {
				rc = bad(at, "'capabilities^{}' is not the only ref with a zero id");
				goto done;
			}
			empty_repo = true;
			first = false;
			continue;
		}
		if (nlen > 3 && memcmp(name + nlen - 3, "^{}", 3) == 0) {
			const sluice_remote_ref *prev = out->count ? &out->items[out->count - 1] : NULL;
			if (!prev || strlen(prev->name) != nlen - 3 ||
			    memcmp(prev->name, name, nlen - 3) != 0) {
				char *shown = sluice_xstrndup(name, nlen);
				char *esc = sluice_str_escape_controls(shown);
				rc = bad(at, "peeled ref '%s' does not follow the ref it peels", esc);
				free(esc);
				free(shown);
				goto done;
			}
		}
		refs_push(out, name, nlen, p);
		first = false;
	}
	if (r.pos != len) {
		rc = bad(r.pos, "%zu bytes follow the final flush-pkt", len - r.pos);
		goto done;
	}
	rc = 0;
done:
	if (rc < 0)
		sluice_remote_refs_clear(out);
	return rc;
}

bool sluice_refs_http_url(const char *url)
{
	return url && (sluice_str_has_prefix(url, "https://") || sluice_str_has_prefix(url, "http://"));
}

void sluice_refs_probe_clear(sluice_refs_probe *p)
{
	if (!p)
		return;
	sluice_remote_refs_clear(&p->refs);
	free(p->why);
	p->why = NULL;
}

/* ---- the prober ------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* One request in flight. */
typedef struct {
	sluice_refs_probe *p;
	CURL *h;
	struct curl_slist *hdr;
	char *url;
	sluice_buf body;
	size_t max;
	bool over;
	char err[CURL_ERROR_SIZE];
} xfer;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	xfer *x = ctx;
	size_t n = size * nmemb;
	if (x->body.len + n > x->max) {
		x->over = true;
		return 0; /* stops the transfer: CURLE_WRITE_ERROR */
	}
	sluice_buf_put(&x->body, data, n);
	return n;
}

static void set_why(sluice_refs_probe *p, sluice_probe_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_why(sluice_refs_probe *p, sluice_probe_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = sluice_xvasprintf(fmt, ap);
	va_end(ap);
	p->status = st;
	free(p->why);
	p->why = sluice_source_redact_url(msg);
	free(msg);
}

static int xfer_start(xfer *x, CURLM *m, sluice_refs_probe *p, const sluice_refs_probe_opts *o)
{
	size_t ulen = strlen(p->url);

	memset(x, 0, sizeof *x);
	x->p = p;
	x->max = o->max_bytes ? o->max_bytes : SLUICE_REFS_ADV_MAX_BYTES;
	while (ulen && p->url[ulen - 1] == '/')
		ulen--;
	if (strpbrk(p->url, "?#")) {
		/* libgit2 knows what it does with those */
		set_why(p, SLUICE_PROBE_FALLBACK, "'%s' has a query or fragment", p->url);
		return 1;
	}
	x->url = sluice_xasprintf("%.*s/info/refs?service=git-upload-pack", (int)ulen, p->url);
	if (!(x->h = curl_easy_init())) {
		set_why(p, SLUICE_PROBE_FALLBACK, "cannot start a libcurl request");
		return 1;
	}
	x->hdr = curl_slist_append(x->hdr, "Accept: */*");
	x->hdr = curl_slist_append(x->hdr, "Pragma: no-cache");
	curl_easy_setopt(x->h, CURLOPT_URL, x->url);
	curl_easy_setopt(x->h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdr);
	curl_easy_setopt(x->h, CURLOPT_USERAGENT, "git/2.0 (sluice)");
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYHOST, 2L);
	/* libgit2 uses no proxy unless told to: neither does the probe */
	curl_easy_setopt(x->h, CURLOPT_PROXY, "");
	curl_easy_setopt(x->h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* wait for a connection that can multiplex rather than open another */
	curl_easy_setopt(x->h, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(x->h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, TRANSFER_TIMEOUT_MS);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->err);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	if (o->ca_bundle)
		curl_easy_setopt(x->h, CURLOPT_CAINFO, o->ca_bundle);
	if (p->password) {
		curl_easy_setopt(x->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(x->h, CURLOPT_USERNAME, "x-access-token");
		curl_easy_setopt(x->h, CURLOPT_PASSWORD, p->password);
	}
	if (curl_multi_add_handle(m, x->h) != CURLM_OK) {
		set_why(p, SLUICE_PROBE_FALLBACK, "cannot queue a libcurl request");
		return 1;
	}
	return 0;
}

/* What a finished request tells: the refs, a fallback to libgit2, or an
 * error of this repository alone. */
static void xfer_finish(xfer *x, CURLcode cc)
{
	sluice_refs_probe *p = x->p;
	long status = 0;
	const char *type = NULL;

	if (cc == CURLE_WRITE_ERROR && x->over) {
		set_why(p, SLUICE_PROBE_ERROR,
			"the ref advertisement of '%s' passed %zu bytes, more than any list of tags "
			"needs; check the server at '%s'",
			p->key, x->max, p->url);
		return;
	}
	if (cc != CURLE_OK) {
		set_why(p, SLUICE_PROBE_FALLBACK, "%s", x->err[0] ? x->err : curl_easy_strerror(cc));
		return;
	}
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &type);
	if (status != 200) {
		set_why(p, SLUICE_PROBE_FALLBACK, "HTTP status %ld", status);
		return;
	}
	if (!type || strncmp(type, ADV_TYPE, strlen(ADV_TYPE)) != 0 ||
	    (type[strlen(ADV_TYPE)] && type[strlen(ADV_TYPE)] != ';')) {
		set_why(p, SLUICE_PROBE_FALLBACK, "not a smart-HTTP answer (content type '%s')",
			type ? type : "");
		return;
	}
	if (sluice_refs_adv_parse(&p->refs, x->body.ptr ? x->body.ptr : "", x->body.len) < 0) {
		set_why(p, SLUICE_PROBE_ERROR,
			"the ref advertisement of '%s' from '%s' is malformed: %s; check that the "
			"server speaks git's smart HTTP protocol",
			p->key, p->url, sluice_error_last());
		sluice_error_clear();
		return;
	}
	p->status = SLUICE_PROBE_REFS;
}

static void xfer_clear(xfer *x, CURLM *m, long *connections)
{
	if (x->h) {
		long nc = 0;
		if (curl_easy_getinfo(x->h, CURLINFO_NUM_CONNECTS, &nc) == CURLE_OK)
			*connections += nc;
		curl_multi_remove_handle(m, x->h);
		curl_easy_cleanup(x->h);
	}
	curl_slist_free_all(x->hdr);
	sluice_buf_clear(&x->body);
	free(x->url);
	memset(x, 0, sizeof *x);
}

/* The caller stopped the pass: what is in flight or not started yet ends
 * unanswered (the slots are cleared by the caller). */
static void stopped(sluice_refs_probe *probes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (probes[i].status == SLUICE_PROBE_FALLBACK && !probes[i].why) {
			probes[i].status = SLUICE_PROBE_ERROR;
			probes[i].why = sluice_xstrdup("the pass stopped before this repository's "
						       "refs were read");
		}
}

int sluice_refs_http_probe(sluice_refs_probe *probes, size_t n, const sluice_refs_probe_opts *o,
			   long *connections)
{
	sluice_refs_probe_opts none = {0};
	CURLM *m = NULL;
	xfer *slots = NULL;
	size_t next = 0, inflight = 0;
	long opened = 0;
	unsigned bound;
	int64_t beat = sluice_mono_ms();
	int rc = 0;

	if (!o)
		o = &none;
	bound = o->max_concurrent ? o->max_concurrent : DEFAULT_CONCURRENT;
	for (size_t i = 0; i < n; i++) {
		probes[i].status = SLUICE_PROBE_FALLBACK;
		memset(&probes[i].refs, 0, sizeof probes[i].refs);
		probes[i].why = NULL;
	}
	if (n == 0)
		goto done;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK || !(m = curl_multi_init())) {
		rc = sluice_error_set(SLUICE_EIO, "cannot start libcurl");
		goto done;
	}
	curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)bound);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)bound);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)bound);
	slots = sluice_xcalloc(bound, sizeof *slots);
	while (next < n || inflight) {
		/* keep the bound full */
		for (size_t s = 0; s < bound && next < n; s++) {
			if (slots[s].p)
				continue;
			if (xfer_start(&slots[s], m, &probes[next++], o) != 0)
				xfer_clear(&slots[s], m, &opened);
			else
				inflight++;
		}
		int running = 0;
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			rc = sluice_error_set(SLUICE_EIO, "libcurl failed while fetching ref lists");
			goto done;
		}
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			xfer *x = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURLcode cc = msg->data.result;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			xfer_finish(x, cc);
			xfer_clear(x, m, &opened);
			inflight--;
		}
		if (inflight && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK) {
			rc = sluice_error_set(SLUICE_EIO, "libcurl failed while fetching ref lists");
			goto done;
		}
		if (o->heartbeat && sluice_mono_ms() - beat >= 1000) {
			if (!o->heartbeat(o->heartbeat_arg)) {
				stopped(probes, n);
				break;
			}
			beat = sluice_mono_ms();
		}
	}
done:
	for (size_t s = 0; slots && s < bound; s++)
		if (slots[s].p)
			xfer_clear(&slots[s], m, &opened);
	free(slots);
	if (m)
		curl_multi_cleanup(m);
	if (connections)
		*connections = opened;
	return rc;
}
