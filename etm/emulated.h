/* The emulated ETMv4 trace source: for machines without a trace unit a
 * process can reach. A software branch recorder reports every taken
 * branch of a traced thread; this source encodes them as the ETMv4 trace
 * an ETMv4.2 unit (etm/etmv4_encoder.h describes it) would have written
 * into a CoreSight sink, and serves it through struct etm_source_ops like
 * real hardware: OpenCSD decoding, btrace documents, snapshots and
 * cstrace all see real ETMv4 frames.
 *
 * Per thread: a ring of the configured size (Qbtrace-conf size=) holding
 * formatted frames; when it is full the oldest data goes, up to the next
 * sync point, and the next read reports the loss (overflow, bytes_lost,
 * gap_before). Every read starts a new chunk at a sync point, so each
 * chunk decodes on its own. Address-range filters and start/stop
 * addresses of the configuration act as the unit's ViewInst filters. */
#ifndef ETM_EMULATED_H
#define ETM_EMULATED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/source.h"

/* Read LEN bytes of thread TID's memory at ADDR into BUF, with any
 * breakpoint the server planted masked out; return how many were read. */
typedef size_t (*etm_emulated_read_fn)(void *ctx, int tid, uint64_t addr, void *buf, size_t len);

enum etm_emulated_isa {
	ETM_EMULATED_A64,       /* aarch64 */
	ETM_EMULATED_A32,       /* 32-bit arm: A32 and T32 (Thumb: bit 0 of addresses) */
};

struct etm_source *etm_emulated_new(enum etm_emulated_isa isa, etm_emulated_read_fn read, void *ctx);
/* The same, driven by the software recorder REC: enable starts recording
 * and marks where, read_new first stops the unit where the thread stands,
 * disable stops recording; the recorder's branches come through
 * ops->record_branch. NOTE says why there is no trace hardware. */
struct etm_source *etm_emulated_recorded_new(enum etm_emulated_isa isa, const struct etm_recorder *rec,
					     const char *note);

/* True if SRC is an emulated source (for qXfer:btrace-conf and
 * `monitor etm status`). Its ops->name is "emulated", its sink "emulated". */
bool etm_source_is_emulated(const struct etm_source *src);

/* Thread TID is at PC (on arm, bit 0 set = Thumb state). Call once after
 * enable and whenever the thread resumes somewhere the recorder did not
 * report (gdb changed the PC, exec): the trace shows a discontinuity. */
void etm_emulated_resume(struct etm_source *src, int tid, uint64_t pc);

/* Thread TID stopped at PC (before executing it), having run on from the
 * last reported branch without taking another: call at every stop before
 * the trace is read, so the not-taken branches up to PC are in the trace
 * as a real unit would have written them. A PC not reachable that way is
 * taken as a discontinuity, as etm_emulated_resume. */
void etm_emulated_stop(struct etm_source *src, int tid, uint64_t pc);

/* The recorder saw a control-flow change of TID: FROM is the branch
 * instruction (or the instruction a signal interrupted before it ran, or
 * an SVC), TO the next PC (arm: bit 0 set = Thumb). */
void etm_emulated_branch(struct etm_source *src, int tid, uint64_t from, uint64_t to);

/* An exception the recorder knows as such: preferred return address RET
 * (the instruction not yet executed; after an SVC the next one), ETMv4
 * exception TYPE (ETMV4_EXC_* in etm/etmv4_encoder.h: IRQ for a signal, a
 * fault type for SIGSEGV/SIGBUS), user space going on at TO. */
void etm_emulated_exception(struct etm_source *src, int tid, uint64_t ret, uint64_t to, unsigned type);

/* Code at [ADDR, ADDR+LEN) of TID (-1: every thread) changed: forget it. */
void etm_emulated_invalidate(struct etm_source *src, int tid, uint64_t addr, uint64_t len);

/* Counters of one thread; -1 (all zero) if TID is not traced. */
struct etm_emulated_stats {
	uint64_t branches, exceptions, syscalls, insns, atoms, syncs, trace_on, walk_failures;
	uint64_t bytes, bytes_lost;
};
int etm_emulated_stats(struct etm_source *src, int tid, struct etm_emulated_stats *out);

/* ---- OpenCSD snapshot writer ---------------------------------------------
 * DIR/snapshot.ini, cpu_0.ini (CORE_NAME, memory dumps), etm_0.ini
 * (REGS), trace.ini and trace.bin (TRACE, LEN bytes of formatted frames),
 * mem_N.bin: what trc_pkt_lister -ss_dir DIR reads. Give a CORE_NAME
 * OpenCSD maps to Armv8.0 ("Cortex-A57"): the encoder walks code as an
 * Armv8.0 decoder does (as the server configures its decoder). */
struct etm_emulated_mem {
	uint64_t addr;
	const void *data;
	size_t len;
};
int etm_emulated_write_snapshot(const char *dir, const struct etm_cpu_regs *regs, const char *core_name,
				const void *trace, size_t len, const struct etm_emulated_mem *mem,
				size_t nmem, char *err, size_t errlen);

#endif
