/* The decoder child: OpenCSD (etm/decode_engine.c) run in a process of its
 * own, so that a crash, a hang or a runaway allocation inside it costs one
 * decode and not the server or cstrace.
 *
 * The child is forked when a decoder first decodes, after its sources and
 * memory are set up: it inherits the engine, its memory images and mapped
 * files as they are (nothing is copied). Trace bytes go to it through a
 * shared mapping, a piece at a time; it sends back decoded elements
 * (decode_wire.h) over a socket, and asks the parent for the memory that
 * callbacks serve (they may read a traced process the parent owns).
 *
 * Limits (doc/manual.md, Limits): address space ETM_CHILD_MEM_MB above
 * what it inherits, ETM_CHILD_COMMAND_SECONDS of CPU and of waiting per
 * command, ETM_CHILD_STALL_MS without a word from it, at most
 * ETM_CHILD_RECORDS_PER_BYTE records per trace byte (+ a margin). Past
 * any of them it is killed and the decode fails with a message naming the
 * bytes it was decoding.
 *
 * Test-only, read by the child (never set them in production):
 *   CSG_TEST_DECODER_CRASH=N   the child fails when it reaches byte N
 *   CSG_TEST_DECODER_FAULT=K   how: segv (default), abort, hang, alloc,
 *                              flood (endless records), garble (a
 *                              malformed record)
 *   CSG_TEST_DECODER_NTH=M     only the M-th child this process starts
 * and by the parent: CSG_DECODER_TIMEOUT_MS overrides ETM_CHILD_STALL_MS. */
#ifndef ETM_DECODE_CHILD_H
#define ETM_DECODE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/decode_wire.h"

#define ETM_CHILD_PIECE (1u << 20)        /* trace bytes per feed command */
#define ETM_CHILD_MEM_MB 512
#define ETM_CHILD_COMMAND_SECONDS 60
#define ETM_CHILD_STALL_MS 10000
#define ETM_CHILD_RECORDS_PER_BYTE 256
#define ETM_CHILD_MEM_REPLY_MAX 65536     /* bytes of memory per request */

struct etm_engine;
struct etm_child;

enum etm_child_op {
	CHILD_FEED = 1,         /* decode the piece in the shared mapping */
	CHILD_END,
	CHILD_RESET,
	CHILD_RECOVER,          /* etm_engine_set_recover(arg) */
	CHILD_MEM_REPLY,        /* arg bytes of memory follow */
};

/* Fork a child decoding with ENG. NULL with ERR when it cannot start. */
struct etm_child *etm_child_start(struct etm_engine *eng, char *err, size_t errlen);
/* Kill (if alive) and reap it, free everything. */
void etm_child_stop(struct etm_child *c);

/* A command; a feed's LEN (<= ETM_CHILD_PIECE) bytes at DATA are trace
 * bytes from stream offset OFFSET. -1 with WHY when the child is gone. */
int etm_child_send(struct etm_child *c, enum etm_child_op op, uint64_t arg,
		   const uint8_t *data, size_t len, char *why, size_t whylen);
/* The next record, waiting for it within the limits. 0, or -1 with WHY
 * ("crashed (SIGSEGV)", "made no progress for 10 s", ...): the child is
 * then dead and reaped. */
int etm_child_next(struct etm_child *c, struct wire_rec *rec, char *why, size_t whylen);
/* The stream bytes [*LO, *HI) the child was decoding last. */
void etm_child_progress(const struct etm_child *c, uint64_t *lo, uint64_t *hi);

/* In the child only: true there; memory from callback SLOT, through the
 * parent. */
bool etm_child_active(void);
uint32_t etm_child_mem_read(uint32_t slot, uint64_t addr, uint8_t trace_id, uint32_t len,
			    uint8_t *buf);

#endif
