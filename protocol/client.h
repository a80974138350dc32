/* Client side of the remote serial protocol: what gdb does on its end of
 * the wire (send a packet, wait for '+', read the reply, ack it), over
 * read/write callbacks so it knows nothing of sockets. Used by
 * `cstrace capture`. */
#ifndef PROTOCOL_CLIENT_H
#define PROTOCOL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "protocol/packet.h"

/* Read up to LEN bytes, waiting at most TIMEOUT_MS (-1: forever).
 * Returns the count, 0 at end of stream, RSP_IO_TIMEOUT, or -1 on error. */
typedef long (*rsp_read_fn)(void *ctx, void *buf, size_t len, int timeout_ms);
/* Write all LEN bytes. Returns 0, or -1 on error. */
typedef int (*rsp_write_fn)(void *ctx, const void *buf, size_t len);

#define RSP_IO_TIMEOUT (-2)

/* Notifications received and not yet taken: past this many the server is
 * flooding (it sends the next one only after vStopped's "OK"), an error. */
#define RSP_MAX_NOTES 64

enum rsp_status {
	RSP_OK = 0,
	RSP_TIMEOUT = -1,     /* nothing within the timeout: the link may be fine */
	RSP_EOF = -2,         /* the server closed the connection */
	RSP_IO_ERROR = -3,    /* read/write failed, or the server kept NAKing */
	RSP_PROTOCOL = -4,    /* malformed reply (text in client->err) */
	RSP_ERROR_REPLY = -5, /* the server answered "E..." (text in client->err) */
	RSP_UNSUPPORTED = -6, /* the server answered the empty packet */
};

struct rsp_client {
	rsp_read_fn read;
	rsp_write_fn write;
	void *ctx;
	bool noack;             /* after QStartNoAckMode */
	int timeout_ms;         /* for replies; -1 waits forever */
	size_t packet_size;     /* the server's PacketSize (payload bytes) */
	struct buf in;          /* received, not yet parsed */
	struct buf frame;       /* scratch for framing */
	struct rsp_event ev;
	char err[256];
	/* Non-stop: notifications ("%Stop:...") received, oldest first, not
	 * yet taken (they come between packets, also while a reply is due). */
	char **notes;
	size_t nnotes, notes_cap;
	/* statistics */
	uint64_t bytes_in, bytes_out, packets_in, packets_out, notifications_in;
};

void rsp_client_init(struct rsp_client *c, rsp_read_fn read, rsp_write_fn write, void *ctx);
void rsp_client_free(struct rsp_client *c);

/* Frame and send PAYLOAD (already escaped where binary); unless in no-ack
 * mode, wait for '+' and resend on '-' (a few times). */
int rsp_client_send(struct rsp_client *c, const char *payload, size_t len);
/* Next packet's payload into OUT (RLE expanded, still binary-escaped),
 * acked unless in no-ack mode; a bad checksum is NAKed and waited for
 * again. TIMEOUT_MS (-1: forever) bounds the whole packet, however slowly
 * it trickles in. Failures are said in c->err. */
int rsp_client_recv(struct rsp_client *c, struct buf *out, int timeout_ms);
/* Send 0x03 (interrupt the running target). */
int rsp_client_interrupt(struct rsp_client *c);

/* Send PAYLOAD (NUL-terminated, needs no escaping) and read the reply into
 * REPLY within c->timeout_ms. Console output ("O" + hex) sent before the
 * reply is dropped; it does not extend the wait.
 * "E..." replies return RSP_ERROR_REPLY with the text in c->err
 * ("E.Overflow." -> "Overflow."), the empty reply RSP_UNSUPPORTED. */
int rsp_client_command(struct rsp_client *c, const char *payload, struct buf *reply);
/* Like rsp_client_command, printf-style. */
int rsp_client_commandf(struct rsp_client *c, struct buf *reply, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Non-stop notifications. Take the oldest one received ("Stop:T05...")
 * into OUT: true, or false when none is waiting. */
bool rsp_client_take_notification(struct rsp_client *c, struct buf *out);
/* Wait up to TIMEOUT_MS (-1: forever) for a notification (one already
 * received is taken at once): RSP_OK with it in OUT, RSP_TIMEOUT, or a
 * failure. Console output packets meanwhile are dropped (they do not
 * extend the wait); any other packet (no request is outstanding) is a
 * protocol error, and so are more than RSP_MAX_NOTES notifications. */
int rsp_client_wait_notification(struct rsp_client *c, struct buf *out, int timeout_ms);

/* PAYLOAD is console output: "O" and an even number of hex digits. */
bool rsp_is_console_output(const char *payload, size_t len);

/* Read a whole qXfer object ("qXfer:OBJECT:read:ANNEX:off,len" until an
 * "l" reply), unescaped; console output before a reply is dropped, as by
 * rsp_client_command. Each chunk is also handed to SINK if not NULL
 * (then OUT may be NULL: the document is not kept). */
typedef int (*rsp_chunk_fn)(void *ctx, const char *data, size_t len);
int rsp_client_xfer_read(struct rsp_client *c, const char *object, const char *annex,
			 struct buf *out, rsp_chunk_fn sink, void *sink_ctx);

/* Read LEN bytes of target memory at ADDR with "m" packets into OUT.
 * Returns the bytes read (short at an unreadable address), or a negative
 * rsp_status when the link failed. */
long rsp_client_read_memory(struct rsp_client *c, uint64_t addr, size_t len, void *out);

/* Parse "PacketSize=..." and the "NAME+" features of a qSupported reply:
 * true if FEATURE is listed with '+'. */
bool rsp_feature(const char *qsupported, const char *feature);
/* Value of "NAME=VALUE" in a qSupported reply, copied to OUT; false if absent. */
bool rsp_feature_value(const char *qsupported, const char *name, char *out, size_t outlen);

/* Human text of a status, e.g. for messages. */
const char *rsp_status_name(int status);

#endif
