/* csgdbserver --replay: see replay.h. The capture itself (loading,
 * decoding, memory, symbols) is etm/recorded.c; btrace serves its trace
 * as a trace source; this file answers the target's packets. */
#include "server/replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etm/recorded.h"
#include "protocol/dispatch.h"
#include "common/hex.h"
#include "protocol/qxfer.h"
#include "server/btrace.h"
#include "server/server.h"

/* What the packet handlers below need of the capture. */
static struct {
	bool active;
	struct etm_recorded *rec;
	const char *elf_path;
	bool aa64;              /* AArch64 register set */
	uint64_t pc;
	bool thumb;
} rp;

bool replay_active(void) { return rp.active; }
uint64_t replay_pc(void) { return rp.pc; }

int replay_open(const char *dir, char *err, size_t errlen)
{
	rp.rec = etm_recorded_open(dir, err, errlen);
	if (!rp.rec)
		return -1;
	rp.elf_path = etm_recorded_elf_path(rp.rec);
	rp.aa64 = etm_recorded_aarch64(rp.rec);
	rp.pc = etm_recorded_pc(rp.rec);
	rp.thumb = etm_recorded_thumb(rp.rec);
	rp.active = true;
	btrace_use_source(etm_recorded_source(rp.rec));
	return 0;
}

void replay_close(void)
{
	etm_recorded_free(rp.rec);
	memset(&rp, 0, sizeof rp);
}

void replay_describe(struct buf *out)
{
	etm_recorded_describe(rp.rec, out);
}

const char *replay_symbol(uint64_t addr)
{
	return etm_recorded_symbol(rp.rec, addr);
}

size_t replay_read_memory(uint64_t addr, void *buf, size_t len)
{
	return etm_recorded_read_memory(rp.rec, addr, buf, len);
}

/* ---- target description and registers ---------------------------------- */

static const char arm_tdesc[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n<architecture>arm</architecture>\n"
	"<feature name=\"org.gnu.gdb.arm.core\">\n"
	"<reg name=\"r0\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r1\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r2\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r3\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r4\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r5\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r6\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r7\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r8\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r9\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r10\" bitsize=\"32\" type=\"uint32\"/>\n<reg name=\"r11\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"r12\" bitsize=\"32\" type=\"uint32\"/>\n"
	"<reg name=\"sp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
	"<reg name=\"lr\" bitsize=\"32\"/>\n"
	"<reg name=\"pc\" bitsize=\"32\" type=\"code_ptr\"/>\n"
	"<reg name=\"cpsr\" bitsize=\"32\" regnum=\"25\"/>\n"
	"</feature>\n</target>\n";

static const char aarch64_tdesc_head[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n<architecture>aarch64</architecture>\n"
	"<feature name=\"org.gnu.gdb.aarch64.core\">\n";

static void tdesc(struct buf *out)
{
	if (!rp.aa64) {
		buf_puts(out, arm_tdesc);
		return;
	}
	buf_puts(out, aarch64_tdesc_head);
	for (int i = 0; i < 31; i++)
		buf_printf(out, "<reg name=\"x%d\" bitsize=\"64\" type=\"int\"/>\n", i);
	buf_puts(out, "<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
		      "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\"/>\n"
		      "<reg name=\"cpsr\" bitsize=\"32\" type=\"int\"/>\n</feature>\n</target>\n");
}

/* Registers in tdesc order: ARM r0-r15 + cpsr, AArch64 x0-x30, sp, pc,
 * cpsr. Only the PC (and on ARM the CPSR's T bit, from the ISA of the
 * last traced instruction) is known; the rest is sent as unavailable. */
static size_t nregs(void) { return rp.aa64 ? 34 : 17; }
static unsigned pc_regno(void) { return rp.aa64 ? 32 : 15; }
static unsigned reg_size(size_t i) { return rp.aa64 && i < 33 ? 8 : 4; }

static void append_reg(struct buf *out, size_t i)
{
	unsigned size = reg_size(i);
	uint8_t bytes[8];
	uint64_t v;
	if (i == pc_regno())
		v = rp.pc;
	else if (!rp.aa64 && i == 16)
		v = (rp.thumb ? 0x20u : 0u) | 0x1fu;   /* T bit; mode unknown, say System */
	else {
		for (unsigned k = 0; k < size; k++)
			buf_puts(out, "xx");
		return;
	}
	for (unsigned k = 0; k < size; k++)
		bytes[k] = (uint8_t)(v >> (8 * k));
	buf_hex(out, bytes, size);
}

/* ---- packets --------------------------------------------------------- */

#define SESSION(ctx) ((struct session *)(ctx))
#define READ_ONLY "Replay target: recorded memory and registers are read-only."
#define NO_RUN "Replay target: the recorded program cannot run; walk the trace with record btrace (reverse-step, record goto)."

static void stop_reply(struct session *s, struct buf *reply)
{
	buf_reset(reply);
	buf_printf(reply, "T05%02x:", pc_regno());
	append_reg(reply, pc_regno());
	buf_puts(reply, ";thread:");
	format_ptid(s, reply, REPLAY_PID, REPLAY_TID);
	buf_putc(reply, ';');
}

static bool is_our_thread(const char *a, size_t n)
{
	/* "p1.1", "p1", "1", "0", "-1", "p-1", "p-1.-1", "p1.-1" */
	char tmp[32];
	if (n >= sizeof tmp)
		return false;
	memcpy(tmp, a, n);
	tmp[n] = '\0';
	static const char *ok[] = {"0", "-1", "1", "p1", "p1.1", "p1.-1", "p-1", "p-1.-1", "p0.0", "p1.0"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!strcmp(tmp, ok[i]))
			return true;
	return false;
}

static void rh_status(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	stop_reply(ctx, reply);
}

static void rh_g(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	for (size_t i = 0; i < nregs(); i++)
		append_reg(reply, i);
}

static void rh_p(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	uint64_t regno;
	if (!hex_parse_u64(&p, end, &regno) || p != end) {
		reply_error(reply, 1);
		return;
	}
	/* tdesc regnums: ARM cpsr is 25 */
	if (!rp.aa64 && regno == 25)
		regno = 16;
	else if (!rp.aa64 && regno >= 16)
		regno = 99;
	if (regno >= nregs()) {
		reply_error(reply, 1);
		return;
	}
	append_reg(reply, (size_t)regno);
}

static void rh_read_only(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	reply_error_msg(reply, READ_ONLY);
}

static void rh_no_run(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	reply_error_msg(reply, NO_RUN);
}

static void rh_m(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	if (!hex_parse_u64_sep(&p, end, ',', &addr) || !hex_parse_u64(&p, end, &len) || p != end) {
		reply_error(reply, 1);
		return;
	}
	if (len > RSP_PACKET_SIZE / 2 - 16)
		len = RSP_PACKET_SIZE / 2 - 16;
	uint8_t *tmp = malloc(len ? len : 1);
	if (!tmp)
		abort();
	size_t got = replay_read_memory(addr, tmp, len);
	if (!got && len)
		reply_error(reply, 1);   /* not recorded */
	else
		buf_hex(reply, tmp, got);
	free(tmp);
}

/* Breakpoints are gdb's business while it replays btrace: accept them,
 * nothing executes here. Watchpoints cannot be evaluated: unsupported. */
static void rh_point(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	if (n >= 2 && (a[0] == '0' || a[0] == '1') && a[1] == ',')
		reply_ok(reply);
	else
		buf_reset(reply);
}

static void rh_thread_alive(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	if (is_our_thread(a, n) && !(n == 1 && (a[0] == '0')))
		reply_ok(reply);
	else
		reply_error(reply, 1);
}

static void rh_H(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	if (n >= 2 && (a[0] == 'g' || a[0] == 'c') && is_our_thread(a + 1, n - 1))
		reply_ok(reply);
	else
		reply_error(reply, 1);
}

static void rh_qC(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	buf_puts(reply, "QC");
	format_ptid(ctx, reply, REPLAY_PID, REPLAY_TID);
}

static void rh_fthreadinfo(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	buf_putc(reply, 'm');
	format_ptid(ctx, reply, REPLAY_PID, REPLAY_TID);
}

static void rh_sthreadinfo(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_putc(reply, 'l');
}

static void rh_attached(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_putc(reply, '1');   /* gdb detaches rather than kills */
}

static void rh_empty(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_reset(reply);
}

static void rh_detach(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	reply_ok(reply);
	if (!SESSION(ctx)->extended)
		SESSION(ctx)->exit_requested = true;
}

static void rh_kill(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	buf_reset(reply);
	if (!SESSION(ctx)->extended)
		SESSION(ctx)->exit_requested = true;
}

static bool split_xfer(const char *a, size_t n, char *annex, size_t annex_size, const char **range,
		       size_t *range_len)
{
	const char *colon = NULL;
	for (size_t i = n; i > 0 && !colon; i--)
		if (a[i - 1] == ':')
			colon = a + i - 1;
	if (!colon || (size_t)(colon - a) >= annex_size)
		return false;
	memcpy(annex, a, (size_t)(colon - a));
	annex[colon - a] = '\0';
	*range = colon + 1;
	*range_len = (size_t)(a + n - *range);
	return true;
}

static void serve_static(const char *doc, size_t len, const char *range, size_t range_len,
			 struct buf *reply)
{
	if (xfer_reply(reply, doc, len, range, range_len) < 0)
		reply_error(reply, 1);
}

static void rh_features(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char annex[128];
	const char *range;
	size_t range_len;
	if (!split_xfer(a, n, annex, sizeof annex, &range, &range_len)) {
		reply_error(reply, 1);
		return;
	}
	if (strcmp(annex, "target.xml") != 0) {
		reply_error_msg(reply, "No such target description file.");
		return;
	}
	struct buf doc = BUF_INIT;
	tdesc(&doc);
	serve_static(doc.data, doc.len, range, range_len, reply);
	buf_free(&doc);
}

static void rh_threads(void *ctx, const char *a, size_t n, struct buf *reply)
{
	char annex[16];
	const char *range;
	size_t range_len;
	if (!split_xfer(a, n, annex, sizeof annex, &range, &range_len)) {
		reply_error(reply, 1);
		return;
	}
	struct buf doc = BUF_INIT;
	buf_puts(&doc, "<?xml version=\"1.0\"?>\n<threads>\n<thread id=\"");
	format_ptid(ctx, &doc, REPLAY_PID, REPLAY_TID);
	buf_puts(&doc, "\" core=\"0\" name=\"replay\"/>\n</threads>\n");
	serve_static(doc.data, doc.len, range, range_len, reply);
	buf_free(&doc);
}

static void rh_exec_file(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char annex[64];
	const char *range;
	size_t range_len;
	if (!split_xfer(a, n, annex, sizeof annex, &range, &range_len)) {
		reply_error(reply, 1);
		return;
	}
	if (!rp.elf_path) {
		reply_error_msg(reply, "No executable file: the snapshot holds memory dumps only.");
		return;
	}
	serve_static(rp.elf_path, strlen(rp.elf_path), range, range_len, reply);
}

static void rh_no_object(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	reply_error_msg(reply, "Replay target: no such object.");
}

static void rh_vcont_query(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	buf_puts(reply, "vCont;c;C;s;S;t");
}

static const struct packet_handler replay_handlers[] = {
	{"?", true, 0, rh_status},
	{"g", true, 0, rh_g},
	{"G", false, 0, rh_read_only},
	{"p", false, 0, rh_p},
	{"P", false, 0, rh_read_only},
	{"m", false, 0, rh_m},
	{"M", false, 0, rh_read_only},
	{"X", false, 0, rh_read_only},
	{"Z", false, 0, rh_point},
	{"z", false, 0, rh_point},
	{"c", false, 0, rh_no_run},
	{"C", false, 0, rh_no_run},
	{"s", false, 0, rh_no_run},
	{"S", false, 0, rh_no_run},
	{"vCont?", true, 0, rh_vcont_query},
	{"vCont", false, 0, rh_no_run},
	{"vRun", false, 0, rh_no_run},
	{"vAttach;", false, 0, rh_no_run},
	{"vKill;", false, 0, rh_detach},
	{"R", false, 0, rh_no_run},
	{"D", false, 0, rh_detach},
	{"k", true, 0, rh_kill},
	{"T", false, 0, rh_thread_alive},
	{"H", false, 0, rh_H},
	{"qC", true, 0, rh_qC},
	{"qfThreadInfo", true, 0, rh_fthreadinfo},
	{"qsThreadInfo", true, 0, rh_sthreadinfo},
	{"qAttached", false, 0, rh_attached},
	{"qOffsets", true, 0, rh_empty},
	{"qCRC:", false, 0, rh_no_object},
	{"qSearch:memory:", false, 0, rh_no_object},
	{"vCtrlC", true, 0, rh_empty},
	{"qXfer:features:read:", false, 0, rh_features},
	{"qXfer:threads:read:", false, 0, rh_threads},
	{"qXfer:exec-file:read:", false, 0, rh_exec_file},
	{"qXfer:auxv:read:", false, 0, rh_no_object},
	{"qXfer:libraries-svr4:read:", false, 0, rh_no_object},
	{"qXfer:siginfo:read:", false, 0, rh_no_object},
	{"qXfer:siginfo:write:", false, 0, rh_read_only},
};

bool replay_dispatch(struct session *s, const char *pkt, size_t len, struct buf *reply)
{
	if (!rp.active)
		return false;
	const char *args;
	const struct packet_handler *h = dispatch_find(
		replay_handlers, sizeof replay_handlers / sizeof replay_handlers[0], pkt, len, &args);
	if (!h)
		return false;
	buf_reset(reply);
	h->fn(s, args, (size_t)(pkt + len - args), reply);
	return true;
}
