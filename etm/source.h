/* Trace sources: where trace comes from, behind one set of ops.
 *   perf cs_etm (etm/perf.h)            raw CoreSight trace of live threads
 *   a perf.data recording (perfdata.h)  the same, replayed
 *   the emulated ETMv4 (emulated.h)     raw ETMv4 encoded from the recorder's branches
 *   the software recorder (software.h)  branch blocks only (gdb's bts format)
 *   a recorded capture (recorded.h)     one thread, its trace, memory and symbols
 * A source traces threads: enable per thread, read what is new since the
 * last read, disable. The optional ops say what else a source has; the
 * daemon asks them, never which source it is.
 *
 * Ownership: the caller owns struct etm_read and frees it with
 * etm_read_free(); the source owns everything else. */
#ifndef ETM_SOURCE_H
#define ETM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/config.h"
#include "etm/ranges.h"
#include "common/buf.h"

/* One contiguous piece of trace. Chunks are independent: the decoder must
 * be reset between chunks ("we cannot assume consecutive blocks are
 * contiguous", perf's cs-etm.c), and a gap_before chunk follows lost data. */
struct etm_chunk {
	size_t offset, size;       /* bytes [offset, offset+size) of etm_read.data */
	int cpu;                   /* CPU that produced it, -1 unknown */
	bool raw;                  /* unformatted single-source (TRBE/ETE) data */
	bool gap_before;           /* trace was lost just before this chunk */
	uint32_t aux_flags;        /* PERF_RECORD_AUX flags, 0 if none */
};

/* Result of one read: the new bytes, split in chunks, and what was lost. */
struct etm_read {
	struct buf data;
	struct etm_chunk *chunks;
	size_t n_chunks, cap_chunks;
	bool overflow;             /* some trace was lost (wrap, TRUNCATED, COLLISION, PARTIAL, lost records) */
	bool truncated;            /* the sink filled up and tracing stopped for a while */
	uint64_t bytes_lost;       /* known lost bytes (0 when lost but unknown) */
};

void etm_read_init(struct etm_read *r);
void etm_read_reset(struct etm_read *r);
void etm_read_free(struct etm_read *r);
/* Append BYTES as a new chunk (one per PERF_RECORD_AUX). Returns it. */
struct etm_chunk *etm_read_add(struct etm_read *r, const void *bytes, size_t len,
			       int cpu, bool raw, bool gap_before, uint32_t aux_flags);

/* How the sink formats its data, for the decoder and btrace XML. */
struct etm_sink_info {
	char name[ETM_SINK_NAME_LEN];   /* "" = driver default */
	bool formatted;                 /* CoreSight frames (ETB/ETF/ETR) vs raw (TRBE) */
	bool fsyncs, hsyncs, frame_aligned, reset_on_4x_sync;
};

struct etm_source;

struct etm_source_ops {
	const char *name;
	/* Start tracing thread TID with CFG (validated by the source against
	 * the hardware). Returns 0, or -1 with ERR. */
	int (*enable)(struct etm_source *src, int tid, const struct etm_config *cfg,
		      char *err, size_t errlen);
	/* Append the trace produced by TID since the last read to OUT. */
	int (*read_new)(struct etm_source *src, int tid, struct etm_read *out,
			char *err, size_t errlen);
	/* Stop tracing TID and release its buffers (unread trace is dropped). */
	int (*disable)(struct etm_source *src, int tid, char *err, size_t errlen);
	/* The configuration in effect for TID (actual buffer size, sink). */
	int (*conf)(struct etm_source *src, int tid, struct etm_config *out,
		    char *err, size_t errlen);
	/* Registers of CPU as the session programs them (trace ID, TRCCONFIGR /
	 * ETMCR computed for the active configuration). */
	int (*cpu_regs)(struct etm_source *src, int cpu, struct etm_cpu_regs *out,
			char *err, size_t errlen);
	/* Number of CPUs with a trace unit (CPU numbers 0..n-1, some may be absent). */
	int (*nr_cpus)(struct etm_source *src);
	/* The sink's data format. */
	int (*sink)(struct etm_source *src, struct etm_sink_info *out);
	void (*free)(struct etm_source *src);
	/* What `monitor etm status` says of the source (whole lines). */
	void (*describe)(struct etm_source *src, struct buf *out);

	/* ---- optional: NULL when the source has no such thing ---------- */
	/* Fed by the software branch recorder: TID took a branch FROM -> TO
	 * (TO as trace addresses it: bit 0 set for Thumb). */
	void (*record_branch)(struct etm_source *src, int tid, uint64_t from, uint64_t to);
	/* Branch blocks instead of raw trace (read_new, cpu_regs unused):
	 * TID's blocks since enabling (SINCE_LAST false) or since the last
	 * read, ending at PC where it stands; malloc'd into *OUT. Returns 0,
	 * or 1 when SINCE_LAST was asked and records were lost since. */
	int (*read_blocks)(struct etm_source *src, int tid, bool since_last, uint64_t pc,
			   struct btrace_range **out, size_t *n);
	/* Blocks were recorded (or lost) since the last read_blocks. */
	bool (*blocks_changed)(struct etm_source *src, int tid);
	/* A recorded capture: its one thread, where it stands, its memory
	 * and symbols; the ranges decoded from the newest SIZE trace bytes
	 * (valid until the next call); the recorded trace bytes. */
	bool (*thread)(struct etm_source *src, int *pid, int *tid, uint64_t *pc);
	size_t (*read_memory)(struct etm_source *src, uint64_t addr, void *buf, size_t len);
	const char *(*symbol)(struct etm_source *src, uint64_t addr);
	const struct trace_ranges *(*window)(struct etm_source *src, uint64_t size,
					     char *err, size_t errlen);
	uint64_t (*raw_size)(struct etm_source *src);
	int (*raw_read)(struct etm_source *src, uint64_t offset, void *buf, size_t len);
};

/* The software branch recorder, as the daemon runs it (it single-steps
 * the threads): what the software and emulated sources drive. */
struct swbtrace;
struct etm_recorder {
	void *ctx;
	/* Record TID's branches into a ring of SIZE bytes; *PC = where it
	 * starts, as trace addresses it. 0, or -1 with ERR. */
	int (*start)(void *ctx, int tid, uint64_t size, uint64_t *pc, char *err, size_t errlen);
	void (*stop)(void *ctx, int tid);
	/* TID's ring while it records, else NULL. */
	struct swbtrace *(*ring)(void *ctx, int tid);
	/* Where TID stands (stopped) or where its current step began
	 * (running), as trace addresses it. False if unknown. */
	bool (*where)(void *ctx, int tid, uint64_t *pc);
	/* TID's memory, breakpoints masked: bytes read. */
	size_t (*read)(void *ctx, int tid, uint64_t addr, void *buf, size_t len);
};

/* Implementations embed this as their first member. */
struct etm_source {
	const struct etm_source_ops *ops;
};

static inline void etm_source_free(struct etm_source *src)
{
	if (src)
		src->ops->free(src);
}

#endif
