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

/* What an event owns: jansson's object or the scanner's copy of the line. */
typedef struct {
	json_t *json;
	char buf[];
} event_priv;

void sluice_event_clear(sluice_event *ev)
{
	if (!ev)
		return;
	if (ev->priv) {
		json_decref(((event_priv *)ev->priv)->json);
		free(ev->priv);
	}
	memset(ev, 0, sizeof *ev);
	ev->latency_ms = -1;
}

/* The fields of one line, from either parser: the fast scanner for the
 * usual flat line, or jansson for everything else. */
enum { F_ID, F_TYPE, F_TIME, F_WORKSPACE, F_PLUGIN, F_VERSION, F_GROUP, F_USER, F_TOOL,
       F_OUTCOME, F_ERROR_CATEGORY, F_LATENCY_MS, F_RATING, F_COMMENT, F_COUNT };

typedef enum { V_NONE = 0, V_NULL, V_STR, V_INT, V_OTHER } vkind;

typedef struct {
	vkind kind;
	const char *s; /* V_STR: NUL-terminated */
	size_t len;
	int64_t i;     /* V_INT */
} fval;


/* By length first: most candidates are ruled out without touching the
 * key's bytes (this runs for every field of every event). */
static int field_index(const char *key, size_t len)
{
	static const unsigned char lens[] = {2, 4, 4, 9, 6, 7, 5, 4, 4, 7, 14, 10, 6, 7};
	for (int i = 0; i < F_COUNT; i++)
		if (lens[i] == len && key[0] == known_fields[i][0] &&
		    memcmp(known_fields[i], key, len) == 0)
			return i;
	return -1;
}

static const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* A string of plain ASCII without escapes, from just after its opening
 * quote: NUL-terminates it in place and returns the byte after the closing
 * quote, or NULL to leave the line to jansson. */
static char *scan_string(char *p, char *end, size_t *len)
{
	char *q = p;
	while (q < end && *q != '"') {
		unsigned char c = (unsigned char)*q;
		if (c == '\\' || c < 0x20 || c >= 0x80)
			return NULL;
		q++;
	}
	if (q >= end)
		return NULL;
	*len = (size_t)(q - p);
	*q = '\0';
	return q + 1;
}

/* The fast path: a flat object of known fields whose values are plain
 * strings, integers or null. Returns false for anything else (escapes,
 * non-ASCII, nesting, unknown or repeated fields, bad syntax), which
 * jansson then parses and reports. */
static bool scan_line(fval *f, char *p, char *end)
{
	unsigned seen = 0;

	p = (char *)ws(p, end);
	if (p >= end || *p++ != '{')
		return false;
	for (;;) {
		char *key;
		size_t klen, vlen;
		int k;

		p = (char *)ws(p, end);
		if (p >= end || *p++ != '"')
			return false;
		key = p;
		if (!(p = scan_string(p, end, &klen)))
			return false;
		if ((k = field_index(key, klen)) < 0 || (seen & (1u << k)))
			return false;
		seen |= 1u << k;
		p = (char *)ws(p, end);
		if (p >= end || *p++ != ':')
			return false;
		p = (char *)ws(p, end);
		if (p >= end)
			return false;
		if (*p == '"') {
			f[k].s = p + 1;
			if (!(p = scan_string(p + 1, end, &vlen)))
				return false;
			f[k].kind = V_STR;
			f[k].len = vlen;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			bool neg = *p == '-';
			int64_t v = 0;
			int digits = 0;
			if (neg)
				p++;
			if (p < end && *p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
				return false;
			while (p < end && *p >= '0' && *p <= '9' && digits < 18) {
				v = v * 10 + (*p++ - '0');
				digits++;
			}
			if (!digits || (p < end && ((*p >= '0' && *p <= '9') || *p == '.' ||
						   *p == 'e' || *p == 'E')))
				return false;
			f[k].kind = V_INT;
			f[k].i = neg ? -v : v;
		} else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
			f[k].kind = V_NULL;
			p += 4;
		} else {
			return false;
		}
		p = (char *)ws(p, end);
		if (p >= end)
			return false;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p++ != '}')
			return false;
		break;
	}
	return ws(p, end) == end;
}

static void from_json(fval *f, json_t *o, size_t *unknown)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		int k = field_index(key, strlen(key));
		if (k < 0) {
			(*unknown)++;
			continue;
		}
		if (json_is_null(v)) {
			f[k].kind = V_NULL;
		} else if (json_is_string(v)) {
			f[k].kind = V_STR;
			f[k].s = json_string_value(v);
			f[k].len = json_string_length(v);
		} else if (json_is_integer(v)) {
			f[k].kind = V_INT;
			f[k].i = json_integer_value(v);
		} else {
			f[k].kind = V_OTHER;
		}
	}
}

/* A string field: required or optional, non-empty, at most `max` bytes. */
static int str_field(const char **out, const fval *f, int k, bool required, size_t max)
{
	const char *key = known_fields[k];

	*out = NULL;
	if (f[k].kind == V_NONE || f[k].kind == V_NULL) {
		if (required)
			return sluice_error_set(SLUICE_EINVAL, "missing field '%s'", key);
		return 0;
	}
	if (f[k].kind != V_STR)
		return sluice_error_set(SLUICE_EINVAL, "'%s' must be a string", key);
	if (f[k].len == 0)
		return sluice_error_set(SLUICE_EINVAL, "'%s' must not be empty", key);
	if (f[k].len > max)
		return sluice_error_set(SLUICE_EINVAL, "'%s' is longer than %zu bytes", key, max);
	if (strlen(f[k].s) != f[k].len)
		return sluice_error_set(SLUICE_EINVAL, "'%s' contains a NUL character", key);
	*out = f[k].s;
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

static int rating_field(const char **out, const fval *f)
{
	static const char *const digits[] = {"1", "2", "3", "4", "5"};
	const fval *v = &f[F_RATING];

	*out = NULL;
	if (v->kind == V_NONE)
		return sluice_error_set(SLUICE_EINVAL, "missing field 'rating'");
	if (v->kind == V_INT) {
		if (v->i < 1 || v->i > 5)
			return sluice_error_set(SLUICE_EINVAL, "'rating' must be 1 to 5, \"up\" or "
					       "\"down\" (got %lld)", (long long)v->i);
		*out = digits[v->i - 1];
		return 0;
	}
	if (v->kind == V_STR && (*out = sluice_rating_canonical(v->s)) &&
	    isalpha((unsigned char)**out))
		return 0;
	*out = NULL;
	return sluice_error_set(SLUICE_EINVAL, "'rating' must be 1 to 5, \"up\" or \"down\"");
}

static int check_fields(sluice_event *out, const fval *f)
{
	const char *s;
	int rc;

	if ((rc = str_field(&out->id, f, F_ID, true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&s, f, F_TYPE, true, 32)) < 0)
		return rc;
	if (strcmp(s, "tool_call") == 0)
		out->type = SLUICE_EVENT_TOOL_CALL;
	else if (strcmp(s, "feedback") == 0)
		out->type = SLUICE_EVENT_FEEDBACK;
	else
		return sluice_error_set(SLUICE_EINVAL, "unknown type '%s' (tool_call or feedback)", s);
	if ((rc = str_field(&s, f, F_TIME, true, 64)) < 0)
		return rc;
	if (sluice_time_parse(&out->time, s) < 0 || strchr(s, 'T') == NULL)
		return sluice_error_set(SLUICE_EINVAL, "'time' must be RFC 3339, such as "
					"2026-12-08T12:30:00Z (got '%s')", s);
	if ((rc = str_field(&out->workspace, f, F_WORKSPACE, true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&out->plugin, f, F_PLUGIN, true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&out->version, f, F_VERSION, true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&out->group, f, F_GROUP, true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&out->user, f, F_USER, false, SLUICE_EVENT_MAX_ID)) < 0)
		return rc;
	if (out->type == SLUICE_EVENT_FEEDBACK) {
		if ((rc = rating_field(&out->rating, f)) < 0)
			return rc;
		return str_field(&out->comment, f, F_COMMENT, false, SLUICE_EVENT_MAX_COMMENT);
	}
	if ((rc = str_field(&out->tool, f, F_TOOL, true, SLUICE_EVENT_MAX_ID)) < 0 ||
	    (rc = str_field(&s, f, F_OUTCOME, true, 32)) < 0)
		return rc;
	rc = SLUICE_EINVAL;
	for (int i = 0; i < 4; i++)
		if (strcmp(s, outcome_names[i]) == 0) {
			out->outcome = (sluice_event_outcome)i;
			rc = 0;
		}
	if (rc < 0)
		return sluice_error_set(rc, "unknown outcome '%s' (ok, error, refusal or escalation)", s);
	if ((rc = str_field(&out->error_category, f, F_ERROR_CATEGORY, false,
			    SLUICE_EVENT_MAX_ID)) < 0)
		return rc;
	if (f[F_LATENCY_MS].kind != V_NONE && f[F_LATENCY_MS].kind != V_NULL) {
		if (f[F_LATENCY_MS].kind != V_INT || f[F_LATENCY_MS].i < 0)
			return sluice_error_set(SLUICE_EINVAL, "'latency_ms' must be a non-negative "
						"integer");
		out->latency_ms = f[F_LATENCY_MS].i;
	}
	return 0;
}

/* Parses line from buf (a copy of it the scanner cuts up in place);
 * priv, when not NULL, owns buf and is what the event keeps. */
static int parse(sluice_event *out, const char *line, size_t len, char *buf, event_priv *p)
{
	fval f[F_COUNT];
	json_error_t jerr;
	json_t *o;
	int rc = 0;

	out->priv = p;
	memset(f, 0, sizeof f);
	if (!scan_line(f, buf, buf + len)) {
		memset(f, 0, sizeof f);
		o = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
		if (!o) {
			rc = sluice_error_set(SLUICE_EINVAL, "not JSON: %s (column %d)", jerr.text,
					      jerr.column);
			goto done;
		}
		if (!p) {
			p = sluice_xmalloc(sizeof *p);
			out->priv = p;
		}
		p->json = o;
		if (!json_is_object(o)) {
			rc = sluice_error_set(SLUICE_EINVAL, "an event must be a JSON object");
			goto done;
		}
		from_json(f, o, &out->unknown_fields);
	}
	rc = check_fields(out, f);
done:
	if (rc < 0)
		sluice_event_clear(out);
	return rc;
}

static int too_long(size_t len)
{
	return sluice_error_set(SLUICE_EINVAL, "line is %zu bytes, longer than the %d byte limit "
				"of an event", len, SLUICE_EVENT_MAX_LINE);
}

int sluice_event_parse(sluice_event *out, const char *line, size_t len)
{
	event_priv *p;

	memset(out, 0, sizeof *out);
	out->latency_ms = -1;
	if (len > SLUICE_EVENT_MAX_LINE)
		return too_long(len);
	p = sluice_xmalloc(sizeof *p + len + 1);
	p->json = NULL;
	memcpy(p->buf, line, len);
	p->buf[len] = '\0';
	return parse(out, line, len, p->buf, p);
}

int sluice_event_parse_scratch(sluice_event *out, const char *line, size_t len, char **scratch,
			       size_t *cap)
{
	memset(out, 0, sizeof *out);
	out->latency_ms = -1;
	if (len > SLUICE_EVENT_MAX_LINE)
		return too_long(len);
	if (*cap < len + 1) {
		*cap = len + 1 > 2 * *cap ? len + 1 : 2 * *cap;
		*scratch = sluice_xrealloc(*scratch, *cap);
	}
	memcpy(*scratch, line, len);
	(*scratch)[len] = '\0';
	return parse(out, line, len, *scratch, NULL);
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
