/* Replies shared by the handlers: see reply.h. */
#include "server/reply.h"

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
