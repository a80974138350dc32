/* The vocabulary every trace file shares: what kind of trace unit, what
 * core it watches, how its stream is framed, its registers, the class of
 * a traced instruction, and how errors are reported. One place, so that
 * the decoder, the sources, the documents and the daemon speak the same
 * types (no mirrors, no converters). */
#ifndef ETM_TRACE_TYPES_H
#define ETM_TRACE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors: a function of etm/ that can fail takes ERR (ERRLEN bytes, may be
 * NULL/0), writes a message there and returns -1 (or NULL). */
#define ETM_ERR_LEN 256
int etm_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The kind of trace unit (and so the trace protocol). */
enum etm_unit {
	ETM_UNIT_UNKNOWN = 0,
	ETM_UNIT_ETMV3,          /* ETMv3.x */
	ETM_UNIT_PTM,            /* PTM / PFT */
	ETM_UNIT_ETMV4,          /* ETMv4.x */
	ETM_UNIT_ETE,            /* ETE (Armv9) */
};
const char *etm_unit_name(enum etm_unit unit);   /* "ETMv3", ... "unknown" */

/* Architecture of the traced core (values are OpenCSD's). UNKNOWN lets
 * the decoder choose by unit: v7 for ETMv3/PTM, v8 for ETMv4, AArch64
 * for ETE. */
enum etm_core_arch {
	ETM_CORE_UNKNOWN = 0,
	ETM_CORE_V7 = 0x0700,
	ETM_CORE_V8 = 0x0800,
	ETM_CORE_V8R3 = 0x0803,
	ETM_CORE_AA64 = 0x0864,
};

/* Profile of the traced core (OpenCSD's values); UNKNOWN means A. */
enum etm_profile {
	ETM_PROFILE_UNKNOWN = 0,
	ETM_PROFILE_M = 1,
	ETM_PROFILE_R = 2,
	ETM_PROFILE_A = 3,
};

/* Instruction set of traced code. */
enum etm_isa { ETM_ISA_ARM, ETM_ISA_THUMB, ETM_ISA_A64, ETM_ISA_OTHER };
const char *etm_isa_name(enum etm_isa isa);      /* "A32", "T32", "A64", "other" */

/* How a trace stream is framed. */
enum etm_stream_format {
	ETM_STREAM_FRAMED,       /* CoreSight frames, 16-byte aligned (ETB/ETF/ETR) */
	ETM_STREAM_FRAMED_FSYNC, /* frames with FSYNC words (TPIU/DSTREAM) */
	ETM_STREAM_RAW,          /* one source's bytes (TRBE, source_data) */
};

/* What the last instruction of a range was, for call history. */
enum etm_insn_class {
	ETM_INSN_OTHER,
	ETM_INSN_JUMP,
	ETM_INSN_CALL,
	ETM_INSN_RETURN,
	ETM_INSN_EXCEPTION_RETURN,
	ETM_INSN_BARRIER,        /* ISB, DSB/DMB: waypoints on some ETMs */
	ETM_INSN_WAIT,           /* WFI/WFE */
};
const char *etm_insn_class_name(enum etm_insn_class c);

/* Registers of one CPU's trace unit, as sysfs, a recording, a snapshot or
 * an emulated unit give them: what a decoder, the option checks and the
 * CoreSight document need. The have_* masks say which were actually read:
 * a missing file is not 0. */
struct etm_cpu_regs {
	int cpu;
	enum etm_unit unit;
	enum etm_core_arch core_arch;
	enum etm_profile profile;
	/* ETMv4 / ETE */
	uint32_t trcidr[14];          /* TRCIDR0..TRCIDR13 */
	uint32_t have_trcidr;         /* bit N: trcidr[N] valid */
	uint32_t trcauthstatus, trcdevarch, trctraceidr, trcconfigr;
	/* ETMv3 / PTM */
	uint32_t etmcr, etmidr, etmccer, etmccr, etmtraceidr;
	uint32_t have;                /* ETM_HAVE_* bits */
};

#define ETM_HAVE_AUTHSTATUS  0x001u
#define ETM_HAVE_DEVARCH     0x002u
#define ETM_HAVE_TRACEID     0x004u   /* trctraceidr / etmtraceidr */
#define ETM_HAVE_CONFIGR     0x008u   /* trcconfigr / etmcr */
#define ETM_HAVE_ETMIDR      0x010u
#define ETM_HAVE_ETMCCER     0x020u
#define ETM_HAVE_ETMCCR      0x040u

/* The unit's trace ID (ETMTRACEIDR / TRCTRACEIDR). */
uint8_t etm_trace_id(const struct etm_cpu_regs *regs);

/* The core this machine's own trace units watch (ETMv4 on aarch64 traces
 * AArch64 code, on arm A32/T32), from arch/'s trace_isa. */
enum etm_core_arch etm_host_core_arch(enum etm_unit unit);

/* Field helper of the ID registers (Arm IHI 0064, ETMv3 IHI 0014). */
static inline uint32_t etm_bits(uint32_t v, unsigned hi, unsigned lo)
{
	return (v >> lo) & ((hi - lo == 31) ? 0xffffffffu : ((1u << (hi - lo + 1)) - 1));
}

#endif
