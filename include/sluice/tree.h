/* A read-only file tree: a plugin is read from a directory or from the
 * tree of a tagged git commit through the same small interface. */
#ifndef SLUICE_TREE_H
#define SLUICE_TREE_H

#include <stddef.h>

typedef struct sluice_tree sluice_tree;

struct sluice_tree_ops {
	/* Reads the file at relative `path`; see sluice_tree_read. */
	int (*read)(sluice_tree *t, char **out, size_t *out_len, const char *path,
		    size_t max);
	/* Lists regular files in directory `dir` (relative, "" for the top):
	 * a NULL-terminated malloc'd array of malloc'd names. */
	int (*list)(sluice_tree *t, char ***out, const char *dir);
	void (*free)(sluice_tree *t);
};

struct sluice_tree {
	const struct sluice_tree_ops *ops;
	char *label; /* how files are named in messages, e.g. the directory */
};

/* Opens the directory `dir` as a tree. Caller frees with sluice_tree_free. */
int sluice_tree_open_dir(sluice_tree **out, const char *dir);

/* Reads `path` (relative, '/'-separated) from the tree. Paths that are
 * absolute, contain a ".." or empty segment, or resolve through a symlink
 * that leaves the tree are refused with SLUICE_EINVAL; a missing file is
 * SLUICE_ENOTFOUND; a file over `max` bytes is SLUICE_ELIMIT. On success
 * *out is a malloc'd NUL-terminated copy (caller frees). */
int sluice_tree_read(sluice_tree *t, char **out, size_t *out_len,
		     const char *path, size_t max);

/* Lists the regular files directly in `dir`; free with sluice_strv_free. */
int sluice_tree_list(sluice_tree *t, char ***out, const char *dir);

/* Checks that a relative path is safe to look up (no "..", not absolute,
 * no empty segment, no control characters). Returns NULL when it is, or
 * a static description of what is wrong. */
const char *sluice_path_problem(const char *path);

void sluice_strv_free(char **v);
void sluice_tree_free(sluice_tree *t);

#endif
