/* Leases: a named row that one process holds at a time (the reconcile
 * pass, the daemon). They use real time and the holder's liveness, never
 * the rollout clock (--now), so a crashed holder never blocks the next. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sluice/error.h"
#include "sluice/util.h"
#include "store-internal.h"

static void this_host(char *buf, size_t n)
{
	if (gethostname(buf, n) < 0 || !buf[0])
		snprintf(buf, n, "localhost");
	buf[n - 1] = '\0';
}

/* A holder on this host whose process is gone holds nothing. */
static bool holder_dead(int64_t pid, const char *host)
{
	char me[256];
	this_host(me, sizeof me);
	if (!host || strcmp(host, me) != 0 || pid <= 0)
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int sluice_store_lease_acquire(sluice_store *s, const char *name, int64_t ttl_seconds,
			       sluice_lease_info *holder)
{
	static const char sql_get[] =
		"SELECT holder, pid, host, acquired_at, expires_at FROM leases WHERE name = ?1";
	static const char sql_put[] =
		"INSERT INTO leases (name, holder, pid, host, acquired_at, expires_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, pid = excluded.pid,"
		"  host = excluded.host, acquired_at = excluded.acquired_at,"
		"  expires_at = excluded.expires_at";
	sqlite3_stmt *st = NULL;
	char host[256], me[300];
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (holder)
		memset(holder, 0, sizeof *holder);
	this_host(host, sizeof host);
	snprintf(me, sizeof me, "%ld@%s", (long)getpid(), host);
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	if ((rc = store_stmt(s, &st, sql_get)) < 0)
		goto done;
	store_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 0);
		int64_t pid = sqlite3_column_int64(st, 1);
		const char *hh = (const char *)sqlite3_column_text(st, 2);
		int64_t expires = sqlite3_column_int64(st, 4);
		bool mine = h && strcmp(h, me) == 0;
		if (!mine && holder) {
			snprintf(holder->holder, sizeof holder->holder, "%s", h ? h : "?");
			holder->pid = pid;
			holder->acquired_at = sqlite3_column_int64(st, 3);
			holder->expires_at = expires;
		}
		if (!mine && expires > now && !holder_dead(pid, hh)) {
			char who[300];
			snprintf(who, sizeof who, "%s", h ? h : "?");
			store_done(st);
			rc = sluice_error_set(SLUICE_EBUSY,
					      "the %s lease is held by %s until %lld (real time)",
					      name, who, (long long)expires);
			goto done;
		}
	} else if (rc != SQLITE_DONE) {
		store_done(st);
		rc = store_error(s, rc, "cannot read leases");
		goto done;
	}
	store_done(st);
	if ((rc = store_stmt(s, &st, sql_put)) < 0)
		goto done;
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, me);
	store_bind_int(st, 3, (int64_t)getpid());
	store_bind_text(st, 4, host);
	store_bind_int(st, 5, now);
	store_bind_int(st, 6, now + ttl_seconds);
	rc = store_step_done(s, st, "cannot take the lease");
	store_done(st);
done:
	return store_tx_end(s, rc);
}

int sluice_store_lease_release(sluice_store *s, const char *name)
{
	static const char sql[] = "DELETE FROM leases WHERE name = ?1 AND holder = ?2";
	sqlite3_stmt *st = NULL;
	char host[256], me[300];
	int rc;

	this_host(host, sizeof host);
	snprintf(me, sizeof me, "%ld@%s", (long)getpid(), host);
	if ((rc = store_tx_begin(s)) < 0)
		return rc;
	if ((rc = store_stmt(s, &st, sql)) == 0) {
		store_bind_text(st, 1, name);
		store_bind_text(st, 2, me);
		rc = store_step_done(s, st, "cannot release the lease");
		store_done(st);
	}
	return store_tx_end(s, rc);
}
