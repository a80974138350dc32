/* Protocol layer: framing, checksums, run-length encoding, escaping, hex,
 * dispatch and qXfer chunking. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/buf.h"
#include "protocol/dispatch.h"
#include "common/hex.h"
#include "protocol/escape.h"
#include "protocol/packet.h"
#include "common/xml.h"
#include "protocol/qxfer.h"

static void test_checksum_and_frame(void)
{
	/* Known gdb packets and their checksums. */
	CHECK(rsp_checksum("OK", 2) == 0x9a);
	CHECK(rsp_checksum("qSupported", 10) == 0x37);
	CHECK(rsp_checksum("", 0) == 0);
	struct buf b = BUF_INIT;
	rsp_frame(&b, '$', "OK", 2, false);
	CHECK_STR(b.data, "$OK#9a");
	buf_reset(&b);
	rsp_frame(&b, '%', "Stop:T05", 8, false);
	CHECK(b.data[0] == '%');
	CHECK(b.len == 12);
	buf_free(&b);
}

static void parse_all(const char *in, size_t len, struct rsp_event *ev, size_t *consumed)
{
	*consumed = rsp_parse(in, len, ev);
}

static void test_parse(void)
{
	struct rsp_event ev = {0};
	size_t used;
	const char *p = "$g#67";
	parse_all(p, strlen(p), &ev, &used);
	CHECK(ev.kind == RSP_PACKET && used == 5);
	CHECK_STR(ev.payload.data, "g");

	/* Incomplete input asks for more and consumes nothing. */
	parse_all("$g#6", 4, &ev, &used);
	CHECK(ev.kind == RSP_NEED_MORE && used == 0);
	parse_all("$qSupp", 6, &ev, &used);
	CHECK(ev.kind == RSP_NEED_MORE && used == 0);

	/* Bad checksum: reported and skipped whole. */
	parse_all("$g#00+", 6, &ev, &used);
	CHECK(ev.kind == RSP_BAD_CHECKSUM && used == 5);
	parse_all("$g#zz", 5, &ev, &used);
	CHECK(ev.kind == RSP_BAD_CHECKSUM);

	parse_all("+", 1, &ev, &used);
	CHECK(ev.kind == RSP_ACK && used == 1);
	parse_all("-", 1, &ev, &used);
	CHECK(ev.kind == RSP_NAK);
	parse_all("\x03$g#67", 6, &ev, &used);
	CHECK(ev.kind == RSP_INTERRUPT && used == 1);
	parse_all("xyz$g#67", 8, &ev, &used);
	CHECK(ev.kind == RSP_GARBAGE && used == 3);

	/* Run-length encoding in input is expanded: "0* " is 1 + 3 zeros. */
	char pkt[32];
	const char *body = "0* 1";
	snprintf(pkt, sizeof pkt, "$%s#%02x", body, rsp_checksum(body, strlen(body)));
	parse_all(pkt, strlen(pkt), &ev, &used);
	CHECK(ev.kind == RSP_PACKET);
	CHECK_STR(ev.payload.data, "00001");
	/* RLE with nothing to repeat is malformed. */
	body = "* 1";
	snprintf(pkt, sizeof pkt, "$%s#%02x", body, rsp_checksum(body, strlen(body)));
	parse_all(pkt, strlen(pkt), &ev, &used);
	CHECK(ev.kind == RSP_BAD_CHECKSUM);

	/* An oversized packet is rejected, not buffered forever. */
	size_t big = RSP_MAX_INPUT + 10;
	char *huge = malloc(big);
	memset(huge, 'a', big);
	huge[0] = '$';
	parse_all(huge, big, &ev, &used);
	CHECK(ev.kind == RSP_OVERSIZED && used == big);
	free(huge);
	buf_free(&ev.payload);
}

static void test_rle_roundtrip(void)
{
	/* Whatever we encode, the parser gives back exactly. */
	static const char *const payloads[] = {
		"0000000000000000000000000000000000000000",
		"00000000",   /* run of 8: count 7 would be '$', must be avoided */
		"0000000",    /* run of 7: count 6 would be '#' */
		"abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbc",
		"ffff", "T0506:0000000000000000;", "",
	};
	for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		struct buf framed = BUF_INIT;
		struct rsp_event ev = {0};
		rsp_frame(&framed, '$', payloads[i], strlen(payloads[i]), true);
		CHECK(strchr(framed.data + 1, '$') == NULL);
		CHECK(strchr(framed.data, '#') == framed.data + framed.len - 3);
		size_t used = rsp_parse(framed.data, framed.len, &ev);
		CHECK(ev.kind == RSP_PACKET && used == framed.len);
		CHECK_STR(ev.payload.data ? ev.payload.data : "", payloads[i]);
		buf_free(&framed);
		buf_free(&ev.payload);
	}
}

static void test_hex(void)
{
	unsigned char out[4];
	CHECK(hex_decode("00ff7A", 6, out) == 3);
	CHECK(out[0] == 0 && out[1] == 0xff && out[2] == 0x7a);
	CHECK(hex_decode("0g", 2, out) == -1);
	CHECK(hex_decode("abc", 3, out) == -1);
	const char *s = "1f,20", *end = s + strlen(s);
	uint64_t a, b;
	CHECK(hex_parse_u64_sep(&s, end, ',', &a) && a == 0x1f);
	CHECK(hex_parse_u64(&s, end, &b) && b == 0x20 && s == end);
	const char *over = "12345678901234567";   /* 17 digits: more than 64 bits */
	CHECK(!hex_parse_u64(&over, over + 17, &a));
	const char *none = ",1";
	CHECK(!hex_parse_u64(&none, none + 2, &a));
	struct buf h = BUF_INIT;
	buf_hex(&h, "\x01\xab", 2);
	CHECK_STR(h.data, "01ab");
	buf_free(&h);
}

static void test_escape(void)
{
	const char raw[] = {'a', '#', '$', '}', '*', 'z'};
	struct buf e = BUF_INIT;
	bin_escape(&e, raw, sizeof raw);
	CHECK(e.len == sizeof raw + 4);
	CHECK(memchr(e.data, '#', e.len) == NULL && memchr(e.data, '$', e.len) == NULL);
	char copy[32];
	memcpy(copy, e.data, e.len);
	CHECK(bin_unescape(copy, e.len) == (long)sizeof raw);
	CHECK_MEM(copy, raw, sizeof raw);
	char lone[] = {'a', '}'};
	CHECK(bin_unescape(lone, 2) == -1);
	/* Fitting: "##" needs 4 bytes escaped. */
	CHECK(bin_escape_fit("##", 2, 3) == 1);
	CHECK(bin_escape_fit("##", 2, 4) == 2);
	buf_free(&e);
}

static void test_xml_and_xfer(void)
{
	struct buf b = BUF_INIT;
	xml_escape(&b, "a<b>&\"c'");
	CHECK_STR(b.data, "a&lt;b&gt;&amp;&quot;c&apos;");
	buf_reset(&b);
	const char *doc = "0123456789";
	CHECK(xfer_reply(&b, doc, 10, "0,4", 3) == 0);
	CHECK_STR(b.data, "m0123");
	buf_reset(&b);
	CHECK(xfer_reply(&b, doc, 10, "8,4", 3) == 0);
	CHECK_STR(b.data, "l89");
	buf_reset(&b);
	CHECK(xfer_reply(&b, doc, 10, "a,4", 3) == 0);
	CHECK_STR(b.data, "l");
	CHECK(xfer_reply(&b, doc, 10, "x,4", 3) == -1);
	char annex[16];
	const char *range;
	size_t range_len;
	const char *args = "target.xml:0,fff";
	CHECK(xfer_split_annex(args, strlen(args), annex, sizeof annex, &range, &range_len));
	CHECK_STR(annex, "target.xml");
	CHECK(range_len == 5 && memcmp(range, "0,fff", 5) == 0);
	args = "p1.2:a:10,20";   /* the last ':' separates the range */
	CHECK(xfer_split_annex(args, strlen(args), annex, sizeof annex, &range, &range_len));
	CHECK_STR(annex, "p1.2:a");
	CHECK(!xfer_split_annex("no-colon", 8, annex, sizeof annex, &range, &range_len));
	args = "a-very-long-annex-name:0,1";
	CHECK(!xfer_split_annex(args, strlen(args), annex, sizeof annex, &range, &range_len));
	CHECK(xfer_reply(&b, doc, 10, "0,", 2) == -1);
	/* an absurd length gets one packet's worth, not the whole object */
	size_t big_len = 3 * RSP_PACKET_SIZE;
	char *big = malloc(big_len);
	CHECK(big != NULL);
	memset(big, 'x', big_len);
	buf_reset(&b);
	CHECK(xfer_reply(&b, big, big_len, "0,ffffffffffffffff", 18) == 0);
	CHECK(b.len == RSP_PACKET_SIZE && b.data[0] == 'm');
	free(big);
	buf_free(&b);
}

static int hits[4];
static void h0(void *c, const char *a, size_t n, struct buf *r) { (void)c; (void)a; (void)n; (void)r; hits[0]++; }
static void h1(void *c, const char *a, size_t n, struct buf *r) { (void)c; (void)a; (void)n; (void)r; hits[1]++; }
static void h2(void *c, const char *a, size_t n, struct buf *r) { (void)c; (void)a; (void)n; (void)r; hits[2]++; }

static void test_dispatch(void)
{
	static const struct packet_handler table[] = {
		{"qC", true, 0, h0},
		{"qCRC:", false, 0, h1},
		{"vCont?", true, 0, h2},
		{"vCont", false, 0, h1},
	};
	const char *args;
	const struct packet_handler *h = dispatch_find(table, 4, "qCRC:10,20", 10, &args);
	CHECK(h && h->fn == h1 && strcmp(args, "10,20") == 0);
	h = dispatch_find(table, 4, "qC", 2, &args);
	CHECK(h && h->fn == h0);
	h = dispatch_find(table, 4, "qCx", 3, &args);
	CHECK(h == NULL);
	h = dispatch_find(table, 4, "vCont?", 6, &args);
	CHECK(h && h->fn == h2);
	h = dispatch_find(table, 4, "vCont;c", 7, &args);
	CHECK(h && h->fn == h1 && strcmp(args, ";c") == 0);
	CHECK(dispatch_find(table, 4, "", 0, &args) == NULL);
}

int main(void)
{
	test_checksum_and_frame();
	test_parse();
	test_rle_roundtrip();
	test_hex();
	test_escape();
	test_xml_and_xfer();
	test_dispatch();
	return check_done("test_protocol_rsp");
}
