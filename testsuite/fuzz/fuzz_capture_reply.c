/* libFuzzer harness: whatever a server sends `cstrace capture`, through
 * the code that reads it. The input after two header bytes is the server's
 * byte stream (framing, acks, notifications, console output and all),
 * answering whatever the client asks in turn; byte 0 picks the exchange:
 *   0  one drain of a bts capture: thread list (new threads traced),
 *      Hg, btrace documents (delta, all, new) held and their blocks taken
 *   1  the same for CoreSight: documents streamed through expat into trace
 *      files (under a temporary directory emptied after every input)
 *   2  non-stop stops: notifications waited for, their stop replies and
 *      vStopped's parsed
 *   3  commands, a qXfer object and memory reads
 * byte 1: bytes per read (1..256, 0: all), the trace buffer size the server
 * claims, --max-size. The input as text also goes through the stop-reply,
 * thread-ID and block parsers directly. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cstrace/btrace_doc.h"
#include "cstrace/drain.h"
#include "cstrace/session.h"
#include "cstrace/stop_reply.h"
#include "protocol/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct stream {
	const uint8_t *data;
	size_t size, off, piece;
};

static long stream_read(void *ctx, void *out, size_t len, int timeout_ms)
{
	struct stream *s = ctx;
	(void)timeout_ms;
	size_t n = s->size - s->off;
	if (!n)
		return 0;       /* the server closed the connection */
	if (n > len)
		n = len;
	if (s->piece && n > s->piece)
		n = s->piece;
	memcpy(out, s->data + s->off, n);
	s->off += n;
	return (long)n;
}

static int stream_write(void *ctx, const void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return 0;
}

static char tmpdir[64];

static void empty_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	char p[400];
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
}

static void remove_tmpdir(void)
{
	empty_tmpdir();
	rmdir(tmpdir);
}

/* The parsers that take text, fed the input as it is. */
static void parse_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	struct stop st;
	long pid, tid;
	stop_reply_parse(text, 7, &st);
	stop_parse_ptid(text, 7, &pid, &tid);

	static struct capture_opts o;
	struct cap k = {.o = &o};
	struct cthread t = {.pid = 1, .tid = 1};
	struct buf doc = {.data = text, .len = size, .cap = size + 1};
	capture_opts_init(&o);
	btrace_doc_take_blocks(&k, &t, &doc);
	free(t.blocks);
	free(text);
}

static void exchange_stops(struct cap *k)
{
	struct buf note = BUF_INIT, r = BUF_INIT;
	for (int i = 0; i < 64; i++) {
		if (rsp_client_wait_notification(&k->c, &note, -1) != RSP_OK)
			break;
		if (strncmp(note.data, "Stop:", 5) != 0)
			continue;
		struct stop st;
		stop_reply_parse(note.data + 5, k->pid, &st);
		while (rsp_client_command(&k->c, "vStopped", &r) == RSP_OK && strcmp(r.data, "OK") != 0)
			stop_reply_parse(r.data, k->pid, &st);
	}
	buf_free(&note);
	buf_free(&r);
}

static void exchange_commands(struct cap *k)
{
	struct buf r = BUF_INIT;
	unsigned char mem[600];
	rsp_client_command(&k->c, "qSupported", &r);
	rsp_feature(r.data ? r.data : "", "QNonStop");
	rsp_client_xfer_read(&k->c, "features", "target.xml", &r, NULL, NULL);
	rsp_client_read_memory(&k->c, 0x1000, sizeof(mem), mem);
	buf_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct capture_opts o;
	if (size < 2)
		return 0;
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/fuzz_capture_reply-XXXXXX");
		if (!mkdtemp(tmpdir))
			abort();
		atexit(remove_tmpdir);
	}
	parse_text(data + 2, size - 2);

	capture_opts_init(&o);
	o.reply_timeout_ms = -1;        /* the stream ends: no wait is long */
	o.max_size = (data[1] & 0x80) ? 4096 : 0;
	struct stream s = {.data = data + 2, .size = size - 2, .piece = data[1] & 0x1f ? (data[1] & 0x1f) * 8u : 0};
	struct cap k;
	memset(&k, 0, sizeof(k));
	k.o = &o;
	k.fd = -1;
	snprintf(k.tmpdir, sizeof(k.tmpdir), "%s", tmpdir);
	rsp_client_init(&k.c, stream_read, stream_write, &s);
	k.c.timeout_ms = -1;
	k.c.noack = data[1] & 0x20;
	k.pid = 1;
	k.buffer_size = (data[1] & 0x40) ? 0x1000 : 0;
	struct cthread *t = cap_add_thread(&k, 1, 1);
	t->traced = true;

	switch (data[0] & 3) {
	case 0:
	case 1:
		k.coresight = data[0] & 1;
		drain_all(&k, data[0] & 4);
		break;
	case 2:
		k.nonstop = true;
		exchange_stops(&k);
		break;
	default:
		exchange_commands(&k);
		break;
	}
	cap_free(&k);
	empty_tmpdir();
	return 0;
}
