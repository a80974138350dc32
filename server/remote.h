/* The connection to gdb: TCP, stdio or a serial line, with acks. */
#ifndef SERVER_REMOTE_H
#define SERVER_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "protocol/packet.h"

/* --allow: who may connect over TCP. One rule per address (a host name
 * gives one per address it resolved to at start-up). */
struct allow_rule {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char addr[16];     /* network order; IPv4 in the first 4 */
	int prefix;                 /* bits that must match */
};

struct allow_list {
	struct allow_rule *rules;
	size_t n;
	bool given;                 /* any --allow: the list is exhaustive */
};

/* Add "HOST[/MASK]" (IPv4, IPv6 with or without [], or a name resolved
 * now). Returns 0, or -1 with the reason in ERR. */
int allow_list_add(struct allow_list *a, const char *spec, char *err, size_t errlen);
/* True if the peer SA may connect (always true without any --allow). */
bool allow_list_permits(const struct allow_list *a, const struct sockaddr *sa);
void allow_list_free(struct allow_list *a);

struct listener {
	int fds[8];
	int nfds;
	int port;
	bool stdio;
	bool serial;
	char *serial_path;
	int baud;
	bool reaches_other_hosts;   /* bound to a non-loopback address */
	const struct allow_list *allow;   /* NULL: anyone */
};

struct remote {
	int in_fd, out_fd;
	bool noack;
	bool closed;
	bool log;               /* --remote-debug */
	struct buf in;          /* received, not yet parsed */
	struct buf out;         /* framed packet being sent */
	struct rsp_event ev;
	unsigned long bad_packets;
};

/* Parse COMM ("HOST:PORT", ":PORT", "-", or a device path) and listen.
 * Prints gdbserver's start-up lines. Returns 0 or -1 after printing why. */
int listener_open(struct listener *l, const char *comm, int baud);
/* Wait for the next client; returns 0 or -1. */
int listener_accept(struct listener *l, struct remote *r);
void listener_close(struct listener *l);

enum getpkt_result { GETPKT_PACKET, GETPKT_INTERRUPT, GETPKT_CLOSED };
/* Read the next packet (acking it) into PKT. */
enum getpkt_result remote_getpkt(struct remote *r, struct buf *pkt);
/* Send a packet and, unless in no-ack mode, wait for its ack. */
int remote_putpkt(struct remote *r, const char *payload, size_t len);
/* Send a notification ("%..."), no ack expected. */
int remote_notify(struct remote *r, const char *payload, size_t len);
/* While the target runs: consume input. Returns true on ^C; sets
 * r->closed on EOF. Packets that arrive meanwhile stay queued. */
bool remote_check_interrupt(struct remote *r);
/* True when a whole packet (or ^C) is already buffered. */
bool remote_input_pending(struct remote *r);
void remote_close(struct remote *r);

#endif
