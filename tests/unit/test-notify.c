/* Notifications: the signature a receiver checks, the backoff, the slack
 * rendering, which audit actions are which event kinds, and the outbox
 * rows the audit append writes (docs/notifications.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/audit.h"
#include "sluice/error.h"
#include "sluice/notify.h"
#include "sluice/store.h"
#include "sluice/util.h"

#include "store-fixture.h"

#define T0 1796083200 /* 2026-12-01T00:00:00Z */

/* config-workspace.c: the event names a workspace may list */
extern const char *const sluice_notification_events[];

static void test_signature(void **state)
{
	char sig[SLUICE_NOTIFY_SIG_SZ];
	const char body[] = "{\"a\":1}";

	(void)state;
	/* python3: hmac.new(b"k3y", b'1796083200.{"a":1}', hashlib.sha256).hexdigest() */
	assert_int_equal(sluice_notify_signature(sig, "k3y", 3, T0, body, strlen(body)), 0);
	assert_string_equal(sig, "t=1796083200,v1=e4347ee2c8b9ccd66c2357c79058442779d91dbe3504a"
				 "612ef7af20fa802d5ce");
	/* another time or body, another signature */
	char other[SLUICE_NOTIFY_SIG_SZ];
	assert_int_equal(sluice_notify_signature(other, "k3y", 3, T0 + 1, body, strlen(body)), 0);
	assert_string_not_equal(sig + 16, other + 16);
}

static void test_backoff(void **state)
{
	static const struct {
		int64_t attempts;
		double r;
		int64_t want;
	} rows[] = {
		{1, 0.0, 15},	      /* 30 s, half of it fixed */
		{1, 0.999999, 29},    /* and up to all of it */
		{2, 0.0, 30},	      /* doubles */
		{3, 0.5, 90},	      /* 120: 60 + 30 */
		{10, 0.0, 7680},      /* 30 * 2^9 */
		{11, 0.0, 10800},     /* capped at 6 h */
		{12, 0.999999, 21599},
		{1000, 0.0, 10800},   /* no overflow */
		{1, 1.5, 15},	      /* r out of range counts as 0 */
	};
	(void)state;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int64_t got = sluice_notify_backoff(rows[i].attempts, SLUICE_NOTIFY_BACKOFF_BASE,
						    SLUICE_NOTIFY_BACKOFF_CAP, rows[i].r);
		if (got != rows[i].want)
			fail_msg("row %zu: attempts %lld r %.3f: want %lld, got %lld", i,
				 (long long)rows[i].attempts, rows[i].r, (long long)rows[i].want,
				 (long long)got);
	}
	/* base 0 (tests): at once */
	assert_int_equal(sluice_notify_backoff(5, 0, SLUICE_NOTIFY_BACKOFF_CAP, 0.7), 0);
}

static void test_slack(void **state)
{
	char *out = NULL;
	json_t *j;

	(void)state;
	assert_int_equal(
		sluice_notify_render_slack(
			&out, "{\"id\":\"e1\",\"kind\":\"paused\",\"workspace\":\"engineering\","
			      "\"message\":\"p@0.1.0: rollout paused\",\"audit_head\":{\"id\":7,"
			      "\"hash\":\"0123456789abcdef0123\"}}"),
		0);
	assert_non_null(j = json_loads(out, 0, NULL));
	assert_int_equal(json_object_size(j), 1);
	assert_string_equal(json_string_value(json_object_get(j, "text")),
			    "[engineering] paused: p@0.1.0: rollout paused (audit head 7:0123456789ab)");
	json_decref(j);
	free(out);
	assert_int_equal(sluice_notify_render_slack(&out, "{\"kind\":\"paused\"}"), SLUICE_EINVAL);
	assert_null(out);
	assert_int_equal(sluice_notify_render_slack(&out, "not json"), SLUICE_EINVAL);
}

static bool is_event_name(const char *kind)
{
	for (const char *const *e = sluice_notification_events; *e; e++)
		if (strcmp(*e, kind) == 0)
			return true;
	return false;
}

static void test_kinds(void **state)
{
	static const struct {
		const char *action, *details, *kind, *also;
	} rows[] = {
		{"release.recorded", NULL, "release_detected", NULL},
		{"stage.started", "{\"by\":\"controller\"}", "stage_started", NULL},
		{"stage.started", "{\"by\":\"promote\"}", "promoted", "stage_started"},
		{"approval.given", NULL, "approved", NULL},
		{"approval.needed", NULL, "approval_needed", NULL},
		{"rollout.paused", "{\"reason\":\"x\"}", "paused", NULL},
		{"rollout.paused", "{\"metric\":\"tool_error_rate\"}", "gate_breached", "paused"},
		{"rollout.rolled_back", "{\"metric\":\"refusal_rate\"}", "gate_breached",
		 "rolled_back"},
		{"plugin.withdrawn", NULL, "withdrawn", NULL},
		{"release.withdrawn", NULL, "withdrawn", NULL},
		{"tag.moved", NULL, "tag_moved", NULL},
		{"notice.gate_wait", NULL, "data_missing", NULL},
		{"notice.sunset", NULL, "sunset_notice", NULL},
		{"secret.missing", NULL, "secret_missing", NULL},
		{"publish.failed", NULL, "publish_failed", NULL},
		{"workspace.frozen", NULL, "frozen", NULL},
		/* not events: bookkeeping and the outbox's own actions */
		{"secret.present", NULL, NULL, NULL},
		{"access.refused", NULL, NULL, NULL},
		{"outbox.retried", NULL, NULL, NULL},
		{"audit.checkpoint", NULL, NULL, NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *also = "unset";
		const char *kind = sluice_outbox_kind(rows[i].action, rows[i].details, &also);
		if ((kind == NULL) != (rows[i].kind == NULL) ||
		    (kind && strcmp(kind, rows[i].kind) != 0) ||
		    (also == NULL) != (rows[i].also == NULL) ||
		    (also && strcmp(also, rows[i].also) != 0))
			fail_msg("row %zu (%s): want %s/%s, got %s/%s", i, rows[i].action,
				 rows[i].kind ? rows[i].kind : "-", rows[i].also ? rows[i].also : "-",
				 kind ? kind : "-", also ? also : "-");
		/* a workspace can subscribe to every kind there is */
		if (kind && !is_event_name(kind))
			fail_msg("kind %s is not in sluice_notification_events", kind);
	}
}

static int setup(void **state)
{
	*state = fixture_open("sluice-notify", "sluice.db");
	return 0;
}

static int64_t count(fixture *f, const char *where)
{
	char *sql = sluice_xasprintf("SELECT count(*) FROM outbox WHERE %s", where);
	int64_t n = raw_int(f->path, sql);
	free(sql);
	return n;
}

static void test_routed_from_audit(void **state)
{
	fixture *f = *state;
	static const char *const all[] = {"all", NULL};
	static const char *const paused[] = {"paused", NULL};
	sluice_outbox_route routes[] = {{"http://127.0.0.1:1/all", all},
					{"http://127.0.0.1:1/paused", paused}};
	sluice_outbox_row *rows = NULL;
	size_t n = 0;
	int64_t id = 0, backlog = 0, oldest = 0;
	json_t *body;

	sluice_store_outbox_routes_set(f->s, "engineering", routes, 2);
	/* an event both receive: one row each, the same audit row */
	assert_int_equal(sluice_audit_appendf(f->s, T0, "rollout.paused", "p", "0.1.0",
					      "{s:s, s:s}", "stage", "pilot", "reason", "check"),
			 0);
	assert_int_equal(count(f, "kind = 'paused'"), 2);
	/* one only the first receives; bookkeeping nobody does */
	assert_int_equal(sluice_audit_appendf(f->s, T0, "approval.given", "p", "0.1.0", NULL), 0);
	assert_int_equal(sluice_audit_appendf(f->s, T0, "secret.present", "p", "0.1.0", NULL), 0);
	assert_int_equal(count(f, "1"), 3);

	/* the body: what happened, where, and the audit row that says so */
	assert_int_equal(sluice_store_outbox_list(&rows, &n, f->s, "engineering", "pending", 0, 0, 0),
			 0);
	assert_int_equal(n, 3);
	{ /* what one command wrote: the rows after an id */
		sluice_outbox_row *after = NULL;
		size_t na = 0;
		int64_t last = 0;
		assert_int_equal(sluice_store_outbox_last_id(f->s, &last), 0);
		assert_int_equal(last, rows[2].id);
		assert_int_equal(sluice_store_outbox_list(&after, &na, f->s, "engineering", "pending",
							  0, rows[0].id, 0),
				 0);
		assert_int_equal(na, 2);
		assert_int_equal(after[0].id, rows[1].id);
		sluice_outbox_rows_free(after, na);
	}
	assert_non_null(body = json_loads(rows[0].body, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(body, "id")), rows[0].event_id);
	assert_string_equal(json_string_value(json_object_get(body, "kind")), "paused");
	assert_string_equal(json_string_value(json_object_get(body, "workspace")), "engineering");
	assert_string_equal(json_string_value(json_object_get(body, "at")), "2026-12-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(body, "stage")), "pilot");
	assert_string_equal(json_string_value(json_object_get(body, "message")),
			    "p@0.1.0: rollout paused at stage 'pilot': check");
	{
		char hash[SLUICE_AUDIT_HASH_SZ];
		int64_t head = 0;
		json_t *ah = json_object_get(body, "audit_head");
		assert_int_equal(sluice_audit_head(f->s, &head, hash), 0);
		assert_int_equal(json_integer_value(json_object_get(ah, "id")), rows[0].audit_id);
		assert_int_equal(rows[0].audit_id, head - 2);
	}
	assert_string_not_equal(rows[0].event_id, rows[1].event_id);
	assert_int_equal(strlen(rows[0].event_id), 32);
	json_decref(body);
	id = rows[1].id;
	sluice_outbox_rows_free(rows, n);

	/* a change rolled back takes its events with it */
	assert_int_equal(sluice_store_begin(f->s), 0);
	assert_int_equal(sluice_audit_appendf(f->s, T0, "rollout.paused", "p", "0.1.0", NULL), 0);
	assert_int_equal(count(f, "1"), 3); /* not committed: another connection sees none */
	assert_int_equal(sluice_store_rollback(f->s), 0);
	assert_int_equal(count(f, "1"), 3);

	/* outcomes */
	assert_int_equal(sluice_store_outbox_failed(f->s, id, 1, T0 + 30, false, "HTTP 500"), 0);
	assert_int_equal(count(f, "attempts = 1 AND last_error = 'HTTP 500' AND state = 'pending'"),
			 1);
	assert_int_equal(sluice_store_outbox_list(&rows, &n, f->s, "engineering", "pending", T0, 0, 0),
			 0);
	assert_int_equal(n, 2); /* the failed one is not due yet */
	sluice_outbox_rows_free(rows, n);
	assert_int_equal(sluice_store_outbox_failed(f->s, id, 12, T0 + 60, true, "HTTP 500"), 0);
	assert_int_equal(count(f, "state = 'dead'"), 1);
	assert_int_equal(sluice_store_outbox_backlog(&backlog, &oldest, f->s, "engineering"), 0);
	assert_int_equal(backlog, 2);
	assert_true(oldest > 0);

	/* operator actions, audited */
	int64_t retried = 0;
	assert_int_equal(sluice_store_outbox_retry(&retried, f->s, "engineering", 0, T0), 0);
	assert_int_equal(retried, 1);
	assert_int_equal(count(f, "state = 'pending' AND attempts = 0"), 3);
	assert_int_equal(sluice_store_outbox_delivered(f->s, id, T0), 0);
	assert_int_equal(sluice_store_outbox_retry(&retried, f->s, "engineering", id, T0),
			 SLUICE_EREFUSED);
	assert_int_equal(sluice_store_outbox_drop(f->s, "engineering", id, T0), 0);
	assert_int_equal(sluice_store_outbox_drop(f->s, "engineering", id, T0), SLUICE_ENOTFOUND);
	assert_int_equal(count(f, "1"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM audit WHERE action IN"
					  " ('outbox.retried', 'outbox.dropped')"),
			 2);
	/* the outbox's own audit rows notify nobody */
	assert_int_equal(count(f, "kind LIKE 'outbox%'"), 0);
}

static void test_enqueue(void **state)
{
	fixture *f = *state;
	json_t *body = json_pack("{s:s}", "kind", "effective_state");
	char *eid = NULL, *newest = NULL;

	assert_int_equal(sluice_store_outbox_enqueue(&eid, f->s, "engineering", "http://x/e",
						     "effective_state", body),
			 0);
	assert_non_null(eid);
	assert_int_equal(sluice_store_outbox_newest_body(&newest, f->s, "engineering", "http://x/e",
							 "effective_state"),
			 0);
	assert_non_null(strstr(newest, eid));
	free(newest);
	assert_int_equal(sluice_store_outbox_newest_body(&newest, f->s, "engineering", "http://x/o",
							 "effective_state"),
			 0);
	assert_null(newest);
	free(eid);
	json_decref(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_slack),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test_setup_teardown(test_routed_from_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enqueue, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
