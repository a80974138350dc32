/* Reader of perf.data (PERFILE2) files recorded with cs_etm — by perf or
 * simpleperf — so recorded sessions can be fed through etm/auxring.c like
 * a live mmap, and their per-CPU ETM registers used for decoding.
 * Reads: header, attrs (sample_type, sample_id_all), PERF_RECORD_AUXTRACE_INFO
 * (cs_etm per-CPU registers), PERF_RECORD_AUXTRACE (+ its data),
 * PERF_RECORD_AUX, ITRACE_START, AUX_OUTPUT_HW_ID, LOST.
 * Layout: tools/perf/util/header.h, tools/perf/util/cs-etm.h. */
#ifndef ETM_PERFDATA_H
#define ETM_PERFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/auxring.h"
#include "etm/config.h"
#include "etm/source.h"

/* Every number read from the file is checked against these: CPU numbers
 * (perf's MAX_NR_CPUS), AUX stream offsets and sizes. */
#define PERFDATA_MAX_CPUS 4096
#define PERFDATA_MAX_OFFSET (1ull << 62)

struct perfdata_aux {                 /* one PERF_RECORD_AUX */
	uint64_t aux_offset, aux_size, flags;
	int cpu;                          /* sample_id cpu, -1 unknown */
	uint32_t pid, tid;
	size_t rec_index;                 /* index in perfdata.records */
};

struct perfdata_auxtrace {            /* one PERF_RECORD_AUXTRACE */
	uint64_t size, offset, reference;
	uint32_t idx, tid, cpu;
	size_t data_pos;                  /* file offset of its SIZE data bytes */
};

struct perfdata_record {              /* any record of the data section */
	size_t pos;                       /* file offset */
	uint32_t type;
	uint16_t size;
	int cpu;                          /* sample_id cpu, -1 unknown */
	uint32_t tid;
};

struct perfdata {
	const uint8_t *file;
	size_t len;
	void *copy;                       /* perfdata_parse's copy of the bytes, or NULL */
	void *map;                        /* perfdata_open's mapping of the file, or NULL */
	uint64_t sample_type;
	bool sample_id_all;
	uint32_t attr_type;
	uint64_t attr_config;
	/* AUXTRACE_INFO (cs_etm) */
	bool have_info;
	uint64_t info_version;            /* cs_etm header version (0, 1, 2) */
	uint32_t pmu_type, nr_cpus;
	bool snapshot;
	struct etm_cpu_regs *cpus;
	unsigned n_cpus;
	struct perfdata_aux *aux;
	size_t n_aux;
	struct perfdata_auxtrace *auxtrace;
	size_t n_auxtrace;
	struct perfdata_record *records;
	size_t n_records;
	size_t n_itrace_start, n_hw_id, n_lost;
};

/* Parse a perf.data image (copied). Returns 0, or -1 with ERR for anything
 * malformed or truncated (never reads outside BYTES). */
int perfdata_parse(const void *bytes, size_t len, struct perfdata *pd, char *err, size_t errlen);
int perfdata_open(const char *path, struct perfdata *pd, char *err, size_t errlen);
void perfdata_free(struct perfdata *pd);

/* Registers of CPU from AUXTRACE_INFO, or NULL. */
const struct etm_cpu_regs *perfdata_cpu(const struct perfdata *pd, int cpu);

/* Bytes [offset, offset+size) of the AUX stream of buffer CPU as stored in
 * AUXTRACE records, or NULL when (part of) them is not in the file. */
const uint8_t *perfdata_aux_bytes(const struct perfdata *pd, int cpu, uint64_t offset, uint64_t size);

/* Replay the recording of buffer CPU the way the kernel wrote it: AUX data
 * then its record into a ring pair of DATA_RING x AUX_RING bytes, read
 * with auxring_read every READ_EVERY records (or when the writer has no
 * room). AUX data missing from the file shows as lost bytes. Result and
 * losses go to OUT; RING keeps the reader state (trace IDs, counters). */
int perfdata_replay(const struct perfdata *pd, int cpu, uint64_t data_ring, uint64_t aux_ring,
		    unsigned read_every, struct auxring *ring, struct etm_read *out,
		    char *err, size_t errlen);

/* A trace source that serves a recording: every traced thread gets the
 * whole replayed trace of all buffers on its first read, nothing later;
 * cpu_regs/sink come from the file. For servers and tests without trace
 * hardware. */
struct etm_source *etm_perfdata_source_new(const char *path, char *err, size_t errlen);

#endif
