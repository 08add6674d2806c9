/* Shared between source.c and source-local.c; not part of the API. */
#ifndef SLUICE_SOURCE_INTERNAL_H
#define SLUICE_SOURCE_INTERNAL_H

#include <stdbool.h>

#include <git2.h>
#include <git2/sys/transport.h>

/* A fetch from a local repository (a path or file:// URL) through
 * `git upload-pack` in a child process instead of libgit2's in-process
 * local transport, which builds the whole pack in memory (every object
 * loaded whole: a 100 MB blob costs 200 MB) and refuses the repository
 * outright when one of its refs has an invalid name. Through the smart
 * protocol Sluice only indexes the pack as it streams in, under the same
 * limits as a network fetch. */
typedef struct {
	git_smart_subtransport_definition def; /* def.param points back here */
	/* Called with "skipped ref '...': not a valid ref name" for each ref
	 * git hid because of its name (control characters escaped). */
	void (*note)(void *ctx, const char *note);
	void *ctx;
} sluice__local_ctx;

/* Whether `url` names a local repository and `git` can be run from PATH. */
bool sluice__local_usable(const char *url);

/* Prepares lc (call once before sluice__local_transport). */
void sluice__local_ctx_init(sluice__local_ctx *lc, void (*note)(void *, const char *), void *ctx);

/* A git_transport_cb body: the smart transport over `git upload-pack`. */
int sluice__local_transport(git_transport **out, git_remote *owner, sluice__local_ctx *lc);

#endif
