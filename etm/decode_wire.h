/* What the decoder child (decode_child.c) tells the process that asked
 * for the decode (decode.c), over a socket: decoded elements, requests for
 * program memory, and the end of each command. Records are a type byte,
 * a 16-bit little-endian body length and the body; numbers little-endian
 * (or LEB128 where mostly small: stream offsets, range lengths, counts),
 * an element carries only the fields its kind uses, a message is text of
 * at most WIRE_TEXT_MAX bytes. Both ends are the same program, but the
 * parent still checks every record: a child that went wrong must not be
 * able to take it with it. */
#ifndef ETM_DECODE_WIRE_H
#define ETM_DECODE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "etm/decode_elem.h"

enum wire_type {
	WIRE_ELEM = 1,
	WIRE_MEMREQ = 2,        /* the child needs memory from a callback */
	WIRE_DONE = 3,          /* a command finished: its status and message */
};

#define WIRE_TEXT_MAX 512
#define WIRE_REC_MAX (3 + 64 + WIRE_TEXT_MAX)

struct wire_rec {
	enum wire_type type;
	struct etm_elem elem;           /* WIRE_ELEM; elem.message points at text */
	uint32_t slot, len;             /* WIRE_MEMREQ: callback number, bytes */
	uint8_t trace_id;
	uint64_t addr;
	int32_t status;                 /* WIRE_DONE: an enum etm_decode_status */
	char text[WIRE_TEXT_MAX + 1];   /* ELEM (errors) and DONE messages */
};

/* Each writes one record into OUT (WIRE_REC_MAX bytes of room) and
 * returns its length. Longer messages are cut. */
size_t wire_put_elem(uint8_t *out, const struct etm_elem *e);
size_t wire_put_memreq(uint8_t *out, uint32_t slot, uint64_t addr, uint8_t trace_id, uint32_t len);
size_t wire_put_done(uint8_t *out, int32_t status, const char *message);

/* The record at IN (LEN bytes there): its length, 0 when it is not whole
 * yet, -1 when it is malformed. */
long wire_get(const uint8_t *in, size_t len, struct wire_rec *rec);

#endif
