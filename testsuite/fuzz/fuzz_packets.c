/* libFuzzer harness: raw bytes from "the network" through the framing
 * parser, and each line of the input as a packet payload through the
 * dispatch table with no inferior (fuzzers cannot forge checksums, so
 * payloads are fed past the framing too). Packets that would start processes or touch files are left
 * out: the fuzzer runs as whoever runs it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/packet.h"
#include "server/packets.h"
#include "server/target.h"

static bool harmful(const char *p, size_t n)
{
	static const char *const skip[] = {"vFile:", "vRun", "vAttach", "R", "k", "D", "qRcmd,"};
	for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++) {
		size_t k = strlen(skip[i]);
		if (n >= k && memcmp(p, skip[i], k) == 0)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct session s;
	static struct options opts;
	struct rsp_event ev = {0};
	struct buf reply = BUF_INIT;
	static bool target_ready;
	if (!target_ready) {
		/* the live target with no process, as main() sets it up */
		target_ready = true;
		if (target_init() < 0)
			abort();
	}
	s.opts = &opts;
	s.remote.in_fd = s.remote.out_fd = -1;
	session_begin(&s);
	const char *in = (const char *)data;
	size_t left = size;
	while (left) {
		size_t used = rsp_parse(in, left, &ev);
		if (used == 0)
			break;
		if (ev.kind == RSP_PACKET && !harmful(ev.payload.data, ev.payload.len))
			session_dispatch(&s, ev.payload.data, ev.payload.len, &reply);
		in += used;
		left -= used;
	}
	for (const char *p = (const char *)data, *end = p + size; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (!harmful(p, n))
			session_dispatch(&s, p, n, &reply);
		p += n + 1;
	}
	buf_free(&ev.payload);
	buf_free(&reply);
	return 0;
}
