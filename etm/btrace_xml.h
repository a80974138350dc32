/* The XML documents of qXfer:btrace:read and qXfer:btrace-conf:read.
 * All documents say version="1.0": stock gdb 13 rejects any other.
 * Reference: shared/reference/btrace-protocol.md §1.7-1.10 (block lists,
 * gdbserver semantics) and §3 (the 2021 CoreSight series' element names). */
#ifndef ETM_BTRACE_XML_H
#define ETM_BTRACE_XML_H

#include <stddef.h>
#include <stdint.h>

#include "etm/config.h"
#include "etm/ranges.h"
#include "etm/source.h"
#include "common/buf.h"

enum btrace_read_type {
	BTRACE_READ_ALL,
	BTRACE_READ_NEW,
	BTRACE_READ_DELTA,
};

/* "all" / "new" / "delta"; -1 for anything else (gdbserver: "E.Bad annex."). */
int btrace_read_type_parse(const char *annex, enum btrace_read_type *out);

/* Block list for stock gdb (bts format). RANGES are in time order (oldest
 * first); PC is where the thread stopped (not yet executed).
 * - blocks are written newest first, begin = range begin, end = its last
 *   instruction (inclusive);
 * - the newest block ends at PC: if PC lies in the newest range that block
 *   is {begin, PC}, otherwise an extra block {PC, PC} follows it in time;
 * - DELTA: RANGES are the ranges new since the last read; the oldest block's
 *   begin is 0 so gdb stitches it to its last PC; with no new range the
 *   answer is the single block {0, PC};
 * - ALL / NEW never hold a begin="0x0" block; NEW with no range is an
 *   empty document (nothing new). */
void btrace_xml_blocks(struct buf *out, const struct btrace_range *ranges, size_t n,
		       uint64_t pc, enum btrace_read_type type);

/* OpenCSD numbering used by the 2021 series' cpu-etm-config attributes. */
int btrace_etm_protocol(const struct etm_cpu_regs *regs);   /* ETMV3=1 ETMV4I=2 PTM=4 ETE=6 */
int btrace_etm_arch_ver(const struct etm_cpu_regs *regs);   /* V7=2 V8=3 V8r3=4 AA64=5 */
#define BTRACE_ETM_CORE_PROFILE_A 3

/* The CoreSight raw document:
 *   <btrace version="1.0"><etm><etm-config><source-config [trace_id]>
 *   <cpu-etm-config cpu_id arch_ver core_prof protocol><etmv4-config reg_idr0 ...
 *   reg_configr reg_traceidr [reg_devarch]/> | <etmv3-config reg_ctrl reg_trc_id
 *   reg_ccer reg_idr/></cpu-etm-config>... </source-config>
 *   <sink-config [sink_id] formatted fsyncs hsyncs frame_aligned reset_on_4x_sync/>
 *   </etm-config><raw>HEX</raw></etm></btrace>
 * TRACE_ID 0 omits the attribute; RAW_LEN 0 omits <raw>. Returns 0, or -1
 * with ERR when a CPU lacks a register the element requires. */
int btrace_xml_etm(struct buf *out, const struct etm_cpu_regs *cpus, size_t n_cpus,
		   const struct etm_sink_info *sink, unsigned trace_id,
		   const void *raw, size_t raw_len, char *err, size_t errlen);

/* <btrace-conf version="1.0"><bts size="0x.."/></btrace-conf> */
void btrace_xml_conf_bts(struct buf *out, uint64_t size);
/* <btrace-conf version="1.0"><etm size sink filter config/></btrace-conf>:
 * sink "default" when none chosen; filter lists ranges/triggers/context;
 * config lists the options in Qbtrace-conf:CoreSight names. */
void btrace_xml_conf_etm(struct buf *out, const struct etm_config *cfg);

#endif
