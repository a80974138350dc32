/* CoreSight trace decoding over OpenCSD's C API (ETMv3, PTM, ETMv4, ETE).
 *
 * A decoder takes one trace stream (CoreSight-formatted frames carrying
 * several trace IDs, or the raw stream of one source) plus program memory,
 * and reports instruction ranges, gaps and exceptions through a callback,
 * in trace order. It is streaming: feed any amount at a time; the callback
 * may ask to pause, so a caller can decode a huge trace in windows and
 * never hold it decoded whole.
 *
 * OpenCSD runs in a child process with limits (decode_child.h): when it
 * crashes, hangs or allocates without end, the decode fails with an
 * ETM_ELEM_ERROR and etm_decoder_error() saying so, naming the stream's
 * bytes it was decoding, and the caller goes on. Everything is set up
 * (sources, memory, recover) before the first feed; the callbacks run in
 * the caller's process as ever. CSG_DECODER_INPROCESS=1 in the
 * environment decodes in the caller's process instead (benchmarks and
 * debugging only). */
#ifndef ETM_DECODE_H
#define ETM_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/decode_elem.h"
#include "etm/trace_types.h"

/* Architecture and profile of a core by name ("Cortex-A53", "ARMv8.2-A",
 * "ARM-AA64"), the names OpenCSD snapshots use. False if unknown. */
bool etm_core_by_name(const char *core_name, enum etm_core_arch *arch, enum etm_profile *profile);

struct etm_decoder;

/* ERR (may be NULL) receives a message on failure. */
struct etm_decoder *etm_decoder_new(enum etm_stream_format format, char *err, size_t errlen);
void etm_decoder_free(struct etm_decoder *dec);

/* Add a trace unit (its trace ID from ETMTRACEIDR / TRCTRACEIDR). A
 * raw-format decoder takes exactly one. */
int etm_decoder_add_source(struct etm_decoder *dec, const struct etm_cpu_regs *regs);

/* Memory images. Overlapping an existing image fails with a message (the
 * first image added wins, as in OpenCSD's snapshot reader). */
int etm_decoder_add_mem_buffer(struct etm_decoder *dec, uint64_t addr,
			       const void *data, size_t len);  /* DATA must outlive DEC */
/* LEN 0 = the rest of the file from OFFSET. The file is mapped, not read. */
int etm_decoder_add_mem_file(struct etm_decoder *dec, uint64_t addr, const char *path,
			     uint64_t offset, uint64_t len);
/* Every PT_LOAD segment with file contents, at its virtual address plus BIAS. */
int etm_decoder_add_elf(struct etm_decoder *dec, const char *path, uint64_t bias);
/* Memory [start, end) served by a callback, e.g. /proc/PID/mem. */
int etm_decoder_add_mem_callback(struct etm_decoder *dec, uint64_t start, uint64_t end,
				 etm_mem_read_fn fn, void *ctx);

/* What the stream is, for messages: "buffer ETB_0 (cstrace.bin)". */
void etm_decoder_set_name(struct etm_decoder *dec, const char *name);

void etm_decoder_set_output(struct etm_decoder *dec, etm_elem_fn fn, void *ctx);

/* Keep decoding after a fatal decoder error (default true): report it as an
 * ETM_ELEM_ERROR, reset, and resynchronise at the next sync point. False
 * stops at the first one, as trc_pkt_lister does. */
void etm_decoder_set_recover(struct etm_decoder *dec, bool recover);

/* Decode LEN bytes; *CONSUMED says how many were taken (all of them unless
 * PAUSED or ERROR). After PAUSED call again with the rest. */
enum etm_decode_status etm_decoder_feed(struct etm_decoder *dec, const uint8_t *data,
					size_t len, size_t *consumed);
/* End of trace: flush every decoder. Repeat while it returns PAUSED. */
enum etm_decode_status etm_decoder_end(struct etm_decoder *dec);
/* Forget decode state (next data is not contiguous with the last). */
enum etm_decode_status etm_decoder_reset(struct etm_decoder *dec);

/* Message of the last failure. */
const char *etm_decoder_error(const struct etm_decoder *dec);
/* Statistics. */
uint64_t etm_decoder_bytes(const struct etm_decoder *dec);
unsigned etm_decoder_num_sources(const struct etm_decoder *dec);

const char *etm_gap_reason_name(enum etm_gap_reason r);

#endif
