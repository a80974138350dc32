/* Transport of the remote protocol (gdbserver's remote-utils). */
#include "server/remote.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "server/target.h"

/* Clients that may wait to be accepted: a --multi server takes the next
 * one when the current one goes; probes and resets must not refuse it. */
#define LISTEN_BACKLOG 16

static const char *listen_comm;   /* for messages, as the user wrote it */

static int parse_prefix(const char *text, int max, int *prefix)
{
	char *end;
	long v = strtol(text, &end, 10);
	if (!*text || *end || text[0] == '-' || text[0] == '+' || v < 0 || v > max)
		return -1;
	*prefix = (int)v;
	return 0;
}

static int allow_push(struct allow_list *a, int family, const void *addr, int prefix)
{
	struct allow_rule *grown = realloc(a->rules, (a->n + 1) * sizeof *grown);
	if (!grown)
		return -1;
	a->rules = grown;
	struct allow_rule *r = &a->rules[a->n++];
	memset(r, 0, sizeof *r);
	r->family = family;
	memcpy(r->addr, addr, family == AF_INET ? 4 : 16);
	r->prefix = prefix;
	return 0;
}

int allow_list_add(struct allow_list *a, const char *spec, char *err, size_t errlen)
{
	err[0] = '\0';
	a->given = true;
	if (!*spec) {
		snprintf(err, errlen, "--allow: missing HOST[/MASK]");
		return -1;
	}
	char *host = strdup(spec);
	if (!host) {
		snprintf(err, errlen, "--allow %s: out of memory", spec);
		return -1;
	}
	char *slash = strrchr(host, '/');
	const char *mask = NULL;
	if (slash) {
		*slash = '\0';
		mask = slash + 1;
	}
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	int rc = -1;
	if (!*host) {
		snprintf(err, errlen, "--allow %s: missing host before the mask", spec);
		goto out;
	}
	if (mask && !*mask) {
		snprintf(err, errlen, "--allow %s: missing mask after '/'", spec);
		goto out;
	}
	unsigned char bin[16];
	int prefix;
	if (inet_pton(AF_INET, host, bin) == 1) {
		if (mask && parse_prefix(mask, 32, &prefix) < 0) {
			snprintf(err, errlen, "--allow %s: the mask of an IPv4 address is 0 to 32 bits", spec);
			goto out;
		}
		rc = allow_push(a, AF_INET, bin, mask ? prefix : 32);
	} else if (inet_pton(AF_INET6, host, bin) == 1) {
		if (mask && parse_prefix(mask, 128, &prefix) < 0) {
			snprintf(err, errlen, "--allow %s: the mask of an IPv6 address is 0 to 128 bits", spec);
			goto out;
		}
		rc = allow_push(a, AF_INET6, bin, mask ? prefix : 128);
	} else {
		/* A name: its addresses now, once; the list never changes later. */
		if (strspn(host, "0123456789.") == strlen(host) || strchr(host, ':')) {
			snprintf(err, errlen, "--allow %s: not an IPv4 or IPv6 address", spec);
			goto out;
		}
		if (mask && parse_prefix(mask, 128, &prefix) < 0) {
			snprintf(err, errlen, "--allow %s: the mask is 0 to 32 bits (IPv4) or 0 to 128 (IPv6)",
				 spec);
			goto out;
		}
		struct addrinfo hints = {0}, *res, *ai;
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		int g = getaddrinfo(host, NULL, &hints, &res);
		if (g != 0) {
			snprintf(err, errlen, "--allow %s: cannot resolve name: %s", spec, gai_strerror(g));
			goto out;
		}
		rc = 0;
		size_t before = a->n;
		for (ai = res; ai && rc == 0; ai = ai->ai_next) {
			if (ai->ai_family == AF_INET) {
				int p = mask ? prefix : 32;
				if (p > 32) {
					snprintf(err, errlen, "--allow %s: %s has an IPv4 address; "
						 "its mask is 0 to 32 bits", spec, host);
					rc = -1;
					break;
				}
				rc = allow_push(a, AF_INET,
						&((struct sockaddr_in *)ai->ai_addr)->sin_addr, p);
			} else if (ai->ai_family == AF_INET6) {
				rc = allow_push(a, AF_INET6,
						&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
						mask ? prefix : 128);
			}
		}
		freeaddrinfo(res);
		if (rc == 0 && a->n == before) {
			snprintf(err, errlen, "--allow %s: the name has no IPv4 or IPv6 address", spec);
			rc = -1;
		}
	}
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "--allow %s: out of memory", spec);
out:
	free(host);
	return rc;
}

static bool prefix_matches(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	if (!rest)
		return true;
	unsigned char m = (unsigned char)(0xff << (8 - rest));
	return (a[whole] & m) == (b[whole] & m);
}

bool allow_list_permits(const struct allow_list *a, const struct sockaddr *sa)
{
	if (!a || !a->given)
		return true;
	int family = sa->sa_family;
	const unsigned char *addr;
	if (family == AF_INET) {
		addr = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		addr = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		/* ::ffff:a.b.c.d is an IPv4 peer on a dual-stack socket */
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(addr, mapped, 12) == 0) {
			family = AF_INET;
			addr += 12;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->rules[i].family == family &&
		    prefix_matches(a->rules[i].addr, addr, a->rules[i].prefix))
			return true;
	return false;
}

void allow_list_free(struct allow_list *a)
{
	free(a->rules);
	a->rules = NULL;
	a->n = 0;
	a->given = false;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

static int listen_on(struct listener *l, const char *host, const char *port)
{
	struct addrinfo hints = {0}, *res, *ai;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "%s: cannot resolve name: %s\n", listen_comm, gai_strerror(rc));
		return -1;
	}
	int err = 0;
	for (ai = res; ai && l->nfds < 8; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		/* Port 0 picks a port; every address must then share it. */
		if (l->port) {
			if (ai->ai_family == AF_INET)
				((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)l->port);
			else if (ai->ai_family == AF_INET6)
				((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons((uint16_t)l->port);
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
			if (errno == EADDRINUSE)
				err = errno;
			else if (!err && ai->ai_family == AF_INET)
				err = errno;
			close(fd);
			continue;
		}
		if (!l->port) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof ss;
			getsockname(fd, (struct sockaddr *)&ss, &len);
			l->port = ss.ss_family == AF_INET
				? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				: ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		l->fds[l->nfds++] = fd;
		if (!is_loopback(ai->ai_addr))
			l->reaches_other_hosts = true;
	}
	freeaddrinfo(res);
	if (err == EADDRINUSE || l->nfds == 0) {
		for (int i = 0; i < l->nfds; i++)
			close(l->fds[i]);
		l->nfds = 0;
		fprintf(stderr, "Can't bind address: %s.\n", strerror(err ? err : EADDRNOTAVAIL));
		return -1;
	}
	return 0;
}

static speed_t baud_constant(int baud)
{
	switch (baud) {
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 115200: return B115200;
	case 230400: return B230400;
	case 460800: return B460800;
	case 921600: return B921600;
	default: return 0;
	}
}

int listener_open(struct listener *l, const char *comm, int baud)
{
	memset(l, 0, sizeof *l);
	if (strcmp(comm, "-") == 0) {
		l->stdio = true;
		return 0;
	}
	listen_comm = comm;
	/* gdb's connection prefixes; only TCP is served. */
	static const char *const prefixes[] = {"tcp:", "tcp4:", "tcp6:"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(comm, prefixes[i], strlen(prefixes[i])) == 0) {
			comm += strlen(prefixes[i]);
			break;
		}
	const char *colon = strrchr(comm, ':');
	if (!colon || strchr(comm, '/')) {
		l->serial = true;
		l->serial_path = strdup(comm);
		l->baud = baud;
		if (baud && !baud_constant(baud)) {
			fprintf(stderr, "Unsupported baud rate %d\n", baud);
			return -1;
		}
		return 0;
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port < 0 || port > 65535) {
		fprintf(stderr, "Bad port argument: %s\n", comm);
		return -1;
	}
	l->port = (int)port;
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%ld", port);
	if (colon == comm) {
		/* ":PORT": loopback only, unlike gdbserver which takes every interface. */
		if (listen_on(l, "127.0.0.1", portstr) < 0)
			return -1;
		struct listener v6 = {.port = l->port};
		if (listen_on(&v6, "::1", portstr) == 0 && l->nfds < 8)
			l->fds[l->nfds++] = v6.fds[0];
		fprintf(stderr, "Listening on port %d\n", l->port);
		fprintf(stderr, "csgdbserver: accepting connections from this host only; "
			"give 0.0.0.0:%d (or HOST:%d) to accept other hosts\n", l->port, l->port);
		return 0;
	}
	char *host = strndup(comm, (size_t)(colon - comm));
	/* "[::1]:PORT" */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	int rc = listen_on(l, host, portstr);
	free(host);
	if (rc < 0)
		return -1;
	fprintf(stderr, "Listening on port %d\n", l->port);
	return 0;
}

static void remote_init(struct remote *r, int in_fd, int out_fd)
{
	buf_free(&r->in);
	buf_free(&r->out);
	buf_free(&r->ev.payload);
	memset(r, 0, sizeof *r);
	r->in_fd = in_fd;
	r->out_fd = out_fd;
}

int listener_accept(struct listener *l, struct remote *r)
{
	bool log = r->log;
	if (l->stdio) {
		remote_init(r, 0, 1);
		r->log = log;
		fprintf(stderr, "Remote debugging using stdio\n");
		return 0;
	}
	if (l->serial) {
		int fd = open(l->serial_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "Cannot open %s: %s\n", l->serial_path, strerror(errno));
			return -1;
		}
		struct termios tio;
		if (tcgetattr(fd, &tio) == 0) {
			cfmakeraw(&tio);
			if (l->baud) {
				cfsetispeed(&tio, baud_constant(l->baud));
				cfsetospeed(&tio, baud_constant(l->baud));
			}
			tcsetattr(fd, TCSANOW, &tio);
		}
		remote_init(r, fd, fd);
		r->log = log;
		fprintf(stderr, "Remote debugging using %s\n", l->serial_path);
		return 0;
	}
	struct pollfd pfd[8];
	for (int i = 0; i < l->nfds; i++)
		pfd[i] = (struct pollfd){l->fds[i], POLLIN, 0};
	for (;;) {
		if (poll(pfd, (nfds_t)l->nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < l->nfds; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			struct sockaddr_storage ss;
			socklen_t len = sizeof ss;
			int fd = accept4(l->fds[i], (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
			char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
			getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, serv, sizeof serv,
				    NI_NUMERICHOST | NI_NUMERICSERV);
			if (!allow_list_permits(l->allow, (struct sockaddr *)&ss)) {
				/* Closed before reading a byte: nothing it sent is seen. */
				close(fd);
				fprintf(stderr, "csgdbserver: refused connection from host %s, port %s: "
					"not in the --allow list\n", host, serv);
				continue;
			}
			fprintf(stderr, "Remote debugging from host %s, port %s\n", host, serv);
			remote_init(r, fd, fd);
			r->log = log;
				return 0;
		}
	}
}

void listener_close(struct listener *l)
{
	for (int i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	l->nfds = 0;
	free(l->serial_path);
	l->serial_path = NULL;
}

void remote_close(struct remote *r)
{
	if (r->in_fd > 2)
		close(r->in_fd);
	if (r->out_fd > 2 && r->out_fd != r->in_fd)
		close(r->out_fd);
	r->in_fd = r->out_fd = -1;
	r->closed = true;
	buf_free(&r->in);
	buf_free(&r->out);
	buf_free(&r->ev.payload);
}

/* Read what is available (blocking for at least one byte). */
static int fill(struct remote *r)
{
	char chunk[65536];
	ssize_t n;
	do
		n = read(r->in_fd, chunk, sizeof chunk);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r->closed = true;
		return -1;
	}
	buf_append(&r->in, chunk, (size_t)n);
	return 0;
}

static int write_all(struct remote *r, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(r->out_fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->closed = true;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_framed(struct remote *r, char prefix, const char *payload, size_t len, bool wait_ack);

enum getpkt_result remote_getpkt(struct remote *r, struct buf *pkt)
{
	for (;;) {
		size_t used = rsp_parse(r->in.data ? r->in.data : "", r->in.len, &r->ev);
		if (r->ev.kind == RSP_NEED_MORE) {
			if (r->closed || fill(r) < 0)
				return GETPKT_CLOSED;
			continue;
		}
		buf_consume(&r->in, used);
		switch (r->ev.kind) {
		case RSP_PACKET:
			if (!r->noack && write_all(r, "+", 1) < 0)
				return GETPKT_CLOSED;
			if (r->log)
				fprintf(DEBUG_OUT, "getpkt (\"%.*s\");\n",
					(int)(r->ev.payload.len > 200 ? 200 : r->ev.payload.len),
					r->ev.payload.data);
			buf_reset(pkt);
			buf_append(pkt, r->ev.payload.data, r->ev.payload.len);
			return GETPKT_PACKET;
		case RSP_INTERRUPT:
			return GETPKT_INTERRUPT;
		case RSP_BAD_CHECKSUM:
		case RSP_OVERSIZED:
			r->bad_packets++;
			if (r->log)
				fprintf(stderr, "Bad packet (%s), sending NAK\n",
					r->ev.kind == RSP_OVERSIZED ? "too long" : "checksum");
			if (!r->noack && write_all(r, "-", 1) < 0)
				return GETPKT_CLOSED;
			continue;
		default:   /* stray acks and garbage between packets */
			continue;
		}
	}
}

static int send_framed(struct remote *r, char prefix, const char *payload, size_t len, bool wait_ack)
{
	buf_reset(&r->out);
	/* Hex-only replies compress well (registers, zeroed memory). */
	bool rle = len > 8 && prefix == '$' && !memchr(payload, '}', len) &&
		   !memchr(payload, '*', len);
	rsp_frame(&r->out, prefix, payload, len, rle);
	if (r->log)
		fprintf(DEBUG_OUT, "putpkt (\"%.*s\");\n", (int)(len > 200 ? 200 : len), payload);
	for (int tries = 0; tries < 100; tries++) {
		if (write_all(r, r->out.data, r->out.len) < 0)
			return -1;
		if (!wait_ack || r->noack)
			return 0;
		for (;;) {
			size_t used = rsp_parse(r->in.data ? r->in.data : "", r->in.len, &r->ev);
			if (r->ev.kind == RSP_NEED_MORE) {
				if (fill(r) < 0)
					return -1;
				continue;
			}
			if (r->ev.kind == RSP_ACK) {
				buf_consume(&r->in, used);
				return 0;
			}
			if (r->ev.kind == RSP_NAK) {
				buf_consume(&r->in, used);
				break;   /* resend */
			}
			if (r->ev.kind == RSP_GARBAGE) {
				buf_consume(&r->in, used);
				continue;
			}
			/* A packet instead of an ack: gdb moved on; keep it queued. */
			return 0;
		}
	}
	return -1;
}

int remote_putpkt(struct remote *r, const char *payload, size_t len)
{
	return send_framed(r, '$', payload, len, true);
}

int remote_notify(struct remote *r, const char *payload, size_t len)
{
	return send_framed(r, '%', payload, len, false);
}

bool remote_check_interrupt(struct remote *r)
{
	if (fill(r) < 0)
		return false;
	for (;;) {
		size_t used = rsp_parse(r->in.data, r->in.len, &r->ev);
		if (r->ev.kind == RSP_INTERRUPT) {
			buf_consume(&r->in, used);
			return true;
		}
		if (r->ev.kind == RSP_ACK || r->ev.kind == RSP_NAK || r->ev.kind == RSP_GARBAGE) {
			buf_consume(&r->in, used);
			continue;
		}
		return false;   /* need more, or a packet to handle after the stop */
	}
}

bool remote_input_pending(struct remote *r)
{
	for (;;) {
		size_t used = rsp_parse(r->in.data ? r->in.data : "", r->in.len, &r->ev);
		if (r->ev.kind == RSP_NEED_MORE)
			return false;
		if (r->ev.kind == RSP_ACK || r->ev.kind == RSP_GARBAGE) {
			buf_consume(&r->in, used);
			continue;
		}
		return true;
	}
}
