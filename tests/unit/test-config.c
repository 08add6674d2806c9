/* The workspace loader's own rules (config.h): the id format, paths that
 * must stay inside --root, and that a members file outside it is never
 * read, even from a workspace nobody validated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/util.h"

static char tmpdir[256];

static void write_file(const char *rel, const char *text)
{
	char *p = sluice_path_join(tmpdir, rel);
	char *dir = sluice_xstrdup(p);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(sluice_mkdir_p(dir, 0755), 0);
	assert_int_equal(sluice_file_write_atomic(p, text, strlen(text)), 0);
	free(dir);
	free(p);
}

static void id_rule(void **state)
{
	(void)state;
	static const struct {
		const char *id;
		const char *why; /* NULL: valid */
	} rows[] = {
		{"admin-ana", NULL},
		{"a", NULL},
		{"0day", NULL},
		{"ci.bot_2-x", NULL},
		{"controller", NULL}, /* the format allows it; admins reserve it */
		{"", "is empty"},
		{"Admin", "has an uppercase letter"},
		{"admin ana", "has a space"},
		{"ana;rm -rf", "has a space"},
		{"ana;rm", "has a character other than a-z, 0-9, '.', '_' and '-'"},
		{"ana/ben", "has a character other than a-z, 0-9, '.', '_' and '-'"},
		{"-ana", "does not start with a lowercase letter or a digit"},
		{".ana", "does not start with a lowercase letter or a digit"},
		{"ana\x1b[2J", "holds a control character"},
		{"ana\xc2\x9b" "2J", "holds a control character"}, /* C1 CSI */
		{"\xc3\xa9t\xc3\xa9", "has a character other than a-z, 0-9, '.', '_' and '-'"},
		{"a23456789012345678901234567890123456789012345678901234567890123", NULL},
		{"a234567890123456789012345678901234567890123456789012345678901234",
		 "is longer than 63 characters"},
	};
	size_t bad = 0;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *got = sluice_id_problem(rows[i].id);
		if ((got == NULL) != (rows[i].why == NULL) ||
		    (got && strcmp(got, rows[i].why) != 0)) {
			print_error("row %zu: got '%s', want '%s'\n", i, got ? got : "(valid)",
				    rows[i].why ? rows[i].why : "(valid)");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void workspace_path_rule(void **state)
{
	(void)state;
	assert_null(sluice_workspace_path_problem("groups/a.txt"));
	assert_null(sluice_workspace_path_problem("keys/..allowed"));
	assert_string_equal(sluice_workspace_path_problem("/etc/shadow"), "is an absolute path");
	assert_string_equal(sluice_workspace_path_problem("../x"), "has a '..' segment");
	assert_string_equal(sluice_workspace_path_problem("groups/../../x"), "has a '..' segment");
	assert_string_equal(sluice_workspace_path_problem("a\nb"), "holds a control character");
	assert_string_equal(sluice_workspace_path_problem(""), "is empty");
}

static const char ws_text[] =
	"workspace: eng\n"
	"groups:\n"
	"  everyone: {members_file: %s}\n"
	"admins:\n"
	"  - {id: admin-ana, roles: [operator]}\n"
	"publish: {type: directory, path: out}\n";

/* Loads a workspace whose one group reads `members_file`; returns the
 * number of loader errors and the members in *members (or the code). */
static int members_of(char ***members, size_t *errors, const char *members_file)
{
	char *text = sluice_xasprintf(ws_text, members_file);
	char *path = sluice_path_join(tmpdir, "workspaces/eng.yaml");
	sluice_workspace *ws = NULL;
	sluice_diags d;
	int rc;

	write_file("workspaces/eng.yaml", text);
	sluice_diags_init(&d);
	assert_int_equal(sluice_workspace_load(&ws, path, &d), 0);
	*errors = d.errors;
	assert_int_equal(ws->ngroups, 1);
	rc = sluice_group_members(members, ws, &ws->groups[0], tmpdir);
	sluice_diags_clear(&d);
	sluice_workspace_free(ws);
	free(path);
	free(text);
	return rc;
}

static void members_file_stays_inside_root(void **state)
{
	(void)state;
	char **m = NULL;
	size_t errors = 0;
	char *link = sluice_path_join(tmpdir, "groups/link.txt");

	write_file("groups/all.txt", "carol\n# a comment\ndan\n");
	assert_int_equal(members_of(&m, &errors, "groups/all.txt"), 0);
	assert_int_equal(errors, 0);
	assert_string_equal(m[0], "carol");
	assert_string_equal(m[1], "dan");
	assert_null(m[2]);
	sluice_strv_free(m);

	/* the loader reports it; the reader refuses it all the same */
	assert_int_equal(members_of(&m, &errors, "/etc/passwd"), SLUICE_EINVAL);
	assert_int_equal(errors, 1);
	assert_null(m);
	assert_non_null(strstr(sluice_error_last(), "'/etc/passwd' is an absolute path"));
	assert_int_equal(members_of(&m, &errors, "../outside.txt"), SLUICE_EINVAL);
	assert_int_equal(errors, 1);
	assert_null(m);

	/* a symlink inside --root that leads out of it */
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(members_of(&m, &errors, "groups/link.txt"), SLUICE_EINVAL);
	assert_int_equal(errors, 0); /* the loader does not look at the disk */
	assert_null(m);
	assert_non_null(strstr(sluice_error_last(), "leads outside --root"));
	free(link);
}

/* Loads workspaces/eng.yaml with `publish` as given; *errors the loader's
 * errors. Caller frees. */
static sluice_workspace *load_publish(const char *publish, size_t *errors)
{
	char *text = sluice_xasprintf("workspace: eng\ngroups:\n  everyone: {members: [ana]}\n"
				      "admins:\n  - {id: admin-ana, roles: [operator]}\n%s",
				      publish);
	char *path = sluice_path_join(tmpdir, "workspaces/eng.yaml");
	sluice_workspace *ws = NULL;
	sluice_diags d;

	write_file("workspaces/eng.yaml", text);
	sluice_diags_init(&d);
	assert_int_equal(sluice_workspace_load(&ws, path, &d), 0);
	*errors = d.errors;
	sluice_diags_clear(&d);
	free(path);
	free(text);
	return ws;
}

/* `publish` is one mapping or a list of them, each entry with its own
 * settings and name in messages; absent, nothing is published. */
static void publish_mapping_or_list(void **state)
{
	(void)state;
	size_t errors = 9;
	sluice_workspace *ws = load_publish("publish: {type: directory, path: out, mode: \"0640\"}\n",
					    &errors);
	assert_int_equal(errors, 0);
	assert_int_equal(ws->npublishers, 1);
	assert_string_equal(ws->publishers[0].name, "publish");
	assert_string_equal(ws->publishers[0].type.s, "directory");
	assert_string_equal(ws->publishers[0].path.s, "out");
	assert_int_equal(ws->publishers[0].mode_bits, 0640);
	sluice_workspace_free(ws);

	ws = load_publish("publish:\n  - {type: directory, path: out}\n"
			  "  - {type: codex, path: out, mode: \"0600\"}\n"
			  "  - {type: codex, path: codex}\n",
			  &errors);
	assert_int_equal(errors, 0);
	assert_int_equal(ws->npublishers, 3);
	assert_string_equal(ws->publishers[1].name, "publish[1]");
	assert_string_equal(ws->publishers[1].type.s, "codex");
	assert_int_equal(ws->publishers[0].mode_bits, 0);
	assert_int_equal(ws->publishers[1].mode_bits, 0600);
	assert_string_equal(ws->publishers[2].path.s, "codex");
	assert_int_equal(ws->publishers[2].pos.line, 9);
	sluice_workspace_free(ws);

	/* the same type to the same place, however it is written */
	ws = load_publish("publish:\n  - {type: codex, path: a/b}\n  - {type: codex, path: ./a//b/}\n",
			  &errors);
	assert_int_equal(errors, 1);
	sluice_workspace_free(ws);
	ws = load_publish("publish:\n  - {type: codex, path: /a/b}\n  - {type: codex, path: a/b}\n",
			  &errors);
	assert_int_equal(errors, 0);
	sluice_workspace_free(ws);

	ws = load_publish("", &errors);
	assert_int_equal(errors, 0);
	assert_int_equal(ws->npublishers, 0);
	sluice_workspace_free(ws);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sluice-test-config.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = sluice_xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(id_rule),
		cmocka_unit_test(workspace_path_rule),
		cmocka_unit_test(members_file_stays_inside_root),
		cmocka_unit_test(publish_mapping_or_list),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
