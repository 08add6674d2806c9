/* The configuration model: a plugin release (manifest, tool contracts,
 * guidance, deploy file), the workspace definition and rollout policies,
 * loaded into typed structures that keep the position of every value. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/diag.h"
#include "sluice/doc.h"
#include "sluice/tree.h"

/* A string value and where it was written. */
typedef struct {
	const char *s; /* NULL when absent; borrowed from the document */
	sluice_pos pos;
} sluice_str;

typedef struct {
	bool set;
	bool v;
	sluice_pos pos;
} sluice_bool;

typedef struct {
	bool set;
	int64_t v;
	sluice_pos pos;
} sluice_int;

typedef struct {
	sluice_str *items;
	size_t count;
	sluice_pos pos;
} sluice_strs;

/* name: value pairs (environment, secrets...). */
typedef struct {
	sluice_str key;
	sluice_str value;
} sluice_kv;

typedef struct {
	sluice_kv *items;
	size_t count;
	sluice_pos pos;
} sluice_kvs;

/* ---- the plugin ------------------------------------------------------ */

typedef enum { SLUICE_RISK_LOW = 0, SLUICE_RISK_MODERATE, SLUICE_RISK_HIGH } sluice_risk;
const char *sluice_risk_name(sluice_risk r);

/* pull_requests.comment: false | draft_only | true */
typedef enum { SLUICE_COMMENT_NO = 0, SLUICE_COMMENT_DRAFT, SLUICE_COMMENT_YES } sluice_comment;

typedef struct {
	sluice_bool repo_read, repo_write;
	sluice_bool pr_read, pr_approve, pr_merge;
	struct { bool set; sluice_comment v; sluice_pos pos; } pr_comment;
	sluice_bool ci_safe, ci_arbitrary;
	sluice_bool secrets_read, secrets_write;
} sluice_permissions;

typedef struct {
	sluice_str id, definition, endpoint;
} sluice_manifest_tool;

typedef struct {
	sluice_str id, name, version, description;
	sluice_str pub_organization, pub_owner_group, pub_support_contact;
	sluice_str runtime_type, runtime_base_url_env, runtime_mcp_path;
	sluice_int runtime_timeout_ms;
	sluice_str guidance_role, guidance_workflow, guidance_output_format,
		guidance_escalation;
	sluice_manifest_tool *tools;
	size_t ntools;
	sluice_permissions permissions;
	sluice_str availability_workspace;
	sluice_strs availability_groups;
	sluice_bool audit_log_tool_calls;
	sluice_str audit_log_inputs, audit_log_outputs;
	sluice_int audit_retention_days;
	sluice_str lifecycle_owner, lifecycle_deprecated, lifecycle_sunset;
	sluice_int lifecycle_review_every_days;
	bool has_lifecycle;
} sluice_manifest;

typedef struct {
	sluice_str name;
	sluice_strs groups;
	sluice_int duration_days; /* unset: no soak */
	sluice_bool requires_approval;
	sluice_pos pos;
} sluice_stage;

typedef struct {
	sluice_str provider, name;
	sluice_str var; /* the environment variable it is bound to */
} sluice_secret_ref;

typedef struct {
	sluice_str plugin_id, plugin_version;
	sluice_str source_type, source_repository, source_ref;
	sluice_kvs environment;
	sluice_secret_ref *secrets;
	size_t nsecrets;
	sluice_str strategy;
	sluice_stage *stages;
	size_t nstages;
	sluice_bool require_admin_approval, allow_user_disable, collect_feedback;
	sluice_str audit_dashboard;
} sluice_deploy;

/* A tool contract (a tools/ JSON file). The schemas stay as document nodes. */
typedef struct {
	char *path; /* as named by the manifest */
	sluice_doc *doc;
	sluice_str id, name, description;
	const sluice_node *input_schema, *output_schema, *safety;
} sluice_tool;

/* A whole plugin release read from a tree (directory or tagged commit). */
typedef struct {
	sluice_doc *manifest_doc, *deploy_doc;
	sluice_manifest manifest;
	sluice_deploy deploy;
	sluice_tool *tools;
	size_t ntools;
	sluice_risk risk;
	/* guidance files that were found and are text: their paths (as the
	 * manifest names them), the names diagnostics use, and their contents
	 * (validation looks for secrets in them) */
	char **guidance_paths;
	char **guidance_files;
	char **guidance_texts;
	size_t *guidance_lens;
	size_t nguidance;
} sluice_plugin;

/* ---- the workspace ----------------------------------------------------- */

typedef struct {
	sluice_str name;
	sluice_strs members;
	sluice_str members_file;
} sluice_group;

enum {
	SLUICE_ROLE_APPROVER = 1,
	SLUICE_ROLE_OPERATOR = 2,
	SLUICE_ROLE_AUDITOR = 4,
	SLUICE_ROLE_CI = 8,
};

typedef struct {
	sluice_str id;
	unsigned roles; /* SLUICE_ROLE_* bits */
	sluice_strs emails;
	sluice_strs ssh_keys;
	sluice_pos pos;
} sluice_admin;

typedef struct {
	sluice_str repository; /* owner/name */
	sluice_str url;        /* explicit URL; overrides the template */
	sluice_str versions;   /* semver range */
	sluice_kvs environment;
	sluice_str credentials_env, credentials_file;
	sluice_pos pos;
} sluice_ws_plugin;

/* A secret provider (docs/secrets.md). Durations are in seconds and hold
 * their defaults when not given. */
typedef struct {
	sluice_str name, type;
	const sluice_node *node; /* the provider's settings */
	sluice_strs allowed_prefixes;
	sluice_str dir;                   /* file */
	sluice_strs command;              /* exec: argv */
	sluice_str address, mount, namespace_, token_env, token_file, ca_bundle; /* vault-kv2 */
	int64_t max_age_days;             /* 0: no age warning */
	int64_t check_every;              /* a present secret is re-checked after this */
	int64_t timeout_ms;               /* exec: the helper; vault-kv2: a whole request */
} sluice_secret_provider;

typedef struct {
	int64_t from, to; /* seconds since the epoch */
	sluice_str reason;
	sluice_pos pos;
} sluice_freeze_window;

typedef struct {
	sluice_str url, secret_env;
	sluice_str format; /* json (default) | slack (docs/notifications.md) */
	sluice_strs events;
	sluice_pos pos;
} sluice_notification;

/* One publisher: the `publish` mapping, or one entry of the `publish` list
 * (docs/configuration.md). Each entry has its own settings, so a type
 * that needs more (http's url and secret_env) is one more entry. */
typedef struct {
	sluice_str type;       /* directory | http | codex */
	sluice_str path;       /* where a directory or codex publisher writes */
	sluice_str url, secret_env;
	/* mode: an octal string such as "0640"; mode_bits is its value, 0
	 * when unset (published files are then 0644) */
	sluice_str mode;
	unsigned mode_bits;
	/* how messages name it: "publish" for the mapping, "publish[1]" for
	 * an entry of the list */
	char name[32];
	sluice_pos pos;
} sluice_publish_conf;

typedef struct {
	sluice_doc *doc;
	char *path;
	sluice_str name;
	sluice_group *groups;
	size_t ngroups;
	sluice_admin *admins;
	size_t nadmins;
	sluice_str url_template, ca_bundle;
	/* repositories.max_fetch_bytes: unset means the default,
	 * SLUICE_FETCH_MAX_BYTES_DEFAULT (source.h) */
	sluice_int max_fetch_bytes;
	/* repositories.max_concurrent: remotes compared or fetched at once;
	 * unset means SLUICE_FETCH_CONCURRENT_DEFAULT (watched.h) */
	sluice_int max_concurrent;
	sluice_ws_plugin *plugins;
	size_t nplugins;
	sluice_secret_provider *providers;
	size_t nproviders;
	/* policy */
	sluice_str rollout_policy;
	/* min_approvals by risk class (a plain number sets all three) */
	int min_approvals[3];
	sluice_pos min_approvals_pos;
	sluice_bool prevent_self_approval;
	sluice_int approval_ttl_days;
	sluice_bool require_signed_tags;
	sluice_str allowed_signers;
	sluice_str identity; /* os-user (default) | asserted | ssh-signed */
	sluice_str max_risk;
	bool has_max_permissions;
	sluice_permissions max_permissions;
	sluice_freeze_window *freeze;
	size_t nfreeze;
	size_t max_file_bytes; /* policy.max_file_bytes, default 4 MiB */
	/* policy.allow_http_services: URLs or hosts a plugin's environment may
	 * name over plain http (docs/configuration.md) */
	sluice_strs allow_http_services;
	/* policy.audit_retention_days: unset means the default,
	 * SLUICE_AUDIT_RETENTION_DEFAULT_DAYS (audit.h); at least 90 */
	sluice_int audit_retention_days;
	/* publish: its publishers in the order written; none when absent */
	sluice_publish_conf *publishers;
	size_t npublishers;
	sluice_notification *notifications;
	size_t nnotifications;
} sluice_workspace;

/* ---- rollout policies ------------------------------------------------- */

typedef struct {
	sluice_str stage; /* "*" or a stage name; the gate applies to matches */
	bool has_max_tool_error_rate, has_max_refusal_rate, has_max_escalation_rate,
		has_min_positive_feedback_ratio;
	double max_tool_error_rate, max_refusal_rate, max_escalation_rate,
		min_positive_feedback_ratio;
	int64_t min_samples;          /* tool calls before rates count */
	int64_t min_feedback_samples; /* ratings before the ratio counts */
	bool has_max_p95_latency_ms, has_max_error_rate_increase;
	int64_t max_p95_latency_ms;
	double max_error_rate_increase; /* above the stable release's rate */
	int64_t max_wait_days;          /* 0: waiting is never flagged */
	sluice_str on_breach; /* pause | rollback */
	sluice_pos pos;
} sluice_health_gate;

typedef struct {
	sluice_str item;    /* one of the nine checklist items */
	unsigned by_roles;  /* SLUICE_ROLE_* allowed to attest; 0: any */
	sluice_pos pos;
} sluice_checklist_req;

typedef struct {
	sluice_doc *doc;
	char *path;
	sluice_str name;
	sluice_int min_first_stage_days;  /* shortest soak of the first stage */
	sluice_int min_soak_days;         /* shortest soak of every non-last stage */
	sluice_int max_first_stage_users; /* smallest first stage */
	sluice_int min_stages;
	sluice_bool last_stage_requires_approval;
	double max_user_growth; /* largest jump: users(k)/users(k-1); 0 = none */
	sluice_pos max_user_growth_pos;
	sluice_health_gate *gates;
	size_t ngates;
	sluice_checklist_req *checklist;
	size_t nchecklist;
	sluice_str on_new_release; /* queue (default) | supersede */
} sluice_rollout_policy;

/* ---- loading ----------------------------------------------------------- */

/* Loads the workspace definition at `path` (workspaces/NAME.yaml), checking
 * its schema; problems go to diags. Returns 0 (possibly with errors in
 * diags: check diags->errors), or a negative code when the file could not
 * be read at all (also reported in diags). Caller frees with
 * sluice_workspace_free. `root` resolves relative paths. */
int sluice_workspace_load(sluice_workspace **out, const char *path,
			  sluice_diags *diags);
void sluice_workspace_free(sluice_workspace *ws);

/* Finds the single workspace under <root>/workspaces/ (or the one named):
 * returns a malloc'd path, or NULL with the error set (SLUICE_EAMBIGUOUS
 * when there are several and none was named). */
char *sluice_workspace_find(const char *root, const char *name);

int sluice_rollout_policy_load(sluice_rollout_policy **out, const char *path,
			       sluice_diags *diags);
void sluice_rollout_policy_free(sluice_rollout_policy *p);

/* The nine release-checklist items of docs/concepts.md, in order. */
extern const char *const sluice_checklist_items[];

/* Derives the risk class from permissions: the highest any one reaches. */
sluice_risk sluice_permissions_risk(const sluice_permissions *p);

/* Loads a plugin release from a tree: plugin.yaml, deploy file, tool
 * contracts and guidance. Schema problems go to diags. */
int sluice_plugin_load(sluice_plugin **out, sluice_tree *tree, size_t max_bytes,
		       sluice_diags *diags);
void sluice_plugin_free(sluice_plugin *p);

/* Plugin and admin ids are [a-z0-9][a-z0-9._-]{0,62} (docs/configuration.md).
 * Returns NULL when `id` is one, or static text saying what is wrong
 * ("has an uppercase letter"); the text never repeats the id, so a message
 * can leave out an id that holds control characters. */
const char *sluice_id_problem(const char *id);
/* Whether `id` holds a character a terminal would act on (C0, DEL, C1):
 * such a value is named by its key in messages, never printed. */
bool sluice_id_unprintable(const char *id);
/* The rule in words, for messages. */
#define SLUICE_ID_RULE \
	"1-63 lowercase letters, digits, '.', '_' and '-', starting with a letter or a digit"
/* The admin id Sluice records its own actions under; no admin may take it. */
#define SLUICE_ACTOR_CONTROLLER "controller"

/* A path the workspace names (members_file, allowed_signers) must stay
 * inside --root: relative, no '..' segment, no control character. Returns
 * NULL or static text saying what is wrong. */
const char *sluice_workspace_path_problem(const char *rel);
/* Resolves such a path against root into *out (caller frees). Returns 0;
 * SLUICE_EINVAL when it breaks sluice_workspace_path_problem or, when the
 * file exists, when its real path (symlinks followed) leaves the real
 * --root, with the reason in sluice_error_last() (*out is then NULL). A
 * missing file is not an error here: *out names where it would be. */
int sluice_workspace_path(char **out, const char *root, const char *rel);

/* Members of a group (inline list or members file under root). Returns a
 * NULL-terminated malloc'd array of malloc'd ids (sluice_strv_free), or
 * a negative code: the members file cannot be read, or it is outside
 * --root (SLUICE_EINVAL, see sluice_workspace_path). */
int sluice_group_members(char ***out, const sluice_workspace *ws,
			 const sluice_group *g, const char *root);

const sluice_group *sluice_workspace_group(const sluice_workspace *ws, const char *name);
const sluice_admin *sluice_workspace_admin(const sluice_workspace *ws, const char *id);
/* The repository URL of a watched plugin: explicit url or the template. */
char *sluice_workspace_repo_url(const sluice_workspace *ws, const sluice_ws_plugin *p);

#endif
