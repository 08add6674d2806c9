/* Git sources: each watched plugin repository is kept as a bare mirror of
 * its tags in the cache directory. A fetch pass lists the remote's refs
 * first and fetches only when its tags changed, so a pass that finds
 * nothing new costs one ref listing per repository. Releases are read
 * from the tagged commit's tree in the object database (no checkout). */
#ifndef SLUICE_SOURCE_H
#define SLUICE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/tree.h"

#define SLUICE_OID_HEXSZ 40

/* Initialises libgit2 once per process (later calls do nothing). Every
 * sluice_source_* function calls it; returns 0 or SLUICE_EGIT. */
int sluice_source_init(void);

/* Uses the CA bundle file `path` (workspace `repositories.ca_bundle`) to
 * verify https servers instead of the system's store. TLS verification is
 * always on. Returns 0, SLUICE_ENOTFOUND when the file cannot be read, or
 * SLUICE_EGIT. */
int sluice_source_set_ca_bundle(const char *path);

/* Checks that this build can reach `url`: local paths and file:// always,
 * https and ssh (ssh://, user@host:path) when the linked libgit2 supports
 * them, plain http only to the loopback address. Returns 0, or
 * SLUICE_EINVAL with a message that names the missing support. */
int sluice_source_check_url(const char *url);

/* A copy of `text` - a URL, or a message that quotes URLs - with the user
 * information of every scheme://user:password@host in it replaced by
 * "***": the one mask every message, row and line of output that shows a
 * repository URL goes through. NULL for NULL; caller frees. */
char *sluice_source_redact_url(const char *text);

/* The mirror directory name for `key` (a repository's owner/name, or its
 * URL when it has none): a reversible escaping that keeps [A-Za-z0-9._-],
 * writes '/' as '+', everything else as %XX, and ends in ".git"; long keys
 * are shortened with a hash. Never contains '/' and never starts with '.'.
 * Caller frees. */
char *sluice_source_mirror_name(const char *key);

/* <cache_dir>/<mirror name>; caller frees. */
char *sluice_source_mirror_path(const char *cache_dir, const char *key);

typedef struct {
	const char *key;         /* the repository being fetched */
	unsigned received_objects;
	unsigned total_objects;
	size_t received_bytes;
} sluice_fetch_progress;

typedef struct {
	/* Name of an environment variable holding a token; it is sent as the
	 * https password with the user name "x-access-token". */
	const char *credentials_env;
	/* A file holding such a token (first line). Tokens are never stored,
	 * logged or put in messages. Without either, ssh uses the agent. */
	const char *credentials_file;
	/* Called while objects arrive; may be NULL. */
	void (*progress)(void *payload, const sluice_fetch_progress *p);
	void *payload;
	/* The most a fetch may download (pack bytes, and so the largest
	 * object): workspace repositories.max_fetch_bytes; 0 means
	 * SLUICE_FETCH_MAX_BYTES_DEFAULT. Past it the fetch stops with
	 * SLUICE_ELIMIT and the mirror is left as it was. */
	uint64_t max_bytes;
} sluice_fetch_opts;

#define SLUICE_FETCH_MAX_BYTES_DEFAULT (256ull * 1024 * 1024)

typedef enum {
	SLUICE_FETCH_UNCHANGED = 0, /* the remote's tags equal the mirror's */
	SLUICE_FETCH_FETCHED,       /* tags were added, moved or deleted */
	SLUICE_FETCH_CLONED,        /* the mirror was created (or re-created) */
	SLUICE_FETCH_ERROR,
} sluice_fetch_status;

const char *sluice_fetch_status_name(sluice_fetch_status s);

typedef struct {
	sluice_fetch_status status;
	/* NULL-terminated arrays of tag names ("v1.2.3"), never NULL after a
	 * fetch: tags the mirror did not have (every tag on a clone), tags
	 * that now point at another object, and tags gone upstream (pruned
	 * from the mirror; the release keeps its record and is flagged). */
	char **new_tags;
	char **moved_tags;
	char **deleted_tags;
	/* NULL-terminated, never NULL after a fetch: what the pass skipped and
	 * why, e.g. "skipped ref 'refs/tags/\x1b[31m': not a valid ref name"
	 * (control characters escaped). */
	char **notes;
	/* Set when the mirror was unreadable and was cloned again: why. */
	char *warning;
	unsigned objects;  /* received */
	size_t bytes;
	/* A digest of the remote's tag names and ids (after a successful
	 * listing; "" on error): equal fingerprints mean nothing changed. */
	char fingerprint[SLUICE_OID_HEXSZ + 1];
} sluice_fetch_result;

void sluice_fetch_result_init(sluice_fetch_result *r);
void sluice_fetch_result_clear(sluice_fetch_result *r);

/* Brings the mirror of `key` in <cache_dir> up to date with the tags at
 * `url`: lists the remote's refs, compares them with the mirror's
 * refs/tags and fetches (+refs/tags/ *:refs/tags/ *) only when they differ,
 * pruning tags deleted upstream. A missing mirror is cloned; a corrupt one
 * (unopenable, or a tag whose objects cannot be read) is cloned again
 * into a temporary directory and swapped in, with out->warning set. An
 * unreachable remote leaves the mirror as it was. Returns 0 with *out
 * filled (clear it with sluice_fetch_result_clear), or a negative code
 * with the error set and out->status SLUICE_FETCH_ERROR. */
int sluice_source_fetch(sluice_fetch_result *out, const char *cache_dir, const char *key,
			const char *url, const sluice_fetch_opts *opts);

/* One ref of a remote's advertisement, as a server sent it. */
typedef struct {
	char *name;                    /* "refs/tags/v1.2.3", "refs/tags/v1.2.3^{}", "HEAD" */
	char id[SLUICE_OID_HEXSZ + 1]; /* lowercase hex */
} sluice_remote_ref;

typedef struct {
	sluice_remote_ref *items;
	size_t count;
} sluice_remote_refs;

void sluice_remote_refs_clear(sluice_remote_refs *r);

/* Compares the tags in `refs` (a remote's advertisement read without
 * libgit2, e.g. over smart HTTP) with the mirror of `key`, exactly as
 * sluice_source_fetch compares the listing it gets itself: peeled "^{}"
 * entries are skipped, a name git would refuse is skipped with a note, and
 * a missing or corrupt mirror is never "unchanged". Returns 0 with
 * *unchanged true and *out filled as sluice_source_fetch fills it for a
 * remote whose tags equal the mirror's (status SLUICE_FETCH_UNCHANGED,
 * fingerprint, notes); 0 with *unchanged false when the mirror needs a
 * fetch (*out is then empty); SLUICE_EGIT when the mirror cannot be read.
 * Clear *out with sluice_fetch_result_clear either way. */
int sluice_source_compare_refs(sluice_fetch_result *out, bool *unchanged, const char *cache_dir,
			       const char *key, const sluice_remote_refs *refs);

/* The token of `o` (credentials_env, else credentials_file: its first
 * line), as a fetch sends it. Returns 0 and a malloc'd *out (NULL when o
 * names none), or SLUICE_ENOTFOUND saying which variable or file is
 * missing or empty. The caller wipes and frees it. */
int sluice_source_token(char **out, const sluice_fetch_opts *o);

/* One tag of a mirror. */
typedef struct {
	char *name;                          /* "v1.2.3", without refs/tags/ */
	char id[SLUICE_OID_HEXSZ + 1];       /* tag object, or the commit when lightweight */
	char commit[SLUICE_OID_HEXSZ + 1];   /* the commit it peels to; "" if it is not one */
	bool annotated;
	bool ssh_signed;       /* the tag object carries an SSH signature block */
	char *tagger_email;    /* annotated tags; NULL otherwise */
	char *author_email;    /* of the commit */
	char *committer_email; /* of the commit */
	char *attribution;     /* who made the release: see sluice_tag_email */
	int64_t time;          /* tagger time, or the commit time */
} sluice_tag;

typedef struct {
	sluice_tag *items;
	size_t count;
} sluice_tag_list;

/* Who a release is attributed to (docs/concepts.md): the tagger's e-mail
 * for an annotated tag; for a lightweight tag the commit's author, or
 * "author, committer" when they differ, since both made the release and
 * neither may approve it. Borrowed; may be NULL. */
const char *sluice_tag_email(const sluice_tag *t);

/* Lists refs/tags/ * of the mirror of `key`, sorted by name. Annotated tags
 * are peeled to their commit. Returns 0 (clear with
 * sluice_tag_list_clear), SLUICE_ENOTFOUND when there is no mirror yet
 * ("run 'sluice fetch'"), or SLUICE_EGIT. */
int sluice_source_tags(sluice_tag_list *out, const char *cache_dir, const char *key);
void sluice_tag_list_clear(sluice_tag_list *l);

/* The names of a mirror's tags, read from its refs alone (no object is
 * read), and the digest of its refs/tags: the same as
 * sluice_fetch_result.fingerprint after a fetch that left the mirror equal
 * to the remote, so a caller that kept that fingerprint can tell that the
 * mirror has not changed since, at the cost of one ref listing. */
typedef struct {
	char **names; /* NULL-terminated, sorted; without refs/tags/ */
	size_t count;
	char fingerprint[SLUICE_OID_HEXSZ + 1];
} sluice_tag_refs;

/* Returns 0 (clear with sluice_tag_refs_clear), SLUICE_ENOTFOUND when there
 * is no mirror yet, or SLUICE_EGIT. */
int sluice_source_tag_refs(sluice_tag_refs *out, const char *cache_dir, const char *key);
void sluice_tag_refs_clear(sluice_tag_refs *r);

/* Opens the tree of the commit that tag `tag` (e.g. "v0.1.0") points at
 * in the bare repository at `repo_path`, read straight from the object
 * database. When `expect_commit` is not NULL, a tag that now points at
 * another commit is refused (SLUICE_EREFUSED) so a moved tag is never
 * read as the recorded release. `label` names the tree in messages
 * (NULL: "<tag>"). Reading follows tree.h; in addition symlinks and
 * submodules on a requested path are refused (SLUICE_EINVAL naming the
 * path), and a blob's size is checked before it is loaded. Returns 0,
 * SLUICE_ENOTFOUND (no such tag or repository) or SLUICE_EGIT. Caller
 * frees with sluice_tree_free. */
int sluice_tree_open_git(sluice_tree **out, const char *repo_path, const char *tag,
			 const char *expect_commit, const char *label);

/* The same for the mirror of `key` in `cache_dir`. */
int sluice_source_open_tree(sluice_tree **out, const char *cache_dir, const char *key,
			    const char *tag, const char *expect_commit);

/* The commit id (hex) a git tree was opened at; NULL for other trees. */
const char *sluice_tree_git_commit(const sluice_tree *t);

/* ---- SSH tag signatures (sign.c) --------------------------------------- */

/* Splits the raw content of a tag object into the signed payload and the
 * trailing "-----BEGIN SSH SIGNATURE-----" block. Returns true and sets
 * *payload_len, *sig and *sig_len when there is such a block. */
bool sluice_tag_split_signature(const char *content, size_t len, size_t *payload_len,
				const char **sig, size_t *sig_len);

/* Verifies an SSH signature over `payload` with
 *   ssh-keygen -Y verify -f ALLOWED_SIGNERS -I IDENTITY -n NAMESPACE -s SIGFILE
 * run directly (fork/execvp, no shell) with the payload on stdin.
 * Returns 0 when it verifies, SLUICE_EREFUSED with ssh-keygen's reason
 * when it does not, SLUICE_EIO when ssh-keygen cannot be run. */
int sluice_ssh_verify(const char *allowed_signers, const char *identity, const char *ns,
		      const char *payload, size_t payload_len, const char *sig, size_t sig_len);

/* Verifies the SSH signature of tag `tag` in the mirror of `key` against
 * `allowed_signers`, with the tagger's e-mail as the identity. Returns 0
 * when it verifies; SLUICE_EREFUSED when the tag is lightweight, unsigned
 * or its signature does not verify (the message says which); other
 * negative codes when it could not be checked. */
int sluice_source_verify_tag(const char *cache_dir, const char *key, const char *tag,
			     const char *allowed_signers);

#endif
