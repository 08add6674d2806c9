/* sluice backup FILE | restore-backup FILE: a consistent copy of the whole
 * database, taken while reconciles go on, and its way back
 * (docs/operations.md). backup reads only (anyone who can read the
 * database can copy it; nothing is audited, so a backup never moves the
 * audit head it reports). restore-backup replaces every row, so it needs
 * the operator role and is audited in the restored log. Named
 * restore-backup because `restore` brings back a withdrawn plugin. */
#include <inttypes.h>
#include <stdio.h>

#include "cli-admin.h"
#include "sluice/config.h"
#include "sluice/error.h"
#include "sluice/store.h"

static const cli_opt backup_opts[] = {
	{NULL, 0, NULL, NULL, false},
};

static const cli_opt restore_opts[] = {
	{"force", 0, NULL, "replace the database even while a lease is held (its holder is gone)",
	 false},
	CLI_OPT_WORKSPACE,
	{NULL, 0, NULL, NULL, false},
};

static json_t *info_json(const char *file, const sluice_store_backup_info *i)
{
	return json_pack("{s:s, s:i, s:I, s:{s:I, s:s}}", "file", file, "schema_version",
			 i->schema_version, "audit_rows", (json_int_t)i->audit_rows, "audit_head",
			 "id", (json_int_t)i->head_id, "hash", i->head_hash);
}

static cli_retval run_backup(struct cli *c)
{
	const char *file = c->args[0];
	sluice_store_backup_info info;
	sluice_store *s = NULL;
	int rc;

	if ((rc = sluice_store_open(&s, c->db, SLUICE_STORE_READONLY)) < 0)
		return cli_fail(rc);
	rc = sluice_store_backup(&info, s, file);
	sluice_store_free(s);
	if (rc < 0)
		return cli_fail(rc);
	if (c->output == CLI_OUT_JSON)
		return cli_print_json(info_json(file, &info));
	if (!c->quiet)
		cli_out("backup written to %s: schema %d, audit log verified (%" PRId64
			" rows, head %" PRId64 ":%s)",
			file, info.schema_version, info.audit_rows, info.head_id, info.head_hash);
	return CLI_OK;
}

static cli_retval run_restore(struct cli *c)
{
	const char *file = c->args[0];
	bool force = cli_has(c, "force");
	sluice_store_backup_info info;
	int rc;

	rc = sluice_store_backup_restore(&info, sluice_engine_store(c->e), file, force, c->now);
	if (rc < 0) {
		cli_retval r = cli_fail(rc);
		if (rc == SLUICE_EINVAL)
			cli_error("nothing was restored; the database %s is as it was", c->db);
		return r;
	}
	if (c->output == CLI_OUT_JSON) {
		json_t *j = info_json(file, &info);
		json_object_set_new(j, "database", json_string(c->db));
		json_object_set_new(j, "forced", json_boolean(force));
		return cli_print_json(j);
	}
	if (!c->quiet) {
		cli_out("restored %s from %s (schema %d, audit log verified: %" PRId64
			" rows, head %" PRId64 ":%s)",
			c->db, file, info.schema_version, info.audit_rows, info.head_id,
			info.head_hash);
		cli_out("run 'sluice reconcile' to publish the restored state");
	}
	return CLI_OK;
}

const cli_cmd cmd_backup = {
	.name = "backup",
	.run = run_backup,
	.usage = "backup FILE",
	.summary = "write a verified copy of the database to FILE while reconciles go on",
	.opts = backup_opts,
	.min_args = 1,
	.max_args = 1,
};

const cli_cmd cmd_restore_backup = {
	.name = "restore-backup",
	.run = run_restore,
	.usage = "restore-backup FILE [--force]",
	.summary = "replace the database with a backup whose audit log verifies (operator)",
	.opts = restore_opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CLI_ENGINE | CLI_ACTOR,
	.roles = SLUICE_ROLE_OPERATOR,
};
