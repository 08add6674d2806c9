/* sluice: the command table, global flags and option parsing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sluice/engine.h"
#include "sluice/error.h"
#include "sluice/util.h"

static const cli_cmd *const commands[] = {
	&cmd_accept_tag_move,
	&cmd_approve,
	&cmd_attest,
	&cmd_audit,
	&cmd_backup,
	&cmd_checklist,
	&cmd_disable,
	&cmd_enable,
	&cmd_export,
	&cmd_feedback,
	&cmd_fetch,
	&cmd_freeze,
	&cmd_history,
	&cmd_init,
	&cmd_outbox,
	&cmd_pause,
	&cmd_plan,
	&cmd_promote,
	&cmd_reconcile,
	&cmd_reject,
	&cmd_resolve,
	&cmd_restore,
	&cmd_restore_backup,
	&cmd_resume,
	&cmd_rollback,
	&cmd_run,
	&cmd_secrets,
	&cmd_status,
	&cmd_tags,
	&cmd_telemetry,
	&cmd_unfreeze,
	&cmd_validate,
	&cmd_version,
	&cmd_withdraw,
	NULL,
};

static const cli_opt global_opts[] = {
	{"root", 0, "DIR", "the administrators' repository (default .)", false},
	{"db", 0, "PATH", "the database (default <root>/.sluice/sluice.db)", false},
	{"cache", 0, "DIR", "git mirrors (default <root>/.sluice/cache)", false},
	{"now", 0, "RFC3339", "the rollout clock (default: the system clock)", false},
	{"as", 0, "ID", "the acting admin (see policy.identity)", false},
	{"output", 'o', "FORMAT", "text (default) or json", false},
	{"quiet", 'q', NULL, "print nothing but errors", false},
	{"verbose", 'v', NULL, "say more", false},
	{"help", 'h', NULL, "show help and exit", false},
	{NULL, 0, NULL, NULL, false},
};

/* Errors and warnings quote tag names, plugin ids and what remotes said:
 * their control characters are escaped here, once for every command. */
static void print_line(FILE *to, const char *prefix, const char *fmt, va_list ap)
{
	char *raw = sluice_xvasprintf(fmt, ap);
	char *shown = sluice_str_escape_controls(raw);
	fprintf(to, "%s%s\n", prefix, shown);
	free(shown);
	free(raw);
}

void cli_out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	print_line(stdout, "", fmt, ap);
	va_end(ap);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	print_line(stderr, "error: ", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	print_line(stderr, "warning: ", fmt, ap);
	va_end(ap);
}

int cli_exit_status(cli_retval rc)
{
	switch (rc) {
	case CLI_OK:
		return EXIT_OK;
	case CLI_INVALID:
		return EXIT_INVALID;
	case CLI_REFUSED:
		return EXIT_REFUSED;
	case CLI_USAGE:
		return EXIT_USAGE;
	case CLI_FAILED:
		break;
	}
	return EXIT_FAIL;
}

cli_retval cli_retval_of(int code)
{
	switch (code) {
	case SLUICE_OK:
		return CLI_OK;
	case SLUICE_EINVAL:
	case SLUICE_ELIMIT:
		return CLI_INVALID;
	case SLUICE_EREFUSED:
		return CLI_REFUSED;
	case SLUICE_EAMBIGUOUS:
		return CLI_USAGE;
	default:
		return CLI_FAILED;
	}
}

cli_retval cli_fail(int code)
{
	const char *msg = sluice_error_last();
	cli_error("%s", *msg ? msg : "unexpected failure");
	return code == SLUICE_OK ? CLI_FAILED : cli_retval_of(code);
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t nlen,
			       char short_name);

/* A command asking for an option it does not declare is a bug (a
 * misspelt name would read as "not given"): stop loudly, naming both. */
static void check_name(const struct cli *c, const char *name)
{
	size_t n = strlen(name);

	if ((c->cmd && find_opt(c->cmd->opts, name, n, 0)) || find_opt(global_opts, name, n, 0))
		return;
	fprintf(stderr, "sluice: internal error: command '%s' asks for option '--%s', which is "
			"not in its option table\n",
		c->cmd ? c->cmd->name : "(none)", name);
	abort();
}

const char *cli_get_nth(const struct cli *c, const char *name, size_t n)
{
	check_name(c, name);
	for (size_t i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, name) == 0 && n-- == 0)
			return c->opts[i].value;
	return NULL;
}

const char *cli_get(const struct cli *c, const char *name)
{
	const char *v = NULL;
	check_name(c, name);
	for (size_t i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, name) == 0)
			v = c->opts[i].value;
	return v;
}

bool cli_has(const struct cli *c, const char *name)
{
	check_name(c, name);
	for (size_t i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, name) == 0)
			return true;
	return false;
}

static void print_opts(FILE *out, const cli_opt *opts)
{
	for (const cli_opt *o = opts; o && o->name; o++) {
		char lhs[64];
		if (o->short_name)
			snprintf(lhs, sizeof lhs, "-%c, --%s%s%s", o->short_name,
				 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(lhs, sizeof lhs, "    --%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s\n", lhs, o->help);
	}
}

static void usage_main(FILE *out)
{
	fputs("usage: sluice [global flags] <command> [options] [args]\n\n"
	      "Sluice rolls AI-assistant plugins out to groups of users, stage by stage.\n\n"
	      "commands:\n", out);
	for (const cli_cmd *const *c = commands; *c; c++)
		fprintf(out, "  %-18s %s\n", (*c)->name, (*c)->summary);
	fputs("\nglobal flags (before or after the command):\n", out);
	print_opts(out, global_opts);
	fputs("\nexit status: 0 success, 1 failure, 2 invalid configuration or input,\n"
	      "3 refused by policy, 129 usage error. 'sluice <command> -h' for more.\n", out);
}

static void usage_cmd(FILE *out, const cli_cmd *cmd)
{
	fprintf(out, "usage: sluice %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->opts && cmd->opts[0].name) {
		fputs("\noptions:\n", out);
		print_opts(out, cmd->opts);
	}
	/* the global flags in short, from their table: "--root DIR, ..., -q" */
	fputs("\nglobal flags:", out);
	size_t col = strlen("global flags:");
	for (const cli_opt *o = global_opts; o->name; o++) {
		char item[64];
		if (o->short_name)
			snprintf(item, sizeof item, "-%c%s%s", o->short_name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		else
			snprintf(item, sizeof item, "--%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		if (col + strlen(item) + 2 > 78) {
			fputs(o == global_opts ? "\n" : ",\n", out);
			col = 0;
		} else if (o != global_opts) {
			fputs(", ", out);
			col += 2;
		} else {
			fputc(' ', out);
			col++;
		}
		fputs(item, out);
		col += strlen(item);
	}
	fputc('\n', out);
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t nlen,
			       char short_name)
{
	for (const cli_opt *o = opts; o && o->name; o++) {
		if (short_name ? o->short_name == short_name
			       : (strlen(o->name) == nlen &&
				  strncmp(o->name, name, nlen) == 0))
			return o;
	}
	return NULL;
}

static const cli_cmd *find_cmd(const char *name)
{
	for (const cli_cmd *const *c = commands; *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

static int set_global(struct cli *c, const cli_opt *o, const char *val)
{
	if (strcmp(o->name, "root") == 0)
		c->root = val;
	else if (strcmp(o->name, "db") == 0) {
		free(c->db);
		c->db = sluice_xstrdup(val);
	} else if (strcmp(o->name, "cache") == 0) {
		free(c->cache);
		c->cache = sluice_xstrdup(val);
	} else if (strcmp(o->name, "now") == 0)
		c->now_arg = val;
	else if (strcmp(o->name, "as") == 0)
		c->as = val;
	else if (strcmp(o->name, "output") == 0) {
		if (strcmp(val, "text") == 0)
			c->output = CLI_OUT_TEXT;
		else if (strcmp(val, "json") == 0)
			c->output = CLI_OUT_JSON;
		else {
			cli_error("unknown output format '%s'; use -o text or -o json", val);
			return -1;
		}
	} else if (strcmp(o->name, "quiet") == 0)
		c->quiet = true;
	else if (strcmp(o->name, "verbose") == 0)
		c->verbose++;
	return 0;
}

/* Parses argv into c. Returns CLI_OK with *stop false to run the command,
 * CLI_OK with *stop true when -h was answered, or the problem (printed). */
static cli_retval parse_args(struct cli *c, int argc, char **argv, bool *stop)
{
	bool help = false, only_args = false;
	const char *cmd_name = NULL;
	size_t pos = 0;
	cli_retval rc = CLI_USAGE;

	*stop = false;
	c->args = sluice_xcalloc((size_t)argc + 1, sizeof(char *));
	c->opts = sluice_xcalloc((size_t)argc + 1, sizeof(cli_optval));
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_args || a[0] != '-' || a[1] == '\0') {
			if (!cmd_name) {
				cmd_name = a;
				c->cmd = find_cmd(a);
				if (!c->cmd) {
					const char *names[64];
					size_t n = 0;
					for (const cli_cmd *const *k = commands; *k && n < 63; k++)
						names[n++] = (*k)->name;
					names[n] = NULL;
					const char *hint = sluice_did_you_mean(a, names);
					cli_error("unknown command '%s'%s%s%s; run 'sluice -h' for the list", a,
						  hint ? " (did you mean '" : "", hint ? hint : "",
						  hint ? "'?)" : "");
					goto done;
				}
			} else
				c->args[pos++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		/* --name, --name=value, --name value, -x, -x value, -xVALUE */
		const cli_opt *o = NULL;
		bool global = false;
		const char *val = NULL;
		char shortbuf[3] = {0};
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
			if (c->cmd)
				o = find_opt(c->cmd->opts, name, nlen, 0);
			if (!o && (o = find_opt(global_opts, name, nlen, 0)))
				global = true;
			if (!o) {
				cli_error("unknown option '--%.*s'; run 'sluice %s%s-h' for the options",
					  (int)nlen, name, c->cmd ? c->cmd->name : "",
					  c->cmd ? " " : "");
				goto done;
			}
			if (eq) {
				if (!o->arg) {
					cli_error("option '--%s' takes no value", o->name);
					goto done;
				}
				val = eq + 1;
			}
		} else {
			shortbuf[0] = '-';
			shortbuf[1] = a[1];
			if (c->cmd)
				o = find_opt(c->cmd->opts, NULL, 0, a[1]);
			if (!o && (o = find_opt(global_opts, NULL, 0, a[1])))
				global = true;
			if (!o) {
				cli_error("unknown option '%s'; run 'sluice %s%s-h' for the options",
					  shortbuf, c->cmd ? c->cmd->name : "", c->cmd ? " " : "");
				goto done;
			}
			if (a[2]) {
				if (!o->arg) {
					cli_error("option '%s' takes no value", shortbuf);
					goto done;
				}
				val = a + 2;
			}
		}
		if (o->arg && !val) {
			if (i + 1 >= argc) {
				cli_error("option '--%s' needs a value (%s)", o->name, o->arg);
				goto done;
			}
			val = argv[++i];
		}
		if (global) {
			if (strcmp(o->name, "help") == 0)
				help = true;
			else if (set_global(c, o, val) < 0)
				goto done;
			continue;
		}
		if (!o->repeat && cli_has(c, o->name)) {
			cli_error("option '--%s' given twice", o->name);
			goto done;
		}
		c->opts[c->nopts].name = o->name;
		c->opts[c->nopts].value = val;
		c->nopts++;
	}
	c->nargs = pos;
	if (help) {
		if (c->cmd)
			usage_cmd(stdout, c->cmd);
		else
			usage_main(stdout);
		*stop = true;
		rc = CLI_OK;
		goto done;
	}
	if (!c->cmd) {
		usage_main(stderr);
		goto done;
	}
	if (pos < c->cmd->min_args || pos > c->cmd->max_args) {
		cli_error("%s arguments for '%s'", pos < c->cmd->min_args ? "missing" : "too many",
			  c->cmd->name);
		fprintf(stderr, "usage: sluice %s\n", c->cmd->usage);
		goto done;
	}
	rc = CLI_OK;
done:
	return rc;
}

/* --now: RFC 3339 in UTC with seconds, as sluice prints times
 * (2026-12-01T09:00:00Z), in the years 2000-2999. Anything looser is a
 * usage error: a clock that moves rollouts must be written unambiguously. */
static cli_retval parse_now(struct cli *c)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	const char *s = c->now_arg;
	char back[SLUICE_TIME_BUFSZ];
	bool ok = strlen(s) == sizeof shape - 1;

	for (size_t i = 0; ok && shape[i]; i++)
		ok = shape[i] == 'd' ? s[i] >= '0' && s[i] <= '9' : s[i] == shape[i];
	/* a date that does not exist (02-30) formats back differently */
	ok = ok && sluice_time_parse(&c->now, s) == 0 &&
	     strcmp(sluice_time_format(back, c->now), s) == 0;
	if (!ok) {
		cli_error("--now '%s' is not an RFC 3339 time in UTC with seconds; write it as "
			  "2026-12-01T09:00:00Z",
			  s);
		return CLI_USAGE;
	}
	if (s[0] != '2') {
		cli_error("--now '%s' is outside the years 2000-2999", s);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int main(int argc, char **argv)
{
	struct cli c;
	bool stop = false;
	cli_retval rc;

	memset(&c, 0, sizeof c);
	c.root = ".";
	if ((rc = parse_args(&c, argc, argv, &stop)) != CLI_OK || stop)
		goto done;
	if (!c.db)
		c.db = sluice_engine_default_db_path(c.root);
	if (!c.cache)
		c.cache = sluice_engine_default_cache_dir(c.root);
	if (c.now_arg) {
		if ((rc = parse_now(&c)) != CLI_OK)
			goto done;
	} else
		c.now = (int64_t)time(NULL);
	rc = cli_dispatch(&c);
done:
	cli_clear(&c);
	free(c.opts);
	free(c.args);
	free(c.db);
	free(c.cache);
	return cli_exit_status(rc);
}
