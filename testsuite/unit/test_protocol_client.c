/* Protocol layer, client side: acks and resends, checksums, RLE, error
 * replies, console output, qXfer chunking with binary escapes, memory
 * reads, timeouts and end of stream; against an in-memory server that
 * frames its replies with the server's own rsp_frame/bin_escape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "protocol/client.h"
#include "protocol/escape.h"
#include "protocol/packet.h"

struct fake {
	struct buf to_server, to_client;
	size_t piece;           /* at most this many bytes per read (0: all) */
	bool closed;            /* end of stream once to_client is drained */
	bool noack;
	int nak_next;           /* NAK this many incoming packets */
	int corrupt_next;       /* send this many replies with a bad checksum first */
	unsigned packets_seen, acks_seen, naks_seen;
	char last[256];
	const char *doc;        /* qXfer object served */
	size_t doc_len;
	const unsigned char *mem;
	uint64_t mem_addr;
	size_t mem_len;
	bool silent;            /* never answer */
	bool console_forever;   /* console output whenever nothing else is due */
};

static void reply(struct fake *f, const char *payload, size_t len, bool rle)
{
	struct buf fr = BUF_INIT;
	rsp_frame(&fr, '$', payload, len, rle);
	if (f->corrupt_next > 0) {
		f->corrupt_next--;
		struct buf bad = BUF_INIT;
		buf_append(&bad, fr.data, fr.len);
		bad.data[bad.len - 1] = bad.data[bad.len - 1] == '0' ? '1' : '0';
		buf_append(&f->to_client, bad.data, bad.len);
		buf_free(&bad);
		/* the good copy goes out when the client NAKs */
		strncpy(f->last, fr.data, sizeof(f->last) - 1);
	}
	else
		buf_append(&f->to_client, fr.data, fr.len);
	buf_free(&fr);
}

static void serve(struct fake *f, const char *p, size_t n)
{
	char pkt[512];
	snprintf(pkt, sizeof(pkt), "%.*s", (int)n, p);
	if (f->silent)
		return;
	if (!strcmp(pkt, "ok")) {
		reply(f, "OK", 2, false);
	} else if (!strcmp(pkt, "rle")) {
		const char *z = "0000000000000000000000000000000000000000xyz";
		reply(f, z, strlen(z), true);
	} else if (!strcmp(pkt, "overflow")) {
		reply(f, "E.Overflow.", 11, false);
	} else if (!strcmp(pkt, "e01")) {
		reply(f, "E01", 3, false);
	} else if (!strcmp(pkt, "console")) {
		struct buf o = BUF_INIT;
		buf_putc(&o, 'O');
		buf_hex(&o, "hello\n", 6);
		reply(f, o.data, o.len, false);
		buf_free(&o);
		reply(f, "OK", 2, false);
	} else if (!strcmp(pkt, "vCont;c")) {
		/* non-stop: the reply, then a stop notification (RLE'd), and one
		 * that overtakes the next reply */
		reply(f, "OK", 2, false);
		struct buf n = BUF_INIT;
		rsp_frame(&n, '%', "Stop:T05thread:p1.1;00000000:00;", 32, true);
		buf_append(&f->to_client, n.data, n.len);
		buf_free(&n);
	} else if (!strcmp(pkt, "vStopped")) {
		buf_puts(&f->to_client, "garbage%Stop:W00;process:1#");
		char cs[3];
		snprintf(cs, sizeof(cs), "%02x", rsp_checksum("Stop:W00;process:1", 18));
		buf_puts(&f->to_client, cs);
		buf_puts(&f->to_client, "%Stop:bad#00");
		reply(f, "T0athread:p1.2;", 15, false);
	} else if (!strncmp(pkt, "qXfer:obj:read:annex:", 21)) {
		unsigned long long off, len;
		sscanf(pkt + 21, "%llx,%llx", &off, &len);
		if (len > 7)
			len = 7;    /* small chunks: many round trips */
		struct buf r = BUF_INIT;
		size_t avail = off < f->doc_len ? f->doc_len - off : 0;
		size_t take = bin_escape_fit(f->doc + off, avail, (size_t)len);
		buf_putc(&r, take < avail ? 'm' : 'l');
		bin_escape(&r, f->doc + off, take);
		reply(f, r.data, r.len, false);
		buf_free(&r);
	} else if (pkt[0] == 'm') {
		unsigned long long addr, len;
		sscanf(pkt + 1, "%llx,%llx", &addr, &len);
		if (addr < f->mem_addr || addr >= f->mem_addr + f->mem_len) {
			reply(f, "E01", 3, false);
			return;
		}
		size_t avail = (size_t)(f->mem_addr + f->mem_len - addr);
		size_t take = len < avail ? (size_t)len : avail;
		struct buf r = BUF_INIT;
		buf_hex(&r, f->mem + (addr - f->mem_addr), take);
		reply(f, r.data, r.len, false);
		buf_free(&r);
	} else {
		reply(f, "", 0, false);
	}
}

static int fake_write(void *ctx, const void *data, size_t len)
{
	struct fake *f = ctx;
	buf_append(&f->to_server, data, len);
	struct rsp_event ev = {0};
	for (;;) {
		size_t used = rsp_parse(f->to_server.data, f->to_server.len, &ev);
		if (!used)
			break;
		if (ev.kind == RSP_ACK)
			f->acks_seen++;
		else if (ev.kind == RSP_NAK) {
			f->naks_seen++;
			buf_append(&f->to_client, f->last, strlen(f->last));
		} else if (ev.kind == RSP_PACKET) {
			f->packets_seen++;
			if (f->nak_next > 0) {
				f->nak_next--;
				buf_putc(&f->to_client, '-');
			} else {
				if (!f->noack)
					buf_putc(&f->to_client, '+');
				serve(f, ev.payload.data, ev.payload.len);
			}
		}
		buf_consume(&f->to_server, used);
	}
	buf_free(&ev.payload);
	return 0;
}

static long fake_read(void *ctx, void *data, size_t len, int timeout_ms)
{
	struct fake *f = ctx;
	(void)timeout_ms;
	if (!f->to_client.len && f->console_forever)
		rsp_frame(&f->to_client, '$', "O6869", 5, false);
	if (!f->to_client.len)
		return f->closed ? 0 : RSP_IO_TIMEOUT;
	size_t n = f->to_client.len < len ? f->to_client.len : len;
	if (f->piece && n > f->piece)
		n = f->piece;
	memcpy(data, f->to_client.data, n);
	buf_consume(&f->to_client, n);
	return (long)n;
}

static void fake_free(struct fake *f)
{
	buf_free(&f->to_server);
	buf_free(&f->to_client);
}

static void test_command_acks(size_t piece)
{
	struct fake f = {.piece = piece};
	struct rsp_client c;
	struct buf r = BUF_INIT;
	rsp_client_init(&c, fake_read, fake_write, &f);
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_OK);
	CHECK_STR(r.data, "OK");
	CHECK(f.acks_seen == 1);            /* the client acked the reply */
	CHECK(rsp_client_command(&c, "rle", &r) == RSP_OK);
	CHECK_STR(r.data, "0000000000000000000000000000000000000000xyz");
	CHECK(rsp_client_command(&c, "overflow", &r) == RSP_ERROR_REPLY);
	CHECK_STR(c.err, "Overflow.");
	CHECK(rsp_client_command(&c, "e01", &r) == RSP_ERROR_REPLY);
	CHECK_STR(c.err, "error 01");
	CHECK(rsp_client_command(&c, "nosuch", &r) == RSP_UNSUPPORTED);
	CHECK(rsp_client_command(&c, "console", &r) == RSP_OK);
	CHECK_STR(r.data, "OK");
	CHECK(f.acks_seen == 7);            /* every packet, console output too */
	buf_free(&r);
	rsp_client_free(&c);
	fake_free(&f);
}

static void test_resend_and_corrupt(void)
{
	struct fake f = {.nak_next = 2};
	struct rsp_client c;
	struct buf r = BUF_INIT;
	rsp_client_init(&c, fake_read, fake_write, &f);
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_OK);
	CHECK(f.packets_seen == 3);         /* sent again after each '-' */
	CHECK_STR(r.data, "OK");
	/* a reply with a bad checksum is NAKed and taken when resent */
	f.corrupt_next = 1;
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_OK);
	CHECK(f.naks_seen == 1);
	CHECK_STR(r.data, "OK");
	/* a server that always NAKs: an error, not a loop */
	f.nak_next = 100;
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_IO_ERROR);
	buf_free(&r);
	rsp_client_free(&c);
	fake_free(&f);
}

static void test_noack(void)
{
	struct fake f = {.noack = true};
	struct rsp_client c;
	struct buf r = BUF_INIT;
	rsp_client_init(&c, fake_read, fake_write, &f);
	c.noack = true;
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_OK);
	CHECK(f.acks_seen == 0);
	/* a corrupt reply in no-ack mode cannot be asked for again */
	f.corrupt_next = 1;
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_PROTOCOL);
	buf_free(&r);
	rsp_client_free(&c);
	fake_free(&f);
}

static int collect_chunks(void *ctx, const char *data, size_t len)
{
	buf_append(ctx, data, len);
	return 0;
}

static int refuse_chunks(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return -1;
}

static void test_xfer(void)
{
	char doc[300];
	for (size_t i = 0; i < sizeof(doc); i++)
		doc[i] = (char)(i * 7);     /* every byte, '#', '$', '}' and '*' too */
	struct fake f = {.doc = doc, .doc_len = sizeof(doc), .piece = 5};
	struct rsp_client c;
	struct buf out = BUF_INIT, sunk = BUF_INIT;
	rsp_client_init(&c, fake_read, fake_write, &f);
	CHECK(rsp_client_xfer_read(&c, "obj", "annex", &out, collect_chunks, &sunk) == RSP_OK);
	CHECK(out.len == sizeof(doc) && !memcmp(out.data, doc, sizeof(doc)));
	CHECK(sunk.len == sizeof(doc) && !memcmp(sunk.data, doc, sizeof(doc)));
	CHECK(f.packets_seen > sizeof(doc) / 7);
	/* no-ack mode: the next chunk is asked for before this one is handled */
	f.noack = true;
	c.noack = true;
	buf_reset(&sunk);
	unsigned before = f.packets_seen;
	CHECK(rsp_client_xfer_read(&c, "obj", "annex", &out, collect_chunks, &sunk) == RSP_OK);
	CHECK(out.len == sizeof(doc) && !memcmp(out.data, doc, sizeof(doc)));
	CHECK(sunk.len == sizeof(doc) && !memcmp(sunk.data, doc, sizeof(doc)));
	CHECK(f.packets_seen - before > sizeof(doc) / 7);
	CHECK(f.to_client.len == 0);    /* no reply left unread */
	/* a sink that refuses: an error, and the reply asked ahead is drained */
	CHECK(rsp_client_xfer_read(&c, "obj", "annex", NULL, refuse_chunks, NULL) == RSP_PROTOCOL);
	CHECK(f.to_client.len == 0);
	/* an empty object */
	f.doc_len = 0;
	CHECK(rsp_client_xfer_read(&c, "obj", "annex", &out, NULL, NULL) == RSP_OK);
	CHECK(out.len == 0);
	/* an error reply ends the read with the text */
	CHECK(rsp_client_xfer_read(&c, "other", "annex", &out, NULL, NULL) == RSP_UNSUPPORTED);
	buf_free(&out);
	buf_free(&sunk);
	rsp_client_free(&c);
	fake_free(&f);
}

static void test_memory(void)
{
	unsigned char mem[1000], got[1200];
	for (size_t i = 0; i < sizeof(mem); i++)
		mem[i] = (unsigned char)(i ^ 0x5a);
	struct fake f = {.mem = mem, .mem_addr = 0x400000, .mem_len = sizeof(mem)};
	struct rsp_client c;
	rsp_client_init(&c, fake_read, fake_write, &f);
	c.packet_size = 100;                /* many m packets */
	CHECK(rsp_client_read_memory(&c, 0x400000, sizeof(mem), got) == (long)sizeof(mem));
	CHECK_MEM(got, mem, sizeof(mem));
	/* reading past the end: what is readable */
	CHECK(rsp_client_read_memory(&c, 0x400000 + 900, 300, got) == 100);
	CHECK_MEM(got, mem + 900, 100);
	CHECK(rsp_client_read_memory(&c, 0x100, 16, got) == 0);
	rsp_client_free(&c);
	fake_free(&f);
}

static void test_timeout_and_eof(void)
{
	struct fake f = {.silent = true};
	struct rsp_client c;
	struct buf r = BUF_INIT;
	rsp_client_init(&c, fake_read, fake_write, &f);
	c.timeout_ms = 10;
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_TIMEOUT);   /* acked, no reply */
	f.closed = true;
	CHECK(rsp_client_recv(&c, &r, 10) == RSP_EOF);
	/* a reply cut off by the end of the stream */
	struct fake g = {.closed = true};
	buf_puts(&g.to_client, "$OK#9");
	struct rsp_client d;
	rsp_client_init(&d, fake_read, fake_write, &g);
	CHECK(rsp_client_recv(&d, &r, 10) == RSP_EOF);
	/* a server that sends only noise: an error, not an endless wait */
	struct fake h = {0};
	for (int i = 0; i < (5 << 20) / 64; i++)
		buf_puts(&h.to_client, "garbage garbage garbage garbage garbage garbage garbage garbage");
	struct rsp_client e;
	rsp_client_init(&e, fake_read, fake_write, &h);
	CHECK(rsp_client_recv(&e, &r, 10) == RSP_PROTOCOL);
	CHECK(strstr(e.err, "noise") != NULL);
	buf_free(&r);
	rsp_client_free(&c);
	rsp_client_free(&d);
	rsp_client_free(&e);
	fake_free(&f);
	fake_free(&g);
	fake_free(&h);
}

static void test_notifications(size_t piece)
{
	struct fake f = {.piece = piece};
	struct rsp_client c;
	struct buf r = BUF_INIT, n = BUF_INIT;
	rsp_client_init(&c, fake_read, fake_write, &f);
	c.timeout_ms = 10;
	CHECK(!rsp_client_take_notification(&c, &n));
	CHECK(rsp_client_command(&c, "vCont;c", &r) == RSP_OK);
	CHECK_STR(r.data, "OK");
	CHECK(rsp_client_wait_notification(&c, &n, 10) == RSP_OK);
	CHECK_STR(n.data, "Stop:T05thread:p1.1;00000000:00;");   /* RLE expanded */
	CHECK(f.acks_seen == 1);                 /* notifications are not acked */
	/* a notification before the reply (after garbage) is kept; a corrupt one dropped */
	CHECK(rsp_client_command(&c, "vStopped", &r) == RSP_OK);
	CHECK_STR(r.data, "T0athread:p1.2;");
	CHECK(c.nnotes == 1);
	CHECK(rsp_client_wait_notification(&c, &n, 10) == RSP_OK);
	CHECK_STR(n.data, "Stop:W00;process:1");
	CHECK(rsp_client_wait_notification(&c, &n, 10) == RSP_TIMEOUT);
	CHECK(c.notifications_in == 2);
	/* console output while waiting is skipped; another packet is not expected */
	buf_puts(&f.to_client, "$O6869#");
	char cs[3];
	snprintf(cs, sizeof(cs), "%02x", rsp_checksum("O6869", 5));
	buf_puts(&f.to_client, cs);
	CHECK(rsp_client_wait_notification(&c, &n, 10) == RSP_TIMEOUT);
	buf_puts(&f.to_client, "$OK#9a");
	CHECK(rsp_client_wait_notification(&c, &n, 10) == RSP_PROTOCOL);
	CHECK(strstr(c.err, "unexpected packet") != NULL);
	buf_free(&r);
	buf_free(&n);
	rsp_client_free(&c);
	fake_free(&f);
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* Console output for ever: every wait still ends at its deadline, and
 * says why; nothing of it is kept. */
static void test_endless_console_output(void)
{
	struct fake f = {.silent = true, .console_forever = true};
	struct rsp_client c;
	struct buf r = BUF_INIT, n = BUF_INIT;
	rsp_client_init(&c, fake_read, fake_write, &f);
	c.timeout_ms = 100;
	double t0 = mono_ms();
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_TIMEOUT);
	CHECK(mono_ms() - t0 < 2000);
	CHECK(strstr(c.err, "no reply within 100 ms, only console output") != NULL);
	CHECK(c.in.cap < (4u << 20));       /* the output is dropped as it comes */
	t0 = mono_ms();
	CHECK(rsp_client_wait_notification(&c, &n, 100) == RSP_TIMEOUT);
	CHECK(mono_ms() - t0 < 2000);
	CHECK(strstr(c.err, "no notification within 100 ms, only console output") != NULL);
	t0 = mono_ms();
	CHECK(rsp_client_xfer_read(&c, "obj", "annex", &r, NULL, NULL) == RSP_TIMEOUT);
	CHECK(mono_ms() - t0 < 2000);
	/* before a reply that does come, console output is skipped */
	struct fake g = {0};
	char doc[] = "a document";
	g.doc = doc;
	g.doc_len = strlen(doc);
	struct rsp_client d;
	rsp_client_init(&d, fake_read, fake_write, &g);
	d.timeout_ms = 1000;
	rsp_frame(&g.to_client, '$', "O6869", 5, false);
	CHECK(rsp_client_xfer_read(&d, "obj", "annex", &r, NULL, NULL) == RSP_OK);
	CHECK_STR(r.data, "a document");
	buf_free(&r);
	buf_free(&n);
	rsp_client_free(&c);
	rsp_client_free(&d);
	fake_free(&f);
	fake_free(&g);
}

/* Notifications sent without waiting for vStopped: at most RSP_MAX_NOTES
 * are held, then it is an error. */
static void test_notification_flood(void)
{
	struct fake f = {.silent = true, .noack = true};
	struct rsp_client c;
	struct buf r = BUF_INIT, n = BUF_INIT;
	rsp_client_init(&c, fake_read, fake_write, &f);
	c.timeout_ms = 100;
	c.noack = true;
	for (int i = 0; i < RSP_MAX_NOTES; i++)
		rsp_frame(&f.to_client, '%', "Stop:T05thread:p1.1;", 20, false);
	rsp_frame(&f.to_client, '$', "OK", 2, false);
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_OK);      /* 64 held: fine */
	CHECK(c.nnotes == RSP_MAX_NOTES);
	CHECK(rsp_client_take_notification(&c, &n));
	for (int i = 0; i < 2; i++)
		rsp_frame(&f.to_client, '%', "Stop:T05thread:p1.1;", 20, false);
	rsp_frame(&f.to_client, '$', "OK", 2, false);
	CHECK(rsp_client_command(&c, "ok", &r) == RSP_PROTOCOL);
	CHECK(strstr(c.err, "notification flood: more than 64") != NULL);
	CHECK(c.nnotes == RSP_MAX_NOTES);
	buf_free(&r);
	buf_free(&n);
	rsp_client_free(&c);
	fake_free(&f);
}

static void test_features(void)
{
	const char *q = "PacketSize=40000;QStartNoAckMode+;Qbtrace:bts+;Qbtrace-conf:bts:size+;"
			"QNonStop-;Qbtrace:CoreSight+";
	char v[32];
	CHECK(rsp_feature(q, "QStartNoAckMode"));
	CHECK(rsp_feature(q, "Qbtrace:bts"));
	CHECK(rsp_feature(q, "Qbtrace:CoreSight"));
	CHECK(!rsp_feature(q, "Qbtrace:Core"));     /* whole names only */
	CHECK(!rsp_feature(q, "QNonStop"));
	CHECK(!rsp_feature(q, "PacketSize"));
	CHECK(rsp_feature_value(q, "PacketSize", v, sizeof(v)));
	CHECK_STR(v, "40000");
	CHECK(!rsp_feature_value(q, "Nope", v, sizeof(v)));
	CHECK(rsp_feature_value(q, "PacketSize", v, 3));
	CHECK_STR(v, "40");
	CHECK_STR(rsp_status_name(RSP_EOF), "the server closed the connection");
}

int main(void)
{
	test_command_acks(0);
	test_command_acks(1);       /* every byte in its own read */
	test_resend_and_corrupt();
	test_noack();
	test_xfer();
	test_memory();
	test_timeout_and_eof();
	test_notifications(0);
	test_notifications(1);
	test_endless_console_output();
	test_notification_flood();
	test_features();
	return check_done("test_protocol_client");
}
