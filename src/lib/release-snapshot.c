/* The deploy snapshot format: written when a release is recorded
 * (reconcile), read whenever the store rebuilds the planner's input. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sluice/release-snapshot.h"
#include "sluice/util.h"

char *sluice_release_snapshot_encode(const sluice_plugin *pl)
{
	const sluice_deploy *d = &pl->deploy;
	const sluice_manifest *m = &pl->manifest;
	json_t *root = json_object(), *stages = json_array(), *life = json_object();
	int64_t t;

	for (size_t i = 0; i < d->nstages; i++) {
		const sluice_stage *st = &d->stages[i];
		json_t *g = json_array();
		for (size_t k = 0; k < st->groups.count; k++)
			json_array_append_new(g, json_string(st->groups.items[k].s ? st->groups.items[k].s : ""));
		json_array_append_new(stages,
				      json_pack("{s:s, s:o, s:I, s:b}", "name",
						st->name.s ? st->name.s : "", "groups", g,
						"duration_days",
						(json_int_t)(st->duration_days.set ? st->duration_days.v : 0),
						"requires_approval",
						st->requires_approval.set && st->requires_approval.v));
	}
	json_object_set_new(root, "stages", stages);
	json_object_set_new(root, "controls",
			    json_pack("{s:b, s:b, s:b, s:s?}", "require_admin_approval",
				      d->require_admin_approval.set && d->require_admin_approval.v,
				      "allow_user_disable",
				      d->allow_user_disable.set && d->allow_user_disable.v,
				      "collect_feedback", d->collect_feedback.set && d->collect_feedback.v,
				      "audit_dashboard", d->audit_dashboard.s));
	json_object_set_new(root, "risk", json_integer((json_int_t)pl->risk));
	/* read by `sluice telemetry prune` (store-telemetry.c) */
	if (m->audit_retention_days.set)
		json_object_set_new(root, "audit_retention_days",
				    json_integer((json_int_t)m->audit_retention_days.v));
	if (m->lifecycle_review_every_days.set)
		json_object_set_new(life, "review_every_days",
				    json_integer((json_int_t)m->lifecycle_review_every_days.v));
	if (m->lifecycle_deprecated.s && sluice_time_parse(&t, m->lifecycle_deprecated.s) == 0)
		json_object_set_new(life, "deprecated_at", json_integer((json_int_t)t));
	if (m->lifecycle_sunset.s && sluice_time_parse(&t, m->lifecycle_sunset.s) == 0)
		json_object_set_new(life, "sunset_at", json_integer((json_int_t)t));
	json_object_set_new(root, "lifecycle", life);
	char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	return text;
}

/* The blocks *out owns when the decoder was given no keeper. */
typedef struct {
	void **ptrs;
	size_t n;
} owned;

typedef struct {
	sluice_release_snapshot *out;
	sluice_release_snapshot_keep keep;
	void *ctx;
} keeper;

static void *keep(keeper *k, void *ptr)
{
	if (k->keep)
		return k->keep(k->ctx, ptr);
	owned *o = k->out->priv;
	if (!o)
		o = k->out->priv = sluice_xcalloc(1, sizeof *o);
	o->ptrs = sluice_xrealloc(o->ptrs, (o->n + 1) * sizeof *o->ptrs);
	o->ptrs[o->n++] = ptr;
	return ptr;
}

static char *keep_str(keeper *k, const char *s)
{
	return keep(k, sluice_xstrdup(s ? s : ""));
}

static int64_t int_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

void sluice_release_snapshot_decode(sluice_release_snapshot *out, const char *text,
				    sluice_release_snapshot_keep keep_fn, void *ctx)
{
	keeper k = {out, keep_fn, ctx};
	json_t *root = text ? json_loads(text, 0, NULL) : NULL;
	json_t *stages, *controls, *life;
	size_t n;

	memset(out, 0, sizeof *out);
	if (!json_is_object(root))
		goto done;
	stages = json_object_get(root, "stages");
	n = json_is_array(stages) ? json_array_size(stages) : 0;
	if (n) {
		sluice_rollout_stage *st = keep(&k, sluice_xcalloc(n, sizeof *st));
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_array_get(stages, i), *groups = json_object_get(o, "groups");
			size_t ng = json_is_array(groups) ? json_array_size(groups) : 0;
			const char **g = ng ? keep(&k, sluice_xcalloc(ng, sizeof *g)) : NULL;
			st[i].name = keep_str(&k, json_string_value(json_object_get(o, "name")));
			for (size_t j = 0; j < ng; j++)
				g[j] = keep_str(&k, json_string_value(json_array_get(groups, j)));
			st[i].groups = g;
			st[i].ngroups = ng;
			st[i].duration_days = int_at(o, "duration_days");
			st[i].requires_approval = json_is_true(json_object_get(o, "requires_approval"));
		}
		out->stages = st;
		out->nstages = n;
	}
	controls = json_object_get(root, "controls");
	out->require_admin_approval = json_is_true(json_object_get(controls, "require_admin_approval"));
	out->allow_user_disable = json_is_true(json_object_get(controls, "allow_user_disable"));
	out->collect_feedback = json_is_true(json_object_get(controls, "collect_feedback"));
	if (json_is_string(json_object_get(controls, "audit_dashboard")))
		out->audit_dashboard =
			keep_str(&k, json_string_value(json_object_get(controls, "audit_dashboard")));
	out->risk = (int)int_at(root, "risk");
	if (json_is_object(life = json_object_get(root, "lifecycle"))) {
		out->has_lifecycle = true;
		out->review_every_days = int_at(life, "review_every_days");
		out->deprecated_at = int_at(life, "deprecated_at");
		out->sunset_at = int_at(life, "sunset_at");
	}
done:
	json_decref(root);
}

void sluice_release_snapshot_clear(sluice_release_snapshot *s)
{
	if (!s)
		return;
	owned *o = s->priv;
	if (o) {
		for (size_t i = o->n; i-- > 0;)
			free(o->ptrs[i]);
		free(o->ptrs);
		free(o);
	}
	memset(s, 0, sizeof *s);
}
