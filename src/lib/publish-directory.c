/* The directory publisher: <root>/<publish.path>/effective.json and each
 * release's files under releases/<plugin>/<version>/. Readers never see a
 * half-written state: release directories are written under a temporary
 * name and renamed into place, the document is replaced atomically (write,
 * fsync, rename), and files no longer referenced are removed only after
 * the switch - and only those the last publish wrote (its manifest). */
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
#include "sluice/util.h"

/* What the last publish wrote, next to it: the signature it was built
 * from and every file it wrote, so that the next publish removes only
 * those (docs/publishing.md). Written last, atomically: a publish that
 * stops half-way is done again whole. */
#define MANIFEST_FILE ".sluice-published.json"
#define MANIFEST_FORMAT 1
#define DOC_FILE "effective.json"
#define RELEASE_FILE "release.json"
/* What each release's entry was made from (sluice_effective.cache): lost or
 * damaged, it only makes the next publish read every release from git. */
#define CACHE_FILE ".cache.json"
#define CACHE_MAX_BYTES (256u << 20)

static char *base_dir(const sluice_publish_ctx *c)
{
	return sluice_path_under_root(c->root, c->publish_path ? c->publish_path : ".sluice/published");
}

/* The manifest of the last publish into base, or NULL (none, or not one
 * this build can read: then nothing there counts as written by it). */
static json_t *manifest_load(const char *base)
{
	char *path = sluice_path_join(base, MANIFEST_FILE), *text = NULL;
	size_t len;
	json_t *m = NULL;

	if (sluice_file_read(&text, &len, path, CACHE_MAX_BYTES) == 0)
		m = json_loadb(text, len, 0, NULL);
	sluice_error_clear();
	if (m && (json_integer_value(json_object_get(m, "format")) != MANIFEST_FORMAT ||
		  !json_is_string(json_object_get(m, "signature")) ||
		  !json_is_array(json_object_get(m, "files")))) {
		json_decref(m);
		m = NULL;
	}
	free(text);
	free(path);
	return m;
}

/* The files a manifest names, as a set (path -> true). A path that could
 * lead out of the publish directory is not taken from it. */
static json_t *manifest_files(json_t *m)
{
	json_t *set = json_object(), *f;
	size_t i;

	json_array_foreach (json_object_get(m, "files"), i, f)
		if (json_is_string(f) && !sluice_path_problem(json_string_value(f)))
			json_object_set_new(set, json_string_value(f), json_true());
	return set;
}

static bool dir_current(const sluice_publisher *p, const sluice_publish_ctx *c,
			const char *signature)
{
	(void)p;
	char *base = base_dir(c), *doc = sluice_path_join(base, DOC_FILE);
	json_t *m = manifest_load(base);
	const char *was = json_string_value(json_object_get(m, "signature"));
	bool same = was && strcmp(was, signature) == 0 && access(doc, F_OK) == 0;

	json_decref(m);
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

/* mkdir -p that gives each directory it creates `mode` whatever the umask
 * (mkdir's mode is cut by it); directories that exist are left alone. */
static int mkdir_owned(const char *path, unsigned mode)
{
	if (mkdir(path, 0700) == 0)
		return chmod(path, mode) < 0
			       ? sluice_error_set(SLUICE_EIO, "cannot set the mode of %s: %s", path,
						  strerror(errno))
			       : 0;
	if (errno == EEXIST)
		return 0;
	if (errno == ENOENT) {
		char *parent = sluice_xstrdup(path), *slash = strrchr(parent, '/');
		int rc = 0;
		if (slash && slash != parent) {
			*slash = '\0';
			rc = mkdir_owned(parent, mode);
		}
		free(parent);
		if (rc < 0)
			return rc;
		if (mkdir(path, 0700) == 0)
			return chmod(path, mode) < 0
				       ? sluice_error_set(SLUICE_EIO, "cannot set the mode of %s: %s",
							  path, strerror(errno))
				       : 0;
		if (errno == EEXIST)
			return 0;
	}
	return sluice_error_set(SLUICE_EIO, "cannot create %s: %s", path, strerror(errno));
}

/* A directory of the publisher's own layout (releases/, releases/PLUGIN/):
 * made when missing, and given the published mode. */
static int own_dir(const char *path, unsigned mode)
{
	int rc = mkdir_owned(path, mode);
	if (rc == 0 && chmod(path, mode) < 0)
		rc = sluice_error_set(SLUICE_EIO, "cannot set the mode of %s: %s", path,
				      strerror(errno));
	return rc;
}

static int write_file(const sluice_publish_ctx *c, const char *dir, const char *rel,
		      const char *data, size_t len)
{
	char *path = sluice_path_join(dir, rel), *parent = sluice_xstrdup(path);
	int rc;
	*strrchr(parent, '/') = '\0';
	if ((rc = mkdir_owned(parent, sluice_publish_dir_mode(c))) == 0)
		rc = sluice_file_write_atomic_mode(path, data, len, sluice_publish_file_mode(c));
	free(parent);
	free(path);
	return rc;
}

/* A release already published at its commit keeps its files; they take
 * the published mode again (publish.mode may have changed). A file removed
 * by hand stays removed, as before. */
static int fix_modes(const sluice_publish_ctx *c, const char *dir,
		     const sluice_effective_release *er)
{
	unsigned fmode = sluice_publish_file_mode(c), dmode = sluice_publish_dir_mode(c);
	size_t n = 0;
	int rc = 0;

	while (er->files && er->files[n])
		n++;
	for (size_t i = 0; i <= n && rc == 0; i++) {
		const char *f = i < n ? er->files[i] : RELEASE_FILE;
		char *path = sluice_path_join(dir, f);
		if (chmod(path, fmode) < 0 && errno != ENOENT)
			rc = sluice_error_set(SLUICE_EIO, "cannot set the mode of %s: %s", path,
					      strerror(errno));
		/* the directories between the file and the release directory */
		for (char *slash; rc == 0 && (slash = strrchr(path, '/')) &&
				  (size_t)(slash - path) >= strlen(dir);) {
			*slash = '\0';
			if (chmod(path, dmode) < 0 && errno != ENOENT)
				rc = sluice_error_set(SLUICE_EIO, "cannot set the mode of %s: %s",
						      path, strerror(errno));
		}
		free(path);
	}
	return rc;
}

/* Copies a release not published yet at its commit; its tree is open only
 * while its files are copied. `known`: the last publish wrote this
 * release's directory. *swapped: the directory of the copy it replaced
 * (an accepted tag move), to remove after the document switched. */
static int write_release(const sluice_publisher *p, const sluice_publish_ctx *c, const char *base,
			 const sluice_effective_release *er, bool known, char **swapped)
{
	sluice_tree *tree = NULL;
	unsigned dmode = sluice_publish_dir_mode(c);
	char *rdir = sluice_path_join(base, "releases");
	char *pdir = sluice_path_join(rdir, er->plugin);
	char *dir = sluice_path_join(pdir, er->version);
	char *tmp = sluice_xasprintf("%s/.%s.tmp.%ld", pdir, er->version, (long)getpid());
	char *old = sluice_xasprintf("%s/.%s.old.%ld", pdir, er->version, (long)getpid());
	char *data = NULL, *meta = NULL;
	size_t len;
	int rc = 0;

	*swapped = NULL;
	if ((rc = own_dir(rdir, dmode)) < 0 || (rc = own_dir(pdir, dmode)) < 0)
		goto done;
	if (release_current(dir, er->commit)) {
		rc = fix_modes(c, dir, er);
		goto done;
	}
	/* a directory there that the last publish did not write is someone
	 * else's: it is neither replaced nor removed */
	if (!known && access(dir, F_OK) == 0) {
		rc = sluice_error_set(SLUICE_EIO,
				      "cannot publish %s@%s: %s exists and was not written by the "
				      "last publish; move it out of the publish directory",
				      er->plugin, er->version, dir);
		goto done;
	}
	if ((rc = sluice_effective_release_open(&tree, c, p, er)) < 0)
		goto done;
	if ((rc = sluice_rm_rf(tmp)) < 0 || (rc = mkdir_owned(tmp, dmode)) < 0)
		goto done;
	for (char **f = er->files; f && *f; f++) {
		if ((rc = sluice_tree_read(tree, &data, &len, *f,
					    c->max_file_bytes ? c->max_file_bytes
								 : SLUICE_DOC_DEFAULT_MAX_BYTES)) < 0 ||
		    (rc = write_file(c, tmp, *f, data, len)) < 0)
			goto done;
		free(data);
		data = NULL;
	}
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "plugin", er->plugin, "version",
			      er->version, "tag", er->tag, "commit", er->commit);
	meta = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if ((rc = write_file(c, tmp, RELEASE_FILE, meta, strlen(meta))) < 0)
		goto done;
	/* A directory at the same version but another commit (an accepted tag
	 * move) is swapped out, and removed after the document switched. */
	if (access(dir, F_OK) == 0) {
		if (rename(dir, old) < 0) {
			rc = sluice_error_set(SLUICE_EIO, "cannot move %s aside: %s", dir,
					      strerror(errno));
			goto done;
		}
		*swapped = old;
		old = NULL;
	}
	if (rename(tmp, dir) < 0)
		rc = sluice_error_set(SLUICE_EIO, "cannot rename %s to %s: %s", tmp, dir,
				      strerror(errno));
done:
	if (rc < 0)
		sluice_rm_rf(tmp);
	sluice_tree_free(tree);
	free(meta);
	free(data);
	free(old);
	free(tmp);
	free(dir);
	free(pdir);
	free(rdir);
	return rc;
}

/* Whether a directory between dir and dir/rel is a symbolic link: a name
 * from the manifest is removed only where the publisher wrote it, never
 * through a link someone put in its place. */
static bool through_link(const char *dir, const char *rel)
{
	char *path = sluice_path_join(dir, rel);
	size_t keep = strlen(dir);
	struct stat st;
	bool link = false;

	for (char *slash; !link && (slash = strrchr(path, '/')) && (size_t)(slash - path) > keep;) {
		*slash = '\0';
		link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
	}
	free(path);
	return link;
}

/* Removes dir/rel, then each directory between it and dir that it leaves
 * empty. A file already gone is no error. */
static int remove_file(const char *dir, const char *rel)
{
	char *path = sluice_path_join(dir, rel);
	size_t keep = strlen(dir);
	int rc = 0;

	if (through_link(dir, rel))
		rc = sluice_error_set(SLUICE_EIO,
				      "cannot remove %s: a directory on its way is a symbolic link; "
				      "remove the link from the publish directory",
				      path);
	else if (unlink(path) < 0 && errno != ENOENT)
		rc = sluice_error_set(SLUICE_EIO, "cannot remove %s: %s", path, strerror(errno));
	for (char *slash; rc == 0 && (slash = strrchr(path, '/')) && (size_t)(slash - path) > keep;) {
		*slash = '\0';
		if (rmdir(path) < 0)
			break; /* not empty: someone else's files are in it */
	}
	free(path);
	return rc;
}

/* The copy a tag move swapped out (`old`, the former releases/P/V): the
 * files the last publish wrote there, then the directory if nothing else
 * is left in it. */
static int remove_swapped(const char *old, const char *plugin, const char *version, json_t *was)
{
	char *prefix = sluice_xasprintf("releases/%s/%s/", plugin, version);
	size_t n = strlen(prefix);
	const char *f;
	json_t *v;
	int rc = 0;

	json_object_foreach (was, f, v)
		if (strncmp(f, prefix, n) == 0 && remove_file(old, f + n) < 0)
			rc = SLUICE_EIO;
	rmdir(old);
	free(prefix);
	return rc;
}

/* After the switch: every file the last publish wrote that this one did
 * not. Nothing else in the directory is touched. */
static int prune(const char *base, json_t *was, json_t *now)
{
	const char *f;
	json_t *v;
	int rc = 0;

	json_object_foreach (was, f, v)
		if (!json_object_get(now, f) && remove_file(base, f) < 0)
			rc = SLUICE_EIO;
	return rc;
}

/* name is stem + kind + digits: a temporary name this publisher makes
 * (sluice_file_write_atomic's FILE.tmp.PID, a release's .VERSION.tmp.PID). */
static bool tmp_name(const char *name, const char *stem, const char *kind)
{
	size_t ls = strlen(stem), lk = strlen(kind);
	if (strncmp(name, stem, ls) != 0 || strncmp(name + ls, kind, lk) != 0)
		return false;
	name += ls + lk;
	return *name && strspn(name, "0123456789") == strlen(name);
}

/* The temporary files and directories of a pass that was killed before its
 * rename, by their exact names: FILE.tmp.PID of the files it writes at the
 * top, .VERSION.tmp.PID and .VERSION.old.PID of the releases it wrote or
 * writes now. Publishing runs under the reconcile lease, so no live writer
 * owns one. Anything else is left alone. */
static void sweep_tmp(const char *base, json_t *was, const sluice_effective *eff)
{
	static const char *const top[] = {DOC_FILE, CACHE_FILE, MANIFEST_FILE, NULL};
	json_t *releases = json_object(), *v;
	const char *f;
	DIR *d = opendir(base);
	struct dirent *e;

	while (d && (e = readdir(d)))
		for (const char *const *t = top; *t; t++)
			if (tmp_name(e->d_name, *t, ".tmp.")) {
				char *path = sluice_path_join(base, e->d_name);
				unlink(path);
				free(path);
			}
	if (d)
		closedir(d);
	/* plugin -> {version: true} of every release written or to write */
	for (size_t i = 0; i < eff->nreleases; i++) {
		json_t *byver = json_object_get(releases, eff->releases[i].plugin);
		if (!byver)
			json_object_set_new(releases, eff->releases[i].plugin, byver = json_object());
		json_object_set_new(byver, eff->releases[i].version, json_true());
	}
	json_object_foreach (was, f, v) {
		char plugin[256], version[256];
		if (sscanf(f, "releases/%255[^/]/%255[^/]/", plugin, version) != 2)
			continue;
		json_t *byver = json_object_get(releases, plugin);
		if (!byver)
			json_object_set_new(releases, plugin, byver = json_object());
		json_object_set_new(byver, version, json_true());
	}
	json_object_foreach (releases, f, v) {
		char *pdir = sluice_xasprintf("%s/releases/%s", base, f);
		const char *version;
		json_t *t;
		if ((d = opendir(pdir))) {
			while ((e = readdir(d)))
				json_object_foreach (v, version, t) {
					char *stem = sluice_xasprintf(".%s", version);
					if (tmp_name(e->d_name, stem, ".tmp.") ||
					    tmp_name(e->d_name, stem, ".old.")) {
						char *path = sluice_path_join(pdir, e->d_name);
						sluice_rm_rf(path);
						free(path);
					}
					free(stem);
				}
			closedir(d);
		}
		free(pdir);
	}
	json_decref(releases);
}

/* What this publish writes: the document, the cache and each release's
 * files, in a stable order (the manifest) and as a set. */
static json_t *written_files(const sluice_effective *eff, json_t *set)
{
	json_t *list = json_array();
	const char *top[] = {DOC_FILE, CACHE_FILE};

	for (size_t i = 0; i < 2; i++)
		json_array_append_new(list, json_string(top[i]));
	for (size_t i = 0; i < eff->nreleases; i++) {
		const sluice_effective_release *er = &eff->releases[i];
		for (char **f = er->files; f && *f; f++)
			json_array_append_new(list, json_sprintf("releases/%s/%s/%s", er->plugin,
								 er->version, *f));
		json_array_append_new(list, json_sprintf("releases/%s/%s/%s", er->plugin,
							 er->version, RELEASE_FILE));
	}
	size_t k;
	json_t *v;
	json_array_foreach (list, k, v)
		json_object_set_new(set, json_string_value(v), json_true());
	return list;
}

static int write_json(const sluice_publish_ctx *c, const char *base, const char *name, json_t *j,
		      size_t flags, bool newline)
{
	char *text = json_dumps(j, flags), *path = sluice_path_join(base, name);
	sluice_buf b = SLUICE_BUF_INIT;
	int rc;

	sluice_buf_printf(&b, "%s%s", text ? text : "null", newline ? "\n" : "");
	rc = sluice_file_write_atomic_mode(path, b.ptr, b.len, sluice_publish_file_mode(c));
	sluice_buf_clear(&b);
	free(path);
	free(text);
	return rc;
}

static int dir_publish(const sluice_publisher *p, const sluice_publish_ctx *c,
		       const sluice_effective *eff)
{
	char *base = base_dir(c), **swapped = NULL;
	json_t *manifest = manifest_load(base), *was = manifest_files(manifest), *now = json_object(),
	       *list = NULL, *next = NULL;
	int rc;

	if ((rc = mkdir_owned(base, sluice_publish_dir_mode(c))) < 0)
		goto done;
	sweep_tmp(base, was, eff);
	swapped = sluice_xcalloc(eff->nreleases + 1, sizeof *swapped);
	for (size_t i = 0; i < eff->nreleases; i++) {
		const sluice_effective_release *er = &eff->releases[i];
		char *known = sluice_xasprintf("releases/%s/%s/%s", er->plugin, er->version,
					       RELEASE_FILE);
		rc = write_release(p, c, base, er, json_object_get(was, known) != NULL,
				   &swapped[i]);
		free(known);
		if (rc < 0)
			goto done;
	}
	if ((rc = write_json(c, base, DOC_FILE, eff->doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER,
			     true)) < 0 ||
	    (rc = write_json(c, base, CACHE_FILE, eff->cache, JSON_COMPACT | JSON_PRESERVE_ORDER,
			     false)) < 0)
		goto done;
	list = written_files(eff, now);
	for (size_t i = 0; i < eff->nreleases; i++)
		if (swapped[i] && remove_swapped(swapped[i], eff->releases[i].plugin,
						 eff->releases[i].version, was) < 0)
			rc = SLUICE_EIO;
	if (prune(base, was, now) < 0 || rc < 0) {
		/* no manifest: the next pass publishes again and retries */
		rc = SLUICE_EIO;
		goto done;
	}
	next = json_pack("{s:i, s:s, s:O}", "format", MANIFEST_FORMAT, "signature", eff->signature,
			 "files", list);
	rc = write_json(c, base, MANIFEST_FILE, next, JSON_INDENT(1) | JSON_PRESERVE_ORDER, true);
done:
	for (size_t i = 0; swapped && i < eff->nreleases; i++)
		free(swapped[i]);
	free(swapped);
	json_decref(next);
	json_decref(list);
	json_decref(now);
	json_decref(was);
	json_decref(manifest);
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
