/* A recorded CoreSight capture: an OpenCSD snapshot directory or a capture
 * directory (trace.bin + etm.ini + one ELF). Memory comes from the ELF's
 * loadable segments or the snapshot's memory dumps; its one thread stands
 * at the end of the trace. The trace stays in its file and is decoded
 * streaming, keeping only a window of the newest ranges: once when opened
 * (to find where the thread stands), again only when a different window is
 * asked for, so a trace of hundreds of MiB needs no more memory than a
 * small one. etm_recorded_source() serves it as a trace source. */
#ifndef ETM_RECORDED_H
#define ETM_RECORDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etm/ranges.h"
#include "etm/source.h"
#include "common/buf.h"

struct etm_recorded;

/* The window decoded when opened: gdb's default bts buffer size. */
#define ETM_RECORDED_FIRST_WINDOW 0x10000u
/* The thread of a capture, as the daemon numbers it. */
#define ETM_RECORDED_PID 1
#define ETM_RECORDED_TID 1

/* Load and decode DIR: NULL with ERR on failure. */
struct etm_recorded *etm_recorded_open(const char *dir, char *err, size_t errlen);
void etm_recorded_free(struct etm_recorded *rec);

/* The ranges decoded from the newest SIZE bytes of the trace (see
 * trace_ranges_init), oldest first, with statistics of the whole trace.
 * Decodes the capture again unless SIZE is the window last decoded; the
 * pointer stays valid until another size is asked for. NULL with ERR if
 * the trace cannot be read. */
const struct trace_ranges *etm_recorded_window(struct etm_recorded *rec, uint64_t size,
					       char *err, size_t errlen);
/* Length of the recorded trace buffer and whether it is CoreSight-formatted. */
uint64_t etm_recorded_raw_info(const struct etm_recorded *rec, bool *formatted);
/* Read LEN recorded trace bytes at OFFSET: 0, or -1 with errno. */
int etm_recorded_raw_read(const struct etm_recorded *rec, uint64_t offset, void *buf, size_t len);
/* The trace unit decoded (the trace ID the thread stands for). */
const struct etm_cpu_regs *etm_recorded_unit(const struct etm_recorded *rec);
/* Where the thread stands: after the last instruction of the trace. */
uint64_t etm_recorded_pc(const struct etm_recorded *rec);
/* The thread runs AArch64 code / stands in Thumb state. */
bool etm_recorded_aarch64(const struct etm_recorded *rec);
bool etm_recorded_thumb(const struct etm_recorded *rec);
/* The capture's ELF, NULL for a snapshot with memory dumps. */
const char *etm_recorded_elf_path(const struct etm_recorded *rec);
/* One paragraph for `monitor etm status` and the start-up message. */
void etm_recorded_describe(const struct etm_recorded *rec, struct buf *out);
/* Name of the function (ELF symbol) holding ADDR, or NULL. */
const char *etm_recorded_symbol(const struct etm_recorded *rec, uint64_t addr);
/* Read recorded memory; returns bytes read (0 = none). */
size_t etm_recorded_read_memory(const struct etm_recorded *rec, uint64_t addr, void *buf, size_t len);

/* REC as a trace source (REC must outlive it; freeing it leaves REC). */
struct etm_source *etm_recorded_source(struct etm_recorded *rec);

#endif
