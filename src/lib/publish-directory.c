/* The directory publisher: <root>/<publish.path>/effective.json and each
 * release's files under releases/<plugin>/<version>/. Readers never see a
 * half-written state: release directories are written under a temporary
 * name and renamed into place, the document is replaced atomically (write,
 * fsync, rename), and directories no longer referenced are removed only
 * after the switch. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/doc.h"
#include "sluice/error.h"
#include "sluice/publish.h"
#include "sluice/util.h"

/* What the published state was built from, next to it. */
#define SIGNATURE_FILE ".signature"
#define RELEASE_FILE "release.json"
/* What each release's entry was made from (sluice_effective.cache): lost or
 * damaged, it only makes the next publish read every release from git. */
#define CACHE_FILE ".cache.json"
#define CACHE_MAX_BYTES (256u << 20)

static char *base_dir(const sluice_publish_ctx *c)
{
	return sluice_path_under_root(c->root, c->publish_path ? c->publish_path : ".sluice/published");
}

static bool dir_current(const sluice_publisher *p, const sluice_publish_ctx *c,
			const char *signature)
{
	(void)p;
	char *base = base_dir(c), *doc = sluice_path_join(base, "effective.json"),
	     *sigp = sluice_path_join(base, SIGNATURE_FILE), *old = NULL;
	size_t len;
	bool same = access(doc, F_OK) == 0 &&
		    sluice_file_read(&old, &len, sigp, 16u << 20) == 0 &&
		    strcmp(old, signature) == 0;
	free(old);
	free(sigp);
	free(doc);
	free(base);
	return same;
}

static int dir_open_release(const sluice_publisher *p, const sluice_publish_ctx *c,
			    const char *plugin, const char *version, const char *commit,
			    sluice_tree **out)
{
	(void)p;
	char *base = base_dir(c);
	char *dir = sluice_xasprintf("%s/releases/%s/%s", base, plugin, version);
	char *meta = sluice_path_join(dir, RELEASE_FILE), *text = NULL;
	size_t len;
	int rc = sluice_file_read(&text, &len, meta, 1u << 20);

	if (rc == 0) {
		json_t *j = json_loads(text, 0, NULL);
		const char *was = json_string_value(json_object_get(j, "commit"));
		rc = was && strcmp(was, commit) == 0 ? sluice_tree_open_dir(out, dir)
						 : sluice_error_set(SLUICE_ENOTFOUND,
								    "no published copy of %s@%s at %.12s",
								    plugin, version, commit);
		json_decref(j);
	}
	free(text);
	free(meta);
	free(dir);
	free(base);
	return rc;
}

static json_t *dir_load_cache(const sluice_publisher *p, const sluice_publish_ctx *c)
{
	(void)p;
	char *base = base_dir(c), *path = sluice_path_join(base, CACHE_FILE), *text = NULL;
	size_t len;
	json_t *j = NULL;

	if (sluice_file_read(&text, &len, path, CACHE_MAX_BYTES) == 0)
		j = json_loadb(text, len, 0, NULL);
	sluice_error_clear();
	free(text);
	free(path);
	free(base);
	return j;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int rm_rf(const char *path)
{
	if (access(path, F_OK) < 0)
		return 0;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return sluice_error_set(SLUICE_EIO, "cannot remove %s: %s", path, strerror(errno));
	return 0;
}

/* Whether dir holds this release at this commit already. */
static bool release_current(const char *dir, const char *commit)
{
	char *meta = sluice_path_join(dir, RELEASE_FILE), *text = NULL;
	size_t len;
	bool same = false;
	if (sluice_file_read(&text, &len, meta, 1u << 20) == 0) {
		json_t *j = json_loads(text, 0, NULL);
		const char *c = json_string_value(json_object_get(j, "commit"));
		same = c && strcmp(c, commit) == 0;
		json_decref(j);
	}
	free(text);
	free(meta);
	return same;
}

static int write_file(const char *dir, const char *rel, const char *data, size_t len)
{
	char *path = sluice_path_join(dir, rel), *parent = sluice_xstrdup(path);
	int rc;
	*strrchr(parent, '/') = '\0';
	if ((rc = sluice_mkdir_p(parent, 0755)) == 0)
		rc = sluice_file_write_atomic(path, data, len);
	free(parent);
	free(path);
	return rc;
}

/* Copies a release not published yet at its commit; its tree is open only
 * while its files are copied. */
static int write_release(const sluice_publisher *p, const sluice_publish_ctx *c, const char *base,
			 const sluice_effective_release *er)
{
	sluice_tree *tree = NULL;
	char *pdir = sluice_xasprintf("%s/releases/%s", base, er->plugin);
	char *dir = sluice_xasprintf("%s/%s", pdir, er->version);
	char *tmp = sluice_xasprintf("%s/.%s.tmp.%ld", pdir, er->version, (long)getpid());
	char *old = sluice_xasprintf("%s/.%s.old.%ld", pdir, er->version, (long)getpid());
	char *data = NULL, *meta = NULL;
	size_t len;
	int rc = 0;

	if (release_current(dir, er->commit))
		goto done;
	if ((rc = sluice_effective_release_open(&tree, c, p, er)) < 0)
		goto done;
	if ((rc = rm_rf(tmp)) < 0 || (rc = sluice_mkdir_p(tmp, 0755)) < 0)
		goto done;
	for (char **f = er->files; f && *f; f++) {
		if ((rc = sluice_tree_read(tree, &data, &len, *f,
					    c->max_file_bytes ? c->max_file_bytes
								 : SLUICE_DOC_DEFAULT_MAX_BYTES)) < 0 ||
		    (rc = write_file(tmp, *f, data, len)) < 0)
			goto done;
		free(data);
		data = NULL;
	}
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "plugin", er->plugin, "version",
			      er->version, "tag", er->tag, "commit", er->commit);
	meta = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if ((rc = write_file(tmp, RELEASE_FILE, meta, strlen(meta))) < 0)
		goto done;
	/* A directory at the same version but another commit (an accepted tag
	 * move) is swapped out, and removed after the document switched. */
	if (access(dir, F_OK) == 0 && rename(dir, old) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot move %s aside: %s", dir, strerror(errno));
		goto done;
	}
	if (rename(tmp, dir) < 0)
		rc = sluice_error_set(SLUICE_EIO, "cannot rename %s to %s: %s", tmp, dir,
				      strerror(errno));
done:
	if (rc < 0)
		rm_rf(tmp);
	sluice_tree_free(tree);
	free(meta);
	free(data);
	free(old);
	free(tmp);
	free(dir);
	free(pdir);
	return rc;
}

static bool referenced(const sluice_effective *eff, const char *plugin, const char *version)
{
	for (size_t i = 0; i < eff->nreleases; i++)
		if (strcmp(eff->releases[i].plugin, plugin) == 0 &&
		    (!version || strcmp(eff->releases[i].version, version) == 0))
			return true;
	return false;
}

/* After the switch: every release directory the document no longer names,
 * and the swapped-out copies. */
static int prune(const char *base, const sluice_effective *eff)
{
	char *rel = sluice_path_join(base, "releases");
	DIR *d = opendir(rel);
	struct dirent *p;
	int rc = 0;

	while (d && (p = readdir(d))) {
		if (!strcmp(p->d_name, ".") || !strcmp(p->d_name, ".."))
			continue;
		char *pdir = sluice_path_join(rel, p->d_name);
		DIR *dv = opendir(pdir);
		struct dirent *v;
		while (dv && (v = readdir(dv))) {
			if (!strcmp(v->d_name, ".") || !strcmp(v->d_name, ".."))
				continue;
			if (v->d_name[0] != '.' && referenced(eff, p->d_name, v->d_name))
				continue;
			char *vdir = sluice_path_join(pdir, v->d_name);
			if (rm_rf(vdir) < 0)
				rc = SLUICE_EIO;
			free(vdir);
		}
		if (dv)
			closedir(dv);
		if (!referenced(eff, p->d_name, NULL))
			rmdir(pdir);
		free(pdir);
	}
	if (d)
		closedir(d);
	free(rel);
	return rc;
}

/* Temporary files of a pass that was killed before its rename
 * (sluice_file_write_atomic names them FILE.tmp.PID). Publishing runs
 * under the reconcile lease, so no live writer owns one. */
static void sweep_tmp(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *f;

	while (d && (f = readdir(d))) {
		if (!strstr(f->d_name, ".tmp."))
			continue;
		char *path = sluice_path_join(base, f->d_name);
		unlink(path);
		free(path);
	}
	if (d)
		closedir(d);
}

static int dir_publish(const sluice_publisher *p, const sluice_publish_ctx *c,
		       const sluice_effective *eff)
{
	char *base = base_dir(c), *doc = NULL, *path = NULL;
	int rc;

	if ((rc = sluice_mkdir_p(base, 0755)) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot create %s: %s", base, strerror(errno));
		goto done;
	}
	sweep_tmp(base);
	for (size_t i = 0; i < eff->nreleases; i++)
		if ((rc = write_release(p, c, base, &eff->releases[i])) < 0)
			goto done;
	doc = json_dumps(eff->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	path = sluice_path_join(base, "effective.json");
	sluice_buf b = SLUICE_BUF_INIT;
	sluice_buf_printf(&b, "%s\n", doc);
	rc = sluice_file_write_atomic(path, b.ptr, b.len);
	sluice_buf_clear(&b);
	if (rc < 0)
		goto done;
	/* before the signature: a publish that stops half-way is done again
	 * whole, and the cache is checked record by record anyway */
	free(doc);
	doc = json_dumps(eff->cache, JSON_COMPACT | JSON_PRESERVE_ORDER);
	free(path);
	path = sluice_path_join(base, CACHE_FILE);
	if (doc && (rc = sluice_file_write_atomic(path, doc, strlen(doc))) < 0)
		goto done;
	free(path);
	path = sluice_path_join(base, SIGNATURE_FILE);
	if ((rc = sluice_file_write_atomic(path, eff->signature, strlen(eff->signature))) < 0)
		goto done;
	rc = prune(base, eff);
done:
	free(path);
	free(doc);
	free(base);
	return rc;
}

const sluice_publisher sluice_publisher_directory = {
	.type = "directory",
	.current = dir_current,
	.open_release = dir_open_release,
	.load_cache = dir_load_cache,
	.publish = dir_publish,
};
