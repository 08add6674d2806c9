/* File trees: the interface a plugin is read through, and its directory
 * implementation. A plugin names its files by relative paths, and a
 * plugin is untrusted input: every path is checked here, once, for every
 * kind of tree, and the directory tree refuses symlinks that lead out. */
/* realpath() is XSI */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/error.h"
#include "sluice/tree.h"
#include "sluice/util.h"

typedef struct {
	sluice_tree base;
	char *root; /* the directory's real path, no trailing '/' */
} dir_tree;

const char *sluice_path_problem(const char *path)
{
	if (!path || !*path)
		return "is empty";
	if (path[0] == '/')
		return "is an absolute path; name files relative to the plugin directory";
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "contains a control character";
	for (const char *seg = path;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0)
			return "has an empty segment ('//' or a trailing '/')";
		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return "contains '..'; files must stay inside the plugin directory";
		if (!end)
			break;
		seg = end + 1;
	}
	return NULL;
}

void sluice_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void sluice_tree_free(sluice_tree *t)
{
	if (!t)
		return;
	t->ops->free(t);
}

int sluice_tree_read(sluice_tree *t, char **out, size_t *out_len, const char *path, size_t max)
{
	const char *why = sluice_path_problem(path);
	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (why)
		return sluice_error_set(SLUICE_EINVAL, "'%s' %s", path ? path : "", why);
	return t->ops->read(t, out, out_len, path, max);
}

int sluice_tree_list(sluice_tree *t, char ***out, const char *dir)
{
	*out = NULL;
	if (dir && *dir) {
		const char *why = sluice_path_problem(dir);
		if (why)
			return sluice_error_set(SLUICE_EINVAL, "'%s' %s", dir, why);
	}
	return t->ops->list(t, out, dir ? dir : "");
}

static bool inside(const dir_tree *d, const char *real)
{
	size_t n = strlen(d->root);
	if (strcmp(d->root, "/") == 0)
		return true;
	return strncmp(real, d->root, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

/* Resolves `path` under the tree and checks that no symlink on the way
 * leads out of it. Each prefix is checked, so the message names the
 * link itself ('guidance' or 'guidance/role.md'). A link swapped between
 * this check and the open is not caught: trees are the administrators'
 * own checkouts, not a directory an attacker writes to while we read. */
static int dir_resolve(char **out, dir_tree *d, const char *path)
{
	char *full = sluice_path_join(d->root, path);
	size_t rootlen = strcmp(d->root, "/") == 0 ? 0 : strlen(d->root);
	char *real = NULL;
	int rc = 0;

	*out = NULL;
	for (char *p = full + rootlen + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		struct stat st;
		if (lstat(full, &st) < 0) {
			rc = sluice_error_set(errno == ENOENT || errno == ENOTDIR ? SLUICE_ENOTFOUND
										: SLUICE_EIO,
					      "'%s' not found in %s", path, d->base.label);
			goto done;
		}
		if (S_ISLNK(st.st_mode)) {
			char *r = realpath(full, NULL);
			if (!r) {
				rc = sluice_error_set(SLUICE_ENOTFOUND,
						      "'%s' is a symlink to nothing (in %s)",
						      full + rootlen + 1, d->base.label);
				goto done;
			}
			bool ok = inside(d, r);
			free(r);
			if (!ok) {
				rc = sluice_error_set(SLUICE_EINVAL,
						      "'%s' is a symlink that leaves the plugin tree",
						      full + rootlen + 1);
				goto done;
			}
		}
		*p = saved;
		if (!saved)
			break;
	}
	real = realpath(full, NULL);
	if (!real) {
		rc = sluice_error_set(SLUICE_ENOTFOUND, "'%s' not found in %s", path, d->base.label);
		goto done;
	}
	if (!inside(d, real)) {
		/* cannot happen after the walk above; kept as the last word */
		rc = sluice_error_set(SLUICE_EINVAL, "'%s' leads out of the plugin tree", path);
		goto done;
	}
	*out = real;
	real = NULL;
done:
	free(real);
	free(full);
	return rc;
}

static int dir_read(sluice_tree *t, char **out, size_t *out_len, const char *path, size_t max)
{
	dir_tree *d = (dir_tree *)t;
	char *real = NULL;
	struct stat st;
	int rc = dir_resolve(&real, d, path);
	if (rc < 0)
		goto done;
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = sluice_error_set(SLUICE_EINVAL, "'%s' is not a regular file", path);
		goto done;
	}
	if ((size_t)st.st_size > max) {
		rc = sluice_error_set(SLUICE_ELIMIT,
				      "'%s' is %lld bytes, over the limit of %zu bytes; raise "
				      "policy.max_file_bytes if it really needs to be this big",
				      path, (long long)st.st_size, max);
		goto done;
	}
	rc = sluice_file_read(out, out_len, real, max);
	if (rc == SLUICE_ELIMIT)
		rc = sluice_error_set(SLUICE_ELIMIT, "'%s' is over the limit of %zu bytes", path,
				      max);
	else if (rc < 0)
		rc = sluice_error_wrap(rc, "cannot read '%s' in %s", path, d->base.label);
done:
	free(real);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dir_list(sluice_tree *t, char ***out, const char *dir)
{
	dir_tree *d = (dir_tree *)t;
	char *real = NULL;
	DIR *dh = NULL;
	char **v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (*dir) {
		rc = dir_resolve(&real, d, dir);
		if (rc < 0)
			goto done;
	} else {
		real = sluice_xstrdup(d->root);
	}
	dh = opendir(real);
	if (!dh) {
		rc = sluice_error_set(errno == ENOENT ? SLUICE_ENOTFOUND : SLUICE_EIO,
				      "cannot list '%s' in %s: %s", *dir ? dir : ".", d->base.label,
				      strerror(errno));
		goto done;
	}
	for (struct dirent *e; (e = readdir(dh));) {
		struct stat st;
		if (e->d_name[0] == '.' &&
		    (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
			continue;
		/* symlinks to files are listed; reading one that leaves the
		 * tree is refused with its own message */
		if (fstatat(dirfd(dh), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			v = sluice_xrealloc(v, cap * sizeof *v);
		}
		v[n++] = sluice_xstrdup(e->d_name);
	}
	if (!v)
		v = sluice_xcalloc(1, sizeof *v);
	v[n] = NULL;
	qsort(v, n, sizeof *v, cmp_str);
	*out = v;
	v = NULL;
done:
	if (dh)
		closedir(dh);
	sluice_strv_free(v ? (v[n] = NULL, v) : NULL);
	free(real);
	return rc;
}

static void dir_free(sluice_tree *t)
{
	dir_tree *d = (dir_tree *)t;
	free(d->root);
	free(d->base.label);
	free(d);
}

static const struct sluice_tree_ops dir_ops = {dir_read, dir_list, dir_free};

int sluice_tree_open_dir(sluice_tree **out, const char *dir)
{
	struct stat st;
	char *real;

	*out = NULL;
	real = realpath(dir, NULL);
	if (!real)
		return sluice_error_set(errno == ENOENT ? SLUICE_ENOTFOUND : SLUICE_EIO,
					"cannot open the directory %s: %s", dir, strerror(errno));
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(real);
		return sluice_error_set(SLUICE_EINVAL, "%s is not a directory", dir);
	}
	dir_tree *d = sluice_xcalloc(1, sizeof *d);
	d->base.ops = &dir_ops;
	d->base.label = sluice_xstrdup(dir);
	d->root = real;
	*out = &d->base;
	return 0;
}
