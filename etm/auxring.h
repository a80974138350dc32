/* The perf ring-buffer protocol for AUX trace, without the syscalls: given
 * the bytes of the record ring and the AUX ring plus their head/tail
 * pointers (exactly what the mmap'd pages hold), produce the new trace
 * chunks, the lost/overflow report and the tails to write back.
 * etm/perf.c feeds it the live mmap; tests and replays feed it recorded
 * byte streams through struct auxring_sim, the writer side as the kernel
 * does it (include/uapi/linux/perf_event.h, kernel/events/ring_buffer.c). */
#ifndef ETM_AUXRING_H
#define ETM_AUXRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/source.h"

#define AUXRING_MAX_CPUS 256

/* A snapshot of perf_event_mmap_page and the two rings. Sizes are powers
 * of two; heads and tails are free-running byte counters. */
struct auxring_view {
	const uint8_t *data;
	uint64_t data_size, data_head, data_tail;
	const uint8_t *aux;
	uint64_t aux_size, aux_head, aux_tail;
};

/* Reader state kept between reads. */
struct auxring {
	uint64_t sample_type;         /* attr.sample_type: says what sample_id holds */
	bool sample_id_all;
	bool overwrite;               /* snapshot mode: AUX mapped read-only */
	uint64_t aux_pos;             /* first AUX byte not yet handed out */
	bool gap_pending;             /* the next chunk follows lost trace */
	bool records_lost;            /* PERF_RECORD_LOST seen: chunk bounds unknown */
	int last_cpu;                 /* CPU of the last AUX record, -1 unknown */
	bool raw;                     /* last AUX record said FORMAT_RAW */
	int16_t trace_id[AUXRING_MAX_CPUS];  /* from AUX_OUTPUT_HW_ID, -1 unknown */
	uint32_t itrace_pid, itrace_tid;     /* from ITRACE_START */
	uint64_t n_aux_records, n_lost_records, n_bad_records;
};

void auxring_init(struct auxring *r, uint64_t sample_type, bool sample_id_all, bool overwrite);

/* Consume records in [data_tail, data_head) and the AUX data they announce.
 * New chunks and loss are appended to OUT. *NEW_DATA_TAIL / *NEW_AUX_TAIL
 * are the values to store back (aux tail unchanged in snapshot mode).
 * A record cut at data_head stays unread. Returns 0; -1 with ERR on a
 * corrupt record (the rest of the record ring is skipped, OUT->overflow
 * set, tails still advanced so a bad stream cannot stall the reader). */
int auxring_read(struct auxring *r, const struct auxring_view *v, struct etm_read *out,
		 uint64_t *new_data_tail, uint64_t *new_aux_tail, char *err, size_t errlen);

/* struct sample_id at the end of a non-sample record (sample_id_all=1). */
struct auxring_sample_id {
	bool has_tid, has_time, has_cpu;
	uint32_t pid, tid, cpu;
	uint64_t time;
};
/* Parse REC's trailing sample_id; false if the record is too short. */
bool auxring_sample_id(const uint8_t *rec, size_t size, size_t body_size,
		       uint64_t sample_type, struct auxring_sample_id *out);
/* Bytes of sample_id for SAMPLE_TYPE. */
size_t auxring_sample_id_size(uint64_t sample_type);

/* ---- writer side: a ring pair in memory, filled as the kernel would ---- */
struct auxring_sim {
	uint8_t *data, *aux;
	uint64_t data_size, data_head, data_tail;
	uint64_t aux_size, aux_head, aux_tail;
};

/* Sizes must be powers of two. Returns 0 or -1. */
int auxring_sim_init(struct auxring_sim *s, uint64_t data_size, uint64_t aux_size);
void auxring_sim_free(struct auxring_sim *s);
/* Append a record; false when the record ring has no room (the kernel then
 * counts it lost). */
bool auxring_sim_put_record(struct auxring_sim *s, const void *rec, size_t len);
/* Append AUX bytes at aux_head. Full mode refuses (returns false) beyond the
 * free space; OVERWRITE mode overwrites the oldest bytes. */
bool auxring_sim_put_aux(struct auxring_sim *s, const void *bytes, size_t len, bool overwrite);
void auxring_sim_view(const struct auxring_sim *s, struct auxring_view *v);

/* Build a PERF_RECORD_AUX with a sample_id for SAMPLE_TYPE into OUT (at
 * least 64 bytes); returns its size. */
size_t auxring_make_aux_record(uint8_t *out, uint64_t aux_offset, uint64_t aux_size,
			       uint64_t flags, uint64_t sample_type, uint32_t pid,
			       uint32_t tid, uint32_t cpu);

#endif
