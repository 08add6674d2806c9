/* Publishing (publish.c, publish-directory.c, store-publish.c): the outcome
 * of a publish in the store, the users who opted out, and the directory
 * publisher's document and files - `disabled_users` as resolve decides it,
 * `audit_head` outside the signature, modes whatever the umask, and only
 * its own files removed. No git is read: the release's record and its
 * published copy are laid out as an earlier publish would have left them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sluice/error.h"
#include "sluice/publish.h"
#include "sluice/store.h"
#include "sluice/tree.h"
#include "sluice/util.h"

#include "store-fixture.h"

#define WS "engineering"
#define P "backend-pr-reviewer"
#define C1 "1111111111111111111111111111111111111111"
#define T0 1796083200 /* 2026-12-01T00:00:00Z */
#define HASH1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static int setup_store(void **state)
{
	*state = fixture_open("sluice-test-publish", "s.db");
	return 0;
}

/* ---- the store ----------------------------------------------------------- */

#define DIR_T "directory", ".sluice/published"
#define CODEX_T "codex", "out"

static void test_publish_state(void **state)
{
	fixture *f = *state;
	sluice_publish_state ps;

	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, DIR_T), 0);
	assert_false(ps.known);
	sluice_publish_state_clear(&ps);

	assert_int_equal(sluice_store_publish_state_set(f->s, WS, DIR_T, true, T0, NULL), 0);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, DIR_T), 0);
	assert_true(ps.known && ps.ok);
	assert_int_equal(ps.at, T0);
	assert_null(ps.error);
	assert_int_equal(ps.last_ok_at, T0);
	sluice_publish_state_clear(&ps);

	/* a failure keeps when it last worked */
	assert_int_equal(sluice_store_publish_state_set(f->s, WS, DIR_T, false, T0 + 60, "disk full"),
			 0);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, DIR_T), 0);
	assert_true(ps.known);
	assert_false(ps.ok);
	assert_int_equal(ps.at, T0 + 60);
	assert_string_equal(ps.error, "disk full");
	assert_int_equal(ps.last_ok_at, T0);
	sluice_publish_state_clear(&ps);

	/* a success clears the error; another workspace is its own */
	assert_int_equal(sluice_store_publish_state_set(f->s, WS, DIR_T, true, T0 + 120, "ignored"),
			 0);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, DIR_T), 0);
	assert_true(ps.ok);
	assert_null(ps.error);
	assert_int_equal(ps.last_ok_at, T0 + 120);
	sluice_publish_state_clear(&ps);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, "other", DIR_T), 0);
	assert_false(ps.known);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM publish_state"), 1);
}

/* Each publisher has its own outcome; keep removes those no longer
 * configured. */
static void test_publish_state_per_publisher(void **state)
{
	fixture *f = *state;
	sluice_publish_state ps;

	assert_int_equal(sluice_store_publish_state_set(f->s, WS, DIR_T, true, T0, NULL), 0);
	assert_int_equal(sluice_store_publish_state_set(f->s, WS, CODEX_T, false, T0, "no room"), 0);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, DIR_T), 0);
	assert_true(ps.known && ps.ok);
	sluice_publish_state_clear(&ps);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, CODEX_T), 0);
	assert_true(ps.known && !ps.ok);
	assert_string_equal(ps.error, "no room");
	assert_int_equal(ps.last_ok_at, 0);
	sluice_publish_state_clear(&ps);
	/* the same type elsewhere is another publisher */
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, "codex", "other"), 0);
	assert_false(ps.known);
	sluice_publish_state_clear(&ps);

	const char *types[] = {"codex"}, *targets[] = {"out"};
	assert_int_equal(sluice_store_publish_state_keep(f->s, WS, types, targets, 1), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM publish_state"), 1);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, DIR_T), 0);
	assert_false(ps.known);
	sluice_publish_state_clear(&ps);
	assert_int_equal(sluice_store_publish_state_set(f->s, WS, "", "", true, T0, NULL),
			 SLUICE_EINVAL);
}

/* A database from before publishers were kept apart (schema 10, one row
 * per workspace): the migration keeps its row, which stands for every
 * publisher until each has its own. */
static void test_publish_state_from_before(void **state)
{
	fixture *f = *state;
	sluice_publish_state ps;

	sluice_store_free(f->s);
	f->s = NULL;
	assert_int_equal(raw_exec(f->path, "DROP TABLE publish_state;"
					   " CREATE TABLE publish_state (workspace TEXT PRIMARY KEY,"
					   " ok INTEGER NOT NULL, at INTEGER NOT NULL, error TEXT,"
					   " last_ok_at INTEGER);"
					   " INSERT INTO publish_state VALUES ('engineering', 0, 1796083260,"
					   " 'disk full', 1796083200);"
					   " PRAGMA user_version = 10"),
			 SQLITE_OK);
	if (sluice_store_open(&f->s, f->path, 0) != 0)
		fail_msg("%s", sluice_error_last());
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), SLUICE_STORE_SCHEMA_VERSION);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, DIR_T), 0);
	assert_true(ps.known && !ps.ok);
	assert_string_equal(ps.error, "disk full");
	assert_int_equal(ps.at, T0 + 60);
	assert_int_equal(ps.last_ok_at, T0);
	sluice_publish_state_clear(&ps);

	/* the directory publisher fails again: it keeps when it last worked */
	assert_int_equal(sluice_store_publish_state_set(f->s, WS, DIR_T, false, T0 + 120, "still"),
			 0);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, DIR_T), 0);
	assert_int_equal(ps.last_ok_at, T0);
	sluice_publish_state_clear(&ps);
	/* the old row goes only once every configured publisher has its own */
	const char *types[] = {"directory", "codex"}, *targets[] = {".sluice/published", "out"};
	assert_int_equal(sluice_store_publish_state_keep(f->s, WS, types, targets, 2), 0);
	assert_int_equal(sluice_store_publish_state_get(&ps, f->s, WS, CODEX_T), 0);
	assert_true(ps.known && !ps.ok);
	sluice_publish_state_clear(&ps);
	assert_int_equal(sluice_store_publish_state_set(f->s, WS, CODEX_T, true, T0 + 120, NULL), 0);
	assert_int_equal(sluice_store_publish_state_keep(f->s, WS, types, targets, 2), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM publish_state WHERE type = ''"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM publish_state"), 2);
}

/* status's "publish": one outcome from each publisher's. */
static void test_publish_state_combine(void **state)
{
	(void)state;
	const char *types[] = {"directory", "codex"}, *targets[] = {"pub", "out"};
	sluice_publish_state each[2] = {{true, true, T0, NULL, T0},
					{true, false, T0 + 60, "no room", T0 - 60}};
	sluice_publish_state all;

	sluice_publish_state_combine(&all, each, types, targets, 2);
	assert_true(all.known);
	assert_false(all.ok);
	assert_int_equal(all.at, T0 + 60); /* the latest attempt */
	assert_string_equal(all.error, "codex publisher at 'out': no room");
	assert_int_equal(all.last_ok_at, T0 - 60); /* the oldest success */
	sluice_publish_state_clear(&all);

	each[1] = (sluice_publish_state){true, true, T0 - 30, NULL, T0 - 30};
	sluice_publish_state_combine(&all, each, types, targets, 2);
	assert_true(all.ok);
	assert_null(all.error);
	assert_int_equal(all.at, T0);
	sluice_publish_state_clear(&all);

	/* one publisher: its error as it is */
	each[0] = (sluice_publish_state){true, false, T0, "disk full", 0};
	sluice_publish_state_combine(&all, each, types, targets, 1);
	assert_false(all.ok);
	assert_string_equal(all.error, "disk full");
	assert_int_equal(all.last_ok_at, 0);
	sluice_publish_state_clear(&all);

	/* one added since: not ok until it published */
	each[0] = (sluice_publish_state){true, true, T0, NULL, T0};
	each[1] = (sluice_publish_state){0};
	sluice_publish_state_combine(&all, each, types, targets, 2);
	assert_true(all.known);
	assert_false(all.ok);
	assert_string_equal(all.error, "codex publisher at 'out': not published yet");
	sluice_publish_state_clear(&all);

	each[0] = (sluice_publish_state){0};
	sluice_publish_state_combine(&all, each, types, targets, 2);
	assert_false(all.known);
	assert_null(all.error);
}

static void test_optout_users(void **state)
{
	fixture *f = *state;
	char **users = NULL;
	size_t n = 9;

	assert_int_equal(sluice_store_optout_users(&users, &n, f->s, WS, P), 0);
	assert_int_equal(n, 0);
	assert_null(users[0]);
	sluice_strv_free(users);
	assert_int_equal(sluice_store_optout_set(f->s, WS, P, "carol", true, T0, NULL), 0);
	assert_int_equal(sluice_store_optout_set(f->s, WS, P, "alice", true, T0, NULL), 0);
	assert_int_equal(sluice_store_optout_set(f->s, WS, "other-plugin", "bob", true, T0, NULL), 0);
	assert_int_equal(sluice_store_optout_users(&users, &n, f->s, WS, P), 0);
	assert_int_equal(n, 2);
	assert_string_equal(users[0], "alice");
	assert_string_equal(users[1], "carol");
	assert_null(users[2]);
	sluice_strv_free(users);
}

/* ---- the directory publisher --------------------------------------------- */

typedef struct {
	char dir[64];
	char *pub;
	sluice_rollout_stage stage;
	const char *groups[1];
	sluice_rollout_release release;
	sluice_rollout_plugin plugin;
	const char *optouts[2];
	sluice_publish_plugin pp;
	const char *ws_groups[2];
	sluice_publish_ctx c;
} pubfix;

static void put(const char *dir, const char *rel, const char *text)
{
	char *path = sluice_path_join(dir, rel), *parent = sluice_xstrdup(path);
	*strrchr(parent, '/') = '\0';
	assert_int_equal(sluice_mkdir_p(parent, 0755), 0);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(parent);
	free(path);
}

static bool exists(const pubfix *x, const char *rel)
{
	char *path = sluice_path_join(x->pub, rel);
	bool yes = access(path, F_OK) == 0;
	free(path);
	return yes;
}

static unsigned mode_of(const pubfix *x, const char *rel)
{
	char *path = sluice_path_join(x->pub, rel);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	free(path);
	return st.st_mode & 0777;
}

static json_t *effective(const pubfix *x)
{
	char *path = sluice_path_join(x->pub, "effective.json");
	json_t *j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	free(path);
	return j;
}

static int setup_dir(void **state)
{
	pubfix *x = calloc(1, sizeof *x);
	assert_non_null(x);
	snprintf(x->dir, sizeof x->dir, "/tmp/sluice-test-publish.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	x->pub = sluice_path_join(x->dir, "pub");
	/* what an earlier publish left of 0.1.0: its record and its copy */
	put(x->pub, ".cache.json",
	    "{\"format\": 1, \"releases\": {\"" P "\": {\"0.1.0\": {\"tag\": \"v0.1.0\","
	    " \"commit\": \"" C1 "\", \"environment\": {\"LOG_LEVEL\": \"info\"},"
	    " \"secrets\": {}, \"controls\": {\"allow_user_disable\": true},"
	    " \"tools\": [], \"guidance\": [], \"files\": [\"plugin.yaml\"]}}}}");
	put(x->pub, "releases/" P "/0.1.0/release.json", "{\"commit\": \"" C1 "\"}");
	put(x->pub, "releases/" P "/0.1.0/plugin.yaml", "id: " P "\n");
	/* and what is not the publisher's */
	put(x->pub, "notes.tmp.1", "a user's draft\n");
	put(x->pub, "releases/other-team/1.0.0/readme.md", "theirs\n");
	put(x->pub, "effective.json.tmp.4242", "half a document from a killed pass\n");

	x->groups[0] = "platform-devex";
	x->stage = (sluice_rollout_stage){.name = "devex-dogfood", .groups = x->groups, .ngroups = 1};
	x->release = (sluice_rollout_release){.version = "0.1.0", .tag = "v0.1.0", .commit = C1,
					      .rank = 1, .state = SLUICE_RELEASE_IN_PROGRESS,
					      .stage_index = 0, .stages = &x->stage, .nstages = 1,
					      .allow_user_disable = true};
	x->plugin = (sluice_rollout_plugin){.id = P, .releases = &x->release, .nreleases = 1};
	x->optouts[0] = "alice";
	x->optouts[1] = "carol";
	x->pp = (sluice_publish_plugin){.id = P, .key = "acme/" P, .state = &x->plugin,
					.disabled_users = x->optouts, .ndisabled_users = 2};
	x->ws_groups[0] = "platform-devex";
	x->ws_groups[1] = "backend-engineers";
	x->c = (sluice_publish_ctx){.workspace = WS, .root = x->dir, .cache_dir = x->dir,
				    .publish_type = "directory", .publish_path = "pub",
				    .groups = x->ws_groups, .ngroups = 2, .plugins = &x->pp,
				    .nplugins = 1, .now = T0, .audit_head_id = 7,
				    .audit_head_hash = HASH1};
	*state = x;
	return 0;
}

static int teardown_dir(void **state)
{
	pubfix *x = *state;
	char *cmd = sluice_xasprintf("rm -rf '%s'", x->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(x->pub);
	free(x);
	return 0;
}

static void publish(pubfix *x, bool want_changed)
{
	bool changed = !want_changed;
	mode_t old = umask(077);
	int rc = sluice_publish_run(&changed, &x->c, false);
	umask(old);
	if (rc < 0)
		fail_msg("publish failed: %s", sluice_error_last());
	assert_int_equal(changed, want_changed);
}

static void test_directory_publish(void **state)
{
	pubfix *x = *state;
	json_t *doc, *entry;

	publish(x, true);
	doc = effective(x);
	entry = json_array_get(json_object_get(json_object_get(doc, "groups"), "platform-devex"), 0);
	assert_string_equal(json_string_value(json_object_get(entry, "id")), P);
	assert_int_equal(json_array_size(json_object_get(entry, "disabled_users")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(entry, "disabled_users"), 0)),
			    "alice");
	assert_string_equal(json_string_value(json_array_get(json_object_get(entry, "disabled_users"), 1)),
			    "carol");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "audit_head"), "id")), 7);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "audit_head"), "hash")),
			    HASH1);
	json_decref(doc);

	/* under umask 077: 0644 and 0755 all the same */
	assert_int_equal(mode_of(x, "effective.json"), 0644);
	assert_int_equal(mode_of(x, ".sluice-published.json"), 0644);
	assert_int_equal(mode_of(x, "releases/" P "/0.1.0/plugin.yaml"), 0644);
	assert_int_equal(mode_of(x, "releases/" P "/0.1.0"), 0755);
	assert_int_equal(mode_of(x, "releases/" P), 0755);

	/* a killed pass's temporary file goes; a user's look-alike stays */
	assert_false(exists(x, "effective.json.tmp.4242"));
	assert_true(exists(x, "notes.tmp.1"));
	assert_true(exists(x, "releases/other-team/1.0.0/readme.md"));

	/* nothing changed, or only the audit head: nothing is written */
	publish(x, false);
	x->c.audit_head_id = 9;
	x->c.audit_head_hash = HASH2;
	publish(x, false);

	/* an enforced release lists nobody; the new head comes with it */
	x->release.allow_user_disable = false;
	publish(x, true);
	doc = effective(x);
	entry = json_array_get(json_object_get(json_object_get(doc, "groups"), "platform-devex"), 0);
	assert_int_equal(json_array_size(json_object_get(entry, "disabled_users")), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "audit_head"), "hash")),
			    HASH2);
	json_decref(doc);

	/* publish.mode 0640: the files published before take it too */
	x->c.mode = 0640;
	publish(x, true);
	assert_int_equal(mode_of(x, "effective.json"), 0640);
	assert_int_equal(mode_of(x, "releases/" P "/0.1.0/plugin.yaml"), 0640);
	assert_int_equal(mode_of(x, "releases/" P "/0.1.0"), 0750);

	/* withdrawn: the release's files go, and only they */
	put(x->pub, "releases/" P "/0.1.0/local.md", "not the publisher's\n");
	x->plugin.withdrawn = true;
	publish(x, true);
	assert_false(exists(x, "releases/" P "/0.1.0/plugin.yaml"));
	assert_false(exists(x, "releases/" P "/0.1.0/release.json"));
	assert_true(exists(x, "releases/" P "/0.1.0/local.md"));
	assert_true(exists(x, "notes.tmp.1"));
	assert_true(exists(x, "releases/other-team/1.0.0/readme.md"));
	assert_true(exists(x, "effective.json"));
}

/* A link put in place of a directory the publisher wrote does not lead its
 * removals elsewhere: the publish fails and says so, and the files behind
 * the link stay. */
static void test_no_removal_through_a_link(void **state)
{
	pubfix *x = *state;
	char *pdir = sluice_xasprintf("%s/releases/%s", x->pub, P);
	char *elsewhere = sluice_xasprintf("%s/elsewhere", x->dir);
	char *victim = sluice_xasprintf("%s/0.1.0/plugin.yaml", elsewhere);
	bool changed = false;

	publish(x, true);
	assert_int_equal(rename(pdir, elsewhere), 0);
	assert_int_equal(symlink(elsewhere, pdir), 0);
	x->plugin.withdrawn = true;
	assert_true(sluice_publish_run(&changed, &x->c, false) < 0);
	assert_non_null(strstr(sluice_error_last(), "a directory on its way is a symbolic link"));
	assert_int_equal(access(victim, F_OK), 0);
	free(victim);
	free(elsewhere);
	free(pdir);
}

/* sluice_publish_run_all: a publisher that fails does not stop the next
 * one; the error names the first that failed and counts the rest. */
static void test_run_all(void **state)
{
	pubfix *x = *state;
	sluice_publish_conf pubs[3] = {
		{.type = {.s = "directory"}, .path = {.s = "blocked"}},
		{.type = {.s = "directory"}, .path = {.s = "pub"}},
		{.type = {.s = "codex"}, .path = {.s = "blocked"}},
	};
	sluice_publish_outcome out[3];
	mode_t old = umask(077);

	put(x->dir, "blocked", "a file where a directory goes\n");
	int rc = sluice_publish_run_all(out, &x->c, pubs, 3, false);
	umask(old);
	assert_true(rc < 0);
	assert_true(sluice_str_has_prefix(sluice_error_last(),
					  "directory publisher at 'blocked': "));
	assert_non_null(strstr(sluice_error_last(), "; 1 more publisher failed: see 'sluice status'"));
	assert_true(out[0].rc < 0 && out[0].error && !out[0].changed);
	assert_int_equal(out[1].rc, 0);
	assert_null(out[1].error);
	assert_true(out[1].changed);
	assert_true(exists(x, "effective.json"));
	assert_true(out[2].rc < 0 && out[2].error);
	sluice_publish_outcomes_clear(out, 3);

	/* one publisher: its error as it is */
	rc = sluice_publish_run_all(out, &x->c, pubs, 1, false);
	assert_true(rc < 0);
	assert_string_equal(sluice_error_last(), out[0].error);
	sluice_publish_outcomes_clear(out, 1);
	/* the one at pub is current now: skipped */
	assert_int_equal(sluice_publish_run_all(out, &x->c, &pubs[1], 1, false), 0);
	assert_false(out[0].changed);
	sluice_publish_outcomes_clear(out, 1);
}

static void test_modes(void **state)
{
	(void)state;
	sluice_publish_ctx c = {0};
	assert_int_equal(sluice_publish_file_mode(&c), 0644);
	assert_int_equal(sluice_publish_dir_mode(&c), 0755);
	c.mode = 0640;
	assert_int_equal(sluice_publish_dir_mode(&c), 0750);
	c.mode = 0600;
	assert_int_equal(sluice_publish_dir_mode(&c), 0700);
	c.mode = 0604;
	assert_int_equal(sluice_publish_dir_mode(&c), 0705);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_state, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_publish_state_per_publisher, setup_store,
						teardown),
		cmocka_unit_test_setup_teardown(test_publish_state_from_before, setup_store, teardown),
		cmocka_unit_test(test_publish_state_combine),
		cmocka_unit_test_setup_teardown(test_optout_users, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_directory_publish, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_no_removal_through_a_link, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_run_all, setup_dir, teardown_dir),
		cmocka_unit_test(test_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
