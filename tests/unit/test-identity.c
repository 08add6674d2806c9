/* Identity modes, role checks, and the engine context that commands open
 * (engine.h): the example workspace loads, an invalid one is refused with
 * its diagnostics, a refusal is audited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>
#include <cmocka.h>

#include "sluice/audit.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/identity.h"
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

static const char ws_text[] =
	"workspace: eng\n"
	"groups:\n"
	"  pilot: {members: [carol]}\n"
	"admins:\n"
	"  - {id: admin-ana, roles: [approver, operator], emails: [ana@acme.example]}\n"
	"  - {id: admin-ben, roles: [approver], emails: [ben@acme.example]}\n"
	"  - {id: ci-bot, roles: [ci]}\n"
	"repositories: {url_template: \"file:///nowhere/{repository}.git\"}\n"
	"plugins:\n"
	"  - {repository: acme/p, versions: \">=0.1.0 <1.0.0\"}\n"
	"policy:\n"
	"  identity: %s\n"
	"  freeze: [{from: \"2026-12-20T00:00:00Z\", to: \"2027-01-04T00:00:00Z\", reason: year-end}]\n"
	"publish: {type: directory, path: out}\n";

static sluice_workspace *load_ws(const char *identity)
{
	char *text = sluice_xasprintf(ws_text, identity);
	char *path = sluice_path_join(tmpdir, "workspaces/eng.yaml");
	sluice_workspace *ws = NULL;
	sluice_diags d;

	write_file("workspaces/eng.yaml", text);
	sluice_diags_init(&d);
	assert_int_equal(sluice_workspace_load(&ws, path, &d), 0);
	assert_int_equal(d.errors, 0);
	sluice_diags_clear(&d);
	free(path);
	free(text);
	return ws;
}

static void test_asserted(void **state)
{
	(void)state;
	sluice_workspace *ws = load_ws("asserted");
	char *actor = NULL;

	assert_int_equal(sluice_identity_mode_of(ws), SLUICE_IDENTITY_ASSERTED);
	assert_int_equal(sluice_identity_actor(&actor, ws, "admin-ana", "admin-ben"), 0);
	assert_string_equal(actor, "admin-ana"); /* --as wins over the environment */
	free(actor);
	assert_int_equal(sluice_identity_actor(&actor, ws, NULL, "admin-ben"), 0);
	assert_string_equal(actor, "admin-ben");
	free(actor);
	assert_int_equal(sluice_identity_actor(&actor, ws, NULL, NULL), SLUICE_EREFUSED);
	assert_null(actor);
	assert_non_null(strstr(sluice_error_last(), "--as ID or $SLUICE_ACTOR"));
	sluice_workspace_free(ws);
}

static void test_os_user(void **state)
{
	(void)state;
	sluice_workspace *ws = load_ws("os-user");
	struct passwd *pw = getpwuid(geteuid());
	char *actor = NULL;

	assert_non_null(pw);
	assert_int_equal(sluice_identity_actor(&actor, ws, NULL, NULL), 0);
	assert_string_equal(actor, pw->pw_name);
	free(actor);
	assert_int_equal(sluice_identity_actor(&actor, ws, pw->pw_name, NULL), 0);
	free(actor);
	assert_int_equal(sluice_identity_actor(&actor, ws, "admin-ana", NULL), SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "--as names 'admin-ana' but you are '"));
	assert_int_equal(sluice_identity_actor(&actor, ws, NULL, "admin-ben"), SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "$SLUICE_ACTOR names 'admin-ben'"));
	sluice_workspace_free(ws);

	/* not built: validation refuses the workspace, and the identity layer
	 * refuses it too should an unvalidated one reach it */
	char *text = sluice_xasprintf(ws_text, "ssh-signed");
	char *path = sluice_path_join(tmpdir, "workspaces/eng.yaml");
	sluice_diags d;
	write_file("workspaces/eng.yaml", text);
	sluice_diags_init(&d);
	assert_int_equal(sluice_workspace_load(&ws, path, &d), 0);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.items[0].message, "policy.identity 'ssh-signed' is not supported by "
						"this build yet; use 'os-user' or 'asserted'");
	assert_int_equal(d.items[0].line, 12);
	assert_int_equal(d.items[0].col, 13);
	sluice_diags_clear(&d);
	free(path);
	free(text);
	assert_int_equal(sluice_identity_actor(&actor, ws, "admin-ana", NULL), SLUICE_EINVAL);
	assert_non_null(strstr(sluice_error_last(), "not supported yet"));
	sluice_workspace_free(ws);
}

static void test_roles(void **state)
{
	(void)state;
	sluice_workspace *ws = load_ws("asserted");

	assert_int_equal(sluice_identity_require_role(ws, "admin-ana", SLUICE_ROLE_OPERATOR, "pause"), 0);
	assert_int_equal(sluice_identity_require_role(ws, "carol", 0, "status"), 0);
	assert_int_equal(sluice_identity_require_role(ws, "admin-ben", SLUICE_ROLE_OPERATOR, "pause"),
			 SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "'admin-ben' lacks the 'operator' role that 'pause' needs (held by: admin-ana)");
	assert_int_equal(sluice_identity_require_role(ws, "mallory", SLUICE_ROLE_APPROVER, "approve"),
			 SLUICE_EREFUSED);
	assert_string_equal(sluice_error_last(),
			    "'mallory' is not an admin of workspace 'eng'; 'approve' needs the 'approver' "
			    "role (held by: admin-ana, admin-ben)");
	assert_int_equal(sluice_identity_require_role(ws, "ci-bot", SLUICE_ROLE_CI | SLUICE_ROLE_APPROVER,
						      "attest"), 0);
	assert_int_equal(sluice_identity_require_role(ws, "admin-ana", SLUICE_ROLE_AUDITOR, "x"),
			 SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "(held by: nobody)"));
	sluice_workspace_free(ws);
}

static int count_rows(const sluice_audit_row *row, void *ctx)
{
	if (strcmp(row->action, "access.refused") == 0) {
		assert_string_equal(row->actor, "admin-ben");
		assert_non_null(strstr(row->details, "\"command\":\"pause\""));
		++*(int *)ctx;
	}
	return 0;
}

static void test_engine(void **state)
{
	(void)state;
	sluice_engine *e = NULL;
	sluice_diags d;
	char *db = sluice_path_join(tmpdir, "state/sluice.db");
	char *actor = NULL;
	int refused = 0;

	sluice_diags_init(&d);
	sluice_workspace_free(load_ws("asserted"));
	/* read-only before the database exists: told to reconcile */
	assert_int_equal(sluice_engine_open(&e, tmpdir, db, NULL, NULL, 1000, SLUICE_ENGINE_READONLY, &d),
			 SLUICE_ENOTFOUND);
	assert_null(e);
	/* ... unless an empty store is asked for: it reads as nothing
	 * recorded, and creates nothing at db */
	assert_int_equal(sluice_engine_open(&e, tmpdir, db, NULL, NULL, 1000,
					    SLUICE_ENGINE_READONLY | SLUICE_ENGINE_EMPTY_OK, &d),
			 0);
	assert_true(sluice_engine_store_is_new(e));
	{
		sluice_engine_input *in = NULL;
		assert_int_equal(sluice_engine_input_load(&in, e, NULL), 0);
		assert_int_equal(in->in.nplugins, 1);
		assert_int_equal(in->in.plugins[0].nreleases, 0);
		sluice_engine_input_free(in);
	}
	sluice_engine_free(e);
	e = NULL;
	assert_int_equal(access(db, F_OK), -1);
	assert_int_equal(sluice_engine_open(&e, tmpdir, db, NULL, "eng", 1000, 0, &d), 0);
	assert_false(sluice_engine_store_is_new(e));
	assert_string_equal(sluice_engine_db_path(e), db);
	assert_int_equal(d.errors, 0);
	assert_string_equal(sluice_engine_workspace_name(e), "eng");
	assert_null(sluice_engine_policy(e));
	assert_null(sluice_engine_admin_commit(e)); /* not a git work tree */
	size_t nwatched = 0;
	const sluice_watched *watched = sluice_engine_watched(e, &nwatched);
	const sluice_rollout_rules *rules = sluice_engine_rules(e);
	assert_int_equal(nwatched, 1);
	assert_string_equal(watched[0].key, "acme/p");
	assert_string_equal(watched[0].url, "file:///nowhere/acme/p.git");
	assert_int_equal(rules->nfreeze, 1);
	assert_string_equal(rules->freeze[0].reason, "year-end");
	assert_int_equal(rules->nadmins, 3);
	assert_string_equal(rules->admins[1].emails[0], "ben@acme.example");

	assert_int_equal(sluice_engine_authorize(&actor, e, "admin-ana", SLUICE_ROLE_OPERATOR, "pause",
						 "p", NULL), 0);
	assert_string_equal(actor, "admin-ana");
	assert_string_equal(sluice_store_actor(sluice_engine_store(e)), "admin-ana");
	free(actor);
	assert_int_equal(sluice_engine_authorize(NULL, e, "admin-ben", SLUICE_ROLE_OPERATOR, "pause",
						 "p", NULL), SLUICE_EREFUSED);
	assert_non_null(strstr(sluice_error_last(), "lacks the 'operator' role"));
	assert_int_equal(sluice_audit_foreach(sluice_engine_store(e), NULL, count_rows, &refused), 0);
	assert_int_equal(refused, 1);
	sluice_engine_free(e);

	/* an invalid workspace: SLUICE_EINVAL with the diagnostics */
	write_file("workspaces/eng.yaml", "workspace: eng\ngroups: 3\n");
	assert_int_equal(sluice_engine_open(&e, tmpdir, db, NULL, NULL, 1000, 0, &d), SLUICE_EINVAL);
	assert_null(e);
	assert_true(d.errors > 0);
	assert_non_null(strstr(sluice_error_last(), "run 'sluice validate'"));
	sluice_diags_clear(&d);
	free(db);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s/sluice-identity.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asserted),
		cmocka_unit_test(test_os_user),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_engine),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char *cmd = sluice_xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = 1;
	free(cmd);
	return rc;
}
