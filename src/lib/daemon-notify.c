/* systemd's notify protocol, written by hand so that Sluice needs no
 * libsystemd (sd_notify(3)): one datagram per state on the AF_UNIX socket
 * named by $NOTIFY_SOCKET, a path or, with a leading '@', an abstract
 * socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon-internal.h"
#include "sluice/error.h"

int sluice__sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	socklen_t salen;
	int fd, rc = 0;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof sa.sun_path)
		return sluice_error_set(SLUICE_EINVAL,
					"NOTIFY_SOCKET '%s' is neither a path nor an abstract "
					"socket ('@name')", path);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@') /* abstract: a NUL first, and no NUL counted at the end */
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return sluice_error_set(SLUICE_EIO, "cannot make a socket for NOTIFY_SOCKET: %s",
					strerror(errno));
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		rc = sluice_error_set(SLUICE_EIO, "cannot notify %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int64_t sluice__sd_watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;
	long long u;

	if (!usec || !*usec)
		return 0;
	if (pid && *pid && strtoll(pid, NULL, 10) != (long long)getpid())
		return 0;
	u = strtoll(usec, &end, 10);
	if (*end || u <= 0)
		return 0;
	return u / 2000 > 0 ? u / 2000 : 1;
}
