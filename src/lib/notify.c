/* Delivering the outbox over HTTP with libcurl: sign, POST, record the
 * outcome of each row in its own transaction (notify.h;
 * docs/notifications.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/notify.h"
#include "sluice/store.h"
#include "sluice/util.h"

int sluice_notify_signature(char out[SLUICE_NOTIFY_SIG_SZ], const char *key, size_t keylen,
			    int64_t t, const char *body, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char prefix[32], mac[65];
	size_t plen;
	unsigned char *msg;

	plen = (size_t)snprintf(prefix, sizeof prefix, "%" PRId64 ".", t);
	msg = sluice_xcalloc(plen + len + 1, 1);
	memcpy(msg, prefix, plen);
	memcpy(msg + plen, body, len);
	if (!HMAC(EVP_sha256(), key, (int)keylen, msg, plen + len, md, &mdlen) || mdlen != 32) {
		free(msg);
		return sluice_error_set(SLUICE_ERROR, "cannot compute HMAC-SHA256 with libcrypto");
	}
	free(msg);
	for (unsigned i = 0; i < mdlen; i++) {
		mac[2 * i] = hex[md[i] >> 4];
		mac[2 * i + 1] = hex[md[i] & 15];
	}
	mac[64] = '\0';
	snprintf(out, SLUICE_NOTIFY_SIG_SZ, "t=%" PRId64 ",v1=%s", t, mac);
	return 0;
}

int64_t sluice_notify_backoff(int64_t attempts, int64_t base, int64_t cap, double r)
{
	int64_t d = base;

	if (base <= 0)
		return 0;
	for (int64_t i = 1; i < attempts && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	if (r < 0 || r >= 1)
		r = 0;
	return d / 2 + (int64_t)(r * (double)(d - d / 2));
}

static double jitter(void)
{
	uint32_t v = 0;
	if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
		return 0.5;
	return (double)v / 4294967296.0;
}

int sluice_notify_render_slack(char **out, const char *body)
{
	json_t *ev = body ? json_loads(body, 0, NULL) : NULL;
	const char *ws, *kind, *msg, *hash;
	json_int_t head = 0;
	json_t *slack = NULL;
	int rc = 0;

	*out = NULL;
	if (!ev || json_unpack(ev, "{s:s, s:s, s:s, s:{s:I, s:s}}", "workspace", &ws, "kind",
			       &kind, "message", &msg, "audit_head", "id", &head, "hash",
			       &hash) != 0) {
		rc = sluice_error_set(SLUICE_EINVAL, "an outbox body is not an event; "
						     "drop it with 'sluice outbox drop'");
		goto done;
	}
	{
		char *text = sluice_xasprintf("[%s] %s: %s (audit head %" JSON_INTEGER_FORMAT
					      ":%.12s)",
					      ws, kind, msg, head, hash);
		slack = json_pack("{s:s}", "text", text);
		free(text);
	}
	if (!slack || !(*out = json_dumps(slack, JSON_COMPACT)))
		rc = sluice_error_set(SLUICE_ENOMEM, "cannot render a slack message");
done:
	json_decref(slack);
	json_decref(ev);
	return rc;
}

/* ---- one endpoint ------------------------------------------------------ */

typedef struct {
	const char *url;
	const char *secret_env; /* NULL: unsigned */
	bool slack;
} endpoint;

/* The endpoint of `row` as the workspace names it now: a webhook, or the
 * http publisher for effective_state. */
static bool find_endpoint(endpoint *out, const sluice_workspace *ws, const sluice_outbox_row *row)
{
	memset(out, 0, sizeof *out);
	if (strcmp(row->kind, "effective_state") == 0) {
		for (size_t i = 0; i < ws->npublishers; i++) {
			const sluice_publish_conf *pc = &ws->publishers[i];
			if (pc->type.s && strcmp(pc->type.s, "http") == 0 && pc->url.s &&
			    strcmp(pc->url.s, row->endpoint) == 0) {
				*out = (endpoint){pc->url.s, pc->secret_env.s, false};
				return true;
			}
		}
		return false;
	}
	for (size_t i = 0; i < ws->nnotifications; i++) {
		const sluice_notification *n = &ws->notifications[i];
		if (n->url.s && strcmp(n->url.s, row->endpoint) == 0) {
			*out = (endpoint){n->url.s, n->secret_env.s,
					  n->format.s && strcmp(n->format.s, "slack") == 0};
			return true;
		}
	}
	return false;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static long env_ms(const char *name, long dflt)
{
	const char *v = getenv(name);
	char *end = NULL;
	long n;

	if (!v || !*v)
		return dflt;
	n = strtol(v, &end, 10);
	return end && !*end && n >= 0 ? n : dflt;
}

/* POSTs `payload` to ep: 0 when the answer was 2xx, else a negative code
 * with the error set (the status or libcurl's reason). */
static int post(CURL *c, const endpoint *ep, const char *event_id, const char *payload,
		const char *signature)
{
	char cerr[CURL_ERROR_SIZE] = "", hid[96], hsig[160];
	struct curl_slist *hdr = NULL;
	long status = 0, timeout = env_ms("SLUICE_NOTIFY_TIMEOUT_MS", SLUICE_NOTIFY_TIMEOUT_MS);
	CURLcode cc;
	int rc = 0;

	curl_easy_reset(c);
	snprintf(hid, sizeof hid, "X-Sluice-Event-Id: %s", event_id);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, hid);
	if (signature) {
		snprintf(hsig, sizeof hsig, "X-Sluice-Signature: %s", signature);
		hdr = curl_slist_append(hdr, hsig);
	}
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, ep->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice/" SLUICE_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		rc = sluice_error_set(SLUICE_EIO, "%s: %s", ep->url,
				      cerr[0] ? cerr : curl_easy_strerror(cc));
	else if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status < 200 ||
							      status > 299)
		rc = sluice_error_set(SLUICE_EIO, "%s answered HTTP %ld", ep->url, status);
	curl_slist_free_all(hdr);
	return rc;
}

static void note_failure(sluice_notify_stats *out, const char *why)
{
	out->failed++;
	if (!out->error)
		out->error = sluice_xstrdup(why);
}

/* One row: sign and send, then record what happened. Returns 0 or a
 * store error. */
static int deliver_one(sluice_notify_stats *out, CURL *c, sluice_store *s,
		       const sluice_workspace *ws, const sluice_outbox_row *row, int64_t now)
{
	char sig[SLUICE_NOTIFY_SIG_SZ], *payload = NULL, *why = NULL;
	const char *key;
	endpoint ep;
	int rc = 0;

	out->attempted++;
	if (!find_endpoint(&ep, ws, row)) {
		why = sluice_xasprintf("%s is no longer an endpoint of the workspace; add it back "
				       "and run 'sluice outbox retry %" PRId64 "', or drop the row",
				       row->endpoint, row->id);
		note_failure(out, why);
		out->dead++;
		rc = sluice_store_outbox_failed(s, row->id, row->attempts, now, true, why);
		goto done;
	}
	key = ep.secret_env ? getenv(ep.secret_env) : NULL;
	if (ep.secret_env && (!key || !*key)) {
		why = sluice_xasprintf("%s: the signing key variable %s is not set; set it in "
				       "sluice's environment",
				       ep.url, ep.secret_env);
		note_failure(out, why);
		rc = sluice_store_outbox_held(s, row->id, why);
		goto done;
	}
	if (ep.slack) {
		if ((rc = sluice_notify_render_slack(&payload, row->body)) < 0) {
			why = sluice_xasprintf("%s: %s", ep.url, sluice_error_last());
			note_failure(out, why);
			out->dead++;
			rc = sluice_store_outbox_failed(s, row->id, row->attempts + 1, now, true, why);
			goto done;
		}
	} else
		payload = sluice_xstrdup(row->body);
	if (key && (rc = sluice_notify_signature(sig, key, strlen(key), now, payload,
						 strlen(payload))) < 0)
		goto done;
	if (post(c, &ep, row->event_id, payload, key ? sig : NULL) == 0) {
		out->delivered++;
		rc = sluice_store_outbox_delivered(s, row->id, now);
	} else {
		int64_t attempts = row->attempts + 1;
		bool dead = attempts >= SLUICE_NOTIFY_MAX_ATTEMPTS;
		int64_t base = env_ms("SLUICE_NOTIFY_BACKOFF_BASE", SLUICE_NOTIFY_BACKOFF_BASE);
		int64_t next = now + sluice_notify_backoff(attempts, base, SLUICE_NOTIFY_BACKOFF_CAP,
							   jitter());
		why = sluice_xstrdup(sluice_error_last());
		note_failure(out, why);
		if (dead)
			out->dead++;
		rc = sluice_store_outbox_failed(s, row->id, attempts, next, dead, why);
	}
done:
	free(payload);
	free(why);
	return rc;
}

int sluice_notify_deliver(sluice_notify_stats *out, sluice_engine *e, int64_t now, int max)
{
	return sluice_notify_deliver_after(out, e, now, max, 0);
}

int sluice_notify_deliver_after(sluice_notify_stats *out, sluice_engine *e, int64_t now,
				int max, int64_t after_id)
{
	sluice_store *s = sluice_engine_store(e);
	const sluice_workspace *ws = sluice_engine_workspace(e);
	sluice_outbox_row *rows = NULL;
	size_t n = 0;
	CURL *c = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = sluice_store_outbox_list(&rows, &n, s, sluice_engine_workspace_name(e),
					   "pending", now, after_id, max > 0 ? (size_t)max : 0)) < 0)
		return rc;
	if (n && !(c = curl_easy_init())) {
		rc = sluice_error_set(SLUICE_ERROR, "cannot start libcurl");
		goto done;
	}
	/* one handle for the batch: connections to an endpoint are reused */
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = deliver_one(out, c, s, ws, &rows[i], now);
done:
	if (c)
		curl_easy_cleanup(c);
	sluice_outbox_rows_free(rows, n);
	return rc;
}

void sluice_notify_stats_clear(sluice_notify_stats *st)
{
	if (!st)
		return;
	free(st->error);
	memset(st, 0, sizeof *st);
}
