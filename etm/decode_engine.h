/* The OpenCSD decoder itself, in whatever process runs it: etm/decode.h's
 * API one to one (see there), without the process around it. decode.c
 * runs it in a child process (decode_child.c), or in the caller's process
 * when asked to. Nothing outside etm/decode*.c uses this. */
#ifndef ETM_DECODE_ENGINE_H
#define ETM_DECODE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/decode_elem.h"
#include "etm/trace_types.h"

struct etm_engine;

struct etm_engine *etm_engine_new(enum etm_stream_format format, char *err, size_t errlen);
void etm_engine_free(struct etm_engine *eng);
int etm_engine_add_source(struct etm_engine *eng, const struct etm_cpu_regs *regs);
int etm_engine_add_mem_buffer(struct etm_engine *eng, uint64_t addr, const void *data, size_t len);
int etm_engine_add_mem_file(struct etm_engine *eng, uint64_t addr, const char *path,
			    uint64_t offset, uint64_t len);
int etm_engine_add_elf(struct etm_engine *eng, const char *path, uint64_t bias);
int etm_engine_add_mem_callback(struct etm_engine *eng, uint64_t start, uint64_t end,
				etm_mem_read_fn fn, void *ctx);
void etm_engine_set_output(struct etm_engine *eng, etm_elem_fn fn, void *ctx);
void etm_engine_set_recover(struct etm_engine *eng, bool recover);
enum etm_decode_status etm_engine_feed(struct etm_engine *eng, const uint8_t *data,
				       size_t len, size_t *consumed);
enum etm_decode_status etm_engine_end(struct etm_engine *eng);
enum etm_decode_status etm_engine_reset(struct etm_engine *eng);
const char *etm_engine_error(const struct etm_engine *eng);
uint64_t etm_engine_bytes(const struct etm_engine *eng);
unsigned etm_engine_num_sources(const struct etm_engine *eng);

#endif
