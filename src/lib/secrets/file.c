/* The file provider (development): the secret `codex/x/token` is the file
 * <dir>/codex/x/token. It must resolve to a regular file inside dir (a
 * symbolic link may not lead out of it) with a mode no wider than 0600.
 * The file is never opened: stat(2) gives existence, version and age. */
/* realpath() is XSI */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "secrets-internal.h"
#include "sluice/error.h"
#include "sluice/util.h"

int sluice__secret_file_check(sluice_secret_meta *out, const sluice_secret_provider *p,
			      const sluice_secret_query *q)
{
	char *dir = sluice__secret_path(q->root, p->dir.s ? p->dir.s : ".");
	char *path = sluice_xasprintf("%s/%s", dir, q->name);
	char *rdir = NULL, *rpath = NULL;
	struct stat st;
	int rc = 0;

	if (!(rdir = realpath(dir, NULL))) {
		rc = sluice_error_set(SLUICE_EIO, "secret provider '%s': cannot use dir %s: %s",
				      p->name.s, dir, strerror(errno));
		goto done;
	}
	if (!(rpath = realpath(path, NULL))) {
		if (errno == ENOENT || errno == ENOTDIR) {
			out->exists = false;
			goto done;
		}
		rc = sluice_error_set(SLUICE_EIO, "secret provider '%s': cannot check %s: %s",
				      p->name.s, q->name, strerror(errno));
		goto done;
	}
	size_t n = strlen(rdir);
	if (strncmp(rpath, rdir, n) != 0 || (rpath[n] != '/' && strcmp(rdir, "/") != 0)) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "secret provider '%s': %s is a symbolic link that leads out "
				      "of %s; replace it with the file itself",
				      p->name.s, q->name, dir);
		goto done;
	}
	if (stat(rpath, &st) < 0) {
		rc = sluice_error_set(SLUICE_EIO, "secret provider '%s': cannot check %s: %s",
				      p->name.s, q->name, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = sluice_error_set(SLUICE_EINVAL, "secret provider '%s': %s is not a regular file",
				      p->name.s, q->name);
		goto done;
	}
	if (st.st_mode & 0177) {
		rc = sluice_error_set(SLUICE_EREFUSED,
				      "secret provider '%s': %s has mode %04o, wider than 0600; run "
				      "'chmod 600 %s'",
				      p->name.s, q->name, (unsigned)(st.st_mode & 07777), path);
		goto done;
	}
	out->exists = true;
	out->updated_at = (int64_t)st.st_mtime;
	out->version = sluice_xasprintf("%lld", (long long)st.st_mtime);
done:
	free(rpath);
	free(rdir);
	free(path);
	free(dir);
	return rc;
}
