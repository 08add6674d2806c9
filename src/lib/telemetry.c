/* Telemetry events: one JSON object per line, checked against the contract
 * in docs/telemetry.md. Unknown fields are ignored and counted, so
 * producers may add fields before Sluice knows them. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sluice/error.h"
#include "sluice/telemetry.h"
#include "sluice/util.h"

static const char *const outcome_names[] = {"ok", "error", "refusal", "escalation"};
static const char *const known_fields[] = {
	"id",	  "type", "time",	    "workspace",  "plugin", "version", "group",
	"user",	  "tool", "outcome", "error_category", "latency_ms", "rating", "comment",
	NULL,
};

const char *sluice_event_outcome_name(sluice_event_outcome o)
{
	return (unsigned)o < 4 ? outcome_names[o] : "?";
}

const char *sluice_event_type_name(sluice_event_type t)
{
	return t == SLUICE_EVENT_FEEDBACK ? "feedback" : "tool_call";
}

void sluice_event_clear(sluice_event *ev)
{
	if (!ev)
		return;
	json_decref(ev->priv);
	memset(ev, 0, sizeof *ev);
	ev->latency_ms = -1;
}

static bool known(const char *key)
{
	for (const char *const *k = known_fields; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

/* A string field: required or optional, non-empty, at most `max` bytes. */
static int str_field(const char **out, json_t *o, const char *key, bool required, size_t max)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return sluice_error_set(SLUICE_EINVAL, "missing field '%s'", key);
		return 0;
	}
	if (!json_is_string(v))
		return sluice_error_set(SLUICE_EINVAL, "'%s' must be a string", key);
	if (json_string_length(v) == 0)
		return sluice_error_set(SLUICE_EINVAL, "'%s' must not be empty", key);
	if (json_string_length(v) > max)
		return sluice_error_set(SLUICE_EINVAL, "'%s' is longer than %zu bytes", key, max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return sluice_error_set(SLUICE_EINVAL, "'%s' contains a NUL character", key);
	*out = json_string_value(v);
	return 0;
}

const char *sluice_rating_canonical(const char *rating)
{
	static const char *const r[] = {"up", "down", "1", "2", "3", "4", "5", NULL};
	for (size_t i = 0; rating && r[i]; i++)
		if (strcmp(r[i], rating) == 0)
			return r[i];
	return NULL;
}

bool sluice_rating_positive(const char *rating)
{
	return rating && (!strcmp(rating, "up") || !strcmp(rating, "4") || !strcmp(rating, "5"));
}

static int rating_field(const char **out, json_t *o)
{
	static const char *const digits[] = {"1", "2", "3", "4", "5"};
	json_t *v = json_object_get(o, "rating");

	*out = NULL;
	if (!v)
		return sluice_error_set(SLUICE_EINVAL, "missing field 'rating'");
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < 1 || n > 5)
			return sluice_error_set(SLUICE_EINVAL, "'rating' must be 1 to 5, \"up\" or "
					       "\"down\" (got %lld)", (long long)n);
		*out = digits[n - 1];
		return 0;
	}
	if (json_is_string(v) && (*out = sluice_rating_canonical(json_string_value(v))) &&
	    isalpha((unsigned char)**out))
		return 0;
	*out = NULL;
	return sluice_error_set(SLUICE_EINVAL, "'rating' must be 1 to 5, \"up\" or \"down\"");
}

int sluice_event_parse(sluice_event *out, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *o, *v;
	const char *s, *key;
	int rc = 0;

	memset(out, 0, sizeof *out);
	out->latency_ms = -1;
	if (len > SLUICE_EVENT_MAX_LINE)
		return sluice_error_set(SLUICE_EINVAL, "line is %zu bytes, longer than the %d "
				       "byte limit of an event", len, SLUICE_EVENT_MAX_LINE);
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!o)
		return sluice_error_set(SLUICE_EINVAL, "not JSON: %s (column %d)", jerr.text,
					jerr.column);
	out->priv = o;
	if (!json_is_object(o)) {
		rc = sluice_error_set(SLUICE_EINVAL, "an event must be a JSON object");
		goto done;
	}
	json_object_foreach(o, key, v)
		if (!known(key))
			out->unknown_fields++;
	if ((rc = str_field(&out->id, o, "id", true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&s, o, "type", true, 32)) < 0)
		goto done;
	if (strcmp(s, "tool_call") == 0) {
		out->type = SLUICE_EVENT_TOOL_CALL;
	} else if (strcmp(s, "feedback") == 0) {
		out->type = SLUICE_EVENT_FEEDBACK;
	} else {
		rc = sluice_error_set(SLUICE_EINVAL, "unknown type '%s' (tool_call or feedback)", s);
		goto done;
	}
	if ((rc = str_field(&s, o, "time", true, 64)) < 0)
		goto done;
	if (sluice_time_parse(&out->time, s) < 0 || strchr(s, 'T') == NULL) {
		rc = sluice_error_set(SLUICE_EINVAL, "'time' must be RFC 3339, such as "
				      "2026-12-08T12:30:00Z (got '%s')", s);
		goto done;
	}
	if ((rc = str_field(&out->workspace, o, "workspace", true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&out->plugin, o, "plugin", true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&out->version, o, "version", true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&out->group, o, "group", true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&out->user, o, "user", false, SLUICE_EVENT_MAX_ID)) < 0)
		goto done;
	if (out->type == SLUICE_EVENT_FEEDBACK) {
		if ((rc = rating_field(&out->rating, o)) < 0 ||
		    (rc = str_field(&out->comment, o, "comment", false, SLUICE_EVENT_MAX_COMMENT)) < 0)
			goto done;
		goto done;
	}
	if ((rc = str_field(&out->tool, o, "tool", true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&s, o, "outcome", true, 32)) < 0)
		goto done;
	rc = SLUICE_EINVAL;
	for (int i = 0; i < 4; i++)
		if (strcmp(s, outcome_names[i]) == 0) {
			out->outcome = (sluice_event_outcome)i;
			rc = 0;
		}
	if (rc < 0) {
		sluice_error_set(rc, "unknown outcome '%s' (ok, error, refusal or escalation)", s);
		goto done;
	}
	if ((rc = str_field(&out->error_category, o, "error_category", false, SLUICE_EVENT_MAX_ID)) < 0)
		goto done;
	v = json_object_get(o, "latency_ms");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			rc = sluice_error_set(SLUICE_EINVAL, "'latency_ms' must be a non-negative "
					      "integer");
			goto done;
		}
		out->latency_ms = json_integer_value(v);
	}
done:
	if (rc < 0)
		sluice_event_clear(out);
	return rc;
}

int sluice_telemetry_user_hash(char out[SLUICE_USER_HASH_SZ],
			       const unsigned char key[SLUICE_TELEMETRY_KEY_SZ], const char *user)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	out[0] = '\0';
	if (!HMAC(EVP_sha256(), key, SLUICE_TELEMETRY_KEY_SZ, (const unsigned char *)user,
		  strlen(user), md, &n) || n != 32)
		return sluice_error_set(SLUICE_ERROR, "cannot hash a user id: HMAC-SHA256 failed");
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

/* Exact up to 20 ms, then 5% apart: 20 * 1.05^(b-20), rounded up. */
#define LINEAR_BUCKETS 20

int64_t sluice_latency_bucket_le(int bucket)
{
	if (bucket <= LINEAR_BUCKETS)
		return bucket < 0 ? 0 : bucket;
	return (int64_t)ceil(LINEAR_BUCKETS * pow(1.05, bucket - LINEAR_BUCKETS) - 1e-9);
}

int sluice_latency_bucket(int64_t latency_ms)
{
	int b;

	if (latency_ms <= LINEAR_BUCKETS)
		return latency_ms < 0 ? 0 : (int)latency_ms;
	b = LINEAR_BUCKETS + (int)floor(log((double)latency_ms / LINEAR_BUCKETS) / log(1.05));
	if (b < LINEAR_BUCKETS)
		b = LINEAR_BUCKETS;
	while (b < SLUICE_LATENCY_BUCKETS - 1 && sluice_latency_bucket_le(b) < latency_ms)
		b++;
	while (b > LINEAR_BUCKETS && sluice_latency_bucket_le(b - 1) >= latency_ms)
		b--;
	return b;
}
