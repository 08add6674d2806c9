/* The source module: mirrors, fetch passes, tags, trees read from the
 * object database, and SSH tag signatures. Repositories are made at run
 * time with the git CLI in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sluice/error.h"
#include "sluice/source.h"
#include "sluice/tree.h"
#include "sluice/util.h"

static char tmpdir[] = "/tmp/sluice-test-source.XXXXXX";
static char *cache;

/* Runs a shell command in the temporary directory; fails the test if it
 * fails. (Test code only: the product never uses a shell.) */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int n = snprintf(cmd, sizeof cmd, "cd '%s' && (", tmpdir);
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof cmd - (size_t)n, ") >/dev/null 2>&1");
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static char *up(const char *name)
{
	return sluice_xasprintf("%s/%s", tmpdir, name);
}

static char *file_url(const char *name)
{
	return sluice_xasprintf("file://%s/%s", tmpdir, name);
}

static int setup_all(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	char *home = up("home");
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	free(home);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Author", 1);
	setenv("GIT_AUTHOR_EMAIL", "author@acme.example", 1);
	setenv("GIT_COMMITTER_NAME", "Committer", 1);
	setenv("GIT_COMMITTER_EMAIL", "committer@acme.example", 1);
	cache = up("cache");
	/* An upstream repository with an annotated and a lightweight tag. */
	sh("git init -q -b main up && cd up && mkdir -p guidance tools && "
	   "printf 'id: demo\\nversion: 0.1.0\\n' > plugin.yaml && "
	   "echo role > guidance/role.md && echo '{}' > tools/a.json && "
	   "git add -A && git commit -qm one && "
	   "GIT_COMMITTER_EMAIL=tagger@acme.example git tag -a v0.1.0 -m 'release 0.1.0' && "
	   "echo two > guidance/role.md && git commit -qam two && git tag v0.2.0");
	return 0;
}

static int teardown_all(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	free(cache);
	return system(cmd) == 0 ? 0 : -1;
}

static bool strv_has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

static size_t strv_len(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

static const sluice_tag *find_tag(const sluice_tag_list *l, const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	return NULL;
}

static void test_mirror_names(void **state)
{
	(void)state;
	char *a = sluice_source_mirror_name("acme/codex-plugin-x");
	assert_string_equal(a, "acme+codex-plugin-x.git");
	char *b = sluice_source_mirror_name("../evil");
	assert_null(strchr(b, '/'));
	assert_true(b[0] != '.');
	char *c = sluice_source_mirror_name("a/b_c");
	char *d = sluice_source_mirror_name("a_b/c");
	assert_string_not_equal(c, d);
	char *e = sluice_source_mirror_name("file:///srv/git/acme/x.git");
	assert_null(strchr(e, '/'));
	char longkey[600];
	memset(longkey, 'x', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	char *f = sluice_source_mirror_name(longkey);
	assert_true(strlen(f) <= 204);
	longkey[0] = 'y';
	char *g = sluice_source_mirror_name(longkey);
	assert_string_not_equal(f, g);
	free(a), free(b), free(c), free(d), free(e), free(f), free(g);
}

static void test_check_url(void **state)
{
	(void)state;
	assert_int_equal(sluice_source_check_url("file:///srv/git/x.git"), 0);
	assert_int_equal(sluice_source_check_url("/srv/git/x.git"), 0);
	assert_int_equal(sluice_source_check_url("https://git.acme.example/x.git"), 0);
	assert_int_equal(sluice_source_check_url("http://127.0.0.1:8080/x.git"), 0);
	assert_int_equal(sluice_source_check_url("http://git.acme.example/x.git"), SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "plain http is not allowed"));
	assert_int_equal(sluice_source_check_url("gopher://u:secret@h/x"), SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "unsupported repository URL"));
	assert_null(strstr(sluice_error_last(), "secret"));
}

static void test_fetch_cycle(void **state)
{
	(void)state;
	sluice_fetch_result r;
	sluice_tag_list tags;
	char *url = file_url("up");

	/* First pass clones every tag. */
	assert_int_equal(sluice_source_fetch(&r, cache, "acme/demo", url, NULL), 0);
	assert_int_equal(r.status, SLUICE_FETCH_CLONED);
	assert_string_equal(sluice_fetch_status_name(r.status), "cloned");
	assert_int_equal(strv_len(r.new_tags), 2);
	assert_true(strv_has(r.new_tags, "v0.1.0") && strv_has(r.new_tags, "v0.2.0"));
	assert_null(r.warning);
	sluice_fetch_result_clear(&r);

	/* Nothing changed: no fetch. */
	assert_int_equal(sluice_source_fetch(&r, cache, "acme/demo", url, NULL), 0);
	assert_int_equal(r.status, SLUICE_FETCH_UNCHANGED);
	assert_int_equal(strv_len(r.new_tags), 0);
	sluice_fetch_result_clear(&r);

	/* Annotated and lightweight tags as recorded. */
	assert_int_equal(sluice_source_tags(&tags, cache, "acme/demo"), 0);
	assert_int_equal(tags.count, 2);
	const sluice_tag *a = find_tag(&tags, "v0.1.0"), *l = find_tag(&tags, "v0.2.0");
	assert_non_null(a);
	assert_non_null(l);
	assert_true(a->annotated);
	assert_string_not_equal(a->id, a->commit);
	assert_string_equal(a->tagger_email, "tagger@acme.example");
	assert_string_equal(sluice_tag_email(a), "tagger@acme.example");
	assert_false(a->ssh_signed);
	assert_false(l->annotated);
	assert_string_equal(l->id, l->commit);
	assert_null(l->tagger_email);
	/* a lightweight tag: author and committer both made the release */
	assert_string_equal(sluice_tag_email(l), "author@acme.example, committer@acme.example");
	assert_string_equal(l->committer_email, "committer@acme.example");
	char old_v2[SLUICE_OID_HEXSZ + 1];
	strcpy(old_v2, l->commit);
	sluice_tag_list_clear(&tags);

	/* A new tag, a moved tag and a deleted tag in one pass. */
	sh("cd up && echo three > guidance/role.md && git commit -qam three && "
	   "git tag v0.3.0 && git tag -f v0.2.0 && git tag -d v0.1.0");
	assert_int_equal(sluice_source_fetch(&r, cache, "acme/demo", url, NULL), 0);
	assert_int_equal(r.status, SLUICE_FETCH_FETCHED);
	assert_int_equal(strv_len(r.new_tags), 1);
	assert_string_equal(r.new_tags[0], "v0.3.0");
	assert_int_equal(strv_len(r.moved_tags), 1);
	assert_string_equal(r.moved_tags[0], "v0.2.0");
	assert_int_equal(strv_len(r.deleted_tags), 1);
	assert_string_equal(r.deleted_tags[0], "v0.1.0");
	sluice_fetch_result_clear(&r);
	assert_int_equal(sluice_source_tags(&tags, cache, "acme/demo"), 0);
	assert_int_equal(tags.count, 2);
	assert_null(find_tag(&tags, "v0.1.0"));
	assert_string_not_equal(find_tag(&tags, "v0.2.0")->commit, old_v2);
	assert_string_equal(find_tag(&tags, "v0.2.0")->commit, find_tag(&tags, "v0.3.0")->commit);
	sluice_tag_list_clear(&tags);

	/* The tree at v0.2.0 refuses the old commit: the tag moved. */
	sluice_tree *t = NULL;
	assert_int_equal(sluice_source_open_tree(&t, cache, "acme/demo", "v0.2.0", old_v2),
			 SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "tag 'v0.2.0' of 'acme/demo@v0.2.0' moved"));
	assert_null(t);
	free(url);
}

static void test_unreachable_keeps_mirror(void **state)
{
	(void)state;
	sluice_fetch_result r;
	sluice_tag_list tags;
	char *url = file_url("up");
	char *gone = up("no-such-repo");
	char *gone_url = file_url("no-such-repo");

	assert_int_equal(sluice_source_fetch(&r, cache, "acme/keep", url, NULL), 0);
	sluice_fetch_result_clear(&r);
	assert_true(sluice_source_fetch(&r, cache, "acme/keep", gone, NULL) < 0);
	assert_int_equal(r.status, SLUICE_FETCH_ERROR);
	assert_non_null(strstr(sluice_error_last(), "cannot reach"));
	sluice_fetch_result_clear(&r);
	assert_true(sluice_source_fetch(&r, cache, "acme/keep", gone_url, NULL) < 0);
	assert_non_null(strstr(sluice_error_last(), "cannot reach 'file://"));
	sluice_fetch_result_clear(&r);
	/* The last known state is still there. */
	assert_int_equal(sluice_source_tags(&tags, cache, "acme/keep"), 0);
	assert_true(tags.count >= 2);
	sluice_tag_list_clear(&tags);

	/* A first fetch from nowhere leaves no mirror behind. */
	assert_true(sluice_source_fetch(&r, cache, "acme/never", gone_url, NULL) < 0);
	sluice_fetch_result_clear(&r);
	assert_int_equal(sluice_source_tags(&tags, cache, "acme/never"), SLUICE_ENOTFOUND);
	assert_non_null(strstr(sluice_error_last(), "run 'sluice fetch' first"));
	free(url), free(gone), free(gone_url);
}

static void corrupt_and_refetch(const char *key, const char *how)
{
	sluice_fetch_result r;
	sluice_tag_list tags;
	char *url = file_url("up");
	char *mirror = sluice_source_mirror_path(cache, key);

	assert_int_equal(sluice_source_fetch(&r, cache, key, url, NULL), 0);
	assert_int_equal(r.status, SLUICE_FETCH_CLONED);
	sluice_fetch_result_clear(&r);
	sh("cd '%s' && %s", mirror, how);
	assert_int_equal(sluice_source_fetch(&r, cache, key, url, NULL), 0);
	assert_int_equal(r.status, SLUICE_FETCH_CLONED);
	assert_non_null(r.warning);
	assert_non_null(strstr(r.warning, "is corrupt"));
	assert_non_null(strstr(r.warning, "cloning it again"));
	sluice_fetch_result_clear(&r);
	assert_int_equal(sluice_source_tags(&tags, cache, key), 0);
	assert_int_equal(tags.count, 2);
	sluice_tag_list_clear(&tags);
	assert_int_equal(sluice_source_fetch(&r, cache, key, url, NULL), 0);
	assert_int_equal(r.status, SLUICE_FETCH_UNCHANGED);
	sluice_fetch_result_clear(&r);
	free(url), free(mirror);
}

static void test_corrupt_mirror_objects_dir(void **state)
{
	(void)state;
	corrupt_and_refetch("acme/corrupt1", "rm -rf objects");
}

static void test_corrupt_mirror_head(void **state)
{
	(void)state;
	corrupt_and_refetch("acme/corrupt2", "rm -f HEAD");
}

static void test_corrupt_mirror_truncated_pack(void **state)
{
	(void)state;
	corrupt_and_refetch("acme/corrupt3",
			    "ls objects/pack/*.pack >/dev/null && for p in objects/pack/*.pack; "
			    "do truncate -s 40 \"$p\"; done");
}

static void test_tree_git(void **state)
{
	(void)state;
	sluice_fetch_result r;
	sluice_tree *t = NULL;
	char *data = NULL;
	size_t len = 0;
	char **names = NULL;
	char *url = file_url("tree");

	sh("git init -q -b main tree && cd tree && mkdir -p guidance tools sub && "
	   "printf 'id: demo\\n' > plugin.yaml && echo role > guidance/role.md && "
	   "echo '{}' > tools/a.json && ln -s ../../../../etc/passwd guidance/evil.md && "
	   "ln -s /etc tools-link && head -c 52428800 /dev/zero > big.bin && "
	   "git add -A && "
	   "git update-index --add --cacheinfo 160000,0123456789012345678901234567890123456789,sub/mod && "
	   "git commit -qm tree && git tag v1.0.0");
	assert_int_equal(sluice_source_fetch(&r, cache, "acme/tree", url, NULL), 0);
	sluice_fetch_result_clear(&r);
	assert_int_equal(sluice_source_open_tree(&t, cache, "acme/tree", "v1.0.0", NULL), 0);
	assert_non_null(sluice_tree_git_commit(t));
	assert_int_equal(strlen(sluice_tree_git_commit(t)), 40);

	assert_int_equal(sluice_tree_read(t, &data, &len, "plugin.yaml", 4096), 0);
	assert_string_equal(data, "id: demo\n");
	assert_int_equal(len, 9);
	free(data);
	data = NULL;
	assert_int_equal(sluice_tree_read(t, &data, &len, "guidance/role.md", 4096), 0);
	assert_string_equal(data, "role\n");
	free(data);
	data = NULL;

	assert_int_equal(sluice_tree_read(t, &data, &len, "guidance/none.md", 4096),
			 SLUICE_ENOTFOUND);
	assert_non_null(strstr(sluice_error_last(), "'guidance/none.md' not found"));
	assert_int_equal(sluice_tree_read(t, &data, &len, "guidance/evil.md", 4096),
			 SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "'guidance/evil.md' is a symlink"));
	assert_int_equal(sluice_tree_read(t, &data, &len, "tools-link/passwd", 4096),
			 SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "'tools-link' is a symlink"));
	assert_int_equal(sluice_tree_read(t, &data, &len, "sub/mod/plugin.yaml", 4096),
			 SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "'sub/mod' is a submodule"));
	assert_int_equal(sluice_tree_read(t, &data, &len, "../plugin.yaml", 4096), SLUICE_EINVAL);
	assert_int_equal(sluice_tree_read(t, &data, &len, "/plugin.yaml", 4096), SLUICE_EINVAL);
	assert_int_equal(sluice_tree_read(t, &data, &len, "guidance", 4096), SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "is a directory"));
	assert_int_equal(sluice_tree_read(t, &data, &len, "big.bin", 4u << 20), SLUICE_ELIMIT);
	assert_non_null(strstr(sluice_error_last(),
			       "'big.bin' is 52428800 bytes, over the limit of 4194304 bytes"));
	assert_null(data);

	assert_int_equal(sluice_tree_list(t, &names, "guidance"), 0);
	assert_non_null(names[0]);
	assert_string_equal(names[0], "role.md");
	assert_null(names[1]); /* the symlink is not a regular file */
	sluice_strv_free(names);
	assert_int_equal(sluice_tree_list(t, &names, ""), 0);
	assert_string_equal(names[0], "big.bin");
	assert_string_equal(names[1], "plugin.yaml");
	assert_null(names[2]);
	sluice_strv_free(names);
	sluice_tree_free(t);
	t = NULL;

	assert_int_equal(sluice_source_open_tree(&t, cache, "acme/tree", "v9.9.9", NULL),
			 SLUICE_ENOTFOUND);
	assert_non_null(strstr(sluice_error_last(), "tag 'v9.9.9' not found"));
	free(url);
}

static void test_split_signature(void **state)
{
	(void)state;
	const char *tag = "object 0123\ntype commit\ntag v1\ntagger T <t@x> 1 +0000\n\nmsg\n"
			  "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n";
	size_t plen, slen;
	const char *sig;
	assert_true(sluice_tag_split_signature(tag, strlen(tag), &plen, &sig, &slen));
	assert_int_equal(plen, strstr(tag, "-----BEGIN") - tag);
	assert_true(strncmp(sig, "-----BEGIN SSH SIGNATURE-----", 29) == 0);
	assert_int_equal(plen + slen, strlen(tag));
	const char *plain = "object 0123\ntype commit\n\nmsg\n";
	assert_false(sluice_tag_split_signature(plain, strlen(plain), &plen, &sig, &slen));
	const char *cut = "x\n-----BEGIN SSH SIGNATURE-----\nAAAA\n";
	assert_false(sluice_tag_split_signature(cut, strlen(cut), &plen, &sig, &slen));
}

static void test_signed_tags(void **state)
{
	(void)state;
	sluice_fetch_result r;
	sluice_tag_list tags;
	char *url = file_url("signed");
	char *signers = up("allowed_signers");
	char *other = up("other_signers");

	sh("ssh-keygen -q -t ed25519 -N '' -C test -f key && "
	   "ssh-keygen -q -t ed25519 -N '' -C other -f otherkey && "
	   "printf 'signer@acme.example namespaces=\"git\" %%s\\n' \"$(cat key.pub)\" > allowed_signers && "
	   "printf 'signer@acme.example namespaces=\"git\" %%s\\n' \"$(cat otherkey.pub)\" > other_signers && "
	   "git init -q -b main signed && cd signed && echo x > plugin.yaml && git add -A && "
	   "git commit -qm one && "
	   "GIT_COMMITTER_EMAIL=signer@acme.example git -c gpg.format=ssh "
	   "-c user.signingkey=\"$PWD/../key\" tag -s v1.0.0 -m 'signed release' && "
	   "GIT_COMMITTER_EMAIL=signer@acme.example git tag -a v1.1.0 -m unsigned && "
	   "git tag v1.2.0 && "
	   "GIT_COMMITTER_EMAIL=intruder@acme.example git -c gpg.format=ssh "
	   "-c user.signingkey=\"$PWD/../key\" tag -s v1.3.0 -m 'other identity'");
	assert_int_equal(sluice_source_fetch(&r, cache, "acme/signed", url, NULL), 0);
	sluice_fetch_result_clear(&r);
	assert_int_equal(sluice_source_tags(&tags, cache, "acme/signed"), 0);
	assert_true(find_tag(&tags, "v1.0.0")->ssh_signed);
	assert_false(find_tag(&tags, "v1.1.0")->ssh_signed);
	sluice_tag_list_clear(&tags);

	assert_int_equal(sluice_source_verify_tag(cache, "acme/signed", "v1.0.0", signers), 0);
	assert_int_equal(sluice_source_verify_tag(cache, "acme/signed", "v1.0.0", other),
			 SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "the ssh signature of tag 'v1.0.0'"));
	assert_non_null(strstr(sluice_error_last(), "does not verify"));
	assert_int_equal(sluice_source_verify_tag(cache, "acme/signed", "v1.1.0", signers),
			 SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "is not signed with an ssh key"));
	assert_int_equal(sluice_source_verify_tag(cache, "acme/signed", "v1.2.0", signers),
			 SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "is lightweight"));
	/* Signed by a listed key, but tagged by an address the key is not
	 * listed for. */
	assert_int_equal(sluice_source_verify_tag(cache, "acme/signed", "v1.3.0", signers),
			 SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "intruder@acme.example"));
	assert_int_equal(sluice_source_verify_tag(cache, "acme/signed", "v1.0.0", "/nonexistent"),
			 SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "cannot read allowed_signers"));
	free(url), free(signers), free(other);
}

static void test_ssh_verify_tampered_payload(void **state)
{
	(void)state;
	char *signers = up("allowed_signers");
	char *keyfile = up("key");
	char *msgfile = up("msg.txt");
	char *sigfile = up("msg.txt.sig");
	char *sig = NULL;
	size_t siglen = 0;

	/* allowed_signers and key come from test_signed_tags. */
	sh("echo 'the payload' > msg.txt && ssh-keygen -q -Y sign -f key -n git msg.txt");
	assert_int_equal(sluice_file_read(&sig, &siglen, sigfile, 65536), 0);
	assert_int_equal(sluice_ssh_verify(signers, "signer@acme.example", "git", "the payload\n",
					   12, sig, siglen),
			 0);
	assert_int_equal(sluice_ssh_verify(signers, "signer@acme.example", "git", "the paylaod\n",
					   12, sig, siglen),
			 SLUICE_EREFUSED);
	assert_true(strlen(sluice_error_last()) > 0);
	/* The wrong namespace is refused too. */
	assert_int_equal(sluice_ssh_verify(signers, "signer@acme.example", "file", "the payload\n",
					   12, sig, siglen),
			 SLUICE_EREFUSED);
	free(sig), free(signers), free(keyfile), free(msgfile), free(sigfile);
}

static void test_redact_url(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"https://user:hunter2@git.acme.example/x.git", "https://***@git.acme.example/x.git"},
		{"https://tok@h:8443/x", "https://***@h:8443/x"},
		{"https://git.acme.example/@scope/x.git", "https://git.acme.example/@scope/x.git"},
		{"file:///srv/git/x.git", "file:///srv/git/x.git"},
		{"git@github.com:acme/x.git", "git@github.com:acme/x.git"},
		{"cannot reach 'http://u:p@a/x': from 'https://v:q@b/y' ", "cannot reach 'http://***@a/x': from 'https://***@b/y' "},
		{"https://u:pa@ss@h/x", "https://***@h/x"},
		{"", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = sluice_source_redact_url(cases[i][0]);
		assert_string_equal(got, cases[i][1]);
		free(got);
	}
	assert_null(sluice_source_redact_url(NULL));
}

/* A fetch error quotes the URL (and libgit2 may too): masked either way. */
static void test_fetch_error_masks_password(void **state)
{
	sluice_fetch_result r;
	(void)state;
	assert_true(sluice_source_fetch(&r, cache, "acme/pw", "http://u:hunter2@example.invalid/x",
					NULL) < 0);
	assert_null(strstr(sluice_error_last(), "hunter2"));
	assert_non_null(strstr(sluice_error_last(), "http://***@example.invalid/x"));
	sluice_fetch_result_clear(&r);
	assert_true(sluice_source_fetch(&r, cache, "acme/pw", "https://u:hunter2@127.0.0.1:1/x",
					NULL) < 0);
	assert_null(strstr(sluice_error_last(), "hunter2"));
	sluice_fetch_result_clear(&r);
}

static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0)
			v = atol(line + n);
	if (f)
		fclose(f);
	return v;
}

static void peak_anon(void *payload, const sluice_fetch_progress *p)
{
	long *peak = payload, now = status_kb("RssAnon:");
	(void)p;
	if (now > *peak)
		*peak = now;
}

/* docs/sources.md: a big fetch stays within a memory budget. A 100 MB
 * incompressible blob is fetched from a local repository (through git
 * upload-pack, as a network fetch would be): the process's own memory
 * (anonymous pages, sampled while the pack streams in) stays under 100 MB.
 * The peak resident set, which also counts the pages of the pack file being
 * indexed (libgit2 keeps them mapped until the pack is written), is
 * printed, not asserted. */
static void test_big_fetch_memory(void **state)
{
	sluice_fetch_result r;
	long peak = 0;
	struct rusage ru;
	(void)state;

	sh("git init -q -b main big && cd big && echo 'id: big' > plugin.yaml && "
	   "head -c 104857600 /dev/urandom > blob.bin && git add -A && git commit -qm big && "
	   "git tag v0.1.0");
	char *url = file_url("big");
	sluice_fetch_opts o = {.progress = peak_anon, .payload = &peak};
	assert_int_equal(sluice_source_fetch(&r, cache, "acme/big", url, &o), 0);
	assert_int_equal(r.status, SLUICE_FETCH_CLONED);
	assert_true(r.bytes > 100000000);
	peak_anon(&peak, NULL);
	getrusage(RUSAGE_SELF, &ru);
	printf("# 100 MB blob: peak anonymous %ld kB; peak resident %ld kB (VmHWM %ld kB)\n",
	       peak, ru.ru_maxrss, status_kb("VmHWM:"));
	sluice_fetch_result_clear(&r);
#if !defined(__SANITIZE_ADDRESS__)
	/* (AddressSanitizer's own bookkeeping is not the product's budget) */
	assert_true(peak > 0 && peak < 100 * 1024);
#endif
	sh("rm -rf big");
	free(url);
}

/* repositories.max_fetch_bytes: the download stops past the limit, with a
 * message naming the repository and the limit; nothing is left behind. */
static void test_fetch_limit(void **state)
{
	sluice_fetch_result r;
	(void)state;

	sh("git init -q -b main limit && cd limit && echo 'id: limit' > plugin.yaml && "
	   "head -c 3145728 /dev/urandom > blob.bin && git add -A && git commit -qm big && "
	   "git tag v0.1.0");
	char *url = file_url("limit");
	sluice_fetch_opts o = {.max_bytes = 1048576};
	assert_int_equal(sluice_source_fetch(&r, cache, "acme/limit", url, &o), SLUICE_ELIMIT);
	assert_int_equal(r.status, SLUICE_FETCH_ERROR);
	assert_non_null(strstr(sluice_error_last(), "refusing to fetch 'acme/limit'"));
	assert_non_null(strstr(sluice_error_last(), "repositories.max_fetch_bytes (1048576 bytes)"));
	sluice_fetch_result_clear(&r);
	char *mirror = sluice_source_mirror_path(cache, "acme/limit");
	struct stat st;
	assert_int_not_equal(stat(mirror, &st), 0);
	o.max_bytes = 8 * 1048576;
	assert_int_equal(sluice_source_fetch(&r, cache, "acme/limit", url, &o), 0);
	assert_int_equal(r.status, SLUICE_FETCH_CLONED);
	sluice_fetch_result_clear(&r);
	free(mirror);
	free(url);
}

/* A remote's advertisement read without libgit2 is compared with the
 * mirror as sluice_source_fetch compares its own listing. */
static void test_compare_refs(void **state)
{
	(void)state;
	sluice_fetch_result r, fr;
	sluice_tag_list tags = {0};
	sluice_tag_refs refs;
	sluice_remote_refs adv = {0};
	bool unchanged = true;
	char *url = file_url("up");

	assert_int_equal(sluice_source_fetch(&fr, cache, "cmp", url, NULL), 0);
	assert_int_equal(sluice_source_tags(&tags, cache, "cmp"), 0);
	adv.items = sluice_xcalloc(tags.count * 2 + 2, sizeof *adv.items);
	for (size_t i = 0; i < tags.count; i++) {
		sluice_remote_ref *a = &adv.items[adv.count++];
		a->name = sluice_xasprintf("refs/tags/%s", tags.items[i].name);
		memcpy(a->id, tags.items[i].id, sizeof a->id);
		if (tags.items[i].annotated) { /* its peeled line is no tag */
			sluice_remote_ref *pe = &adv.items[adv.count++];
			pe->name = sluice_xasprintf("refs/tags/%s^{}", tags.items[i].name);
			memcpy(pe->id, tags.items[i].commit, sizeof pe->id);
		}
	}
	sluice_remote_ref *odd = &adv.items[adv.count++];
	odd->name = sluice_xstrdup("refs/tags/bad\x1b[31m");
	memcpy(odd->id, tags.items[0].id, sizeof odd->id);

	assert_int_equal(sluice_source_compare_refs(&r, &unchanged, cache, "cmp", &adv), 0);
	assert_true(unchanged);
	assert_int_equal(r.status, SLUICE_FETCH_UNCHANGED);
	assert_string_equal(r.fingerprint, fr.fingerprint);
	assert_int_equal(sluice_source_tag_refs(&refs, cache, "cmp"), 0);
	assert_string_equal(r.fingerprint, refs.fingerprint);
	assert_int_equal(strv_len(r.notes), 1);
	assert_non_null(strstr(r.notes[0], "skipped ref 'refs/tags/bad\\x1b[31m'"));
	assert_int_equal(strv_len(r.new_tags), 0);
	sluice_fetch_result_clear(&r);

	/* a tag that moved upstream: fetch it */
	adv.items[0].id[0] = adv.items[0].id[0] == 'a' ? 'b' : 'a';
	assert_int_equal(sluice_source_compare_refs(&r, &unchanged, cache, "cmp", &adv), 0);
	assert_false(unchanged);
	sluice_fetch_result_clear(&r);
	/* no mirror yet: clone it */
	assert_int_equal(sluice_source_compare_refs(&r, &unchanged, cache, "nothing-here", &adv), 0);
	assert_false(unchanged);
	sluice_fetch_result_clear(&r);

	sluice_tag_refs_clear(&refs);
	sluice_remote_refs_clear(&adv);
	sluice_tag_list_clear(&tags);
	sluice_fetch_result_clear(&fr);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirror_names),
		cmocka_unit_test(test_check_url),
		cmocka_unit_test(test_fetch_cycle),
		cmocka_unit_test(test_unreachable_keeps_mirror),
		cmocka_unit_test(test_corrupt_mirror_objects_dir),
		cmocka_unit_test(test_corrupt_mirror_head),
		cmocka_unit_test(test_corrupt_mirror_truncated_pack),
		cmocka_unit_test(test_tree_git),
		cmocka_unit_test(test_split_signature),
		cmocka_unit_test(test_signed_tags),
		cmocka_unit_test(test_ssh_verify_tampered_payload),
		cmocka_unit_test(test_redact_url),
		cmocka_unit_test(test_compare_refs),
		cmocka_unit_test(test_fetch_error_masks_password),
		cmocka_unit_test(test_fetch_limit),
		cmocka_unit_test(test_big_fetch_memory),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
