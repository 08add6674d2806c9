/* The example plugin repository that `sluice init --example` makes, so
 * that a first look at Sluice works without a git server: the reference
 * plugin shipped in examples/plugins/ committed into a bare repository and
 * tagged as its first release (docs/getting-started.md). */
#ifndef SLUICE_EXAMPLE_H
#define SLUICE_EXAMPLE_H

#include <stddef.h>

/* One file of the plugin tree: its path inside the repository and its
 * bytes (NUL-terminated text). */
typedef struct {
	const char *name;
	const char *data;
} sluice_example_file;

/* Creates the bare repository `git_dir` (refused when it exists) holding
 * `files` as one commit on `main`, tagged with the annotated tag `tag`
 * (message "<plugin> <version>"). Author, committer and tagger are
 * `email`, dated `when` (seconds since the epoch), so the ids are the same
 * on every machine. *commit_out (may be NULL) receives the commit id in
 * hex (caller frees). Returns 0 or a negative SLUICE_E* code. */
int sluice_example_repo_create(char **commit_out, const char *git_dir,
			       const sluice_example_file *files, size_t nfiles, const char *tag,
			       const char *email, long long when);

#endif
