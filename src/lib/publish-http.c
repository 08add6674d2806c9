/* The http publisher: the effective document (docs/publishing.md) is
 * written to the outbox as an effective_state event for publish.url, and
 * delivered from there like every notification - signed with the key in
 * publish.secret_env, retried until the endpoint acknowledges it
 * (docs/notifications.md). Publishing itself only enqueues: a receiver
 * that is down does not fail the publish. */
#include <stdlib.h>
#include <string.h>

#include "sluice/error.h"
#include "sluice/publish.h"

/* The last document enqueued was built from the same state. */
static bool http_current(const sluice_publisher *p, const sluice_publish_ctx *c,
			 const char *signature)
{
	char *last = NULL;
	bool same;

	(void)p;
	/* a signature that cannot be read is not current: enqueue again */
	if (!c->enqueued || c->enqueued(c->enqueue_arg, c->publish_url, &last) < 0) {
		sluice_error_clear();
		return false;
	}
	same = last && strcmp(last, signature) == 0;
	free(last);
	return same;
}

static int http_publish(const sluice_publisher *p, const sluice_publish_ctx *c,
			const sluice_effective *eff)
{
	json_t *body;
	int rc;

	(void)p;
	if (!c->enqueue || !c->publish_url)
		return sluice_error_set(SLUICE_EINVAL,
					"internal: the http publisher needs publish.url and an outbox");
	body = json_pack("{s:s, s:s, s:O?, s:s, s:O, s:O?}", "kind", "effective_state",
			 "workspace", c->workspace, "at", json_object_get(eff->doc, "generated_at"),
			 "signature", eff->signature, "effective", eff->doc, "audit_head",
			 json_object_get(eff->doc, "audit_head"));
	if (!body)
		return sluice_error_set(SLUICE_ENOMEM, "cannot build the effective_state event");
	rc = c->enqueue(c->enqueue_arg, c->publish_url, "effective_state", body);
	json_decref(body);
	return rc;
}

const sluice_publisher sluice_publisher_http = {
	.type = "http",
	.current = http_current,
	.open_release = NULL,
	.load_cache = NULL,
	.publish = http_publish,
};
