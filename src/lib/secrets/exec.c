/* The exec provider: a credential helper (the provider's `command`, run
 * without a shell) answers one metadata query. Request on its stdin:
 * {"name", "workspace", "plugin"}; answer on its stdout: {"exists": bool,
 * "version": string | number, "updated_at": RFC 3339}. A helper that takes
 * longer than the timeout is killed; one that exits non-zero, prints
 * something other than that object, or more than 64 KiB, is an error. Its
 * stderr is discarded and its output is never repeated in a message: a
 * confused helper could print the secret itself (docs/secrets.md). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "secrets-internal.h"
#include "sluice/error.h"
#include "sluice/util.h"

#define EXEC_MAX_OUTPUT (64 * 1024)

extern char **environ;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the answer into *out until end of file, the limit or the
 * deadline: 0, or 1 when too long, 2 when too slow, negative on error. */
static int read_answer(sluice_buf *out, int fd, int64_t deadline)
{
	char chunk[4096];

	for (;;) {
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return 2;
		struct pollfd pfd = {fd, POLLIN, 0};
		int n = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			continue;
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		if (out->len + (size_t)r > EXEC_MAX_OUTPUT)
			return 1;
		sluice_buf_put(out, chunk, (size_t)r);
	}
}

/* Waits for the helper until the deadline; kills it after. *status is
 * its wait status; returns false when it had to be killed. */
static bool reap(pid_t pid, int *status, int64_t deadline)
{
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return true;
		if (w < 0 && errno != EINTR)
			return true;
		if (mono_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return false;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static int parse_answer(sluice_secret_meta *out, const sluice_secret_provider *p,
			const char *prog, const sluice_buf *b)
{
	json_error_t jerr;
	json_t *j = json_loadb(b->ptr ? b->ptr : "", b->len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *ex, *ver, *upd;
	int rc = 0;

	if (!j || !json_is_object(j)) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "secret provider '%s': helper %s did not answer with a JSON "
				      "object (see docs/secrets.md for the protocol)",
				      p->name.s, prog);
		goto done;
	}
	ex = json_object_get(j, "exists");
	ver = json_object_get(j, "version");
	upd = json_object_get(j, "updated_at");
	if (!json_is_boolean(ex)) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "secret provider '%s': helper %s answered without a boolean "
				      "\"exists\"",
				      p->name.s, prog);
		goto done;
	}
	out->exists = json_is_true(ex);
	if (json_is_string(ver) && json_string_length(ver) <= 128)
		out->version = sluice_xstrdup(json_string_value(ver));
	else if (json_is_integer(ver))
		out->version = sluice_xasprintf("%lld", (long long)json_integer_value(ver));
	else if (ver && !json_is_null(ver)) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "secret provider '%s': helper %s answered a \"version\" that "
				      "is neither a short string nor a whole number",
				      p->name.s, prog);
		goto done;
	}
	if (json_is_string(upd)) {
		if (sluice_time_parse(&out->updated_at, json_string_value(upd)) < 0) {
			rc = sluice_error_set(SLUICE_EINVAL,
					      "secret provider '%s': helper %s answered an "
					      "\"updated_at\" that is not an RFC 3339 time",
					      p->name.s, prog);
			goto done;
		}
	} else if (upd && !json_is_null(upd)) {
		rc = sluice_error_set(SLUICE_EINVAL,
				      "secret provider '%s': helper %s answered an \"updated_at\" "
				      "that is not an RFC 3339 time",
				      p->name.s, prog);
		goto done;
	}
done:
	json_decref(j);
	return rc;
}

int sluice__secret_exec_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			      const sluice_secret_query *q)
{
	const char *prog = p->command.count ? p->command.items[0].s : NULL;
	char **argv = NULL;
	int in[2] = {-1, -1}, outp[2] = {-1, -1}, status = 0, rc = 0, rr;
	posix_spawn_file_actions_t fa;
	bool fa_made = false;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	bool sig_set = false;
	pid_t pid = -1;
	sluice_buf answer = SLUICE_BUF_INIT;
	char *req = NULL;
	int64_t timeout = p->timeout_ms > 0 ? p->timeout_ms : 5000;
	int64_t deadline = mono_ms() + timeout;

	if (!prog) {
		rc = sluice_error_set(SLUICE_EINVAL, "secret provider '%s' has no command",
				      p->name.s);
		goto done;
	}
	argv = sluice_xcalloc(p->command.count + 1, sizeof *argv);
	for (size_t i = 0; i < p->command.count; i++)
		argv[i] = (char *)p->command.items[i].s;
	json_t *jr = json_pack("{s:s, s:s?, s:s?}", "name", q->name, "workspace", q->workspace,
			       "plugin", q->plugin);
	req = jr ? json_dumps(jr, JSON_COMPACT) : NULL;
	json_decref(jr);
	if (!req || pipe(in) < 0 || pipe(outp) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "secret provider '%s': cannot start %s: %s",
				      p->name.s, prog, strerror(errno));
		goto done;
	}
	fcntl(in[1], F_SETFD, FD_CLOEXEC);
	fcntl(outp[0], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	fa_made = true;
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclose(&fa, in[0]);
	posix_spawn_file_actions_addclose(&fa, outp[1]);
	rr = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	if (rr != 0) {
		pid = -1;
		rc = sluice_error_set(SLUICE_EIO, "secret provider '%s': cannot run %s: %s",
				      p->name.s, prog, strerror(rr));
		goto done;
	}
	/* a helper that exits without reading its request must not kill us */
	sigaction(SIGPIPE, &ign, &old);
	sig_set = true;
	size_t len = strlen(req), off = 0;
	while (off < len) {
		ssize_t w = write(in[1], req + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break; /* the answer (or the exit status) says what went wrong */
		off += (size_t)w;
	}
	close(in[1]);
	in[1] = -1;
	rr = read_answer(&answer, outp[0], deadline);
	if (rr == 1) {
		kill(pid, SIGKILL);
		reap(pid, &status, deadline);
		pid = -1;
		rc = sluice_error_set(SLUICE_ELIMIT,
				      "secret provider '%s': helper %s printed more than 64 KiB; it "
				      "must print one small JSON object",
				      p->name.s, prog);
		goto done;
	}
	if (rr == 2 || !reap(pid, &status, deadline)) {
		kill(pid, SIGKILL);
		reap(pid, &status, mono_ms() + 1000);
		pid = -1;
		rc = sluice_error_set(SLUICE_EIO,
				      "secret provider '%s': helper %s did not answer within %lld ms "
				      "and was killed",
				      p->name.s, prog, (long long)timeout);
		goto done;
	}
	pid = -1;
	if (rr < 0) {
		rc = sluice_error_set(SLUICE_EIO, "secret provider '%s': cannot read from %s: %s",
				      p->name.s, prog, strerror(errno));
		goto done;
	}
	if (WIFSIGNALED(status)) {
		rc = sluice_error_set(SLUICE_EIO, "secret provider '%s': helper %s died of signal %d",
				      p->name.s, prog, WTERMSIG(status));
		goto done;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = sluice_error_set(SLUICE_EIO,
				      "secret provider '%s': helper %s exited with status %d",
				      p->name.s, prog, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto done;
	}
	rc = parse_answer(out, p, prog, &answer);
done:
	if (pid > 0) {
		kill(pid, SIGKILL);
		reap(pid, &status, mono_ms() + 1000);
	}
	if (sig_set)
		sigaction(SIGPIPE, &old, NULL);
	if (fa_made)
		posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	/* the answer may hold anything the helper printed: wipe it */
	if (answer.ptr)
		memset(answer.ptr, 0, answer.len);
	sluice_buf_clear(&answer);
	free(req);
	free(argv);
	return rc;
}
