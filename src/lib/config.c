/* Loaders for the workspace definition, rollout policies and plugin
 * releases: documents in, typed structures (with positions) out. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/util.h"

const char *const sluice_checklist_items[] = {
	"validate-manifest", "contract-tests",       "guidance-evaluations",
	"permission-review", "security-review",      "deploy-service",
	"register-plugin",   "start-staged-rollout", "monitor-telemetry",
	NULL,
};

const char *sluice_risk_name(sluice_risk r)
{
	static const char *const names[] = {"low", "moderate", "high"};
	return r <= SLUICE_RISK_HIGH ? names[r] : "unknown";
}

bool sluice_id_unprintable(const char *id)
{
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return true;
	return false;
}

const char *sluice_id_problem(const char *id)
{
	size_t n = strlen(id);
	bool upper = false, space = false, other = false;

	if (n == 0)
		return "is empty";
	if (sluice_id_unprintable(id))
		return "holds a control character";
	for (const char *p = id; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			upper = true;
		else if (*p == ' ' || *p == '\t')
			space = true;
		else if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
			 !strchr("._-", *p))
			other = true;
	}
	if (upper)
		return "has an uppercase letter";
	if (space)
		return "has a space";
	if (other)
		return "has a character other than a-z, 0-9, '.', '_' and '-'";
	if (!(id[0] >= 'a' && id[0] <= 'z') && !(id[0] >= '0' && id[0] <= '9'))
		return "does not start with a lowercase letter or a digit";
	if (n > 63)
		return "is longer than 63 characters";
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Parses bytes as YAML or JSON by the file name; reports an empty file. */
static int parse_doc(sluice_doc **out, const char *file, const char *data, size_t len,
		     size_t max_bytes, sluice_diags *d)
{
	sluice_doc_limits lim = {max_bytes, 0, 0};
	int rc = ends_with(file, ".json")
			 ? sluice_doc_parse_json(out, file, data, len, &lim, d)
			 : sluice_doc_parse_yaml(out, file, data, len, &lim, d);
	if (rc == 0 && !(*out)->root) {
		sluice_pos pos = {(*out)->file, 1, 1};
		sluice_diag_error(d, pos, "empty-file", "file is empty; it must hold a mapping");
		return SLUICE_EINVAL;
	}
	if (rc == 0 && (*out)->root->kind != SLUICE_NODE_MAP) {
		sluice_diag_error(d, (*out)->root->pos, "wrong-type",
				  "the top level must be a mapping of keys, not %s",
				  sluice_node_kind_name((*out)->root->kind));
		return SLUICE_EINVAL;
	}
	return rc;
}

/* Reads and parses a file from the filesystem; problems go to diags. */
int sluice_config_load_file_doc(sluice_doc **out, const char *path, size_t max_bytes,
				sluice_diags *d)
{
	char *data = NULL;
	size_t len = 0;
	sluice_pos pos = {path, 0, 0};
	int rc;

	*out = NULL;
	rc = sluice_file_read(&data, &len, path, max_bytes ? max_bytes : SLUICE_DOC_DEFAULT_MAX_BYTES);
	if (rc == SLUICE_ELIMIT) {
		sluice_diag_error(d, pos, "limit",
				  "file is larger than the limit of %zu bytes; raise "
				  "policy.max_file_bytes if it really must be this big",
				  max_bytes ? max_bytes : (size_t)SLUICE_DOC_DEFAULT_MAX_BYTES);
		return rc;
	}
	if (rc < 0) {
		sluice_diag_error(d, pos, rc == SLUICE_ENOTFOUND ? "missing-file" : "io",
				  "%s", rc == SLUICE_ENOTFOUND ? "file does not exist" : sluice_error_last());
		return rc;
	}
	rc = parse_doc(out, path, data, len, max_bytes, d);
	free(data);
	return rc;
}

/* ---- permissions --------------------------------------------------------- */

static const char *const k_perm_top[] = {"repository", "pull_requests", "ci", "secrets", NULL};
static const char *const k_perm_repo[] = {"read", "write", NULL};
static const char *const k_perm_pr[] = {"read", "comment", "approve", "merge", NULL};
static const char *const k_perm_ci[] = {"run_safe_commands", "run_arbitrary_commands", NULL};
static const char *const k_perm_secrets[] = {"read", "write", NULL};

void sluice_config_load_permissions(sluice_schema *s, sluice_permissions *p,
				    const sluice_node *n, const char *path)
{
	char sub[128];
	const sluice_node *x;
	unsigned mk = SLUICE_KIND(SLUICE_NODE_MAP);

	memset(p, 0, sizeof *p);
	if (!n)
		return;
	sluice_schema_keys(s, n, path, k_perm_top);
	snprintf(sub, sizeof sub, "%s.repository", path);
	if ((x = sluice_schema_get(s, n, path, "repository", mk, "a mapping", false))) {
		sluice_schema_keys(s, x, sub, k_perm_repo);
		sluice_schema_bool(s, &p->repo_read, x, sub, "read", false);
		sluice_schema_bool(s, &p->repo_write, x, sub, "write", false);
	}
	snprintf(sub, sizeof sub, "%s.pull_requests", path);
	if ((x = sluice_schema_get(s, n, path, "pull_requests", mk, "a mapping", false))) {
		const sluice_node *c;
		sluice_schema_keys(s, x, sub, k_perm_pr);
		sluice_schema_bool(s, &p->pr_read, x, sub, "read", false);
		sluice_schema_bool(s, &p->pr_approve, x, sub, "approve", false);
		sluice_schema_bool(s, &p->pr_merge, x, sub, "merge", false);
		c = sluice_schema_get(s, x, sub, "comment",
				      SLUICE_KIND(SLUICE_NODE_BOOL) | SLUICE_KIND(SLUICE_NODE_STRING),
				      "false, draft_only or true", false);
		if (c) {
			p->pr_comment.pos = c->pos;
			if (c->kind == SLUICE_NODE_BOOL) {
				p->pr_comment.set = true;
				p->pr_comment.v = c->v.b ? SLUICE_COMMENT_YES : SLUICE_COMMENT_NO;
			} else if (strcmp(c->text, "draft_only") == 0) {
				p->pr_comment.set = true;
				p->pr_comment.v = SLUICE_COMMENT_DRAFT;
			} else
				sluice_diag_error(s->d, c->pos, "invalid-value",
						  "'%s.comment' must be false, draft_only or true", sub);
		}
	}
	snprintf(sub, sizeof sub, "%s.ci", path);
	if ((x = sluice_schema_get(s, n, path, "ci", mk, "a mapping", false))) {
		sluice_schema_keys(s, x, sub, k_perm_ci);
		sluice_schema_bool(s, &p->ci_safe, x, sub, "run_safe_commands", false);
		sluice_schema_bool(s, &p->ci_arbitrary, x, sub, "run_arbitrary_commands", false);
	}
	snprintf(sub, sizeof sub, "%s.secrets", path);
	if ((x = sluice_schema_get(s, n, path, "secrets", mk, "a mapping", false))) {
		sluice_schema_keys(s, x, sub, k_perm_secrets);
		sluice_schema_bool(s, &p->secrets_read, x, sub, "read", false);
		sluice_schema_bool(s, &p->secrets_write, x, sub, "write", false);
	}
}

sluice_risk sluice_permissions_risk(const sluice_permissions *p)
{
	if (p->repo_write.v || p->pr_approve.v || p->pr_merge.v || p->ci_arbitrary.v ||
	    p->secrets_read.v || p->secrets_write.v)
		return SLUICE_RISK_HIGH;
	if (p->pr_comment.v != SLUICE_COMMENT_NO || p->ci_safe.v)
		return SLUICE_RISK_MODERATE;
	return SLUICE_RISK_LOW;
}

/* A version: a string, but `version: 0.1` or `version: 1` reads as a YAML
 * number, and "must be a string, not a number" would not tell the user
 * what is wrong with it. Keep the text as written; the semver check then
 * says why it is not a version. */
static void version_str(sluice_schema *s, sluice_str *out, const sluice_node *map,
			const char *path, const char *key)
{
	const sluice_node *v = sluice_node_get(map, key);
	if (v && (v->kind == SLUICE_NODE_INT || v->kind == SLUICE_NODE_FLOAT)) {
		out->s = v->text;
		out->pos = v->pos;
		return;
	}
	sluice_schema_str(s, out, map, path, key, true);
}

/* ---- the manifest -------------------------------------------------------- */

static const char *const k_manifest[] = {
	"id",	     "name",	     "version",	    "description", "publisher", "runtime",
	"guidance", "tools",	     "permissions", "availability", "audit",	 "lifecycle",
	NULL,
};
static const char *const k_publisher[] = {"organization", "owner_group", "support_contact", NULL};
static const char *const k_runtime[] = {"type", "base_url_env", "timeout_ms", "mcp_path", NULL};
static const char *const k_runtime_types[] = {"http", NULL};
static const char *const k_guidance[] = {"role", "workflow", "output_format", "escalation", NULL};
static const char *const k_mtool[] = {"id", "definition", "endpoint", NULL};
static const char *const k_availability[] = {"workspace", "groups", NULL};
static const char *const k_audit[] = {"log_tool_calls", "log_inputs", "log_outputs",
				      "retention_days", NULL};
static const char *const k_log_inputs[] = {"none", "metadata_only", "full", NULL};
static const char *const k_log_outputs[] = {"none", "structured_summary", "full", NULL};
static const char *const k_lifecycle[] = {"owner", "review_every_days", "deprecated", "sunset",
					  NULL};

static void load_manifest(sluice_schema *s, sluice_manifest *m, const sluice_node *root)
{
	const char *top = "the manifest";
	const sluice_node *x;
	unsigned mk = SLUICE_KIND(SLUICE_NODE_MAP);

	memset(m, 0, sizeof *m);
	sluice_schema_keys(s, root, top, k_manifest);
	sluice_schema_str(s, &m->id, root, top, "id", true);
	sluice_schema_str(s, &m->name, root, top, "name", true);
	version_str(s, &m->version, root, top, "version");
	sluice_schema_str(s, &m->description, root, top, "description", false);
	if ((x = sluice_schema_get(s, root, top, "publisher", mk, "a mapping", true))) {
		sluice_schema_keys(s, x, "publisher", k_publisher);
		sluice_schema_str(s, &m->pub_organization, x, "publisher", "organization", false);
		sluice_schema_str(s, &m->pub_owner_group, x, "publisher", "owner_group", false);
		sluice_schema_str(s, &m->pub_support_contact, x, "publisher", "support_contact",
				  false);
	}
	if ((x = sluice_schema_get(s, root, top, "runtime", mk, "a mapping", true))) {
		sluice_schema_keys(s, x, "runtime", k_runtime);
		sluice_schema_enum(s, &m->runtime_type, x, "runtime", "type", true, k_runtime_types);
		sluice_schema_str(s, &m->runtime_base_url_env, x, "runtime", "base_url_env", true);
		sluice_schema_int(s, &m->runtime_timeout_ms, x, "runtime", "timeout_ms", false);
		if (m->runtime_timeout_ms.set &&
		    (m->runtime_timeout_ms.v <= 0 || m->runtime_timeout_ms.v > 600000))
			sluice_diag_error(s->d, m->runtime_timeout_ms.pos, "invalid-value",
					  "'runtime.timeout_ms' must be between 1 and 600000");
		sluice_schema_str(s, &m->runtime_mcp_path, x, "runtime", "mcp_path", false);
		/* appended to the service's URL in Codex's files (docs/publishing.md) */
		if (m->runtime_mcp_path.s &&
		    (m->runtime_mcp_path.s[0] != '/' || strpbrk(m->runtime_mcp_path.s, " \t\r\n?#")))
			sluice_diag_error(s->d, m->runtime_mcp_path.pos, "invalid-value",
					  "'runtime.mcp_path' must be a URL path starting with '/', "
					  "without spaces, '?' or '#'");
	}
	if ((x = sluice_schema_get(s, root, top, "guidance", mk, "a mapping", true))) {
		sluice_schema_keys(s, x, "guidance", k_guidance);
		sluice_schema_str(s, &m->guidance_role, x, "guidance", "role", true);
		sluice_schema_str(s, &m->guidance_workflow, x, "guidance", "workflow", true);
		sluice_schema_str(s, &m->guidance_output_format, x, "guidance", "output_format",
				  true);
		sluice_schema_str(s, &m->guidance_escalation, x, "guidance", "escalation", true);
	}
	if ((x = sluice_schema_get(s, root, top, "tools", SLUICE_KIND(SLUICE_NODE_SEQ),
				   "a list", true))) {
		if (x->count == 0)
			sluice_diag_error(s->d, x->pos, "empty-list",
					  "'tools' must not be an empty list");
		m->tools = sluice_xcalloc(x->count, sizeof *m->tools);
		for (size_t i = 0; i < x->count; i++) {
			const sluice_node *t = x->items[i];
			char path[64];
			snprintf(path, sizeof path, "tools[%zu]", i);
			if (t->kind != SLUICE_NODE_MAP) {
				sluice_diag_error(s->d, t->pos, "wrong-type",
						  "'%s' must be a mapping, not %s", path,
						  sluice_node_kind_name(t->kind));
				continue;
			}
			sluice_manifest_tool *mt = &m->tools[m->ntools++];
			sluice_schema_keys(s, t, path, k_mtool);
			sluice_schema_str(s, &mt->id, t, path, "id", true);
			sluice_schema_str(s, &mt->definition, t, path, "definition", true);
			sluice_schema_str(s, &mt->endpoint, t, path, "endpoint", true);
		}
	}
	sluice_config_load_permissions(s, &m->permissions,
			 sluice_schema_get(s, root, top, "permissions", mk, "a mapping", true),
			 "permissions");
	if ((x = sluice_schema_get(s, root, top, "availability", mk, "a mapping", true))) {
		sluice_schema_keys(s, x, "availability", k_availability);
		sluice_schema_str(s, &m->availability_workspace, x, "availability", "workspace",
				  true);
		sluice_schema_strs(s, &m->availability_groups, x, "availability", "groups", true,
				   true);
	}
	if ((x = sluice_schema_get(s, root, top, "audit", mk, "a mapping", true))) {
		sluice_schema_keys(s, x, "audit", k_audit);
		sluice_schema_bool(s, &m->audit_log_tool_calls, x, "audit", "log_tool_calls", false);
		sluice_schema_enum(s, &m->audit_log_inputs, x, "audit", "log_inputs", false,
				   k_log_inputs);
		sluice_schema_enum(s, &m->audit_log_outputs, x, "audit", "log_outputs", false,
				   k_log_outputs);
		sluice_schema_int(s, &m->audit_retention_days, x, "audit", "retention_days", false);
		if (m->audit_retention_days.set && m->audit_retention_days.v <= 0)
			sluice_diag_error(s->d, m->audit_retention_days.pos, "invalid-value",
					  "'audit.retention_days' must be a positive number of days");
	}
	if ((x = sluice_schema_get(s, root, top, "lifecycle", mk, "a mapping", false))) {
		m->has_lifecycle = true;
		sluice_schema_keys(s, x, "lifecycle", k_lifecycle);
		sluice_schema_str(s, &m->lifecycle_owner, x, "lifecycle", "owner", false);
		sluice_schema_int(s, &m->lifecycle_review_every_days, x, "lifecycle",
				  "review_every_days", false);
		sluice_schema_str(s, &m->lifecycle_deprecated, x, "lifecycle", "deprecated", false);
		sluice_schema_str(s, &m->lifecycle_sunset, x, "lifecycle", "sunset", false);
	}
}

/* ---- the deploy file ----------------------------------------------------- */

static const char *const k_deploy[] = {"plugin", "environment", "secrets", "rollout", "controls",
				       NULL};
static const char *const k_dplugin[] = {"id", "version", "source", NULL};
static const char *const k_source[] = {"type", "repository", "ref", NULL};
static const char *const k_source_types[] = {"git", NULL};
static const char *const k_secret[] = {"provider", "name", NULL};
static const char *const k_rollout[] = {"strategy", "stages", NULL};
static const char *const k_strategies[] = {"staged", NULL};
static const char *const k_stage[] = {"name", "groups", "duration_days", "requires_approval",
				      NULL};
static const char *const k_controls[] = {"require_admin_approval", "allow_user_disable",
					 "collect_feedback", "audit_dashboard", NULL};

static void load_deploy(sluice_schema *s, sluice_deploy *dp, const sluice_node *root)
{
	const char *top = "the deploy file";
	const sluice_node *x, *y;
	unsigned mk = SLUICE_KIND(SLUICE_NODE_MAP);

	memset(dp, 0, sizeof *dp);
	sluice_schema_keys(s, root, top, k_deploy);
	if ((x = sluice_schema_get(s, root, top, "plugin", mk, "a mapping", true))) {
		sluice_schema_keys(s, x, "plugin", k_dplugin);
		sluice_schema_str(s, &dp->plugin_id, x, "plugin", "id", true);
		version_str(s, &dp->plugin_version, x, "plugin", "version");
		if ((y = sluice_schema_get(s, x, "plugin", "source", mk, "a mapping", true))) {
			sluice_schema_keys(s, y, "plugin.source", k_source);
			sluice_schema_enum(s, &dp->source_type, y, "plugin.source", "type", true,
					   k_source_types);
			sluice_schema_str(s, &dp->source_repository, y, "plugin.source",
					  "repository", true);
			sluice_schema_str(s, &dp->source_ref, y, "plugin.source", "ref", true);
		}
	}
	sluice_schema_kvs(s, &dp->environment, root, "", "environment");
	if ((x = sluice_schema_get(s, root, top, "secrets", mk, "a mapping", false))) {
		dp->secrets = sluice_xcalloc(x->count, sizeof *dp->secrets);
		for (size_t i = 0; i < x->count; i++) {
			const sluice_node_pair *p = &x->pairs[i];
			char path[160];
			snprintf(path, sizeof path, "secrets.%s", p->key);
			if (p->value->kind != SLUICE_NODE_MAP) {
				/* never echo the value: it may be the secret itself */
				sluice_diag_error(s->d, p->value->pos, "wrong-type",
						  "'%s' must be a mapping {provider, name}, not %s; "
						  "secret values never go in the deploy file",
						  path, sluice_node_kind_name(p->value->kind));
				continue;
			}
			sluice_secret_ref *r = &dp->secrets[dp->nsecrets++];
			r->var.s = p->key;
			r->var.pos = p->key_pos;
			sluice_schema_keys(s, p->value, path, k_secret);
			sluice_schema_str(s, &r->provider, p->value, path, "provider", true);
			sluice_schema_str(s, &r->name, p->value, path, "name", true);
		}
	}
	if ((x = sluice_schema_get(s, root, top, "rollout", mk, "a mapping", true))) {
		sluice_schema_keys(s, x, "rollout", k_rollout);
		sluice_schema_enum(s, &dp->strategy, x, "rollout", "strategy", true, k_strategies);
		if ((y = sluice_schema_get(s, x, "rollout", "stages", SLUICE_KIND(SLUICE_NODE_SEQ),
					   "a list of stages", true))) {
			if (y->count == 0)
				sluice_diag_error(s->d, y->pos, "empty-list",
						  "'rollout.stages' must not be an empty list");
			dp->stages = sluice_xcalloc(y->count, sizeof *dp->stages);
			for (size_t i = 0; i < y->count; i++) {
				const sluice_node *st = y->items[i];
				char path[64];
				snprintf(path, sizeof path, "rollout.stages[%zu]", i);
				if (st->kind != SLUICE_NODE_MAP) {
					sluice_diag_error(s->d, st->pos, "wrong-type",
							  "'%s' must be a mapping, not %s", path,
							  sluice_node_kind_name(st->kind));
					continue;
				}
				sluice_stage *sg = &dp->stages[dp->nstages++];
				sg->pos = st->pos;
				sluice_schema_keys(s, st, path, k_stage);
				sluice_schema_str(s, &sg->name, st, path, "name", true);
				sluice_schema_strs(s, &sg->groups, st, path, "groups", true, true);
				sluice_schema_int(s, &sg->duration_days, st, path, "duration_days",
						  false);
				sluice_schema_bool(s, &sg->requires_approval, st, path,
						   "requires_approval", false);
			}
		}
	}
	if ((x = sluice_schema_get(s, root, top, "controls", mk, "a mapping", false))) {
		sluice_schema_keys(s, x, "controls", k_controls);
		sluice_schema_bool(s, &dp->require_admin_approval, x, "controls",
				   "require_admin_approval", false);
		sluice_schema_bool(s, &dp->allow_user_disable, x, "controls", "allow_user_disable",
				   false);
		sluice_schema_bool(s, &dp->collect_feedback, x, "controls", "collect_feedback",
				   false);
		sluice_schema_str(s, &dp->audit_dashboard, x, "controls", "audit_dashboard", false);
	}
}

/* ---- tool contracts ------------------------------------------------------ */

static const char *const k_tool[] = {"id",	     "name",	      "description",
				     "input_schema", "output_schema", "safety", NULL};

static void load_tool(sluice_schema *s, sluice_tool *t)
{
	const char *top = "the tool contract";
	const sluice_node *root = t->doc->root;
	unsigned mk = SLUICE_KIND(SLUICE_NODE_MAP);

	sluice_schema_keys(s, root, top, k_tool);
	sluice_schema_str(s, &t->id, root, top, "id", true);
	sluice_schema_str(s, &t->name, root, top, "name", true);
	sluice_schema_str(s, &t->description, root, top, "description", true);
	t->input_schema = sluice_schema_get(s, root, top, "input_schema", mk, "a JSON Schema object",
					    true);
	t->output_schema = sluice_schema_get(s, root, top, "output_schema", mk,
					     "a JSON Schema object", true);
	t->safety = sluice_schema_get(s, root, top, "safety", mk, "an object", true);
}

/* ---- the plugin ---------------------------------------------------------- */

#define MANIFEST_PATH "plugin.yaml"
#define DEPLOY_PATH "deploy/workspace-config.yaml"

/* Reports why `path` could not be read from the plugin tree: at the
 * manifest value naming it when `named`, else at the file itself. */
static void report_read_failure(sluice_diags *d, sluice_pos pos, const char *path, bool named,
				int rc, size_t max)
{
	if (rc == SLUICE_ENOTFOUND)
		sluice_diag_error(d, pos, "missing-file", "%s '%s' does not exist%s",
				  named ? "file" : "required file", path,
				  named ? " in the plugin" : "; every plugin needs one");
	else if (rc == SLUICE_ELIMIT)
		sluice_diag_error(d, pos, "limit",
				  "%s%s%sis larger than the limit of %zu bytes; raise "
				  "policy.max_file_bytes if it really must be this big",
				  named ? "'" : "", named ? path : "", named ? "' " : "file ", max);
	else
		sluice_diag_error(d, pos, "unsafe-path", "%s", sluice_error_last());
}

/* Reads and parses `path` from the tree. A missing or refused file is
 * reported at `ref` (the manifest value naming it) when given. */
static int tree_doc(sluice_doc **out, sluice_tree *tree, const char *path, size_t max,
		    const sluice_str *ref, sluice_diags *d)
{
	char *data = NULL, *label = sluice_path_join(tree->label, path);
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = sluice_tree_read(tree, &data, &len, path, max);
	if (rc < 0) {
		sluice_pos pos = ref ? ref->pos : (sluice_pos){label, 0, 0};
		report_read_failure(d, pos, path, ref != NULL, rc, max);
		goto done;
	}
	rc = parse_doc(out, label, data, len, max, d);
done:
	free(data);
	free(label);
	return rc;
}

int sluice_plugin_load(sluice_plugin **out, sluice_tree *tree, size_t max_bytes,
		       sluice_diags *diags)
{
	sluice_plugin *p = sluice_xcalloc(1, sizeof *p);
	sluice_schema s = {.d = diags};
	int rc = 0;

	if (!max_bytes)
		max_bytes = SLUICE_DOC_DEFAULT_MAX_BYTES;
	*out = p;
	if (tree_doc(&p->manifest_doc, tree, MANIFEST_PATH, max_bytes, NULL, diags) == 0)
		load_manifest(&s, &p->manifest, p->manifest_doc->root);
	else
		rc = SLUICE_EINVAL;
	if (tree_doc(&p->deploy_doc, tree, DEPLOY_PATH, max_bytes, NULL, diags) == 0)
		load_deploy(&s, &p->deploy, p->deploy_doc->root);
	else
		rc = SLUICE_EINVAL;
	p->risk = sluice_permissions_risk(&p->manifest.permissions);

	/* tool contracts named by the manifest */
	p->tools = sluice_xcalloc(p->manifest.ntools ? p->manifest.ntools : 1, sizeof *p->tools);
	for (size_t i = 0; i < p->manifest.ntools; i++) {
		const sluice_str *def = &p->manifest.tools[i].definition;
		const char *why;
		if (!def->s)
			continue;
		if ((why = sluice_path_problem(def->s))) {
			sluice_diag_error(diags, def->pos, "unsafe-path", "'tools[%zu].definition' %s",
					  i, why);
			continue;
		}
		sluice_tool *t = &p->tools[p->ntools];
		if (tree_doc(&t->doc, tree, def->s, max_bytes, def, diags) != 0) {
			sluice_doc_free(t->doc);
			t->doc = NULL;
			continue;
		}
		t->path = sluice_xstrdup(def->s);
		load_tool(&s, t);
		p->ntools++;
	}

	/* guidance documents: they must exist and be text */
	const sluice_str *g[] = {&p->manifest.guidance_role, &p->manifest.guidance_workflow,
				 &p->manifest.guidance_output_format,
				 &p->manifest.guidance_escalation};
	static const char *const gkeys[] = {"role", "workflow", "output_format", "escalation"};
	p->guidance_paths = sluice_xcalloc(5, sizeof(char *));
	p->guidance_files = sluice_xcalloc(5, sizeof(char *));
	p->guidance_texts = sluice_xcalloc(5, sizeof(char *));
	p->guidance_lens = sluice_xcalloc(5, sizeof(size_t));
	for (size_t i = 0; i < 4; i++) {
		char *data = NULL;
		size_t len = 0, bad = 0;
		const char *why;
		if (!g[i]->s)
			continue;
		if ((why = sluice_path_problem(g[i]->s))) {
			sluice_diag_error(diags, g[i]->pos, "unsafe-path", "'guidance.%s' %s",
					  gkeys[i], why);
			continue;
		}
		int r = sluice_tree_read(tree, &data, &len, g[i]->s, max_bytes);
		if (r < 0)
			report_read_failure(diags, g[i]->pos, g[i]->s, true, r, max_bytes);
		else if (len == 0)
			sluice_diag_warning(diags, g[i]->pos, "empty-file",
					    "guidance file '%s' is empty", g[i]->s);
		else if (memchr(data, '\0', len) || !sluice_utf8_valid(data, len, &bad))
			sluice_diag_error(diags, g[i]->pos, "invalid-text",
					  "guidance file '%s' is not UTF-8 text", g[i]->s);
		else {
			p->guidance_paths[p->nguidance] = sluice_xstrdup(g[i]->s);
			p->guidance_files[p->nguidance] = sluice_path_join(tree->label, g[i]->s);
			p->guidance_texts[p->nguidance] = data;
			p->guidance_lens[p->nguidance++] = len;
			data = NULL;
		}
		free(data);
	}
	return rc;
}

void sluice_plugin_free(sluice_plugin *p)
{
	if (!p)
		return;
	free(p->manifest.tools);
	free(p->manifest.availability_groups.items);
	free(p->deploy.environment.items);
	free(p->deploy.secrets);
	for (size_t i = 0; i < p->deploy.nstages; i++)
		free(p->deploy.stages[i].groups.items);
	free(p->deploy.stages);
	for (size_t i = 0; i < p->ntools; i++) {
		free(p->tools[i].path);
		sluice_doc_free(p->tools[i].doc);
	}
	free(p->tools);
	for (size_t i = 0; i < p->nguidance; i++) {
		free(p->guidance_paths[i]);
		free(p->guidance_files[i]);
		free(p->guidance_texts[i]);
	}
	free(p->guidance_paths);
	free(p->guidance_files);
	free(p->guidance_texts);
	free(p->guidance_lens);
	sluice_doc_free(p->manifest_doc);
	sluice_doc_free(p->deploy_doc);
	free(p);
}
