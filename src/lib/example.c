/* The example plugin repository of `sluice init --example`, written with
 * libgit2 into a bare repository: no work tree, no git binary needed. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "sluice/error.h"
#include "sluice/example.h"
#include "sluice/source.h"
#include "sluice/util.h"

static int git_fail(const char *what, const char *git_dir)
{
	const git_error *ge = git_error_last();
	int rc = sluice_error_set(SLUICE_EGIT, "cannot %s in %s: %s", what, git_dir,
				  ge && ge->message ? ge->message : "unknown libgit2 error");
	git_error_clear();
	return rc;
}

int sluice_example_repo_create(char **commit_out, const char *git_dir,
			       const sluice_example_file *files, size_t nfiles, const char *tag,
			       const char *email, long long when)
{
	git_repository *repo = NULL;
	git_index *index = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_object *target = NULL;
	git_oid tree_id, commit_id, tag_id;
	char hex[GIT_OID_HEXSZ + 1];
	char *message = NULL;
	struct stat st;
	int rc;

	if (commit_out)
		*commit_out = NULL;
	if (lstat(git_dir, &st) == 0)
		return sluice_error_set(SLUICE_EREFUSED,
					"%s already exists; init never overwrites files (remove it "
					"or choose another directory)", git_dir);
	if ((rc = sluice_source_init()) < 0)
		return rc;
	if ((rc = sluice_mkdir_p(git_dir, 0755)) < 0)
		return rc;
	git_repository_init_options io = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	io.initial_head = "main";
	if (git_repository_init_ext(&repo, git_dir, &io) < 0) {
		rc = git_fail("create the repository", git_dir);
		goto done;
	}
	if (git_index_new(&index) < 0) {
		rc = git_fail("make an index", git_dir);
		goto done;
	}
	for (size_t i = 0; i < nfiles; i++) {
		git_index_entry ent;
		memset(&ent, 0, sizeof ent);
		ent.mode = GIT_FILEMODE_BLOB;
		ent.path = files[i].name;
		if (git_blob_create_from_buffer(&ent.id, repo, files[i].data,
						strlen(files[i].data)) < 0 ||
		    git_index_add(index, &ent) < 0) {
			rc = git_fail("add a file", git_dir);
			goto done;
		}
	}
	if (git_index_write_tree_to(&tree_id, index, repo) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0) {
		rc = git_fail("write the tree", git_dir);
		goto done;
	}
	if (git_signature_new(&sig, email, email, (git_time_t)when, 0) < 0) {
		rc = git_fail("make a signature", git_dir);
		goto done;
	}
	message = sluice_xasprintf("Release %s\n", tag);
	if (git_commit_create(&commit_id, repo, "refs/heads/main", sig, sig, NULL, message, tree, 0,
			      NULL) < 0 ||
	    git_object_lookup(&target, repo, &commit_id, GIT_OBJECT_COMMIT) < 0 ||
	    git_tag_create(&tag_id, repo, tag, target, sig, message, 0) < 0) {
		rc = git_fail("commit and tag", git_dir);
		goto done;
	}
	git_oid_tostr(hex, sizeof hex, &commit_id);
	if (commit_out)
		*commit_out = sluice_xstrdup(hex);
	rc = 0;
done:
	free(message);
	git_object_free(target);
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(index);
	git_repository_free(repo);
	return rc;
}
