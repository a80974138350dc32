/* Trace sources: where raw CoreSight trace comes from. The perf cs_etm
 * source (etm/perf.h) is one; recorded data (etm/perfdata.h) and emulated
 * sources plug in behind the same ops. A source traces threads: enable per
 * thread, read what is new since the last read, disable.
 *
 * Ownership: the caller owns struct etm_read and frees it with
 * etm_read_free(); the source owns everything else. */
#ifndef ETM_SOURCE_H
#define ETM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/config.h"
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
