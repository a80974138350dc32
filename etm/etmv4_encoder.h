/* ETMv4 instruction-trace encoder: turns the path a thread took (its taken
 * branches, exceptions and syscalls) into the byte stream an ETMv4.x trace
 * unit emits, and wraps it in CoreSight formatter frames.
 *
 * Three layers, all pure (memory comes through a callback):
 *  - instruction classification: which instructions are P0 elements
 *    (waypoints) and where direct branches go, exactly as OpenCSD's
 *    instruction decoder sees them (trc_i_decode.cpp, trc_idec_arminst.cpp
 *    in OpenCSD 1.3.3), so the decoder walks the same path;
 *  - the tracer: walks the code from the last target to each reported
 *    branch, emits atoms (E/N), addresses, exceptions, Trace On, periodic
 *    syncs, and applies the ViewInst filters (address ranges, start/stop
 *    points) as a trace unit does;
 *  - the frame formatter: 16-byte CoreSight frames carrying one trace ID.
 *
 * Addresses are compressed against the previous one (short and 32-bit
 * forms), never across a sync point.
 *
 * The unit this models: ETMv4.2, instruction trace only, 64-bit
 * addresses, 32-bit context ID traced, no timestamps, no cycle counts, no
 * return stack, no branch broadcast, no speculation (TRCIDR8.MAXSPEC = 0),
 * user space (EL0) only: the kernel is a prohibited region, so a syscall
 * shows as an Exception (Call) and tracing resumes with Trace On. */
#ifndef ETM_ETMV4_ENCODER_H
#define ETM_ETMV4_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/config.h"
#include "common/buf.h"

/* ---- instruction classification ------------------------------------------ */

enum etmv4_isa { ETMV4_ISA_A64, ETMV4_ISA_A32, ETMV4_ISA_T32 };

enum etmv4_wp {
	ETMV4_WP_NONE,          /* not a P0 element */
	ETMV4_WP_BRANCH,        /* direct branch: target from the opcode */
	ETMV4_WP_INDIRECT,      /* indirect branch: target needs an address packet */
	ETMV4_WP_ISB,           /* ISB: a P0 element, always E */
};

struct etmv4_insn {
	uint8_t size;           /* 2 or 4 bytes */
	enum etmv4_wp wp;
	bool link;              /* BL, BLR, BLX */
	bool svc;               /* SVC: takes an exception to the (untraced) kernel */
	bool always_taken;      /* an A64/A32 branch with no condition */
	uint64_t target;        /* direct branches */
	enum etmv4_isa target_isa;
};

/* Classify the instruction at ADDR whose first four bytes (little endian,
 * as memory holds them) are BYTES. V8_3: the core implements Armv8.3
 * pointer-authenticated branches (OpenCSD treats them as branches only for
 * ARCH_V8r3 and later). */
void etmv4_classify(enum etmv4_isa isa, bool v8_3, uint64_t addr, const uint8_t bytes[4],
		    struct etmv4_insn *out);

/* ---- the emulated unit's registers ---------------------------------------- */

/* Fill REGS (cpu 0) with the ID and programming registers of the emulated
 * unit: TRCIDR0-13, TRCCONFIGR (context ID on), TRCTRACEIDR = TRACE_ID,
 * TRCAUTHSTATUS, TRCDEVARCH. */
void etmv4_emulated_regs(unsigned trace_id, struct etm_cpu_regs *regs);

/* ETMv4 exception types (A-profile) used here. */
#define ETMV4_EXC_CALL   0x2    /* SVC */
#define ETMV4_EXC_TRAP   0x3
#define ETMV4_EXC_IFAULT 0xB
#define ETMV4_EXC_DFAULT 0xC
#define ETMV4_EXC_IRQ    0xE

/* ---- the tracer ------------------------------------------------------------ */

/* Read LEN bytes of program memory at ADDR into BUF; return how many. */
typedef uint32_t (*etmv4_mem_fn)(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf);

/* ViewInst: what the unit traces. Empty include list = everything. */
struct etmv4_filter {
	struct etm_addr_range include[ETM_MAX_ADDR_RANGES];
	unsigned n_include;
	struct etm_addr_range exclude[ETM_MAX_ADDR_RANGES];
	unsigned n_exclude;
	uint64_t start[ETM_MAX_TRIGGERS];   /* start points: tracing starts here */
	unsigned n_start;
	uint64_t stop[ETM_MAX_TRIGGERS];    /* stop points: tracing stops after here */
	unsigned n_stop;
};

struct etmv4_tracer_config {
	bool aarch64;           /* AArch64 (A64) or AArch32 (A32/T32) */
	bool v8_3;              /* see etmv4_classify */
	uint32_t context_id;    /* CONTEXTIDR: the thread ID under Linux */
	uint32_t sync_period;   /* bytes between periodic syncs (TRCSYNCPR), >= 64 */
	uint32_t max_walk;      /* instructions walked to reach a branch before giving up */
	struct etmv4_filter filter;
};

/* Everything the tracer knows, as plain data: copied to undo a walk that
 * went wrong. */
struct etmv4_tracer_state {
	bool pos_known;         /* the address of the next instruction is known */
	uint64_t pos;
	enum etmv4_isa isa;
	bool traced;            /* the last executed instruction was traced */
	bool dec_known;         /* a decoder knows the next instruction's address */
	bool after_taken;       /* last P0 element was a taken branch, nothing ran since */
	bool ss_started;        /* start/stop logic state */
	bool need_sync;         /* next packets start with A-sync + Trace Info */
	bool last_addr_valid;   /* LAST_ADDR: the decoder's address register */
	uint64_t last_addr;
	uint64_t since_sync;    /* bytes since the last sync */
	uint8_t atoms[64];      /* pending atoms, oldest first, 1 = E */
	unsigned n_atoms;
};

struct etmv4_stats {
	uint64_t branches, exceptions, syscalls, insns, atoms, syncs, trace_on, walk_failures;
};

struct etmv4_tracer {
	struct etmv4_tracer_config cfg;
	etmv4_mem_fn mem;
	void *mem_ctx;
	struct buf out;         /* packets not yet taken by the caller */
	size_t *syncs;          /* offsets in OUT where an A-sync starts */
	size_t n_syncs, cap_syncs;
	struct etmv4_tracer_state st;
	struct etmv4_stats stats;
};

void etmv4_tracer_init(struct etmv4_tracer *t, const struct etmv4_tracer_config *cfg,
		       etmv4_mem_fn mem, void *mem_ctx);
void etmv4_tracer_free(struct etmv4_tracer *t);

/* The thread is at PC (low bit set = Thumb on AArch32). Where that is not
 * where the trace is, the trace has a discontinuity (Trace On follows). */
void etmv4_tracer_resume(struct etmv4_tracer *t, uint64_t pc);

/* The thread stopped at PC, reached from the last target without taking
 * a branch: the not-taken branches on the way are traced now, as a unit
 * traces them when they execute. If PC cannot be reached that way it is
 * a discontinuity (as etmv4_tracer_resume) and -1 is returned. */
int etmv4_tracer_advance(struct etmv4_tracer *t, uint64_t pc);

/* The branch at FROM was taken to TO (low bit of TO set = Thumb target on
 * AArch32). Every instruction from the last target up to FROM ran. An SVC
 * at FROM is a syscall (returning to TO); FROM that is no branch at all
 * was interrupted before it ran (asynchronous exception, e.g. a signal).
 * Returns 0, or -1 if the path from the last target does not reach FROM
 * (unreadable code, a taken branch on the way): the trace then says
 * Overflow and resynchronises at TO. */
int etmv4_tracer_branch(struct etmv4_tracer *t, uint64_t from, uint64_t to);

/* An exception with preferred return address RET (the instructions before
 * RET ran; for an SVC, RET is the instruction after it) of ETMv4 TYPE,
 * execution going on at TO in user space. Returns 0 or -1 as above. */
int etmv4_tracer_exception(struct etmv4_tracer *t, uint64_t ret, uint64_t to, unsigned type);

/* Emit pending atoms (before the caller takes OUT). */
void etmv4_tracer_flush(struct etmv4_tracer *t);
/* The next packets begin with a sync (a new chunk must decode on its own). */
void etmv4_tracer_force_sync(struct etmv4_tracer *t);

/* ---- CoreSight frame formatter -------------------------------------------- */

struct cs_formatter {
	uint8_t id;             /* trace ID, 1..0x6f */
	uint8_t frame[16];
	unsigned pos;           /* next byte slot, 1..15; slot 0 holds the ID */
};

void cs_formatter_init(struct cs_formatter *f, uint8_t trace_id);
/* Append DATA; each completed 16-byte frame goes to OUT. */
void cs_formatter_put(struct cs_formatter *f, const uint8_t *data, size_t len, struct buf *out);
/* Complete the current frame with padding (trace ID 0) if it holds data.
 * Returns true if a frame was written. */
bool cs_formatter_flush(struct cs_formatter *f, struct buf *out);

#endif
