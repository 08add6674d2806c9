/* A sluice_tree over the tree of a tagged commit, read straight from the
 * object database: no checkout, so nothing in the release can touch the
 * file system, and a symlink or submodule is refused rather than followed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "sluice/error.h"
#include "sluice/source.h"
#include "sluice/util.h"

typedef struct {
	sluice_tree base;
	git_repository *repo;
	git_odb *odb;
	git_tree *root;
	char commit[SLUICE_OID_HEXSZ + 1];
} git_tree_impl;

static const char *git_msg(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

static bool is_blob_mode(git_filemode_t m)
{
	return m == GIT_FILEMODE_BLOB || m == GIT_FILEMODE_BLOB_EXECUTABLE;
}

/* Walks `path` ("" for the root) from the root tree one segment at a time
 * so that a symlink or submodule anywhere on the way is named. On success
 * *entry_out is the final entry (a dup, caller frees) or NULL for the
 * root. */
static int walk(git_tree_entry **entry_out, git_tree_impl *g, const char *path)
{
	git_tree *cur = g->root, *next = NULL;
	git_tree_entry *entry = NULL;
	const char *problem;
	char *copy = NULL, *seg, *save = NULL;
	sluice_buf sofar = SLUICE_BUF_INIT;
	int rc = 0;

	*entry_out = NULL;
	if (!*path)
		return 0;
	if ((problem = sluice_path_problem(path)))
		return sluice_error_set(SLUICE_EINVAL, "%s: path '%s' is refused: %s", g->base.label,
					path, problem);
	copy = sluice_xstrdup(path);
	for (seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		if (sofar.len)
			sluice_buf_puts(&sofar, "/");
		sluice_buf_puts(&sofar, seg);
		if (!cur) {
			rc = sluice_error_set(SLUICE_ENOTFOUND, "%s: '%s' not found at the tag",
					      g->base.label, path);
			goto done;
		}
		const git_tree_entry *e = git_tree_entry_byname(cur, seg);
		if (!e) {
			rc = sluice_error_set(SLUICE_ENOTFOUND, "%s: '%s' not found at the tag",
					      g->base.label, path);
			goto done;
		}
		git_filemode_t mode = git_tree_entry_filemode(e);
		if (mode == GIT_FILEMODE_LINK) {
			rc = sluice_error_set(SLUICE_EINVAL,
					      "%s: '%s' is a symlink; symlinks are not followed in a "
					      "plugin release: commit the file itself",
					      g->base.label, sofar.ptr);
			goto done;
		}
		if (mode == GIT_FILEMODE_COMMIT) {
			rc = sluice_error_set(SLUICE_EINVAL,
					      "%s: '%s' is a submodule; submodules are not read in a "
					      "plugin release: commit the files into the plugin's "
					      "repository",
					      g->base.label, sofar.ptr);
			goto done;
		}
		git_tree_entry_free(entry);
		entry = NULL;
		if (git_tree_entry_dup(&entry, e) < 0) {
			rc = sluice_error_set(SLUICE_EGIT, "%s: %s", g->base.label, git_msg());
			goto done;
		}
		if (cur != g->root)
			git_tree_free(cur);
		cur = NULL;
		if (mode == GIT_FILEMODE_TREE &&
		    git_tree_lookup(&next, g->repo, git_tree_entry_id(entry)) < 0) {
			rc = sluice_error_set(SLUICE_EGIT, "%s: cannot read directory '%s': %s",
					      g->base.label, sofar.ptr, git_msg());
			goto done;
		}
		cur = next;
		next = NULL;
	}
	*entry_out = entry;
	entry = NULL;
done:
	if (cur && cur != g->root)
		git_tree_free(cur);
	git_tree_entry_free(entry);
	sluice_buf_clear(&sofar);
	free(copy);
	return rc;
}

static int git_read(sluice_tree *t, char **out, size_t *out_len, const char *path, size_t max)
{
	git_tree_impl *g = (git_tree_impl *)t;
	git_tree_entry *entry = NULL;
	git_odb_object *obj = NULL;
	size_t size;
	git_object_t type;
	int rc;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (!*path)
		return sluice_error_set(SLUICE_EINVAL, "%s: an empty path names no file",
					t->label);
	if ((rc = walk(&entry, g, path)) < 0)
		goto done;
	if (!is_blob_mode(git_tree_entry_filemode(entry))) {
		rc = sluice_error_set(SLUICE_EINVAL, "%s: '%s' is a directory, not a file",
				      t->label, path);
		goto done;
	}
	/* The header gives the size without inflating the blob, so a huge
	 * file costs nothing to refuse. */
	if (git_odb_read_header(&size, &type, g->odb, git_tree_entry_id(entry)) < 0) {
		rc = sluice_error_set(SLUICE_EGIT, "%s: cannot read '%s': %s", t->label, path,
				      git_msg());
		goto done;
	}
	if (size > max) {
		rc = sluice_error_set(SLUICE_ELIMIT,
				      "%s: '%s' is %zu bytes, over the limit of %zu bytes "
				      "(policy.max_file_bytes)",
				      t->label, path, size, max);
		goto done;
	}
	if (git_odb_read(&obj, g->odb, git_tree_entry_id(entry)) < 0) {
		rc = sluice_error_set(SLUICE_EGIT, "%s: cannot read '%s': %s", t->label, path,
				      git_msg());
		goto done;
	}
	size = git_odb_object_size(obj);
	*out = sluice_xmalloc(size + 1);
	memcpy(*out, git_odb_object_data(obj), size);
	(*out)[size] = '\0';
	if (out_len)
		*out_len = size;
done:
	git_odb_object_free(obj);
	git_tree_entry_free(entry);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int git_list(sluice_tree *t, char ***out, const char *dir)
{
	git_tree_impl *g = (git_tree_impl *)t;
	git_tree_entry *entry = NULL;
	git_tree *tree = NULL;
	char **names = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if ((rc = walk(&entry, g, dir)) < 0)
		goto done;
	if (entry && git_tree_entry_filemode(entry) != GIT_FILEMODE_TREE) {
		rc = sluice_error_set(SLUICE_EINVAL, "%s: '%s' is not a directory", t->label, dir);
		goto done;
	}
	if (entry && git_tree_lookup(&tree, g->repo, git_tree_entry_id(entry)) < 0) {
		rc = sluice_error_set(SLUICE_EGIT, "%s: cannot read directory '%s': %s", t->label,
				      dir, git_msg());
		goto done;
	}
	const git_tree *src = tree ? tree : g->root;
	size_t count = git_tree_entrycount(src);
	names = sluice_xcalloc(count + 1, sizeof(char *));
	/* Only regular files, as for a directory tree: a symlink or submodule
	 * is refused when something reads it. */
	for (size_t i = 0; i < count; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(src, i);
		if (is_blob_mode(git_tree_entry_filemode(e)))
			names[n++] = sluice_xstrdup(git_tree_entry_name(e));
	}
	qsort(names, n, sizeof(char *), name_cmp);
	*out = names;
	names = NULL;
done:
	git_tree_free(tree);
	git_tree_entry_free(entry);
	free(names);
	return rc;
}

static void git_free(sluice_tree *t)
{
	git_tree_impl *g = (git_tree_impl *)t;
	git_tree_free(g->root);
	git_odb_free(g->odb);
	git_repository_free(g->repo);
	free(g->base.label);
	free(g);
}

static const struct sluice_tree_ops git_ops = {
	.read = git_read,
	.list = git_list,
	.free = git_free,
};

const char *sluice_tree_git_commit(const sluice_tree *t)
{
	if (!t || t->ops != &git_ops)
		return NULL;
	return ((const git_tree_impl *)t)->commit;
}

int sluice_tree_open_git(sluice_tree **out, const char *repo_path, const char *tag,
			 const char *expect_commit, const char *label)
{
	git_tree_impl *g = NULL;
	git_reference *ref = NULL;
	git_object *target = NULL;
	git_commit *commit = NULL;
	char *refname = NULL;
	int rc;

	*out = NULL;
	if ((rc = sluice_source_init()) < 0)
		return rc;
	g = sluice_xcalloc(1, sizeof *g);
	g->base.ops = &git_ops;
	g->base.label = sluice_xstrdup(label ? label : tag);
	if (git_repository_open_ext(&g->repo, repo_path,
				    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
				    NULL) < 0) {
		rc = sluice_error_set(SLUICE_ENOTFOUND, "cannot open the repository '%s': %s",
				      repo_path, git_msg());
		goto done;
	}
	int valid = 0;
	refname = sluice_xasprintf("refs/tags/%s", tag);
	if (git_reference_name_is_valid(&valid, refname) < 0 || !valid) {
		rc = sluice_error_set(SLUICE_EINVAL, "'%s' is not a valid tag name", tag);
		goto done;
	}
	if (git_reference_lookup(&ref, g->repo, refname) < 0) {
		rc = sluice_error_set(SLUICE_ENOTFOUND,
				      "tag '%s' not found in '%s'; 'sluice tags' lists the tags", tag,
				      g->base.label);
		goto done;
	}
	if (git_reference_peel(&target, ref, GIT_OBJECT_COMMIT) < 0) {
		rc = sluice_error_set(SLUICE_EINVAL, "tag '%s' of '%s' does not point at a commit",
				      tag, g->base.label);
		goto done;
	}
	commit = (git_commit *)target;
	target = NULL;
	git_oid_tostr(g->commit, sizeof g->commit, git_commit_id(commit));
	if (expect_commit && strcmp(expect_commit, g->commit) != 0) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "tag '%s' of '%s' moved: it was recorded at commit %s and now "
				      "points at %s; an operator must run 'sluice accept-tag-move'",
				      tag, g->base.label, expect_commit, g->commit);
		goto done;
	}
	if (git_commit_tree(&g->root, commit) < 0 || git_repository_odb(&g->odb, g->repo) < 0) {
		rc = sluice_error_set(SLUICE_EGIT, "cannot read the tree of '%s' at '%s': %s",
				      g->base.label, tag, git_msg());
		goto done;
	}
	*out = &g->base;
	g = NULL;
done:
	if (g)
		git_free(&g->base);
	git_commit_free(commit);
	git_object_free(target);
	git_reference_free(ref);
	free(refname);
	return rc;
}
