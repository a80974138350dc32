/* Replies shared by the handlers: see reply.h. */
#include "server/reply.h"

/* Packet handlers and the per-connection loop. Each packet name maps to a
 * handler in one table (see handlers[] at the end). */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "protocol/dispatch.h"
#include "common/hex.h"
#include "protocol/escape.h"
#include "protocol/qxfer.h"
#include "server/btrace.h"
#include "server/signals.h"
#include "server/thread_db.h"

/* Handler flags. */
#define NEEDS_PROCESS 1u   /* reply E01 when nothing is being debugged */

#define SESSION(ctx) ((struct session *)(ctx))

/* Largest memory transfer per m/M/X, in bytes (a hex reply doubles it). */
#define MAX_MEM_XFER (RSP_PACKET_SIZE / 2 - 16)

void reply_error(struct buf *reply, int code)
{
	buf_reset(reply);
	buf_printf(reply, "E%02x", code & 0xff);
}

void reply_error_msg(struct buf *reply, const char *msg)
{
	buf_reset(reply);
	buf_puts(reply, "E.");
	buf_puts(reply, msg);
}

void reply_ok(struct buf *reply)
{
	buf_reset(reply);
	buf_puts(reply, "OK");
}

bool reply_refused(enum target_request req, struct buf *reply)
{
	const char *why = target_refuses(req);
	if (!why)
		return false;
	if (why[0])
		reply_error_msg(reply, why);
	else
		buf_reset(reply);
	return true;
}
