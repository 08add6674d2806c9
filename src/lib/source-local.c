/* Local repositories fetched through `git upload-pack` (source-internal.h
 * says why). The child is run directly (fork/execvp, no shell) with the
 * path after "--"; its stderr goes to an unlinked temporary file, read for
 * the reason when it fails and for the refs it ignored. */
/* pipe2 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "source-internal.h"
#include "sluice/util.h"

#define MAX_STDERR_BYTES 65536
#define BROKEN_REF "ignoring ref with broken name "

typedef struct {
	git_smart_subtransport_stream parent;
	sluice__local_ctx *lc;
	pid_t pid;
	int to_child, from_child;
	FILE *err; /* the child's stderr */
	bool noted;
} local_stream;

typedef struct {
	git_smart_subtransport parent;
	sluice__local_ctx *lc;
	local_stream *current;
} local_sub;

bool sluice__local_usable(const char *url)
{
	if (!url || strstr(url, "://") ? !sluice_str_has_prefix(url, "file://") : strchr(url, ':') != NULL)
		return false;
	const char *path = getenv("PATH");
	if (!path)
		return false;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char *exe = sluice_xasprintf("%.*s/git", (int)n, n ? p : ".");
		bool ok = access(exe, X_OK) == 0;
		free(exe);
		if (ok)
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

/* The path of a file:// URL (%XX decoded) or the path itself. */
static char *url_path(const char *url)
{
	if (!sluice_str_has_prefix(url, "file://"))
		return sluice_xstrdup(url);
	const char *s = url + 7;
	sluice_buf b = SLUICE_BUF_INIT;
	for (; *s; s++) {
		unsigned v;
		if (s[0] == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &v) == 1) {
			char ch = (char)v;
			sluice_buf_put(&b, &ch, 1);
			s += 2;
		} else
			sluice_buf_put(&b, s, 1);
	}
	return b.ptr ? sluice_buf_detach(&b) : sluice_xstrdup("");
}

/* The child's stderr, up to MAX_STDERR_BYTES; caller frees. */
static char *child_stderr(local_stream *s)
{
	char *text = sluice_xcalloc(1, MAX_STDERR_BYTES + 1);
	if (s->err) {
		rewind(s->err);
		size_t n = fread(text, 1, MAX_STDERR_BYTES, s->err);
		text[n] = '\0';
		fseek(s->err, 0, SEEK_END);
	}
	return text;
}

/* The refs git hid for their names, passed to lc->note once. */
static void report_broken_refs(local_stream *s)
{
	if (s->noted || !s->lc->note)
		return;
	s->noted = true;
	char *text = child_stderr(s);
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *at = strstr(line, BROKEN_REF);
		if (!at)
			continue;
		char *shown = sluice_str_escape_controls(at + strlen(BROKEN_REF));
		char *note = sluice_xasprintf("skipped ref '%s': not a valid ref name", shown);
		s->lc->note(s->lc->ctx, note);
		free(note);
		free(shown);
	}
	free(text);
}

/* The first line git wrote that is not a warning, without "fatal: ". */
static void set_child_error(local_stream *s)
{
	char *text = child_stderr(s), *pick = NULL;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!sluice_str_has_prefix(line, "warning: ")) {
			pick = line;
			break;
		}
	}
	if (pick && sluice_str_has_prefix(pick, "fatal: "))
		pick += 7;
	if (pick && *pick)
		git_error_set(GIT_ERROR_NET, "git upload-pack: %s", pick);
	else
		git_error_set(GIT_ERROR_NET, "git upload-pack ended early");
	free(text);
}

static int stream_read(git_smart_subtransport_stream *stream, char *buffer, size_t size,
		       size_t *bytes_read)
{
	local_stream *s = (local_stream *)stream;
	ssize_t n;
	*bytes_read = 0;
	do
		n = read(s->from_child, buffer, size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		git_error_set(GIT_ERROR_OS, "cannot read from git upload-pack: %s", strerror(errno));
		return -1;
	}
	if (n == 0) {
		set_child_error(s);
		return -1;
	}
	*bytes_read = (size_t)n;
	return 0;
}

/* Writing to a child that exited fails with EPIPE instead of killing the
 * process: SIGPIPE is blocked around the write and a pending one taken. */
static int stream_write(git_smart_subtransport_stream *stream, const char *buffer, size_t len)
{
	local_stream *s = (local_stream *)stream;
	sigset_t pipe_set, old;
	int rc = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (len) {
		ssize_t n = write(s->to_child, buffer, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EPIPE) {
				struct timespec zero = {0, 0};
				sigtimedwait(&pipe_set, NULL, &zero);
				set_child_error(s);
			} else
				git_error_set(GIT_ERROR_OS, "cannot write to git upload-pack: %s",
					      strerror(errno));
			rc = -1;
			break;
		}
		buffer += n;
		len -= (size_t)n;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void stream_free(git_smart_subtransport_stream *stream)
{
	local_stream *s = (local_stream *)stream;
	local_sub *sub = (local_sub *)stream->subtransport;
	int status;

	if (!s)
		return;
	report_broken_refs(s);
	if (sub && sub->current == s)
		sub->current = NULL;
	if (s->to_child >= 0)
		close(s->to_child);
	if (s->from_child >= 0)
		close(s->from_child);
	if (s->pid > 0) {
		/* a stopped fetch leaves git writing a pack nobody reads */
		kill(s->pid, SIGTERM);
		while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (s->err)
		fclose(s->err);
	free(s);
}

static int spawn(local_stream **out, local_sub *sub, const char *url)
{
	local_stream *s = sluice_xcalloc(1, sizeof *s);
	int in[2] = {-1, -1}, outp[2] = {-1, -1};
	char *path = url_path(url);
	int rc = -1;

	s->parent.subtransport = &sub->parent;
	s->parent.read = stream_read;
	s->parent.write = stream_write;
	s->parent.free = stream_free;
	s->lc = sub->lc;
	s->to_child = s->from_child = -1;
	/* close-on-exec: fetches run on several threads, and a child that
	 * another thread starts meanwhile must not hold these pipes open (its
	 * copy would keep this child's stdin and stdout from ever closing) */
	if (!(s->err = tmpfile()) || fcntl(fileno(s->err), F_SETFD, FD_CLOEXEC) < 0 ||
	    pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		git_error_set(GIT_ERROR_OS, "cannot start git upload-pack: %s", strerror(errno));
		goto done;
	}
	char *argv[] = {"git", "upload-pack", "--", path, NULL};
	s->pid = fork();
	if (s->pid < 0) {
		git_error_set(GIT_ERROR_OS, "cannot start git upload-pack: %s", strerror(errno));
		goto done;
	}
	if (s->pid == 0) {
		/* protocol v0, the one this libgit2 speaks, on the repository
		 * named and nothing the environment points at */
		static const char *const drop[] = {"GIT_PROTOCOL", "GIT_DIR", "GIT_WORK_TREE",
						   "GIT_OBJECT_DIRECTORY",
						   "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE",
						   NULL};
		for (const char *const *d = drop; *d; d++)
			unsetenv(*d);
		if (dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0 || dup2(fileno(s->err), 2) < 0)
			_exit(126);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		execvp("git", argv);
		_exit(127);
	}
	close(in[0]);
	in[0] = -1;
	close(outp[1]);
	outp[1] = -1;
	s->to_child = in[1];
	s->from_child = outp[0];
	in[1] = outp[0] = -1;
	*out = s;
	s = NULL;
	rc = 0;
done:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	if (s)
		stream_free(&s->parent);
	free(path);
	return rc;
}

static int sub_action(git_smart_subtransport_stream **out, git_smart_subtransport *transport,
		      const char *url, git_smart_service_t action)
{
	local_sub *sub = (local_sub *)transport;
	if (action != GIT_SERVICE_UPLOADPACK_LS && action != GIT_SERVICE_UPLOADPACK) {
		git_error_set(GIT_ERROR_NET, "sluice only fetches");
		return -1;
	}
	/* Stateful: the listing and the pack travel on one child. */
	if (!sub->current && spawn(&sub->current, sub, url) < 0)
		return -1;
	*out = &sub->current->parent;
	return 0;
}

static int sub_close(git_smart_subtransport *transport)
{
	local_sub *sub = (local_sub *)transport;
	if (sub->current)
		stream_free(&sub->current->parent);
	return 0;
}

static void sub_free(git_smart_subtransport *transport)
{
	sub_close(transport);
	free(transport);
}

static int sub_new(git_smart_subtransport **out, git_transport *owner, void *param)
{
	local_sub *sub = sluice_xcalloc(1, sizeof *sub);
	(void)owner;
	sub->parent.action = sub_action;
	sub->parent.close = sub_close;
	sub->parent.free = sub_free;
	sub->lc = param;
	*out = &sub->parent;
	return 0;
}

void sluice__local_ctx_init(sluice__local_ctx *lc, void (*note)(void *, const char *), void *ctx)
{
	memset(lc, 0, sizeof *lc);
	lc->def.callback = sub_new;
	lc->def.rpc = 0;
	lc->def.param = lc;
	lc->note = note;
	lc->ctx = ctx;
}

int sluice__local_transport(git_transport **out, git_remote *owner, sluice__local_ctx *lc)
{
	return git_transport_smart(out, owner, &lc->def);
}
