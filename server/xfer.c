/* Documents served through qXfer: threads, shared libraries (from the
 * dynamic linker's r_debug list), auxv, exec-file, osdata. */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "common/hex.h"
#include "common/xml.h"
#include "protocol/escape.h"
#include "protocol/qxfer.h"
#include "server/reply.h"
#include "server/session.h"
#include "server/xfer.h"
#include "server/thread_db.h"

const char *xfer_threads(struct session *s, struct buf *doc)
{
	buf_puts(doc, "<?xml version=\"1.0\"?>\n<threads>\n");
	for (struct process *p = processes; p; p = p->next)
		for (struct thread *t = p->threads; t && !target_fork_unreported(p); t = t->next) {
			char name[64];
			buf_puts(doc, "<thread id=\"");
			format_ptid(s, doc, p->pid, t->tid);
			buf_putc(doc, '"');
			int core = target_thread_core(t);
			if (core >= 0)
				buf_printf(doc, " core=\"%d\"", core);
			target_thread_name(t, name, sizeof name);
			if (name[0]) {
				buf_puts(doc, " name=\"");
				xml_escape(doc, name);
				buf_putc(doc, '"');
			}
			uint8_t handle[16];   /* pthread_t, for gdb's thread handles */
			size_t handle_len = thread_db_thread_handle(t, handle, sizeof handle);
			if (handle_len) {
				buf_puts(doc, " handle=\"");
				buf_hex(doc, handle, handle_len);
				buf_putc(doc, '"');
			}
			buf_puts(doc, "/>\n");
		}
	buf_puts(doc, "</threads>\n");
	return NULL;
}

const char *xfer_auxv(struct session *s, struct buf *doc)
{
	struct thread *t = general_thread(s);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/auxv", t->proc->pid);
	if (file_read(path, 1u << 20, doc, NULL, 0) < 0)
		return "Cannot read auxv.";
	return NULL;
}

const char *xfer_exec_file(struct session *s, const char *annex, struct buf *doc)
{
	pid_t pid = 0;
	if (annex[0]) {
		const char *p = annex, *end = annex + strlen(annex);
		uint64_t v;
		if (!hex_parse_u64(&p, end, &v) || p != end)
			return "Bad annex.";
		pid = (pid_t)v;
	} else {
		struct thread *t = general_thread(s);
		if (!t)
			return "No process.";
		pid = t->proc->pid;
	}
	return target_exec_file(pid, doc);
}

/* --- libraries-svr4 --------------------------------------------------------- */

typedef uintptr_t target_ptr;   /* the inferior's word: same ABI as the server */

static bool read_ptr(struct process *p, uint64_t addr, uint64_t *out)
{
	target_ptr v;
	if (target_read_memory(p, addr, &v, sizeof v) != (ssize_t)sizeof v)
		return false;
	*out = v;
	return true;
}

static uint64_t auxv_value(pid_t pid, uint64_t type)
{
	char path[64];
	struct buf b = BUF_INIT;
	uint64_t value = 0;
	snprintf(path, sizeof path, "/proc/%d/auxv", pid);
	if (file_read(path, 1u << 20, &b, NULL, 0) == 0 && b.len > 0) {
		const target_ptr *av = (const target_ptr *)b.data;
		for (size_t i = 0; i + 1 < b.len / sizeof *av; i += 2)
			if (av[i] == type) {
				value = av[i + 1];
				break;
			}
	}
	buf_free(&b);
	return value;
}

#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Phdr target_phdr;
typedef Elf64_Dyn target_dyn;
#else
typedef Elf32_Phdr target_phdr;
typedef Elf32_Dyn target_dyn;
#endif

#define NO_DT_DEBUG UINT64_MAX

/* The address of the dynamic linker's struct r_debug; 0 while the linker
 * has not set it yet; NO_DT_DEBUG when the program has no DT_DEBUG to
 * find (e.g. ld.so run as the program): gdb then looks for itself. */
static uint64_t find_r_debug(struct process *p)
{
	uint64_t phdr = auxv_value(p->pid, AT_PHDR), phnum = auxv_value(p->pid, AT_PHNUM);
	if (!phdr || !phnum || phnum > 256)
		return NO_DT_DEBUG;
	uint64_t relocation = 0, dynamic = 0;
	bool have_phdr = false;
	for (uint64_t i = 0; i < phnum; i++) {
		target_phdr ph;
		if (target_read_memory(p, phdr + i * sizeof ph, &ph, sizeof ph) != (ssize_t)sizeof ph)
			return NO_DT_DEBUG;
		if (ph.p_type == PT_PHDR) {
			relocation = phdr - ph.p_vaddr;
			have_phdr = true;
		} else if (ph.p_type == PT_DYNAMIC) {
			dynamic = ph.p_vaddr;
		}
	}
	if (!have_phdr || !dynamic)
		return NO_DT_DEBUG;
	dynamic += relocation;
	for (int i = 0; i < 512; i++) {
		target_dyn d;
		if (target_read_memory(p, dynamic + (uint64_t)i * sizeof d, &d, sizeof d) != (ssize_t)sizeof d)
			return NO_DT_DEBUG;
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_DEBUG)
			return d.d_un.d_ptr;
	}
	return NO_DT_DEBUG;
}

static bool read_string(struct process *p, uint64_t addr, char *out, size_t size)
{
	size_t got = 0;
	while (got + 1 < size) {
		char chunk[64];
		ssize_t n = target_read_memory(p, addr + got, chunk, sizeof chunk);
		if (n <= 0)
			return false;
		for (ssize_t i = 0; i < n && got + 1 < size; i++) {
			out[got++] = chunk[i];
			if (chunk[i] == '\0')
				return true;
		}
	}
	out[got] = '\0';
	return true;
}

/* Append the libraries of one link-map list, LMID naming its namespace
 * (the address of its r_debug, as gdbserver does). */
static void link_map_list(struct process *p, struct buf *doc, uint64_t lmid, uint64_t lm,
			  uint64_t prev)
{
	const size_t w = sizeof(target_ptr);
	/* struct link_map { l_addr, l_name, l_ld, l_next, l_prev } */
	for (int count = 0; lm && count < 10000; count++) {
		uint64_t l_addr, l_name, l_ld, l_next, l_prev;
		if (!read_ptr(p, lm, &l_addr) || !read_ptr(p, lm + w, &l_name) ||
		    !read_ptr(p, lm + 2 * w, &l_ld) || !read_ptr(p, lm + 3 * w, &l_next) ||
		    !read_ptr(p, lm + 4 * w, &l_prev))
			break;
		if (l_prev != prev)
			break;   /* corrupt list */
		char name[4096];
		if (l_name && read_string(p, l_name, name, sizeof name) && name[0]) {
			buf_puts(doc, "  <library name=\"");
			xml_escape(doc, name);
			buf_printf(doc, "\" lm=\"0x%" PRIx64 "\" l_addr=\"0x%" PRIx64
				   "\" l_ld=\"0x%" PRIx64 "\" lmid=\"0x%" PRIx64 "\"/>\n",
				   lm, l_addr, l_ld, lmid);
		}
		prev = lm;
		lm = l_next;
	}
}

const char *xfer_libraries_svr4(struct session *s, struct buf *doc)
{
	struct process *p = general_thread(s)->proc;
	const size_t w = sizeof(target_ptr);
	uint64_t r_debug = find_r_debug(p);
	if (r_debug == NO_DT_DEBUG)
		return "No DT_DEBUG in the program.";
	buf_puts(doc, "<library-list-svr4 version=\"1.0\"");
	bool header_done = false;
	/* struct r_debug { int r_version; struct link_map *r_map; ElfW(Addr)
	 * r_brk; enum r_state; ElfW(Addr) r_ldbase; } and, from version 2,
	 * struct r_debug_extended adds r_next: one list per dlmopen namespace. */
	const uint64_t r_next_offset = 5 * w;
	for (int ns = 0; r_debug && ns < 64; ns++) {
		int32_t version = 0;
		uint64_t lm = 0;
		if (target_read_memory(p, r_debug, &version, sizeof version) != sizeof version ||
		    version < 1 || !read_ptr(p, r_debug + w, &lm))
			break;
		uint64_t prev = 0;
		if (ns == 0) {
			/* The first entry is the executable itself: main-lm. */
			if (lm) {
				buf_printf(doc, " main-lm=\"0x%" PRIx64 "\">\n", lm);
				prev = lm;
				if (!read_ptr(p, lm + 3 * w, &lm))
					lm = 0;
			} else {
				buf_puts(doc, ">\n");
			}
			header_done = true;
		}
		link_map_list(p, doc, r_debug, lm, prev);
		if (version < 2 || !read_ptr(p, r_debug + r_next_offset, &r_debug))
			break;
	}
	if (!header_done)
		buf_puts(doc, ">\n");
	buf_puts(doc, "</library-list-svr4>\n");
	return NULL;
}

/* --- the qXfer packets -------------------------------------------------- */


/* --- qXfer ------------------------------------------------------------ */

void xfer_cache_forget(struct session *s)
{
	s->xfer_key[0] = '\0';
}

void xfer_cache_serve(struct session *s, const char *key, const char *range, size_t range_len,
		      const struct xfer_object *obj, const char *annex, struct buf *reply)
{
	unsigned long long offset, length;
	if (xfer_parse_range(range, range_len, &offset, &length) < 0) {
		reply_error(reply, 1);
		return;
	}
	bool cached = strcmp(s->xfer_key, key) == 0;
	if (offset != 0 && !cached && obj->strict) {
		reply_error_msg(reply, "Bad offset: read the document from offset 0 first.");
		return;
	}
	/* Build at offset 0; later chunks come from the same document. */
	if (offset == 0 || !cached) {
		buf_reset(&s->xfer);
		s->xfer_key[0] = '\0';
		const char *err = obj->build(s, key, annex, &s->xfer);
		if (err) {
			buf_reset(&s->xfer);
			reply_error_msg(reply, err);
			return;
		}
		snprintf(s->xfer_key, sizeof s->xfer_key, "%s", key);
	}
	if (obj->serve && obj->serve(s, key, offset, length, reply))
		return;
	if (xfer_reply(reply, s->xfer.data ? s->xfer.data : "", s->xfer.len, range, range_len) < 0)
		reply_error(reply, 1);
}

static const char *build_threads(struct session *s, const char *key, const char *annex, struct buf *doc)
{
	(void)key;
	(void)annex;
	return xfer_threads(s, doc);
}

static const char *build_libraries(struct session *s, const char *key, const char *annex, struct buf *doc)
{
	(void)key;
	(void)annex;
	return xfer_libraries_svr4(s, doc);
}

static const char *build_auxv(struct session *s, const char *key, const char *annex, struct buf *doc)
{
	(void)key;
	(void)annex;
	return xfer_auxv(s, doc);
}

static const char *build_exec_file(struct session *s, const char *key, const char *annex, struct buf *doc)
{
	(void)key;
	return xfer_exec_file(s, annex, doc);
}

static const char *build_osdata(struct session *s, const char *key, const char *annex, struct buf *doc)
{
	(void)key;
	return xfer_osdata(s, annex, doc);
}

static const char *build_siginfo(struct session *s, const char *key, const char *annex, struct buf *doc)
{
	(void)key;
	(void)annex;
	struct thread *t = general_thread(s);
	siginfo_t si;
	if (!t || target_siginfo_read(t, &si) < 0)
		return "No signal information for this thread.";
	buf_append(doc, &si, sizeof si);
	return NULL;
}


static void xfer_object(struct session *s, const char *object,
			xfer_build_fn build, bool needs_process, int refusal, const char *a, size_t n, struct buf *reply)
{
	if (refusal >= 0 && reply_refused((enum target_request)refusal, reply))
		return;
	char annex[256], key[64];
	const char *range;
	size_t range_len;
	if (!xfer_split_annex(a, n, annex, sizeof annex, &range, &range_len)) {
		reply_error(reply, 1);
		return;
	}
	if (needs_process && !processes) {
		reply_error_msg(reply, "No process.");
		return;
	}
	snprintf(key, sizeof key, "%s:%.40s", object, annex);
	const struct xfer_object obj = {.build = build};
	xfer_cache_serve(s, key, range, range_len, &obj, annex, reply);
}

void handle_xfer_features(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char annex[256];
	const char *range;
	size_t range_len;
	if (!xfer_split_annex(a, n, annex, sizeof annex, &range, &range_len)) {
		reply_error(reply, 1);
		return;
	}
	const char *xml = arch_feature(target_regfile(), annex);
	if (!xml) {
		reply_error_msg(reply, "No such target description file.");
		return;
	}
	if (xfer_reply(reply, xml, strlen(xml), range, range_len) < 0)
		reply_error(reply, 1);
}

void handle_xfer_threads(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "threads", build_threads, false, -1, a, n, r); }
void handle_xfer_libraries(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "libraries-svr4", build_libraries, true, TREQ_LIBRARIES, a, n, r); }
void handle_xfer_auxv(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "auxv", build_auxv, true, TREQ_AUXV, a, n, r); }
void handle_xfer_exec_file(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "exec-file", build_exec_file, false, -1, a, n, r); }
void handle_xfer_osdata(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "osdata", build_osdata, false, -1, a, n, r); }
void handle_xfer_siginfo(void *ctx, const char *a, size_t n, struct buf *r) { xfer_object(ctx, "siginfo", build_siginfo, true, TREQ_SIGINFO, a, n, r); }

void handle_xfer_siginfo_write(void *ctx, const char *a, size_t n, struct buf *reply)
{
	struct thread *t = general_thread(ctx);
	const char *p = a, *end = a + n;
	uint64_t offset;
	if (reply_refused(TREQ_WRITE, reply))
		return;
	/* ":OFFSET:DATA" (annex empty) */
	if (p < end && *p == ':')
		p++;
	if (!t || !hex_parse_u64_sep(&p, end, ':', &offset)) {
		reply_error(reply, 1);
		return;
	}
	siginfo_t si;
	if (target_siginfo_read(t, &si) < 0) {
		reply_error(reply, 1);
		return;
	}
	size_t len = (size_t)(end - p);
	char *data = malloc(len + 1);
	if (!data) {
		reply_error(reply, 1);
		return;
	}
	memcpy(data, p, len);
	long got = bin_unescape(data, len);
	if (got < 0 || offset > sizeof si) {
		free(data);
		reply_error(reply, 1);
		return;
	}
	size_t take = (size_t)got;
	if (offset + take > sizeof si)
		take = sizeof si - (size_t)offset;
	memcpy((char *)&si + offset, data, take);
	free(data);
	if (target_siginfo_write(t, &si) < 0) {
		reply_error(reply, 1);
		return;
	}
	xfer_cache_forget(ctx);
	buf_printf(reply, "%zx", take);
}
