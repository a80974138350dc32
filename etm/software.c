/* The software branch recorder's source: see software.h. */
#include "etm/software.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etm/swbtrace.h"

struct software {
	struct etm_source base;
	struct etm_recorder rec;
	char note[ETM_ERR_LEN];
};

static struct software *to_sw(struct etm_source *s)
{
	return (struct software *)s;
}

static int sw_enable(struct etm_source *s, int tid, const struct etm_config *cfg, char *err, size_t errlen)
{
	struct software *sw = to_sw(s);
	/* gdb's default BTS buffer is 64 KiB. */
	uint64_t size = cfg->buffer_size ? cfg->buffer_size : 0x10000, pc;
	return sw->rec.start(sw->rec.ctx, tid, size, &pc, err, errlen);
}

static int sw_read_new(struct etm_source *s, int tid, struct etm_read *out, char *err, size_t errlen)
{
	(void)s; (void)tid; (void)out;
	return etm_fail(err, errlen, "No CoreSight trace unit here: software branch recording "
			"serves the bts format only.");
}

static int sw_disable(struct etm_source *s, int tid, char *err, size_t errlen)
{
	(void)err; (void)errlen;
	struct software *sw = to_sw(s);
	sw->rec.stop(sw->rec.ctx, tid);
	return 0;
}

static int sw_conf(struct etm_source *s, int tid, struct etm_config *out, char *err, size_t errlen)
{
	struct software *sw = to_sw(s);
	struct swbtrace *bt = sw->rec.ring(sw->rec.ctx, tid);
	if (!bt)
		return etm_fail(err, errlen, "Btrace not enabled.");
	out->buffer_size = bt->size;
	return 0;
}

static int sw_cpu_regs(struct etm_source *s, int cpu, struct etm_cpu_regs *out, char *err, size_t errlen)
{
	(void)s; (void)out;
	return etm_fail(err, errlen, "No trace unit on CPU %d: software branch recording.", cpu);
}

static int sw_nr_cpus(struct etm_source *s)
{
	(void)s;
	return 0;
}

static int sw_sink(struct etm_source *s, struct etm_sink_info *out)
{
	(void)s;
	memset(out, 0, sizeof *out);
	return -1;
}

static void sw_free(struct etm_source *s)
{
	free(to_sw(s));
}

static void sw_describe(struct etm_source *s, struct buf *out)
{
	buf_printf(out, "No trace source: %s\n", to_sw(s)->note);
}

static int sw_read_blocks(struct etm_source *s, int tid, bool since_last, uint64_t pc,
			  struct btrace_range **out, size_t *n)
{
	struct software *sw = to_sw(s);
	struct swbtrace *bt = sw->rec.ring(sw->rec.ctx, tid);
	*out = NULL;
	*n = 0;
	if (!bt)
		return 0;
	return swbtrace_ranges(bt, since_last, pc, out, n) ? 0 : 1;
}

static bool sw_blocks_changed(struct etm_source *s, int tid)
{
	struct software *sw = to_sw(s);
	struct swbtrace *bt = sw->rec.ring(sw->rec.ctx, tid);
	return bt && (bt->total != bt->read_total || bt->lost_since_read);
}

static const struct etm_source_ops software_ops = {
	.name = "software branch recorder",
	.enable = sw_enable,
	.read_new = sw_read_new,
	.disable = sw_disable,
	.conf = sw_conf,
	.cpu_regs = sw_cpu_regs,
	.nr_cpus = sw_nr_cpus,
	.sink = sw_sink,
	.free = sw_free,
	.describe = sw_describe,
	.read_blocks = sw_read_blocks,
	.blocks_changed = sw_blocks_changed,
};

struct etm_source *etm_software_new(const struct etm_recorder *rec, const char *note)
{
	struct software *sw = calloc(1, sizeof *sw);
	if (!sw)
		abort();
	sw->base.ops = &software_ops;
	sw->rec = *rec;
	snprintf(sw->note, sizeof sw->note, "%s", note && note[0] ? note : "none configured");
	return &sw->base;
}
