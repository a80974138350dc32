/* The connection: see link.h. */
#include "cstrace/link.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long sock_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct cap *k = ctx;
	double deadline = timeout_ms >= 0 ? cap_now() + timeout_ms / 1000.0 : 0;
	for (;;) {
		int wait = -1;
		if (timeout_ms >= 0) {
			double left = deadline - cap_now();
			wait = left > 0 ? (int)(left * 1000) + 1 : 0;
		}
		struct pollfd pfd = {.fd = k->fd, .events = POLLIN};
		int r = poll(&pfd, 1, wait);
		if (r < 0 && errno == EINTR) {
			if (k->waiting_stop && k->o->interrupted && *k->o->interrupted)
				return RSP_IO_TIMEOUT;
			continue;
		}
		if (r < 0)
			return -1;
		if (r == 0)
			return RSP_IO_TIMEOUT;
		ssize_t n = recv(k->fd, buf, len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return n < 0 ? -1 : (long)n;
	}
}

static int sock_write(void *ctx, const void *buf, size_t len)
{
	struct cap *k = ctx;
	for (size_t done = 0; done < len;) {
		ssize_t n = send(k->fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
		if (n > 0)
			done += (size_t)n;
		else if (n == 0 || errno != EINTR)
			return -1;
	}
	return 0;
}

/* HOST:PORT, [V6]:PORT or :PORT (localhost). */
static int split_target(const char *target, char *host, size_t hl, char *port, size_t pl)
{
	const char *colon;
	if (target[0] == '[') {
		const char *close = strchr(target, ']');
		if (!close || close[1] != ':')
			return -1;
		snprintf(host, hl, "%.*s", (int)(close - target - 1), target + 1);
		colon = close + 1;
	} else {
		colon = strrchr(target, ':');
		if (!colon)
			return -1;
		snprintf(host, hl, "%.*s", (int)(colon - target), target);
	}
	if (!host[0])
		snprintf(host, hl, "localhost");
	snprintf(port, pl, "%s", colon + 1);
	return port[0] ? 0 : -1;
}

int link_connect(struct cap *k)
{
	char host[256], port[32];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	if (split_target(k->o->target, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(k->error, sizeof(k->error), "%s: expected HOST:PORT", k->o->target);
		return -1;
	}
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(k->error, sizeof(k->error), "%s: %s", k->o->target, gai_strerror(rc));
		return -1;
	}
	int last_errno = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			last_errno = errno;
			close(fd);
			continue;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int err = 0;
		socklen_t el = sizeof(err);
		int r;
		while ((r = poll(&pfd, 1, k->o->connect_timeout_ms)) < 0 && errno == EINTR)
			;
		if (r == 0)
			err = ETIMEDOUT;
		else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			last_errno = err;
			close(fd);
			continue;
		}
		int flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		k->fd = fd;
		freeaddrinfo(res);
		return 0;
	}
	freeaddrinfo(res);
	snprintf(k->error, sizeof(k->error), "cannot connect to %s: %s", k->o->target,
		 strerror(last_errno ? last_errno : ECONNREFUSED));
	return -1;
}

void link_client_init(struct cap *k)
{
	rsp_client_init(&k->c, sock_read, sock_write, k);
}
