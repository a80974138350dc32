#include "etm/btrace_xml.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/xml.h"


int btrace_read_type_parse(const char *annex, enum btrace_read_type *out)
{
	if (!strcmp(annex, "all"))
		*out = BTRACE_READ_ALL;
	else if (!strcmp(annex, "new"))
		*out = BTRACE_READ_NEW;
	else if (!strcmp(annex, "delta"))
		*out = BTRACE_READ_DELTA;
	else
		return -1;
	return 0;
}

static void truncate_to(struct buf *out, size_t len)
{
	out->len = len;
	if (out->data)
		out->data[len] = '\0';
}

static void block(struct buf *out, uint64_t begin, uint64_t end)
{
	buf_printf(out, "<block begin=\"0x%" PRIx64 "\" end=\"0x%" PRIx64 "\"/>\n", begin, end);
}

void btrace_xml_blocks(struct buf *out, const struct btrace_range *r, size_t n,
		       uint64_t pc, enum btrace_read_type type)
{
	buf_puts(out, "<!DOCTYPE btrace SYSTEM \"btrace.dtd\">\n<btrace version=\"1.0\">\n");
	if (n == 0) {
		if (type == BTRACE_READ_DELTA)
			block(out, 0, pc);      /* stitched to gdb's last PC */
		else if (type == BTRACE_READ_ALL)
			block(out, pc, pc);
		buf_puts(out, "</btrace>\n");
		return;
	}
	const struct btrace_range *newest = &r[n - 1];
	bool pc_in_newest = pc >= newest->begin && (pc < newest->end || pc == newest->last);
	/* The oldest block of a delta starts at 0; all others at their range. */
	#define BEGIN_OF(i) ((type == BTRACE_READ_DELTA && (i) == 0) ? 0 : r[i].begin)
	if (pc_in_newest) {
		block(out, BEGIN_OF(n - 1), pc);
	} else {
		block(out, pc, pc);
		block(out, BEGIN_OF(n - 1), newest->last);
	}
	for (size_t i = n - 1; i-- > 0;)
		block(out, BEGIN_OF(i), r[i].last);
	#undef BEGIN_OF
	buf_puts(out, "</btrace>\n");
}

int btrace_etm_protocol(const struct etm_cpu_regs *regs)
{
	switch (regs->unit) {
	case ETM_UNIT_ETMV3: return 1;
	case ETM_UNIT_ETMV4: return 2;
	case ETM_UNIT_PTM: return 4;
	case ETM_UNIT_ETE: return 6;
	default: return 0;
	}
}

int btrace_etm_arch_ver(const struct etm_cpu_regs *regs)
{
	switch (regs->unit) {
	case ETM_UNIT_ETMV3:
	case ETM_UNIT_PTM:
		return 2;
	case ETM_UNIT_ETE:
		return 5;
	case ETM_UNIT_ETMV4:
		/* perf: TRCIDR1.TRCARCHMIN >= 4 means at least v8.3 AArch64 (ARCH_AA64). */
		return etm_bits(regs->trcidr[1], 7, 4) >= 4 ? 5 : 3;
	default:
		return 0;
	}
}

int btrace_xml_etm(struct buf *out, const struct etm_cpu_regs *cpus, size_t n_cpus,
		   const struct etm_sink_info *sink, unsigned trace_id,
		   const void *raw, size_t raw_len, char *err, size_t errlen)
{
	size_t start = out->len;
	buf_puts(out, "<!DOCTYPE btrace SYSTEM \"btrace.dtd\">\n<btrace version=\"1.0\">\n<etm>\n<etm-config>\n");
	if (trace_id)
		buf_printf(out, "<source-config trace_id=\"0x%x\">\n", trace_id);
	else
		buf_puts(out, "<source-config>\n");
	for (size_t i = 0; i < n_cpus; i++) {
		const struct etm_cpu_regs *c = &cpus[i];
		int proto = btrace_etm_protocol(c);
		if (!proto) {
			truncate_to(out, start);
			return etm_fail(err, errlen, "cpu %d: unknown trace unit architecture.", c->cpu);
		}
		buf_printf(out, "<cpu-etm-config cpu_id=\"0x%x\" arch_ver=\"0x%x\" core_prof=\"0x%x\" protocol=\"0x%x\">\n",
			   (unsigned)c->cpu, (unsigned)btrace_etm_arch_ver(c), BTRACE_ETM_CORE_PROFILE_A, (unsigned)proto);
		if (c->unit == ETM_UNIT_ETMV4 || c->unit == ETM_UNIT_ETE) {
			if ((c->have_trcidr & 0x107) != 0x107 || !(c->have & ETM_HAVE_TRACEID)) {
				truncate_to(out, start);
				return etm_fail(err, errlen, "cpu %d: TRCIDR0/1/2/8 or the trace ID missing.", c->cpu);
			}
			buf_printf(out, "<etmv4-config reg_idr0=\"0x%x\" reg_idr1=\"0x%x\" reg_idr2=\"0x%x\" reg_idr8=\"0x%x\" reg_configr=\"0x%x\" reg_traceidr=\"0x%x\"",
				   c->trcidr[0], c->trcidr[1], c->trcidr[2], c->trcidr[8], c->trcconfigr, c->trctraceidr);
			if (c->unit == ETM_UNIT_ETE)
				buf_printf(out, " reg_devarch=\"0x%x\"", c->trcdevarch);
			buf_puts(out, "/>\n");
		} else {
			if (!(c->have & ETM_HAVE_ETMIDR) || !(c->have & ETM_HAVE_ETMCCER) || !(c->have & ETM_HAVE_TRACEID)) {
				truncate_to(out, start);
				return etm_fail(err, errlen, "cpu %d: ETMIDR, ETMCCER or the trace ID missing.", c->cpu);
			}
			buf_printf(out, "<etmv3-config reg_ctrl=\"0x%x\" reg_trc_id=\"0x%x\" reg_ccer=\"0x%x\" reg_idr=\"0x%x\"/>\n",
				   c->etmcr, c->etmtraceidr, c->etmccer, c->etmidr);
		}
		buf_puts(out, "</cpu-etm-config>\n");
	}
	buf_puts(out, "</source-config>\n<sink-config");
	if (sink->name[0]) {
		buf_puts(out, " sink_id=\"");
		xml_escape(out, sink->name);
		buf_putc(out, '"');
	}
	buf_printf(out, " formatted=\"0x%x\" fsyncs=\"0x%x\" hsyncs=\"0x%x\" frame_aligned=\"0x%x\" reset_on_4x_sync=\"0x%x\"/>\n",
		   sink->formatted, sink->fsyncs, sink->hsyncs, sink->frame_aligned, sink->reset_on_4x_sync);
	buf_puts(out, "</etm-config>\n");
	if (raw_len) {
		buf_puts(out, "<raw>\n");
		buf_hex(out, raw, raw_len);
		buf_puts(out, "\n</raw>\n");
	}
	buf_puts(out, "</etm>\n</btrace>\n");
	return 0;
}

void btrace_xml_conf_bts(struct buf *out, uint64_t size)
{
	buf_printf(out, "<!DOCTYPE btrace-conf SYSTEM \"btrace-conf.dtd\">\n<btrace-conf version=\"1.0\">\n"
		   "<bts size=\"0x%" PRIx64 "\"/>\n</btrace-conf>\n", size);
}

static void sep(struct buf *b)
{
	if (b->len)
		buf_putc(b, ',');
}

void btrace_xml_conf_etm(struct buf *out, const struct etm_config *cfg)
{
	struct buf filter = BUF_INIT, options = BUF_INIT;
	for (unsigned i = 0; i < cfg->n_ranges; i++) {
		sep(&filter);
		buf_printf(&filter, "0x%" PRIx64 "-0x%" PRIx64, cfg->ranges[i].start, cfg->ranges[i].end);
	}
	for (unsigned i = 0; i < cfg->n_start; i++) {
		sep(&filter);
		buf_printf(&filter, "on:0x%" PRIx64, cfg->start_addrs[i]);
	}
	for (unsigned i = 0; i < cfg->n_stop; i++) {
		sep(&filter);
		buf_printf(&filter, "off:0x%" PRIx64, cfg->stop_addrs[i]);
	}
	if (cfg->context_pid) {
		sep(&filter);
		buf_printf(&filter, "context:0x%x", cfg->context_pid);
	}
	if (cfg->cpu >= 0) {
		sep(&options);
		buf_printf(&options, "core=0x%x", (unsigned)cfg->cpu);
	}
	if (cfg->trace_id) {
		sep(&options);
		buf_printf(&options, "id=0x%x", cfg->trace_id);
	}
	for (size_t i = 0; i < ETM_CONFIG_NFLAGS; i++) {
		if (*(const bool *)((const char *)cfg + etm_config_flags[i].offset)) {
			sep(&options);
			buf_puts(&options, etm_config_flags[i].name);
		}
	}
	if (cfg->cc_threshold) {
		sep(&options);
		buf_printf(&options, "cc-threshold=0x%x", cfg->cc_threshold);
	}
	sep(&options);
	buf_puts(&options, cfg->mode == ETM_MODE_SNAPSHOT ? "mode=snapshot" : "mode=full");

	buf_printf(out, "<!DOCTYPE btrace-conf SYSTEM \"btrace-conf.dtd\">\n<btrace-conf version=\"1.0\">\n"
		   "<etm size=\"0x%" PRIx64 "\" sink=\"", cfg->buffer_size);
	xml_escape(out, cfg->sink[0] ? cfg->sink : "default");
	buf_putc(out, '"');
	if (filter.len) {
		buf_puts(out, " filter=\"");
		xml_escape(out, filter.data);
		buf_putc(out, '"');
	}
	buf_puts(out, " config=\"");
	xml_escape(out, options.data);
	buf_puts(out, "\"/>\n</btrace-conf>\n");
	buf_free(&filter);
	buf_free(&options);
}
