/* The codex publisher: per group, under <publish.path>/codex/<group>/, the
 * files real Codex clients read (docs/publishing.md):
 *
 *   requirements.toml          the MCP allowlist: exactly the group's plugins
 *   managed_config.toml        each plugin's MCP server, reapplied at launch
 *   marketplace/               a plugin marketplace holding the group's versions
 *   com.openai.codex.mobileconfig   both TOML files as a macOS profile
 *
 * A group's directory is written whole under a sibling name and swapped in
 * with one rename, so a client never reads half of a group; a publish that
 * fails leaves the groups it had not reached as they were. The field names
 * are Codex's: requirements' [mcp_servers.<name>.identity], the config's
 * [mcp_servers.<name>], .agents/plugins/marketplace.json, the plugin's
 * .codex-plugin/plugin.json, .mcp.json and skills/<name>/SKILL.md, and the
 * managed preferences keys of the com.openai.codex domain. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/doc.h"
#include "sluice/error.h"
#include "sluice/publish.h"
#include "sluice/toml.h"
#include "sluice/util.h"

/* Part of the saved signature: a new layout is published even when the
 * rollout state did not change. */
#define CODEX_FORMAT 1
#define SIGNATURE_FILE ".signature"
/* the groups the last publish wrote: only those are ever removed */
#define GROUPS_FILE ".groups"
#define DEFAULT_MCP_PATH "/mcp"
/* Codex's plugin interface wants a category; Sluice's plugins are all
 * coding tools. */
#define CATEGORY "Coding"
/* Codex reads at most this much of a skill's description. */
#define SKILL_DESCRIPTION_MAX 1024

static char *base_dir(const sluice_publish_ctx *c)
{
	char *top = sluice_path_under_root(c->root, c->publish_path ? c->publish_path
								    : ".sluice/published");
	char *base = sluice_path_join(top, "codex");
	free(top);
	return base;
}

static char *saved_signature(const char *signature)
{
	return sluice_xasprintf("codex-format\t%d\n%s", CODEX_FORMAT, signature);
}

static bool codex_current(const sluice_publisher *p, const sluice_publish_ctx *c,
			  const char *signature)
{
	(void)p;
	char *base = base_dir(c), *path = sluice_path_join(base, SIGNATURE_FILE), *old = NULL,
	     *want = saved_signature(signature);
	size_t len;
	bool same = sluice_file_read(&old, &len, path, 16u << 20) == 0 && strcmp(old, want) == 0;
	sluice_error_clear();
	free(want);
	free(old);
	free(path);
	free(base);
	return same;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rc = 0;
	if (fd < 0 || fsync(fd) < 0)
		rc = sluice_error_set(SLUICE_EIO, "cannot sync %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Writes dir/rel (write, fsync, rename), making its parents. */
static int write_file(const char *dir, const char *rel, const char *data, size_t len)
{
	char *path = sluice_path_join(dir, rel), *parent = sluice_xstrdup(path);
	int rc;
	*strrchr(parent, '/') = '\0';
	if ((rc = sluice_mkdir_p(parent, 0755)) < 0)
		rc = sluice_error_set(SLUICE_EIO, "cannot create %s: %s", parent, strerror(errno));
	else
		rc = sluice_file_write_atomic(path, data, len);
	free(parent);
	free(path);
	return rc;
}

static int write_json(const char *dir, const char *rel, json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int rc;
	if (!text)
		return sluice_error_set(SLUICE_EINVAL, "cannot encode %s as JSON (invalid UTF-8?)",
					rel);
	sluice_buf b = SLUICE_BUF_INIT;
	sluice_buf_printf(&b, "%s\n", text);
	rc = write_file(dir, rel, b.ptr, b.len);
	sluice_buf_clear(&b);
	free(text);
	return rc;
}

/* Codex accepts plugin, marketplace and MCP server names made of ASCII
 * letters, digits, '_' and '-' only. */
static bool codex_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* What the files say about one release, read once per publish. */
typedef struct {
	const sluice_effective_release *er;
	sluice_plugin *pl;
	char *url;
	const char *token_var; /* the first secret binding's variable, or NULL */
	char **tools;          /* the manifest's tool ids */
	size_t ntools;
	int64_t timeout_sec;   /* 0: not set */
	bool always_on;        /* allow_user_disable: false */
} codex_release;

static void release_clear(codex_release *r)
{
	sluice_plugin_free(r->pl);
	free(r->url);
	for (size_t i = 0; i < r->ntools; i++)
		free(r->tools[i]);
	free(r->tools);
	memset(r, 0, sizeof *r);
}

static int release_read(codex_release *out, const sluice_publish_ctx *c,
			const sluice_publisher *pub, const sluice_effective_release *er)
{
	sluice_tree *tree = NULL;
	sluice_diags d;
	int rc;

	memset(out, 0, sizeof *out);
	out->er = er;
	if (!codex_name(er->plugin))
		return sluice_error_set(SLUICE_EINVAL,
					"cannot publish '%s' to codex: Codex names allow only ASCII "
					"letters, digits, '_' and '-'; rename the plugin id",
					er->plugin);
	if ((rc = sluice_effective_release_open(&tree, c, pub, er)) < 0)
		return rc;
	sluice_diags_init(&d);
	rc = sluice_plugin_load(&out->pl, tree, c->max_file_bytes, &d);
	sluice_diags_clear(&d);
	sluice_tree_free(tree);
	if (rc < 0 || !out->pl)
		return sluice_error_wrap(rc < 0 ? rc : SLUICE_EINVAL, "cannot load %s@%s",
					 er->plugin, er->version);

	const sluice_manifest *m = &out->pl->manifest;
	json_t *env = json_object_get(er->entry, "environment");
	const char *var = m->runtime_base_url_env.s;
	const char *base = var ? json_string_value(json_object_get(env, var)) : NULL;
	if (!base || !*base)
		return sluice_error_set(SLUICE_EINVAL,
					"cannot publish %s@%s to codex: runtime.base_url_env '%s' is "
					"not set in its environment; set it in the deploy file or the "
					"workspace's plugins[].environment",
					er->plugin, er->version, var ? var : "");
	size_t blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	out->url = sluice_xasprintf("%.*s%s", (int)blen, base,
				    m->runtime_mcp_path.s ? m->runtime_mcp_path.s : DEFAULT_MCP_PATH);
	const char *key;
	json_t *v;
	json_object_foreach (json_object_get(er->entry, "secrets"), key, v) {
		(void)v;
		out->token_var = key;
		break;
	}
	out->tools = sluice_xcalloc(m->ntools + 1, sizeof *out->tools);
	for (size_t i = 0; i < m->ntools; i++)
		if (m->tools[i].id.s)
			out->tools[out->ntools++] = sluice_xstrdup(m->tools[i].id.s);
	if (m->runtime_timeout_ms.set)
		out->timeout_sec = (m->runtime_timeout_ms.v + 999) / 1000;
	json_t *controls = json_object_get(er->entry, "controls");
	out->always_on = !json_is_true(json_object_get(controls, "allow_user_disable"));
	return 0;
}

/* The same server entry, in managed_config.toml and in .mcp.json. */
static void server_toml(sluice_toml *t, const codex_release *r, bool managed)
{
	const char *path[] = {"mcp_servers", r->er->plugin};
	sluice_toml_table(t, path, 2);
	sluice_toml_string(t, "url", r->url);
	if (r->token_var)
		sluice_toml_string(t, "bearer_token_env_var", r->token_var);
	sluice_toml_string_array(t, "enabled_tools", (const char *const *)r->tools, r->ntools);
	if (r->timeout_sec)
		sluice_toml_int(t, "tool_timeout_sec", r->timeout_sec);
	if (managed && r->always_on)
		sluice_toml_bool(t, "enabled", true);
}

static json_t *server_json(const codex_release *r)
{
	json_t *tools = json_array();
	for (size_t i = 0; i < r->ntools; i++)
		json_array_append_new(tools, json_string(r->tools[i]));
	json_t *s = json_pack("{s:s, s:s?, s:o}", "url", r->url, "bearer_token_env_var",
			      r->token_var, "enabled_tools", tools);
	if (s && r->timeout_sec)
		json_object_set_new(s, "tool_timeout_sec", json_integer(r->timeout_sec));
	return s;
}

/* A YAML double-quoted scalar: JSON's string syntax is a subset of it. */
static char *yaml_quoted(const char *s)
{
	json_t *j = json_string(s);
	char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	return out;
}

/* One line of at most SKILL_DESCRIPTION_MAX bytes, cut at a character. */
static char *one_line(const char *s)
{
	sluice_buf b = SLUICE_BUF_INIT;
	bool space = false;
	for (; s && *s; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
			space = b.len > 0;
			continue;
		}
		if (space)
			sluice_buf_puts(&b, " ");
		space = false;
		sluice_buf_put(&b, s, 1);
	}
	if (b.len > SKILL_DESCRIPTION_MAX) {
		size_t n = SKILL_DESCRIPTION_MAX;
		while (n > 0 && ((unsigned char)b.ptr[n] & 0xc0) == 0x80)
			n--;
		b.len = n;
		b.ptr[n] = '\0';
	}
	return b.ptr ? sluice_buf_detach(&b) : sluice_xstrdup("");
}

/* SKILL.md: the front matter Codex reads (name, description), then the
 * four guidance documents in the manifest's order. */
static int write_skill(const char *pdir, const codex_release *r)
{
	const sluice_plugin *pl = r->pl;
	const sluice_manifest *m = &pl->manifest;
	const struct {
		const char *title;
		const char *path;
	} parts[] = {{"Role", m->guidance_role.s},
		     {"Workflow", m->guidance_workflow.s},
		     {"Output format", m->guidance_output_format.s},
		     {"Escalation", m->guidance_escalation.s}};
	char *desc = one_line(m->description.s ? m->description.s : m->name.s);
	char *qname = yaml_quoted(r->er->plugin), *qdesc = yaml_quoted(desc);
	char *rel = sluice_xasprintf("skills/%s/SKILL.md", r->er->plugin);
	sluice_buf b = SLUICE_BUF_INIT;
	int rc;

	if (!qname || !qdesc) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "cannot publish %s@%s to codex: its description is not "
				      "valid UTF-8", r->er->plugin, r->er->version);
		goto done;
	}
	sluice_buf_printf(&b, "---\nname: %s\ndescription: %s\n---\n\n# %s\n", qname, qdesc,
			  m->name.s ? m->name.s : r->er->plugin);
	for (size_t i = 0; i < 4; i++)
		for (size_t g = 0; parts[i].path && g < pl->nguidance; g++)
			if (strcmp(pl->guidance_paths[g], parts[i].path) == 0) {
				sluice_buf_printf(&b, "\n## %s\n\n", parts[i].title);
				sluice_buf_put(&b, pl->guidance_texts[g], pl->guidance_lens[g]);
				if (pl->guidance_lens[g] && pl->guidance_texts[g][pl->guidance_lens[g] - 1] != '\n')
					sluice_buf_puts(&b, "\n");
			}
	rc = write_file(pdir, rel, b.ptr, b.len);
done:
	sluice_buf_clear(&b);
	free(rel);
	free(qdesc);
	free(qname);
	free(desc);
	return rc;
}

static int write_plugin(const char *mdir, const codex_release *r, const char *org)
{
	const sluice_manifest *m = &r->pl->manifest;
	char *pdir = sluice_xasprintf("%s/plugins/%s", mdir, r->er->plugin);
	char *desc = one_line(m->description.s);
	json_t *manifest = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s?, s:s}}", "name", r->er->plugin,
		"version", r->er->version, "description", desc, "skills", "./skills/",
		"mcpServers", "./.mcp.json", "interface", "displayName",
		m->name.s ? m->name.s : r->er->plugin, "shortDescription", desc, "developerName",
		org, "category", CATEGORY);
	json_t *mcp = json_pack("{s:{s:o}}", "mcpServers", r->er->plugin, server_json(r));
	int rc;

	if (!manifest || !mcp)
		rc = sluice_error_set(SLUICE_EINVAL,
				      "cannot publish %s@%s to codex: its name, description or "
				      "publisher is not valid UTF-8", r->er->plugin, r->er->version);
	else if ((rc = write_json(pdir, ".codex-plugin/plugin.json", manifest)) == 0 &&
		 (rc = write_json(pdir, ".mcp.json", mcp)) == 0)
		rc = write_skill(pdir, r);
	json_decref(mcp);
	json_decref(manifest);
	free(desc);
	free(pdir);
	return rc;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(sluice_buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);
		char q[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63],
			     i + 1 < len ? b64[v >> 6 & 63] : '=', i + 2 < len ? b64[v & 63] : '='};
		sluice_buf_put(b, q, 4);
	}
}

static void xml_text(sluice_buf *b, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': sluice_buf_puts(b, "&amp;"); break;
		case '<': sluice_buf_puts(b, "&lt;"); break;
		case '>': sluice_buf_puts(b, "&gt;"); break;
		case '"': sluice_buf_puts(b, "&quot;"); break;
		default: sluice_buf_put(b, s, 1);
		}
}

/* A stable UUID for (workspace, group, part): the profile keeps its
 * identity from one publish to the next, so an MDM replaces it. */
static void uuid_of(char out[37], const char *workspace, const char *group, const char *part)
{
	uint64_t h[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
	const char *parts[] = {workspace, "\n", group, "\n", part};
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < 5; i++)
			for (const char *s = parts[i]; *s; s++)
				h[k] = (h[k] ^ (unsigned char)*s ^ k) * 0x100000001b3ull;
	snprintf(out, 37, "%08X-%04X-4%03X-A%03X-%012llX", (unsigned)(h[0] >> 32),
		 (unsigned)(h[0] >> 16 & 0xffff), (unsigned)(h[0] & 0xfff),
		 (unsigned)(h[1] >> 48 & 0xfff), (unsigned long long)(h[1] & 0xffffffffffffull));
}

static int write_profile(const char *gdir, const sluice_publish_ctx *c, const char *group,
			 const char *req, size_t reqlen, const char *cfg, size_t cfglen)
{
	char outer[37], inner[37];
	sluice_buf b = SLUICE_BUF_INIT;
	int rc;

	uuid_of(outer, c->workspace, group, "profile");
	uuid_of(inner, c->workspace, group, "payload");
	sluice_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
			    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
			    "<plist version=\"1.0\">\n<dict>\n"
			    "\t<key>PayloadContent</key>\n\t<array>\n\t\t<dict>\n"
			    "\t\t\t<key>PayloadType</key>\n\t\t\t<string>com.openai.codex</string>\n"
			    "\t\t\t<key>PayloadIdentifier</key>\n\t\t\t<string>com.openai.codex.sluice.");
	xml_text(&b, c->workspace);
	sluice_buf_puts(&b, ".");
	xml_text(&b, group);
	sluice_buf_printf(&b, ".payload</string>\n\t\t\t<key>PayloadUUID</key>\n\t\t\t<string>%s</string>\n"
			      "\t\t\t<key>PayloadVersion</key>\n\t\t\t<integer>1</integer>\n"
			      "\t\t\t<key>requirements_toml_base64</key>\n\t\t\t<string>", inner);
	base64(&b, req, reqlen);
	sluice_buf_puts(&b, "</string>\n\t\t\t<key>config_toml_base64</key>\n\t\t\t<string>");
	base64(&b, cfg, cfglen);
	sluice_buf_puts(&b, "</string>\n\t\t</dict>\n\t</array>\n"
			    "\t<key>PayloadDisplayName</key>\n\t<string>Codex plugins for ");
	xml_text(&b, c->workspace);
	sluice_buf_puts(&b, " / ");
	xml_text(&b, group);
	sluice_buf_puts(&b, "</string>\n\t<key>PayloadIdentifier</key>\n\t<string>com.openai.codex.sluice.");
	xml_text(&b, c->workspace);
	sluice_buf_puts(&b, ".");
	xml_text(&b, group);
	sluice_buf_printf(&b, "</string>\n\t<key>PayloadType</key>\n\t<string>Configuration</string>\n"
			      "\t<key>PayloadUUID</key>\n\t<string>%s</string>\n"
			      "\t<key>PayloadVersion</key>\n\t<integer>1</integer>\n"
			      "</dict>\n</plist>\n", outer);
	rc = write_file(gdir, "com.openai.codex.mobileconfig", b.ptr, b.len);
	sluice_buf_clear(&b);
	return rc;
}

/* Which of the releases the group has, in the document's order. */
static size_t group_releases(const codex_release **out, const sluice_effective *eff,
			     const codex_release *rels, const char *group)
{
	json_t *list = json_object_get(json_object_get(eff->doc, "groups"), group), *e;
	size_t i, n = 0;
	json_array_foreach (list, i, e)
		for (size_t k = 0; k < eff->nreleases; k++)
			if (rels[k].er->entry == e) {
				out[n++] = &rels[k];
				break;
			}
	return n;
}

/* Writes the group's files under tmp. */
static int write_group(const char *tmp, const sluice_publish_ctx *c, const char *group,
		       const codex_release *const *rels, size_t n)
{
	char *mkt = sluice_xasprintf("%s-%s", c->workspace, group);
	char *mdir = sluice_path_join(tmp, "marketplace"), *req = NULL, *cfg = NULL;
	char *display = sluice_xasprintf("%s (%s)", c->workspace, group);
	size_t reqlen = 0, cfglen = 0;
	json_t *plugins = json_array(), *market = NULL;
	sluice_toml t;
	int rc;

	if (!codex_name(mkt)) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "cannot publish group '%s' to codex: the marketplace name "
				      "'%s' allows only ASCII letters, digits, '_' and '-'",
				      group, mkt);
		goto done;
	}
	sluice_toml_init(&t);
	if (n == 0) {
		/* an empty allowlist: no MCP server may run */
		const char *top[] = {"mcp_servers"};
		sluice_toml_table(&t, top, 1);
	}
	for (size_t i = 0; i < n; i++) {
		const char *path[] = {"mcp_servers", rels[i]->er->plugin, "identity"};
		sluice_toml_table(&t, path, 3);
		sluice_toml_string(&t, "url", rels[i]->url);
	}
	if ((rc = sluice_toml_finish(&req, &reqlen, &t)) < 0)
		goto done;
	sluice_toml_init(&t);
	for (size_t i = 0; i < n; i++)
		server_toml(&t, rels[i], true);
	if ((rc = sluice_toml_finish(&cfg, &cfglen, &t)) < 0)
		goto done;
	if ((rc = write_file(tmp, "requirements.toml", req, reqlen)) < 0 ||
	    (rc = write_file(tmp, "managed_config.toml", cfg, cfglen)) < 0 ||
	    (rc = write_profile(tmp, c, group, req, reqlen, cfg, cfglen)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		const char *org = rels[i]->pl->manifest.pub_organization.s;
		char *src = sluice_xasprintf("./plugins/%s", rels[i]->er->plugin);
		json_array_append_new(plugins,
				      json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s}", "name",
						rels[i]->er->plugin, "source", "source", "local",
						"path", src, "policy", "installation",
						"INSTALLED_BY_DEFAULT", "authentication", "ON_INSTALL",
						"category", CATEGORY));
		free(src);
		if ((rc = write_plugin(mdir, rels[i], org ? org : "")) < 0)
			goto done;
	}
	market = json_pack("{s:s, s:{s:s}, s:O}", "name", mkt, "interface", "displayName",
			   display, "plugins", plugins);
	if (!market) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "cannot publish group '%s' to codex: its name is not valid "
				      "UTF-8", group);
		goto done;
	}
	rc = write_json(mdir, ".agents/plugins/marketplace.json", market);
done:
	if (rc < 0)
		rc = sluice_error_wrap(rc, "cannot publish group '%s' to codex", group);
	json_decref(market);
	json_decref(plugins);
	free(cfg);
	free(req);
	free(display);
	free(mdir);
	free(mkt);
	return rc;
}

/* Swaps the finished tmp directory in for the group's; the old copy is
 * removed afterwards. */
static int swap_in(const char *base, const char *tmp, const char *dir)
{
	int rc = 0;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0)
		rc = sluice_rm_rf(tmp); /* now the old copy */
	else if (errno == ENOENT && rename(tmp, dir) == 0)
		rc = 0;
	else
		return sluice_error_set(SLUICE_EIO, "cannot rename %s to %s: %s", tmp, dir,
					strerror(errno));
	if (rc == 0)
		rc = fsync_dir(base);
	return rc;
}

/* A group name is a directory here: one safe path component. */
static bool safe_group(const char *g)
{
	return g[0] && g[0] != '.' && !strchr(g, '/') && !sluice_path_problem(g);
}

/* Directories of a pass that was killed before its swap, and the groups
 * the previous publish wrote that the workspace no longer has. */
static int prune(const char *base, const sluice_publish_ctx *c, bool stale_only)
{
	char *list = sluice_path_join(base, GROUPS_FILE), *text = NULL;
	size_t len;
	int rc = 0;

	if (stale_only) {
		DIR *d = opendir(base);
		struct dirent *f;
		while (d && (f = readdir(d)))
			if (f->d_name[0] == '.' && strstr(f->d_name, ".tmp.")) {
				char *p = sluice_path_join(base, f->d_name);
				if (sluice_rm_rf(p) < 0)
					rc = SLUICE_EIO;
				free(p);
			}
		if (d)
			closedir(d);
		goto done;
	}
	if (sluice_file_read(&text, &len, list, 16u << 20) < 0) {
		sluice_error_clear();
		goto done;
	}
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		bool kept = false;
		for (size_t g = 0; g < c->ngroups && !kept; g++)
			kept = strcmp(c->groups[g], line) == 0;
		if (kept || !safe_group(line))
			continue;
		char *p = sluice_path_join(base, line);
		if (sluice_rm_rf(p) < 0)
			rc = SLUICE_EIO;
		free(p);
	}
done:
	free(text);
	free(list);
	return rc;
}

static int codex_publish(const sluice_publisher *p, const sluice_publish_ctx *c,
			 const sluice_effective *eff)
{
	char *base = base_dir(c), *path = NULL, *sig = NULL;
	codex_release *rels = sluice_xcalloc(eff->nreleases + 1, sizeof *rels);
	const codex_release **mine = sluice_xcalloc(eff->nreleases + 1, sizeof *mine);
	sluice_buf groups = SLUICE_BUF_INIT;
	int rc;

	if ((rc = sluice_mkdir_p(base, 0755)) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot create %s: %s", base, strerror(errno));
		goto done;
	}
	prune(base, c, true);
	for (size_t i = 0; i < eff->nreleases; i++)
		if ((rc = release_read(&rels[i], c, p, &eff->releases[i])) < 0)
			goto done;
	for (size_t g = 0; g < c->ngroups; g++) {
		const char *group = c->groups[g];
		if (!safe_group(group)) {
			rc = sluice_error_set(SLUICE_EINVAL,
					      "cannot publish group '%s' to codex: not a safe "
					      "directory name", group);
			goto done;
		}
		size_t n = group_releases(mine, eff, rels, group);
		char *dir = sluice_path_join(base, group);
		char *tmp = sluice_xasprintf("%s/.%s.tmp.%ld", base, group, (long)getpid());
		if ((rc = sluice_rm_rf(tmp)) == 0 && (rc = write_group(tmp, c, group, mine, n)) == 0)
			rc = swap_in(base, tmp, dir);
		if (rc < 0)
			sluice_rm_rf(tmp);
		free(tmp);
		free(dir);
		if (rc < 0)
			goto done;
		sluice_buf_printf(&groups, "%s\n", group);
	}
	if ((rc = prune(base, c, false)) < 0)
		goto done;
	path = sluice_path_join(base, GROUPS_FILE);
	if ((rc = sluice_file_write_atomic(path, groups.ptr ? groups.ptr : "", groups.len)) < 0)
		goto done;
	free(path);
	path = sluice_path_join(base, SIGNATURE_FILE);
	sig = saved_signature(eff->signature);
	rc = sluice_file_write_atomic(path, sig, strlen(sig));
done:
	for (size_t i = 0; i < eff->nreleases; i++)
		release_clear(&rels[i]);
	free(rels);
	free(mine);
	sluice_buf_clear(&groups);
	free(sig);
	free(path);
	free(base);
	return rc;
}

const sluice_publisher sluice_publisher_codex = {
	.type = "codex",
	.current = codex_current,
	.open_release = NULL,
	.load_cache = NULL,
	.publish = codex_publish,
};
