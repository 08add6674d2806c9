/* The vault-kv2 provider: HashiCorp Vault / OpenBao KV version 2. Only the
 * metadata endpoint is ever requested, GET /v1/<mount>/metadata/<name>,
 * never /data/, so a value never crosses the wire. TLS is always verified
 * (ca_bundle for a private CA); a 5xx answer or a failed connection is
 * retried with backoff within the provider's timeout. The token is sent
 * and wiped, never kept or shown (docs/secrets.md). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secrets-internal.h"
#include "sluice/error.h"
#include "sluice/util.h"

#define VAULT_MAX_ANSWER (1024 * 1024)
#define VAULT_TRIES 3

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	sluice_buf *b = ctx;
	if (b->len + size * n > VAULT_MAX_ANSWER)
		return 0; /* curl reports a write error */
	sluice_buf_put(b, data, size * n);
	return size * n;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

/* The token from token_env or the first line of token_file. */
static int load_token(char **out, const sluice_secret_provider *p, const char *root)
{
	*out = NULL;
	if (p->token_env.s) {
		const char *v = getenv(p->token_env.s);
		if (!v || !*v)
			return sluice_error_set(SLUICE_EINVAL,
						"secret provider '%s': the token variable %s is not "
						"set; export it",
						p->name.s, p->token_env.s);
		*out = sluice_xstrdup(v);
		return 0;
	}
	char *path = sluice__secret_path(root, p->token_file.s ? p->token_file.s : "");
	char line[8192] = "";
	FILE *f = fopen(path, "r");
	int rc = 0;
	if (!f || !fgets(line, sizeof line, f)) {
		rc = sluice_error_set(SLUICE_EIO, "secret provider '%s': cannot read token_file %s: %s",
				      p->name.s, path, f ? "it is empty" : strerror(errno));
	} else {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			rc = sluice_error_set(SLUICE_EINVAL,
					      "secret provider '%s': token_file %s starts with an "
					      "empty line",
					      p->name.s, path);
		else
			*out = sluice_xstrdup(line);
	}
	memset(line, 0, sizeof line);
	if (f)
		fclose(f);
	free(path);
	return rc;
}

/* address/v1/<mount>/metadata/<name>, each name segment escaped. */
static char *metadata_url(CURL *c, const sluice_secret_provider *p, const char *name)
{
	sluice_buf b = SLUICE_BUF_INIT;
	const char *a = p->address.s ? p->address.s : "";
	size_t alen = strlen(a);
	while (alen && a[alen - 1] == '/')
		alen--;
	sluice_buf_put(&b, a, alen);
	sluice_buf_printf(&b, "/v1/%s/metadata", p->mount.s ? p->mount.s : "secret");
	const char *s = name;
	while (*s) {
		size_t n = strcspn(s, "/");
		char *e = curl_easy_escape(c, s, (int)n);
		sluice_buf_printf(&b, "/%s", e ? e : "");
		curl_free(e);
		s += n;
		if (*s == '/')
			s++;
	}
	return sluice_buf_detach(&b);
}

int sluice__secret_vault_parse(sluice_secret_meta *out, const char *provider, const char *mount,
				const char *name, const char *body, size_t len, int64_t now)
{
	json_error_t jerr;
	json_t *j = json_loadb(body ? body : "", body ? len : 0, 0, &jerr);
	json_t *data = json_object_get(j, "data");
	json_t *cur = json_object_get(data, "current_version");
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (!json_is_object(data) || !json_is_integer(cur)) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "secret provider '%s': the answer for %s is not KV v2 metadata "
				      "(no data.current_version); is '%s' a KV version 2 mount?",
				      provider, name, mount ? mount : "");
		goto done;
	}
	char key[32];
	snprintf(key, sizeof key, "%lld", (long long)json_integer_value(cur));
	json_t *v = json_object_get(json_object_get(data, "versions"), key);
	const char *del = json_string_value(json_object_get(v, "deletion_time"));
	int64_t del_at = 0;
	bool deleted = json_is_true(json_object_get(v, "destroyed"));
	/* a deletion_time in the future is a scheduled delete: still there */
	if (del && *del && sluice_time_parse(&del_at, del) == 0 && del_at <= now)
		deleted = true;
	out->exists = json_integer_value(cur) > 0 && !deleted;
	out->version = sluice_xstrdup(key);
	const char *upd = json_string_value(json_object_get(data, "updated_time"));
	if (upd && sluice_time_parse(&out->updated_at, upd) < 0)
		out->updated_at = 0;
done:
	json_decref(j);
	return rc;
}

int sluice__secret_vault_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			       const sluice_secret_query *q)
{
	CURL *c = NULL;
	struct curl_slist *hdr = NULL;
	char *token = NULL, *th = NULL, *url = NULL, *ca = NULL;
	char cerr[CURL_ERROR_SIZE];
	sluice_buf body = SLUICE_BUF_INIT;
	int64_t budget = p->timeout_ms > 0 ? p->timeout_ms : 10000;
	int64_t deadline = mono_ms() + budget;
	long status = 0;
	CURLcode cc = CURLE_OK;
	int rc, tries = 0;

	if ((rc = load_token(&token, p, q->root)) < 0)
		goto done;
	if (!(c = curl_easy_init())) {
		rc = sluice_error_set(SLUICE_ENOMEM, "secret provider '%s': cannot start libcurl",
				      p->name.s);
		goto done;
	}
	url = metadata_url(c, p, q->name);
	th = sluice_xasprintf("X-Vault-Token: %s", token);
	hdr = curl_slist_append(hdr, th);
	if (p->namespace_.s) {
		char *ns = sluice_xasprintf("X-Vault-Namespace: %s", p->namespace_.s);
		hdr = curl_slist_append(hdr, ns);
		free(ns);
	}
	hdr = curl_slist_append(hdr, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	if (p->ca_bundle.s) {
		ca = sluice__secret_path(q->root, p->ca_bundle.s);
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	}
	for (;;) {
		int64_t left = deadline - mono_ms();
		if (left < 1)
			left = 1;
		body.len = 0;
		cerr[0] = '\0';
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(left < 5000 ? left : 5000));
		cc = curl_easy_perform(c);
		tries++;
		status = 0;
		if (cc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		bool again = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
			     cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR ||
			     cc == CURLE_GOT_NOTHING || (cc == CURLE_OK && status >= 500);
		int64_t pause_ms = 200LL << (tries - 1);
		if (!again || tries >= VAULT_TRIES || mono_ms() + pause_ms >= deadline)
			break;
		struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		rc = sluice_error_set(SLUICE_EIO,
				      "secret provider '%s': %s did not answer within %lld ms",
				      p->name.s, p->address.s, (long long)budget);
	} else if (cc != CURLE_OK) {
		rc = sluice_error_set(SLUICE_EIO, "secret provider '%s': cannot reach %s: %s (%d %s)",
				      p->name.s, p->address.s, cerr[0] ? cerr : curl_easy_strerror(cc),
				      tries, tries == 1 ? "try" : "tries");
	} else if (status == 200) {
		rc = sluice__secret_vault_parse(out, p->name.s, p->mount.s, q->name, body.ptr,
						 body.len, (int64_t)time(NULL));
	} else if (status == 404) {
		out->exists = false;
		rc = 0;
	} else if (status == 403) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "secret provider '%s': token may not read metadata for %s "
				      "(403); grant it read on %s/metadata/%s",
				      p->name.s, q->name, p->mount.s ? p->mount.s : "", q->name);
	} else {
		rc = sluice_error_set(SLUICE_EIO,
				      "secret provider '%s': %s answered HTTP %ld for the metadata of "
				      "%s (%d %s)",
				      p->name.s, p->address.s, status, q->name, tries,
				      tries == 1 ? "try" : "tries");
	}
done:
	curl_slist_free_all(hdr);
	if (c)
		curl_easy_cleanup(c);
	wipe_free(th);
	wipe_free(token);
	sluice_buf_clear(&body);
	free(url);
	free(ca);
	return rc;
}
