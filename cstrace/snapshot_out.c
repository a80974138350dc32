/* The snapshot and the block lists: see snapshot_out.h. */
#include "cstrace/snapshot_out.h"

#include <stdio.h>

static const char *source_type(unsigned protocol)
{
	switch (protocol) {
	case 1: return "ETM3.5";
	case 2: return "ETM4";
	case 4: return "PTM1.1";
	case 6: return "ETE";
	}
	return NULL;
}

static void core_name(const struct cpu_cfg *c, char *out, size_t outlen)
{
	char prof = c->core_prof == 1 ? 'M' : c->core_prof == 2 ? 'R' : 'A';
	switch (c->arch_ver) {
	case 2: snprintf(out, outlen, "ARMv7-%c", prof); break;
	case 3: snprintf(out, outlen, "ARMv8-%c", prof); break;
	case 4: snprintf(out, outlen, "ARMv8.3-%c", prof); break;
	default: snprintf(out, outlen, "ARM-AA64"); break;
	}
}

bool snapshot_out_has_buffer(const struct cap *k, const struct cthread *t)
{
	return t == &k->threads[0] || t->bytes > 0;
}

void snapshot_out_buffer_name(const struct cap *k, const struct cthread *t, char *out, size_t outlen)
{
	if (t == &k->threads[0])
		snprintf(out, outlen, "ETB_0");
	else
		snprintf(out, outlen, "ETB_%ld", t->tid);
}

/* Buffer TI of the snapshot: every thread's trace its own buffer (as perf
 * keeps one AUX buffer per thread); without threads one, ETB_0. Names in
 * the snapshot: the first thread's buffer ETB_0 with sources ETM_<cpu> on
 * cores cpu_<cpu>; another thread's ETB_<tid>, ETM_<cpu>_<tid> and
 * cpu_<cpu>_<tid> (one core device per source: OpenCSD keys
 * [core_trace_sources] by core, so a core names one source only). */
struct snapshot_buffer {
	char suffix[32];        /* of its source and core names */
	char name[32];
	const char *file;
};

static size_t snapshot_buffers(const struct cap *k)
{
	return k->nthreads ? k->nthreads : 1;
}

/* False if thread TI has no buffer in the snapshot. */
static bool snapshot_buffer(const struct cap *k, size_t ti, struct snapshot_buffer *sb)
{
	const struct cthread *t = k->nthreads ? &k->threads[ti] : NULL;
	if (t && !snapshot_out_has_buffer(k, t))
		return false;
	sb->suffix[0] = '\0';
	snprintf(sb->name, sizeof(sb->name), "ETB_0");
	sb->file = t ? t->file : "trace.bin";
	if (t && t != &k->threads[0])
		snprintf(sb->suffix, sizeof(sb->suffix), "_%ld", t->tid);
	if (t)
		snapshot_out_buffer_name(k, t, sb->name, sizeof(sb->name));
	return true;
}

/* snapshot.ini: a core and a trace source device per CPU and buffer. */
static int write_snapshot_ini(struct cap *k)
{
	struct buf b = BUF_INIT;
	struct snapshot_buffer sb;
	size_t dev = 0;
	buf_puts(&b, "[snapshot]\nversion=1.0\ndescription=cstrace capture\n\n[device_list]\n");
	for (size_t ti = 0; ti < snapshot_buffers(k); ti++) {
		if (!snapshot_buffer(k, ti, &sb))
			continue;
		for (size_t i = 0; i < k->ncpus; i++) {
			buf_printf(&b, "device%zu=cpu_%zu%s.ini\n", dev, i, sb.suffix);
			dev++;
			buf_printf(&b, "device%zu=etm_%zu%s.ini\n", dev, i, sb.suffix);
			dev++;
		}
	}
	buf_puts(&b, "\n[trace]\nmetadata=trace.ini\n");
	int rc = cap_write_file(k, "snapshot.ini", b.data, b.len);
	buf_free(&b);
	return rc;
}

/* cpu_N<SUFFIX>.ini (every memory dump listed for the core) and
 * etm_N<SUFFIX>.ini (the trace unit's registers) of CPU I. */
static int write_devices(struct cap *k, size_t i, const char *sfx)
{
	const struct cpu_cfg *c = &k->cpus[i];
	const char *type = source_type(c->protocol);
	char core[32], name[64];
	struct buf d = BUF_INIT;
	core_name(c, core, sizeof(core));
	buf_printf(&d, "[device]\nname=cpu_%zu%s\nclass=core\ntype=%s\n\n[regs]\nPC=0\n", i, sfx, core);
	for (size_t m = 0; m < k->ndumps; m++)
		buf_printf(&d, "\n[dump%zu]\nfile=%s\naddress=0x%llx\nlength=0x%llx\n", m + 1,
			   k->dumps[m].file, (unsigned long long)k->dumps[m].address,
			   (unsigned long long)k->dumps[m].length);
	snprintf(name, sizeof(name), "cpu_%zu%s.ini", i, sfx);
	int rc = cap_write_file(k, name, d.data, d.len);
	buf_reset(&d);
	buf_printf(&d, "[device]\nname=ETM_%zu%s\nclass=trace_source\ntype=%s\n\n[regs]\n", i, sfx,
		   type ? type : "unknown");
	for (size_t r = 0; r < c->nregs; r++)
		buf_printf(&d, "%s=0x%llx\n", c->regs[r].name, (unsigned long long)c->regs[r].value);
	snprintf(name, sizeof(name), "etm_%zu%s.ini", i, sfx);
	if (rc == 0)
		rc = cap_write_file(k, name, d.data, d.len);
	buf_free(&d);
	return rc;
}

/* The OpenCSD snapshot: each buffer with its own trace source and core
 * device per CPU of the trace unit configuration, every memory dump
 * listed for every core. trc_pkt_lister decodes the first buffer by
 * default, another with -src_name ETB_<tid>. */
int snapshot_out_write(struct cap *k)
{
	struct buf list = BUF_INIT, sections = BUF_INIT, src = BUF_INIT, cores = BUF_INIT;
	struct snapshot_buffer sb;
	size_t nbuf = 0;
	int rc = write_snapshot_ini(k);
	for (size_t ti = 0; rc == 0 && ti < snapshot_buffers(k); ti++) {
		if (!snapshot_buffer(k, ti, &sb))
			continue;
		buf_printf(&list, "%sbuffer%zu", nbuf ? "," : "", nbuf);
		buf_printf(&sections, "\n[buffer%zu]\nname=%s\nfile=%s\nformat=%s\n", nbuf, sb.name, sb.file,
			   k->formatted ? "coresight" : "source_data");
		nbuf++;
		for (size_t i = 0; i < k->ncpus && rc == 0; i++) {
			buf_printf(&src, "ETM_%zu%s=%s\n", i, sb.suffix, sb.name);
			buf_printf(&cores, "cpu_%zu%s=ETM_%zu%s\n", i, sb.suffix, i, sb.suffix);
			rc = write_devices(k, i, sb.suffix);
		}
	}
	if (rc == 0) {
		struct buf tr = BUF_INIT;
		buf_printf(&tr, "[trace_buffers]\nbuffers=%s\n%s", list.data ? list.data : "",
			   sections.data ? sections.data : "");
		buf_printf(&tr, "\n[source_buffers]\n%s", src.data ? src.data : "");
		buf_printf(&tr, "\n[core_trace_sources]\n%s", cores.data ? cores.data : "");
		rc = cap_write_file(k, "trace.ini", tr.data, tr.len);
		buf_free(&tr);
	}
	buf_free(&list);
	buf_free(&sections);
	buf_free(&src);
	buf_free(&cores);
	return rc;
}

/* blocks.txt: oldest first, with the overflows where they were. */
static void blocks_text(const struct cthread *t, struct buf *txt)
{
	size_t g = 0;
	buf_puts(txt, "# blocks of executed instructions, oldest first: BEGIN END (END is the\n"
		 "# address of the block's last instruction, as in gdb's bts format)\n");
	for (size_t j = 0; j <= t->nblocks; j++) {
		while (g < t->ngaps && t->gaps[g].offset == j) {
			buf_puts(txt, "# overflow: trace was lost here\n");
			g++;
		}
		if (j < t->nblocks)
			buf_printf(txt, "0x%llx 0x%llx\n", (unsigned long long)t->blocks[j].begin,
				   (unsigned long long)t->blocks[j].end);
	}
}

/* btrace.xml: gdb's bts document, newest block first. */
static void blocks_xml(const struct cthread *t, struct buf *xml)
{
	buf_puts(xml, "<!DOCTYPE btrace SYSTEM \"btrace.dtd\">\n<btrace version=\"1.0\">\n");
	for (size_t j = t->nblocks; j-- > 0;)
		buf_printf(xml, "<block begin=\"0x%llx\" end=\"0x%llx\"/>\n",
			   (unsigned long long)t->blocks[j].begin, (unsigned long long)t->blocks[j].end);
	buf_puts(xml, "</btrace>\n");
}

int snapshot_out_write_blocks(struct cap *k)
{
	for (size_t i = 0; i < k->nthreads; i++) {
		struct cthread *t = &k->threads[i];
		struct buf txt = BUF_INIT, xml = BUF_INIT;
		char name[64];
		blocks_text(t, &txt);
		blocks_xml(t, &xml);
		if (i == 0)
			snprintf(name, sizeof(name), "blocks.txt");
		else
			snprintf(name, sizeof(name), "blocks-%ld.txt", t->tid);
		int rc = cap_write_file(k, name, txt.data, txt.len);
		if (i == 0)
			snprintf(name, sizeof(name), "btrace.xml");
		else
			snprintf(name, sizeof(name), "btrace-%ld.xml", t->tid);
		if (rc == 0)
			rc = cap_write_file(k, name, xml.data, xml.len);
		buf_free(&txt);
		buf_free(&xml);
		if (rc < 0)
			return -1;
	}
	return 0;
}
