/* Framing of the remote serial protocol: "$payload#cs", acks, ^C.
 * Knows nothing of what packets mean. */
#ifndef PROTOCOL_PACKET_H
#define PROTOCOL_PACKET_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* Largest packet payload we accept and advertise (qSupported PacketSize).
 * gdb sizes its m/M/X/qXfer requests from it; 256 KiB measured best for
 * 16 MiB memory dumps (see doc/manual.md, "PacketSize"). */
#define RSP_PACKET_SIZE 0x40000
/* Input beyond this is rejected as oversized (room for escaping). */
#define RSP_MAX_INPUT (RSP_PACKET_SIZE * 2 + 64)

enum rsp_event_kind {
	RSP_NEED_MORE,   /* incomplete input: read more bytes */
	RSP_ACK,         /* '+' */
	RSP_NAK,         /* '-' */
	RSP_INTERRUPT,   /* 0x03 */
	RSP_PACKET,      /* a packet with good checksum: payload in event */
	RSP_BAD_CHECKSUM,/* a packet whose checksum did not match */
	RSP_OVERSIZED,   /* a packet larger than RSP_MAX_INPUT, skipped */
	RSP_GARBAGE,     /* bytes outside any packet, skipped */
};

struct rsp_event {
	enum rsp_event_kind kind;
	struct buf payload;   /* RSP_PACKET: payload, RLE expanded, still escaped */
};

/* Parse one event from IN[0..LEN). Returns the number of bytes consumed
 * (0 only for RSP_NEED_MORE). The payload of a RSP_PACKET is left in
 * EV->payload (reset first). */
size_t rsp_parse(const char *in, size_t len, struct rsp_event *ev);

unsigned char rsp_checksum(const char *data, size_t len);

/* Append "$PAYLOAD#cs" to OUT. With RLE, runs are run-length encoded
 * (only use it for payloads that hold no binary escapes). PREFIX is '$'
 * or '%' (notification). */
void rsp_frame(struct buf *out, char prefix, const char *payload, size_t len, bool rle);

#endif
