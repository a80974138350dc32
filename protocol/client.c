/* Client side of the remote serial protocol: see client.h. */
#include "protocol/client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hex.h"
#include "protocol/escape.h"

#define READ_PIECE (256u << 10)
#define MAX_RESENDS 3
/* Bytes of noise (garbage, stray acks) tolerated while waiting for one
 * packet: a server that sends only noise is broken, not slow. */
#define MAX_NOISE (4u << 20)

void rsp_client_init(struct rsp_client *c, rsp_read_fn read, rsp_write_fn write, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->read = read;
	c->write = write;
	c->ctx = ctx;
	c->timeout_ms = -1;
	/* gdb's assumption until qSupported says otherwise */
	c->packet_size = 0x3fff;
}

void rsp_client_free(struct rsp_client *c)
{
	buf_free(&c->in);
	buf_free(&c->frame);
	buf_free(&c->ev.payload);
	for (size_t i = 0; i < c->nnotes; i++)
		free(c->notes[i]);
	free(c->notes);
}

const char *rsp_status_name(int status)
{
	switch (status) {
	case RSP_OK: return "ok";
	case RSP_TIMEOUT: return "timed out waiting for the server";
	case RSP_EOF: return "the server closed the connection";
	case RSP_IO_ERROR: return "connection error";
	case RSP_PROTOCOL: return "protocol error";
	case RSP_ERROR_REPLY: return "error reply";
	case RSP_UNSUPPORTED: return "not supported by the server";
	}
	return "unknown status";
}

/* More input into c->in; RSP_OK or a failure status. */
static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* The end of a wait of TIMEOUT_MS from now (-1: none, waits forever). */
static double deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

static bool past(double deadline)
{
	return deadline >= 0 && now_ms() >= deadline;
}

/* More input into c->in, waiting until DEADLINE (a reply's whole time,
 * however it trickles in); RSP_OK or a failure status, said in c->err. */
static int fill(struct rsp_client *c, double deadline)
{
	int wait = -1;
	if (deadline >= 0) {
		double left = deadline - now_ms();
		/* past it: what is already there is still taken */
		wait = left > 0 ? (int)left + 1 : 0;
	}
	buf_reserve(&c->in, READ_PIECE);
	long n = c->read(c->ctx, c->in.data + c->in.len, READ_PIECE, wait);
	if (n == RSP_IO_TIMEOUT) {
		snprintf(c->err, sizeof(c->err), "nothing from the server in time");
		return RSP_TIMEOUT;
	}
	if (n == 0) {
		snprintf(c->err, sizeof(c->err), "%s", rsp_status_name(RSP_EOF));
		return RSP_EOF;
	}
	if (n < 0) {
		snprintf(c->err, sizeof(c->err), "%s", rsp_status_name(RSP_IO_ERROR));
		return RSP_IO_ERROR;
	}
	c->in.len += (size_t)n;
	c->in.data[c->in.len] = '\0';
	c->bytes_in += (uint64_t)n;
	return RSP_OK;
}

static int put(struct rsp_client *c, const char *data, size_t len)
{
	if (c->write(c->ctx, data, len) < 0) {
		snprintf(c->err, sizeof(c->err), "%s (sending)", rsp_status_name(RSP_IO_ERROR));
		return RSP_IO_ERROR;
	}
	c->bytes_out += len;
	return RSP_OK;
}

/* Queue a notification; false (said in c->err) when RSP_MAX_NOTES wait
 * already: a server sends the next one only after vStopped's "OK". */
static bool queue_note(struct rsp_client *c, const char *payload, size_t len)
{
	if (c->nnotes >= RSP_MAX_NOTES) {
		snprintf(c->err, sizeof(c->err), "notification flood: more than %d notifications sent "
			 "without waiting for vStopped", RSP_MAX_NOTES);
		return false;
	}
	if (c->nnotes == c->notes_cap) {
		c->notes_cap = c->notes_cap ? 2 * c->notes_cap : 8;
		c->notes = realloc(c->notes, c->notes_cap * sizeof(*c->notes));
		if (!c->notes)
			abort();
	}
	char *n = malloc(len + 1);
	if (!n)
		abort();
	memcpy(n, payload, len);
	n[len] = '\0';
	c->notes[c->nnotes++] = n;
	c->notifications_in++;
	return true;
}

/* A notification "%NAME:...#cs" at the start of the input: queued (a
 * corrupt one is dropped: notifications are never acked or resent).
 * Returns the bytes it took, 0 when it is not complete yet, or
 * (size_t)-1 when the queue is full. */
static size_t take_note(struct rsp_client *c)
{
	const char *hash = memchr(c->in.data, '#', c->in.len);
	if (!hash)
		return c->in.len > RSP_MAX_INPUT ? c->in.len : 0;
	size_t n = (size_t)(hash - c->in.data) + 3;
	if (n > c->in.len)
		return 0;
	/* framed as a packet but for its first byte: parse it as one */
	c->in.data[0] = '$';
	size_t used = rsp_parse(c->in.data, n, &c->ev);
	c->in.data[0] = '%';
	if (used == n && c->ev.kind == RSP_PACKET &&
	    !queue_note(c, c->ev.payload.data ? c->ev.payload.data : "", c->ev.payload.len))
		return (size_t)-1;
	return n;
}

/* Next event from the input (reading more as needed). *NOISE counts the
 * bytes of events that are not packets. A notification is queued and
 * returned as RSP_NEED_MORE (callers skip it, waiters look at the queue). */
static int next_event(struct rsp_client *c, double deadline, size_t *noise)
{
	for (;;) {
		const char *in = c->in.data ? c->in.data : "";
		size_t len = c->in.len, used;
		if (len && in[0] == '%') {
			if ((used = take_note(c)) == (size_t)-1)
				return RSP_PROTOCOL;
			if (used != 0) {
				buf_consume(&c->in, used);
				c->ev.kind = RSP_NEED_MORE;
				return RSP_OK;
			}
		} else {
			/* garbage ends where a notification begins */
			if (len && !strchr("$+-\x03", in[0])) {
				const char *pct = memchr(in, '%', len);
				if (pct)
					len = (size_t)(pct - in);
			}
			used = rsp_parse(in, len, &c->ev);
			if (used) {
				buf_consume(&c->in, used);
				if (c->ev.kind != RSP_PACKET && (*noise += used) > MAX_NOISE) {
					snprintf(c->err, sizeof(c->err), "the server sends only noise (%zu bytes, no packet)",
						 *noise);
					return RSP_PROTOCOL;
				}
				return RSP_OK;
			}
		}
		int rc = fill(c, deadline);
		if (rc != RSP_OK)
			return rc;
	}
}

int rsp_client_send(struct rsp_client *c, const char *payload, size_t len)
{
	buf_reset(&c->frame);
	rsp_frame(&c->frame, '$', payload, len, false);
	for (int attempt = 0;; attempt++) {
		int rc = put(c, c->frame.data, c->frame.len);
		if (rc != RSP_OK)
			return rc;
		c->packets_out++;
		if (c->noack)
			return RSP_OK;
		size_t noise = 0;
		double deadline = deadline_of(c->timeout_ms);
		for (;;) {
			rc = next_event(c, deadline, &noise);
			if (rc != RSP_OK)
				return rc;
			if (c->ev.kind == RSP_ACK)
				return RSP_OK;
			if (c->ev.kind == RSP_NAK)
				break;
			/* anything else before the ack (garbage) is skipped */
		}
		if (attempt + 1 >= MAX_RESENDS) {
			snprintf(c->err, sizeof(c->err), "the server rejected a packet %d times", MAX_RESENDS);
			return RSP_IO_ERROR;
		}
	}
}

static int timed_out(struct rsp_client *c, int timeout_ms, unsigned long console, const char *what);

/* The next packet, by DEADLINE (see rsp_client_recv). */
static int recv_until(struct rsp_client *c, struct buf *out, double deadline)
{
	unsigned bad = 0;
	size_t noise = 0;
	for (;;) {
		int rc = next_event(c, deadline, &noise);
		if (rc != RSP_OK)
			return rc;
		switch (c->ev.kind) {
		case RSP_PACKET:
			c->packets_in++;
			if (!c->noack && (rc = put(c, "+", 1)) != RSP_OK)
				return rc;
			buf_reset(out);
			buf_append(out, c->ev.payload.data ? c->ev.payload.data : "", c->ev.payload.len);
			return RSP_OK;
		case RSP_BAD_CHECKSUM:
		case RSP_OVERSIZED:
			if (c->noack || ++bad > MAX_RESENDS) {
				snprintf(c->err, sizeof(c->err), "%s packet from the server",
					 c->ev.kind == RSP_OVERSIZED ? "oversized" : "corrupt (bad checksum)");
				return RSP_PROTOCOL;
			}
			if ((rc = put(c, "-", 1)) != RSP_OK)
				return rc;
			break;
		default:
			break;  /* stray acks, garbage */
		}
	}
}

int rsp_client_recv(struct rsp_client *c, struct buf *out, int timeout_ms)
{
	int rc = recv_until(c, out, deadline_of(timeout_ms));
	return rc == RSP_TIMEOUT ? timed_out(c, timeout_ms, 0, "reply") : rc;
}

int rsp_client_interrupt(struct rsp_client *c)
{
	return put(c, "\x03", 1);
}

bool rsp_client_take_notification(struct rsp_client *c, struct buf *out)
{
	if (!c->nnotes)
		return false;
	buf_reset(out);
	buf_puts(out, c->notes[0]);
	free(c->notes[0]);
	memmove(c->notes, c->notes + 1, (c->nnotes - 1) * sizeof(*c->notes));
	c->nnotes--;
	return true;
}

bool rsp_is_console_output(const char *p, size_t len)
{
	if (len < 3 || p[0] != 'O' || (len - 1) % 2)
		return false;
	for (size_t i = 1; i < len; i++)
		if (hex_value((unsigned char)p[i]) < 0)
			return false;
	return true;
}

/* A wait that ended at its deadline: said in c->err, with the console
 * output that came meanwhile (it does not make a wait longer). */
static int timed_out(struct rsp_client *c, int timeout_ms, unsigned long console, const char *what)
{
	if (console)
		snprintf(c->err, sizeof(c->err), "no %s within %d ms, only console output (%lu O packets)", what,
			 timeout_ms, console);
	else
		snprintf(c->err, sizeof(c->err), "no %s within %d ms", what, timeout_ms);
	return RSP_TIMEOUT;
}

int rsp_client_wait_notification(struct rsp_client *c, struct buf *out, int timeout_ms)
{
	size_t noise = 0;
	unsigned long console = 0;
	double deadline = deadline_of(timeout_ms);
	while (!c->nnotes) {
		int rc = next_event(c, deadline, &noise);
		if (rc == RSP_TIMEOUT)
			return timed_out(c, timeout_ms, console, "notification");
		if (rc != RSP_OK)
			return rc;
		if (c->ev.kind == RSP_PACKET) {
			c->packets_in++;
			if (!c->noack && (rc = put(c, "+", 1)) != RSP_OK)
				return rc;
			if (rsp_is_console_output(c->ev.payload.data, c->ev.payload.len)) {
				if (!c->nnotes && past(deadline))
					return timed_out(c, timeout_ms, console + 1, "notification");
				console++;
				continue;
			}
			snprintf(c->err, sizeof(c->err), "unexpected packet \"%.40s\" while no request was made",
				 c->ev.payload.data ? c->ev.payload.data : "");
			return RSP_PROTOCOL;
		}
	}
	return rsp_client_take_notification(c, out) ? RSP_OK : RSP_PROTOCOL;
}

static int reply_status(struct rsp_client *c, const char *what, const struct buf *reply);

/* The reply to a request, by DEADLINE: console output before it (qRcmd's,
 * or a program's) is dropped and does not move the deadline. */
static int recv_reply(struct rsp_client *c, struct buf *reply, double deadline, int timeout_ms)
{
	unsigned long console = 0;
	for (;;) {
		int rc = recv_until(c, reply, deadline);
		if (rc == RSP_TIMEOUT)
			return timed_out(c, timeout_ms, console, "reply");
		/* "OK" is no console output */
		if (rc != RSP_OK || !rsp_is_console_output(reply->data, reply->len))
			return rc;
		if (past(deadline))
			return timed_out(c, timeout_ms, console + 1, "reply");
		console++;
	}
}

int rsp_client_command(struct rsp_client *c, const char *payload, struct buf *reply)
{
	double deadline = deadline_of(c->timeout_ms);
	int rc = rsp_client_send(c, payload, strlen(payload));
	if (rc == RSP_OK)
		rc = recv_reply(c, reply, deadline, c->timeout_ms);
	return rc == RSP_OK ? reply_status(c, payload, reply) : rc;
}

int rsp_client_commandf(struct rsp_client *c, struct buf *reply, const char *fmt, ...)
{
	struct buf pkt = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&pkt, fmt, ap);
	va_end(ap);
	int rc = rsp_client_command(c, pkt.data ? pkt.data : "", reply);
	buf_free(&pkt);
	return rc;
}

/* Classify a reply as rsp_client_command does. */
static int reply_status(struct rsp_client *c, const char *what, const struct buf *reply)
{
	if (reply->len == 0) {
		snprintf(c->err, sizeof(c->err), "%.40s: not supported by the server", what);
		return RSP_UNSUPPORTED;
	}
	if (reply->data[0] == 'E' && (reply->len == 3 || (reply->len > 1 && reply->data[1] == '.'))) {
		if (reply->data[1] == '.')
			snprintf(c->err, sizeof(c->err), "%s", reply->data + 2);
		else
			snprintf(c->err, sizeof(c->err), "error %s", reply->data + 1);
		return RSP_ERROR_REPLY;
	}
	return RSP_OK;
}

static void xfer_request(struct buf *pkt, const char *object, const char *annex, uint64_t offset,
			 size_t chunk)
{
	buf_reset(pkt);
	buf_printf(pkt, "qXfer:%s:read:%s:%llx,%zx", object, annex, (unsigned long long)offset, chunk);
}

int rsp_client_xfer_read(struct rsp_client *c, const char *object, const char *annex,
			 struct buf *out, rsp_chunk_fn sink, void *sink_ctx)
{
	struct buf reply = BUF_INIT, pkt = BUF_INIT;
	uint64_t offset = 0;
	/* what fits in one reply packet, escaped, with its 'm' */
	size_t chunk = c->packet_size > 64 ? c->packet_size - 16 : 0x3fff;
	int rc;

	if (out)
		buf_reset(out);
	xfer_request(&pkt, object, annex, 0, chunk);
	rc = rsp_client_send(c, pkt.data, pkt.len);
	while (rc == RSP_OK) {
		rc = recv_reply(c, &reply, deadline_of(c->timeout_ms), c->timeout_ms);
		if (rc != RSP_OK)
			break;
		if ((rc = reply_status(c, pkt.data, &reply)) != RSP_OK)
			break;
		char kind = reply.data[0];
		if (kind != 'm' && kind != 'l') {
			snprintf(c->err, sizeof(c->err), "qXfer:%s:read: unexpected reply \"%.40s\"", object,
				 reply.data);
			rc = RSP_PROTOCOL;
			break;
		}
		long n = bin_unescape(reply.data + 1, reply.len - 1);
		if (n < 0) {
			snprintf(c->err, sizeof(c->err), "qXfer:%s:read: reply ends in an escape", object);
			rc = RSP_PROTOCOL;
			break;
		}
		if (kind == 'm' && n == 0) {
			snprintf(c->err, sizeof(c->err), "qXfer:%s:read: empty 'm' reply", object);
			rc = RSP_PROTOCOL;
			break;
		}
		offset += (uint64_t)n;
		/* In no-ack mode the next request goes out before this chunk
		 * is handled: the server makes it while we digest this one. */
		bool ahead = kind == 'm' && c->noack;
		if (ahead) {
			xfer_request(&pkt, object, annex, offset, chunk);
			if ((rc = rsp_client_send(c, pkt.data, pkt.len)) != RSP_OK)
				break;
		}
		if (out)
			buf_append(out, reply.data + 1, (size_t)n);
		if (sink && n && sink(sink_ctx, reply.data + 1, (size_t)n) < 0) {
			snprintf(c->err, sizeof(c->err), "qXfer:%s:read: the data was refused", object);
			rc = RSP_PROTOCOL;
			if (ahead)      /* the reply already asked for is read and dropped */
				recv_reply(c, &reply, deadline_of(c->timeout_ms), c->timeout_ms);
			break;
		}
		if (kind == 'l')
			break;
		if (!ahead) {
			xfer_request(&pkt, object, annex, offset, chunk);
			rc = rsp_client_send(c, pkt.data, pkt.len);
		}
	}
	buf_free(&reply);
	buf_free(&pkt);
	return rc;
}

long rsp_client_read_memory(struct rsp_client *c, uint64_t addr, size_t len, void *out)
{
	struct buf reply = BUF_INIT;
	size_t done = 0;
	size_t max = (c->packet_size > 32 ? c->packet_size - 8 : 0x3fff) / 2;
	long result = 0;

	while (done < len) {
		size_t want = len - done < max ? len - done : max;
		int rc = rsp_client_commandf(c, &reply, "m%llx,%zx", (unsigned long long)(addr + done), want);
		if (rc == RSP_ERROR_REPLY)
			break;          /* unreadable from here on */
		if (rc != RSP_OK) {
			result = rc;
			goto out;
		}
		if (reply.len % 2 || reply.len / 2 > want) {
			snprintf(c->err, sizeof(c->err), "m%llx: malformed reply", (unsigned long long)(addr + done));
			result = RSP_PROTOCOL;
			goto out;
		}
		long got = hex_decode(reply.data, reply.len, (char *)out + done);
		if (got <= 0)
			break;          /* a server may send less than asked: ask again */
		done += (size_t)got;
	}
	result = (long)done;
out:
	buf_free(&reply);
	return result;
}

/* The ';'-separated entry of QSUPPORTED that starts with NAME followed by
 * one of TAILS; returns its start or NULL. */
static const char *find_feature(const char *q, const char *name, const char *tails)
{
	size_t nl = strlen(name);
	for (const char *p = q; p && *p;) {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && strncmp(p, name, nl) == 0 && strchr(tails, p[nl]))
			return p;
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

bool rsp_feature(const char *qsupported, const char *feature)
{
	return find_feature(qsupported, feature, "+") != NULL;
}

bool rsp_feature_value(const char *qsupported, const char *name, char *out, size_t outlen)
{
	const char *p = find_feature(qsupported, name, "=");
	if (!p || !outlen)
		return false;
	p += strlen(name) + 1;
	size_t len = strcspn(p, ";");
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}
