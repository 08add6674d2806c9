/* Smart-HTTP ref advertisements: what a git server answers to
 * GET <url>/info/refs?service=git-upload-pack (protocol v0), read without
 * libgit2 so that a pass that finds nothing new costs one small request per
 * repository over a few shared connections instead of a TLS handshake and
 * a libgit2 session each (docs/sources.md, "How refs are compared"). */
#ifndef SLUICE_REFS_HTTP_H
#define SLUICE_REFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/source.h"

/* The most an advertisement may be: larger is an error for that
 * repository (a server that sends a gigabyte of refs is not trusted with
 * the memory). */
#define SLUICE_REFS_ADV_MAX_BYTES (32u * 1024u * 1024u)

/* Parses a protocol v0 advertisement strictly: pkt-lines with 4-hex-digit
 * lengths that fit the data, the "# service=git-upload-pack" line and its
 * flush, then "<40 hex> <ref>" lines (the first carries "\0<capabilities>";
 * an empty repository sends only "capabilities^{}"), each peeled "<ref>^{}"
 * right after its ref, a final flush and nothing after it. Returns 0 and
 * *out (every ref in order, peeled ones included; clear with
 * sluice_remote_refs_clear), or SLUICE_EINVAL with a message that says what
 * is wrong at which byte (*out empty). */
int sluice_refs_adv_parse(sluice_remote_refs *out, const char *data, size_t len);

/* Whether `url` is compared through smart HTTP: https://, or http:// (which
 * sluice_source_check_url allows only to the loopback address). */
bool sluice_refs_http_url(const char *url);

typedef enum {
	SLUICE_PROBE_REFS = 0, /* refs holds the advertisement */
	SLUICE_PROBE_FALLBACK, /* no answer a probe can trust (unreachable, TLS,
				* an HTTP error or redirect, not a smart server):
				* libgit2 fetches it and says what is wrong */
	SLUICE_PROBE_ERROR,    /* a malformed or oversized advertisement */
} sluice_probe_status;

/* One repository to probe. */
typedef struct {
	const char *url;      /* the repository URL (passes sluice_source_check_url) */
	const char *key;      /* names it in messages */
	const char *password; /* a token, sent as basic auth for x-access-token; may be NULL */
	sluice_probe_status status;
	sluice_remote_refs refs; /* SLUICE_PROBE_REFS */
	char *why;               /* otherwise: what happened (URL masked); malloc'd */
} sluice_refs_probe;

void sluice_refs_probe_clear(sluice_refs_probe *p);

typedef struct {
	unsigned max_concurrent; /* requests in flight and connections at most; 0: 16 */
	const char *ca_bundle;   /* verify servers with this file; NULL: the system's */
	size_t max_bytes;        /* 0: SLUICE_REFS_ADV_MAX_BYTES */
	/* called on the calling thread about once a second while requests
	 * are in flight (the caller renews its leases); false stops: the
	 * probes not answered yet end as SLUICE_PROBE_ERROR. May be NULL. */
	bool (*heartbeat)(void *arg);
	void *heartbeat_arg;
} sluice_refs_probe_opts;

/* Fetches the advertisement of every probe with one libcurl multi handle:
 * connections are reused between requests (HTTP/2 multiplexed where the
 * server offers it), at most o->max_concurrent requests in flight. Each
 * probe's status says what became of it. Returns 0 and *connections (the
 * connections opened; may be NULL), or SLUICE_EIO when libcurl cannot
 * start. */
int sluice_refs_http_probe(sluice_refs_probe *probes, size_t n, const sluice_refs_probe_opts *o,
			   long *connections);

#endif
