/* SSH signatures of tags, verified by ssh-keygen -Y verify. ssh-keygen is
 * run directly with fork/execvp (never through a shell) so that no tag
 * content or e-mail address is ever interpreted as a command. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice/error.h"
#include "sluice/source.h"
#include "sluice/util.h"

#define SIG_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define SIG_END "-----END SSH SIGNATURE-----"
#define MAX_OUTPUT 4096

bool sluice_tag_split_signature(const char *content, size_t len, size_t *payload_len,
				const char **sig, size_t *sig_len)
{
	size_t blen = strlen(SIG_BEGIN);
	const char *found = NULL;

	/* The signature is appended to the message, so it is the last block
	 * that starts a line; an earlier one inside the message is text. */
	for (size_t i = 0; i + blen <= len; i++) {
		if ((i == 0 || content[i - 1] == '\n') && memcmp(content + i, SIG_BEGIN, blen) == 0)
			found = content + i;
	}
	if (!found)
		return false;
	size_t off = (size_t)(found - content);
	size_t rest = len - off;
	/* It must be complete: an END line after the BEGIN line. */
	size_t elen = strlen(SIG_END);
	bool has_end = false;
	for (size_t i = 0; i + elen <= rest; i++)
		if (found[i] == '-' && memcmp(found + i, SIG_END, elen) == 0)
			has_end = true;
	if (!has_end)
		return false;
	*payload_len = off;
	*sig = found;
	*sig_len = rest;
	return true;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A temporary file holding data; its path is written to `path`. */
static int temp_file(char *path, size_t pathsz, const char *data, size_t len)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, pathsz, "%s/sluice-sig.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

int sluice_ssh_verify(const char *allowed_signers, const char *identity, const char *ns,
		      const char *payload, size_t payload_len, const char *sig, size_t sig_len)
{
	char sigpath[4096], paypath[4096];
	int out_pipe[2] = {-1, -1};
	bool have_sig = false, have_pay = false;
	char output[MAX_OUTPUT + 1];
	size_t outlen = 0;
	pid_t pid = -1;
	int rc, status = 0;

	if (access(allowed_signers, R_OK) != 0)
		return sluice_error_set(SLUICE_EREFUSED, "cannot read allowed_signers '%s': %s",
					allowed_signers, strerror(errno));
	if (temp_file(sigpath, sizeof sigpath, sig, sig_len) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot write a temporary signature file: %s",
				      strerror(errno));
		goto done;
	}
	have_sig = true;
	/* The payload goes through a file, not a pipe, so ssh-keygen can never
	 * block us by not reading stdin while we wait on its output. */
	if (temp_file(paypath, sizeof paypath, payload, payload_len) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot write a temporary payload file: %s",
				      strerror(errno));
		goto done;
	}
	have_pay = true;
	if (pipe(out_pipe) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot create a pipe: %s", strerror(errno));
		goto done;
	}
	char *argv[] = {"ssh-keygen",	   "-Y",		"verify", "-f",
			(char *)allowed_signers, "-I",		(char *)identity,
			"-n",		   (char *)ns,	"-s",	  sigpath,
			NULL};
	pid = fork();
	if (pid < 0) {
		rc = sluice_error_set(SLUICE_EIO, "cannot start ssh-keygen: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		int in = open(paypath, O_RDONLY);
		if (in < 0 || dup2(in, 0) < 0 || dup2(out_pipe[1], 1) < 0 ||
		    dup2(out_pipe[1], 2) < 0)
			_exit(126);
		close(in);
		close(out_pipe[0]);
		close(out_pipe[1]);
		execvp("ssh-keygen", argv);
		_exit(127);
	}
	close(out_pipe[1]);
	out_pipe[1] = -1;
	for (;;) {
		char chunk[512];
		ssize_t n = read(out_pipe[0], chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t take = (size_t)n;
		if (take > MAX_OUTPUT - outlen)
			take = MAX_OUTPUT - outlen;
		memcpy(output + outlen, chunk, take);
		outlen += take;
	}
	output[outlen] = '\0';
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			rc = sluice_error_set(SLUICE_EIO, "cannot wait for ssh-keygen: %s",
					      strerror(errno));
			goto done;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = 0;
		goto done;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		rc = sluice_error_set(SLUICE_EIO,
				      "cannot run ssh-keygen to verify a signature; install "
				      "openssh-client");
		goto done;
	}
	/* ssh-keygen's own words, on one line, are the reason. */
	while (outlen && (output[outlen - 1] == '\n' || output[outlen - 1] == '\r'))
		output[--outlen] = '\0';
	for (size_t i = 0; i < outlen; i++)
		if (output[i] == '\n' || output[i] == '\r')
			output[i] = ' ';
	rc = sluice_error_set(SLUICE_EREFUSED, "%s",
			      outlen ? output : "ssh-keygen refused the signature");
done:
	if (out_pipe[0] >= 0)
		close(out_pipe[0]);
	if (out_pipe[1] >= 0)
		close(out_pipe[1]);
	if (have_sig)
		unlink(sigpath);
	if (have_pay)
		unlink(paypath);
	return rc;
}
