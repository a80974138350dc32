/* The connection to gdb: TCP, stdio or a serial line, with acks. */
#ifndef SERVER_REMOTE_H
#define SERVER_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/buf.h"
#include "protocol/packet.h"

struct listener {
	int fds[8];
	int nfds;
	int port;
	bool stdio;
	bool serial;
	char *serial_path;
	int baud;
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
