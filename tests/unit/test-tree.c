/* The directory tree: reads, listings, and the paths and symlinks it
 * refuses, on real files and symlinks made in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sluice/error.h"
#include "sluice/tree.h"
#include "sluice/util.h"

static char tmp[] = "/tmp/sluice-tree.XXXXXX";
static char *plugin; /* tmp/plugin: the tree */

static void put(const char *rel, const char *text)
{
	char *p = sluice_path_join(tmp, rel);
	assert_int_equal(sluice_file_write_atomic(p, text, strlen(text)), 0);
	free(p);
}

static void link_to(const char *target, const char *rel)
{
	char *p = sluice_path_join(tmp, rel);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static void mkdirs(const char *rel)
{
	char *p = sluice_path_join(tmp, rel);
	assert_int_equal(sluice_mkdir_p(p, 0755), 0);
	free(p);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmp))
		return -1;
	plugin = sluice_path_join(tmp, "plugin");
	mkdirs("plugin/guidance");
	mkdirs("plugin/tools");
	mkdirs("outside");
	put("plugin/plugin.yaml", "id: x\n");
	put("plugin/guidance/role.md", "# role\n");
	put("plugin/tools/b.json", "{}");
	put("plugin/tools/a.json", "[]");
	put("outside/secret.txt", "not yours\n");
	/* inside: allowed */
	link_to("../plugin.yaml", "plugin/guidance/manifest-link.md");
	link_to("guidance", "plugin/docs");
	/* leaving: refused */
	link_to("../../outside/secret.txt", "plugin/guidance/escape.md");
	link_to("../outside", "plugin/ext");
	link_to("/etc", "plugin/etc");
	link_to("missing-target", "plugin/guidance/dangling.md");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = sluice_xasprintf("rm -rf '%s'", tmp);
	int rc = system(cmd);
	free(cmd);
	free(plugin);
	return rc == 0 ? 0 : -1;
}

static sluice_tree *open_tree(void)
{
	sluice_tree *t = NULL;
	assert_int_equal(sluice_tree_open_dir(&t, plugin), 0);
	assert_non_null(t);
	assert_string_equal(t->label, plugin);
	return t;
}

/* Reading `path` fails with `code` and exactly `msg`. */
static void refused(sluice_tree *t, const char *path, int code, const char *msg)
{
	char *data = (char *)"untouched";
	size_t len = 99;
	assert_int_equal(sluice_tree_read(t, &data, &len, path, 1024), code);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_string_equal(sluice_error_last(), msg);
}

static void read_files(void **state)
{
	(void)state;
	sluice_tree *t = open_tree();
	char *data;
	size_t len;
	assert_int_equal(sluice_tree_read(t, &data, &len, "guidance/role.md", 1024), 0);
	assert_string_equal(data, "# role\n");
	assert_int_equal(len, 7);
	free(data);
	/* symlinks that stay inside the tree are followed */
	assert_int_equal(sluice_tree_read(t, &data, &len, "guidance/manifest-link.md", 1024), 0);
	assert_string_equal(data, "id: x\n");
	free(data);
	assert_int_equal(sluice_tree_read(t, &data, NULL, "docs/role.md", 1024), 0);
	assert_string_equal(data, "# role\n");
	free(data);
	assert_int_equal(sluice_tree_read(t, &data, NULL, "./plugin.yaml", 1024), 0);
	free(data);
	sluice_tree_free(t);
}

static void refuses_bad_paths(void **state)
{
	(void)state;
	sluice_tree *t = open_tree();
	refused(t, "/etc/passwd", SLUICE_EINVAL,
		"'/etc/passwd' is an absolute path; name files relative to the plugin directory");
	refused(t, "guidance/../../outside/secret.txt", SLUICE_EINVAL,
		"'guidance/../../outside/secret.txt' contains '..'; files must stay inside the "
		"plugin directory");
	refused(t, "..", SLUICE_EINVAL,
		"'..' contains '..'; files must stay inside the plugin directory");
	refused(t, "guidance//role.md", SLUICE_EINVAL,
		"'guidance//role.md' has an empty segment ('//' or a trailing '/')");
	refused(t, "guidance/", SLUICE_EINVAL,
		"'guidance/' has an empty segment ('//' or a trailing '/')");
	refused(t, "guidance/ro\nle.md", SLUICE_EINVAL,
		"'guidance/ro\nle.md' contains a control character");
	refused(t, "", SLUICE_EINVAL, "'' is empty");
	sluice_tree_free(t);
}

static void refuses_escaping_symlinks(void **state)
{
	(void)state;
	sluice_tree *t = open_tree();
	refused(t, "guidance/escape.md", SLUICE_EINVAL,
		"'guidance/escape.md' is a symlink that leaves the plugin tree");
	/* the directory on the way is the link that leaves */
	refused(t, "ext/secret.txt", SLUICE_EINVAL, "'ext' is a symlink that leaves the plugin tree");
	refused(t, "etc/passwd", SLUICE_EINVAL, "'etc' is a symlink that leaves the plugin tree");
	sluice_tree_free(t);
}

static void missing_and_too_big(void **state)
{
	(void)state;
	sluice_tree *t = open_tree();
	char *msg;
	msg = sluice_xasprintf("'guidance/nope.md' not found in %s", plugin);
	refused(t, "guidance/nope.md", SLUICE_ENOTFOUND, msg);
	free(msg);
	msg = sluice_xasprintf("'nodir/x.md' not found in %s", plugin);
	refused(t, "nodir/x.md", SLUICE_ENOTFOUND, msg);
	free(msg);
	msg = sluice_xasprintf("'guidance/dangling.md' is a symlink to nothing (in %s)", plugin);
	refused(t, "guidance/dangling.md", SLUICE_ENOTFOUND, msg);
	free(msg);
	refused(t, "guidance", SLUICE_EINVAL, "'guidance' is not a regular file");

	char *data;
	assert_int_equal(sluice_tree_read(t, &data, NULL, "plugin.yaml", 6), 0);
	free(data);
	assert_int_equal(sluice_tree_read(t, &data, NULL, "plugin.yaml", 5), SLUICE_ELIMIT);
	assert_null(data);
	assert_string_equal(sluice_error_last(),
			    "'plugin.yaml' is 6 bytes, over the limit of 5 bytes; raise "
			    "policy.max_file_bytes if it really needs to be this big");
	sluice_tree_free(t);
}

static void list_files(void **state)
{
	(void)state;
	sluice_tree *t = open_tree();
	char **v;
	assert_int_equal(sluice_tree_list(t, &v, "tools"), 0);
	assert_string_equal(v[0], "a.json");
	assert_string_equal(v[1], "b.json");
	assert_null(v[2]);
	sluice_strv_free(v);
	/* regular files only, sorted; directories and links to them left out */
	assert_int_equal(sluice_tree_list(t, &v, ""), 0);
	assert_string_equal(v[0], "plugin.yaml");
	assert_null(v[1]);
	sluice_strv_free(v);
	/* links to files are listed; reading one that leaves is refused */
	assert_int_equal(sluice_tree_list(t, &v, "guidance"), 0);
	assert_string_equal(v[0], "escape.md");
	assert_string_equal(v[1], "manifest-link.md");
	assert_string_equal(v[2], "role.md");
	assert_null(v[3]);
	sluice_strv_free(v);
	assert_int_equal(sluice_tree_list(t, &v, "ext"), SLUICE_EINVAL);
	assert_null(v);
	assert_string_equal(sluice_error_last(), "'ext' is a symlink that leaves the plugin tree");
	assert_int_equal(sluice_tree_list(t, &v, "../outside"), SLUICE_EINVAL);
	assert_int_equal(sluice_tree_list(t, &v, "nothing"), SLUICE_ENOTFOUND);
	sluice_tree_free(t);
	sluice_strv_free(NULL);
	sluice_tree_free(NULL);
}

static void open_errors(void **state)
{
	(void)state;
	sluice_tree *t = (sluice_tree *)1;
	char *p = sluice_path_join(tmp, "nowhere");
	assert_int_equal(sluice_tree_open_dir(&t, p), SLUICE_ENOTFOUND);
	assert_null(t);
	free(p);
	p = sluice_path_join(tmp, "plugin/plugin.yaml");
	assert_int_equal(sluice_tree_open_dir(&t, p), SLUICE_EINVAL);
	char *msg = sluice_xasprintf("%s is not a directory", p);
	assert_string_equal(sluice_error_last(), msg);
	free(msg);
	free(p);
}

static void path_problem(void **state)
{
	(void)state;
	assert_null(sluice_path_problem("plugin.yaml"));
	assert_null(sluice_path_problem("guidance/role.md"));
	assert_null(sluice_path_problem("./a/.hidden"));
	assert_null(sluice_path_problem("a/..b/c.."));
	assert_string_equal(sluice_path_problem(NULL), "is empty");
	assert_string_equal(sluice_path_problem("a/../b"),
			    "contains '..'; files must stay inside the plugin directory");
	assert_string_equal(sluice_path_problem("a\tb"), "contains a control character");
	assert_string_equal(sluice_path_problem("a\x7f"), "contains a control character");
	assert_string_equal(sluice_path_problem("/x"),
			    "is an absolute path; name files relative to the plugin directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_files),
		cmocka_unit_test(refuses_bad_paths),
		cmocka_unit_test(refuses_escaping_symlinks),
		cmocka_unit_test(missing_and_too_big),
		cmocka_unit_test(list_files),
		cmocka_unit_test(open_errors),
		cmocka_unit_test(path_problem),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
