/* Registers, memory, points: see regs_mem.h. */
#include "server/regs_mem.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hex.h"
#include "protocol/escape.h"
#include "protocol/packet.h"
#include "server/agent_points.h"
#include "server/reply.h"
#include "server/session.h"

/* Largest memory transfer per m/M/X, in bytes (a hex reply doubles it). */
#define MAX_MEM_XFER (RSP_PACKET_SIZE / 2 - 16)


void handle_g(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)a; (void)n;
	struct thread *t = general_thread(ctx);
	uint8_t *regs = t ? thread_regs(t) : NULL;
	const struct arch_regfile *rf = target_regfile();
	if (!regs && t && errno == ESRCH) {
		/* Killed from outside while stopped: its registers are gone.
		 * Zeros, as gdbserver sends, let gdb resume it and hear of its
		 * death (an E reply or 'x's stop gdb short: "PC register is
		 * not available"). */
		for (size_t i = 0; i < 2 * rf->size; i++)
			buf_putc(reply, '0');
		return;
	}
	if (!regs) {
		reply_error(reply, 1);
		return;
	}
	if (!the_target->register_available) {
		buf_hex(reply, regs, rf->size);
		return;
	}
	/* Registers the target does not know are 'x's. */
	for (size_t i = 0; i < rf->nregs; i++) {
		const struct arch_reg *r = &rf->regs[i];
		if (!r->in_g || !r->size)
			continue;
		if (target_register_available(t, (int)i))
			buf_hex(reply, regs + r->offset, r->size);
		else
			for (size_t k = 0; k < 2u * r->size; k++)
				buf_putc(reply, 'x');
	}
}

/* G and P decode into a copy of the registers; the cache takes the copy
 * only once the thread has (thread_write_regs), so that bad input or a
 * write the kernel refuses changes nothing. */
void handle_G(void *ctx, const char *a, size_t n, struct buf *reply)
{
	if (reply_refused(TREQ_WRITE, reply))
		return;
	struct thread *t = general_thread(ctx);
	size_t size = target_regfile()->size;
	uint8_t *regs = t ? thread_regs(t) : NULL;
	uint8_t *copy = regs && n == 2 * size ? malloc(size) : NULL;
	if (!copy || hex_decode(a, n, copy) < 0 || thread_write_regs(t, copy) < 0)
		reply_error(reply, 1);
	else
		reply_ok(reply);
	free(copy);
}

void handle_p(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t regno;
	struct thread *t = general_thread(ctx);
	const struct arch_regfile *rf = target_regfile();
	if (!hex_parse_u64(&p, end, &regno) || p != end || regno >= rf->nregs || !t ||
	    !rf->regs[regno].size) {
		reply_error(reply, 1);
		return;
	}
	uint8_t *regs = thread_regs(t);
	const struct arch_reg *r = &rf->regs[regno];
	if (!regs && errno == ESRCH) {
		for (size_t i = 0; i < 2u * r->size; i++)
			buf_putc(reply, '0');   /* killed from outside: see handle_g */
		return;
	}
	if (!regs) {
		reply_error(reply, 1);
		return;
	}
	if (!target_register_available(t, (int)regno)) {
		for (size_t i = 0; i < 2u * r->size; i++)
			buf_putc(reply, 'x');
		return;
	}
	buf_hex(reply, regs + r->offset, r->size);
}

void handle_P(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t regno;
	struct thread *t = general_thread(ctx);
	const struct arch_regfile *rf = target_regfile();
	if (reply_refused(TREQ_WRITE, reply))
		return;
	if (!hex_parse_u64_sep(&p, end, '=', &regno) || regno >= rf->nregs || !t) {
		reply_error(reply, 1);
		return;
	}
	const struct arch_reg *r = &rf->regs[regno];
	uint8_t *regs = thread_regs(t);
	uint8_t *copy = regs && (size_t)(end - p) == 2u * r->size ? malloc(rf->size) : NULL;
	if (copy)
		memcpy(copy, regs, rf->size);
	if (!copy || hex_decode(p, (size_t)(end - p), copy + r->offset) < 0 ||
	    thread_write_regs(t, copy) < 0)
		reply_error(reply, 1);
	else
		reply_ok(reply);
	free(copy);
}

static bool parse_addr_len(const char **p, const char *end, char sep, uint64_t *addr, uint64_t *len)
{
	return hex_parse_u64_sep(p, end, ',', addr) &&
	       (sep ? hex_parse_u64_sep(p, end, sep, len) : hex_parse_u64(p, end, len));
}

void handle_m(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (!parse_addr_len(&p, end, 0, &addr, &len) || p != end || !proc) {
		reply_error(reply, 1);
		return;
	}
	if (len > MAX_MEM_XFER)
		len = MAX_MEM_XFER;
	buf_reserve(reply, 2 * len);
	uint8_t *tmp = malloc(len ? len : 1);
	if (!tmp) {
		reply_error(reply, 1);
		return;
	}
	ssize_t got = target_read_memory(proc, addr, tmp, len);
	if (got <= 0 && len > 0)
		reply_error(reply, 1);
	else
		buf_hex(reply, tmp, (size_t)(got > 0 ? got : 0));
	free(tmp);
}

static void write_mem_reply(struct process *proc, uint64_t addr, const void *data, size_t len,
			    struct buf *reply)
{
	if (len == 0) {
		reply_ok(reply);
		return;
	}
	if (target_write_memory(proc, addr, data, len) != (ssize_t)len)
		reply_error(reply, 1);
	else
		reply_ok(reply);
}

void handle_M(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (reply_refused(TREQ_WRITE, reply))
		return;
	if (!parse_addr_len(&p, end, ':', &addr, &len) || !proc ||
	    (size_t)(end - p) != 2 * len || len > RSP_PACKET_SIZE) {
		reply_error(reply, 1);
		return;
	}
	uint8_t *tmp = malloc(len ? len : 1);
	if (!tmp || hex_decode(p, (size_t)(end - p), tmp) < 0) {
		free(tmp);
		reply_error(reply, 1);
		return;
	}
	write_mem_reply(proc, addr, tmp, len, reply);
	free(tmp);
}

void handle_X(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (reply_refused(TREQ_WRITE, reply))
		return;
	if (!parse_addr_len(&p, end, ':', &addr, &len) || !proc || len > RSP_PACKET_SIZE) {
		reply_error(reply, 1);
		return;
	}
	size_t data_len = (size_t)(end - p);
	char *tmp = malloc(data_len + 1);
	if (!tmp) {
		reply_error(reply, 1);
		return;
	}
	memcpy(tmp, p, data_len);
	long got = bin_unescape(tmp, data_len);
	if (got != (long)len)
		reply_error(reply, 1);
	else
		write_mem_reply(proc, addr, tmp, len, reply);
	free(tmp);
}

void handle_point(struct session *s, bool insert, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t type, addr, kind;
	struct process *proc = general_process(s);
	if (!hex_parse_u64_sep(&p, end, ',', &type) || !hex_parse_u64_sep(&p, end, ',', &addr) ||
	    !hex_parse_u64(&p, end, &kind) || (p != end && *p != ';') || !proc || type > 4) {
		reply_error(reply, 1);
		return;
	}
	/* ;X conditions and ;cmds: (agent_points.h), on breakpoints only */
	struct agent_point_opts opts = {0};
	if (insert && p != end) {
		char err[160];
		if (reply_refused(TREQ_AGENT, reply))
			return;
		if (type > 1) {
			reply_error_msg(reply, "conditions and commands apply to breakpoints (Z0, Z1) only");
			return;
		}
		if (agent_point_parse(p, (size_t)(end - p), &opts, err, sizeof err) < 0) {
			reply_error_msg(reply, err);
			return;
		}
	}
	int rc = insert ? target_insert_point(proc, (int)type, addr, (int)kind)
			: target_remove_point(proc, (int)type, addr, (int)kind);
	/* gdb re-sends Z with the whole list: it replaces the old one */
	if (rc == 0 && type <= 1) {
		if (insert)
			agent_points_set(proc->pid, (int)type, addr, &opts);
		else
			agent_points_clear(proc->pid, (int)type, addr);
	}
	agent_point_opts_free(&opts);
	if (rc == 0)
		reply_ok(reply);
	else if (rc > 0)
		buf_reset(reply);
	else
		reply_error(reply, 1);
}

void handle_Z(void *ctx, const char *a, size_t n, struct buf *r) { handle_point(ctx, true, a, n, r); }
void handle_z(void *ctx, const char *a, size_t n, struct buf *r) { handle_point(ctx, false, a, n, r); }

void handle_thread_alive(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	pid_t pid, tid;
	if (!parse_ptid(&p, end, &pid, &tid) || p != end) {
		reply_error(reply, 1);
		return;
	}
	struct thread *t = tid > 0 ? find_thread(tid) : NULL;
	if (t && target_thread_alive(t))
		reply_ok(reply);
	else
		reply_error(reply, 1);
}

/* CRC-32 as gdb computes it (big-endian polynomial 0x04c11db7). */
static uint32_t gdb_crc32(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= (uint32_t)*p++ << 24;
		for (int i = 0; i < 8; i++)
			crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

void handle_qcrc(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (reply_refused(TREQ_SCAN_MEMORY, reply))
		return;
	if (!parse_addr_len(&p, end, 0, &addr, &len) || p != end || !proc) {
		reply_error(reply, 1);
		return;
	}
	uint32_t crc = 0xffffffffu;
	uint8_t chunk[65536];
	while (len) {
		size_t want = len < sizeof chunk ? (size_t)len : sizeof chunk;
		if (target_read_memory(proc, addr, chunk, want) != (ssize_t)want) {
			reply_error(reply, 3);
			return;
		}
		crc = gdb_crc32(crc, chunk, want);
		addr += want;
		len -= want;
	}
	buf_printf(reply, "C%08x", crc);
}

void handle_qsearch(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len;
	struct process *proc = general_process(ctx);
	if (reply_refused(TREQ_SCAN_MEMORY, reply))
		return;
	if (!hex_parse_u64_sep(&p, end, ';', &addr) || !hex_parse_u64_sep(&p, end, ';', &len) ||
	    !proc) {
		reply_error(reply, 1);
		return;
	}
	size_t plen = (size_t)(end - p);
	char *pattern = malloc(plen + 1);
	if (!pattern) {
		reply_error(reply, 1);
		return;
	}
	memcpy(pattern, p, plen);
	long pat_len = bin_unescape(pattern, plen);
	if (pat_len <= 0) {
		free(pattern);
		reply_error(reply, 1);
		return;
	}
	/* Search in chunks that overlap by the pattern length. */
	size_t chunk = 65536 + (size_t)pat_len;
	uint8_t *buf = malloc(chunk);
	bool found = false;
	uint64_t pos = addr, found_at = 0;
	while (buf && !found && pos < addr + len) {
		uint64_t left = addr + len - pos;
		size_t want = left < chunk ? (size_t)left : chunk;
		ssize_t got = target_read_memory(proc, pos, buf, want);
		if (got < (ssize_t)want && (got < pat_len || got <= 0)) {
			free(buf);
			free(pattern);
			reply_error(reply, 1);
			return;
		}
		void *hit = memmem(buf, (size_t)got, pattern, (size_t)pat_len);
		if (hit) {
			found = true;
			found_at = pos + (uint64_t)((uint8_t *)hit - buf);
		}
		if (want <= (size_t)pat_len)
			break;
		pos += want - (size_t)pat_len + 1;
	}
	free(buf);
	free(pattern);
	if (found)
		buf_printf(reply, "1,%" PRIx64, found_at);
	else
		buf_puts(reply, "0");
}

/* MTE: "ADDR,LEN:TYPE" of qMemTags and QMemTags; false when malformed or
 * there is no thread to ask (tags are per process: any of its threads). */
static bool memtags_args(void *ctx, const char **p, const char *end, uint64_t *addr,
			 uint64_t *len, uint64_t *type, struct thread **t)
{
	*t = general_thread(ctx);
	return *t && hex_parse_u64_sep(p, end, ',', addr) && hex_parse_u64_sep(p, end, ':', len) &&
	       hex_parse_u64(p, end, type) && *type <= INT32_MAX;
}

void handle_qmemtags(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len, type;
	struct thread *t;
	/* one hex-encoded byte per 16-byte granule in a packet */
	static uint8_t tags[RSP_PACKET_SIZE / 2 - 1];
	ssize_t got = -1;
	if (memtags_args(ctx, &p, end, &addr, &len, &type, &t) && p == end)
		got = the_arch.memtags_read(t->tid, (int)type, addr, len, tags, sizeof tags);
	if (got <= 0) {
		reply_error(reply, 1);
		return;
	}
	buf_putc(reply, 'm');
	buf_hex(reply, tags, (size_t)got);
}

void handle_Qmemtags(void *ctx, const char *a, size_t n, struct buf *reply)
{
	const char *p = a, *end = a + n;
	uint64_t addr, len, type;
	struct thread *t;
	static uint8_t tags[RSP_PACKET_SIZE / 2];
	long ntags = -1;
	if (memtags_args(ctx, &p, end, &addr, &len, &type, &t) && p < end && *p++ == ':' &&
	    (size_t)(end - p) / 2 <= sizeof tags)
		ntags = hex_decode(p, (size_t)(end - p), tags);
	if (ntags < 0 || the_arch.memtags_write(t->tid, (int)type, addr, len, tags, (size_t)ntags) < 0) {
		reply_error(reply, 1);
		return;
	}
	reply_ok(reply);
}
