/* ETM configuration: option parsing, validation against ID registers of
 * real boards, perf attr.config and the TRCCONFIGR/ETMCR the drivers
 * program, checked against values recorded on real hardware. */
#include <string.h>

#include "etm/config.h"
#include "testsuite/unit/check.h"

static char err[ETM_ERR_LEN];

/* Juno r1 Cortex-A53 ETM (snapshot juno_r1_1 ETM_0) + TRCIDR3-5 of a real A55. */
static struct etm_cpu_regs juno_a53(void)
{
	struct etm_cpu_regs r = { .cpu = 0, .unit = ETM_UNIT_ETMV4 };
	r.trcidr[0] = 0x28000EA1;
	r.trcidr[1] = 0x4100F403;
	r.trcidr[2] = 0x00000488;
	r.trcidr[3] = 0x007B0004;
	r.trcidr[4] = 0x11170004;
	r.trcidr[5] = 0x28070804;
	r.have_trcidr = 0x13f;
	return r;
}

/* Cortex-A55 ETMv4.2 (snapshot a55-test-tpiu): no return stack. */
static struct etm_cpu_regs a55(void)
{
	struct etm_cpu_regs r = juno_a53();
	r.trcidr[0] = 0x08000CA1;
	r.trcidr[1] = 0x4200F410;
	r.trcidr[2] = 0x20001088;
	return r;
}

/* TC2: Cortex-A7 ETMv3.5 and Cortex-A15 PTM1.1 (snapshot TC2 ETM_0, PTM_0). */
static struct etm_cpu_regs tc2_etm(void)
{
	struct etm_cpu_regs r = { .cpu = 0, .unit = ETM_UNIT_ETMV3, .etmidr = 0x410CF250,
				  .etmccer = 0x344008F2, .etmccr = 0x8d294004 };
	r.have = ETM_HAVE_ETMIDR | ETM_HAVE_ETMCCER | ETM_HAVE_ETMCCR;
	return r;
}

static struct etm_cpu_regs tc2_ptm(void)
{
	struct etm_cpu_regs r = tc2_etm();
	r.unit = ETM_UNIT_PTM;
	r.cpu = 3;
	r.etmidr = 0x411CF312;
	r.etmccer = 0x34C01AC2;
	return r;
}

static void add_format(struct etm_pmu_formats *f, const char *name, const char *text)
{
	CHECK(etm_format_parse(name, text, &f->f[f->n], err, sizeof(err)) == 0);
	f->n++;
}

/* The cs_etm formats of a 6.1 arm64 kernel; CONTEXTID is the boot alias. */
static struct etm_pmu_formats formats_61(const char *contextid)
{
	struct etm_pmu_formats f = { .n = 0 };
	add_format(&f, "branch_broadcast", "config:8\n");
	add_format(&f, "cycacc", "config:12\n");
	add_format(&f, "contextid", contextid);
	add_format(&f, "contextid1", "config:14\n");
	add_format(&f, "contextid2", "config:15\n");
	add_format(&f, "timestamp", "config:28\n");
	add_format(&f, "retstack", "config:29\n");
	add_format(&f, "preset", "config:0-3\n");
	add_format(&f, "sinkid", "config2:0-31\n");
	add_format(&f, "configid", "config2:32-63\n");
	return f;
}

static void test_format_parse(void)
{
	struct etm_pmu_format f;
	CHECK(etm_format_parse("cycacc", "config:12\n", &f, err, sizeof(err)) == 0);
	CHECK(f.field == 0 && f.mask == 1ull << 12);
	CHECK(etm_format_parse("sinkid", "config2:0-31", &f, err, sizeof(err)) == 0);
	CHECK(f.field == 2 && f.mask == 0xffffffffull);
	CHECK(etm_format_parse("cc_threshold", "config3:0-11\n", &f, err, sizeof(err)) == 0);
	CHECK(f.field == 3 && f.mask == 0xfff);
	CHECK(etm_format_parse("split", "config:0-1,8", &f, err, sizeof(err)) == 0);
	CHECK(f.mask == 0x103);
	uint64_t ac[4] = { 0 };
	etm_format_apply(&f, 0x7, ac);           /* bits 0,1 -> 0,1; bit 2 -> 8 */
	CHECK(ac[0] == 0x103);
	CHECK(etm_format_value(&f, ac) == 0x7);
	etm_format_apply(&f, 0x2, ac);
	CHECK(ac[0] == 0x002);

	CHECK(etm_format_parse("x", "period:1", &f, err, sizeof(err)) == -1);
	CHECK(strstr(err, "unknown field") != NULL);
	CHECK(etm_format_parse("x", "config:70", &f, err, sizeof(err)) == -1);
	CHECK(etm_format_parse("x", "config:9-2", &f, err, sizeof(err)) == -1);
	CHECK(etm_format_parse("x", "config:1x", &f, err, sizeof(err)) == -1);
	CHECK(etm_format_parse("x", "config:", &f, err, sizeof(err)) == -1);
}

static void test_options(void)
{
	struct etm_config c;
	etm_config_init(&c);
	CHECK(c.cpu == -1 && c.buffer_size == ETM_DEFAULT_BUFFER_SIZE && !c.trace_kernel);

	CHECK(etm_config_set(&c, "size", "0x10000", err, sizeof(err)) == 0);
	CHECK(c.buffer_size == 0x10000);
	CHECK(etm_config_set(&c, "size", "8000", err, sizeof(err)) == 0);   /* bare hex */
	CHECK(c.buffer_size == 0x8000);
	CHECK(etm_config_set(&c, "size", "0x10", err, sizeof(err)) == -1);
	CHECK(strstr(err, "outside") != NULL);
	CHECK(etm_config_set(&c, "size", "0x10000junk", err, sizeof(err)) == -1);
	CHECK_STR(err, "Bad size value \"0x10000junk\".");
	CHECK(c.buffer_size == 0x8000);                 /* unchanged on error */

	CHECK(etm_config_set(&c, "core", "0x2", err, sizeof(err)) == 0);
	CHECK(c.cpu == 2);
	CHECK(etm_config_set(&c, "core", "any", err, sizeof(err)) == 0);
	CHECK(c.cpu == -1);
	CHECK(etm_config_set(&c, "id", "0x10", err, sizeof(err)) == 0);
	CHECK(c.trace_id == 0x10);
	CHECK(etm_config_set(&c, "id", "0x70", err, sizeof(err)) == -1);
	CHECK(strstr(err, "0x1..0x6f") != NULL);
	CHECK(etm_config_set(&c, "id", "0", err, sizeof(err)) == -1);

	CHECK(etm_config_set(&c, "filter:end-address", "0x2000", err, sizeof(err)) == -1);
	CHECK(strstr(err, "without filter:start-address") != NULL);
	CHECK(etm_config_set(&c, "filter:start-address", "0x1000", err, sizeof(err)) == 0);
	CHECK(etm_config_set(&c, "filter:start-address", "0x1000", err, sizeof(err)) == -1);
	CHECK(etm_config_set(&c, "filter:end-address", "0x1000", err, sizeof(err)) == -1);
	CHECK(strstr(err, "not above") != NULL);
	CHECK(etm_config_set(&c, "filter:end-address", "0x2000", err, sizeof(err)) == 0);
	CHECK(c.n_ranges == 1 && c.ranges[0].start == 0x1000 && c.ranges[0].end == 0x2000 && !c.range_open);
	CHECK(etm_config_set(&c, "filter:context", "0x1a2b", err, sizeof(err)) == 0);
	CHECK(c.context_pid == 0x1a2b);
	CHECK(etm_config_set(&c, "trigger:on-address", "0x400100", err, sizeof(err)) == 0);
	CHECK(etm_config_set(&c, "trigger:off-address", "0x400200", err, sizeof(err)) == 0);
	CHECK(c.n_start == 1 && c.start_addrs[0] == 0x400100 && c.n_stop == 1 && c.stop_addrs[0] == 0x400200);
	CHECK(etm_config_set(&c, "filter:clear", "", err, sizeof(err)) == 0);
	CHECK(c.n_ranges == 0 && c.n_start == 0 && c.n_stop == 0 && c.context_pid == 0);

	CHECK(etm_config_set(&c, "cycle-accurate", "yes", err, sizeof(err)) == 0 && c.cycle_accurate);
	CHECK(etm_config_set(&c, "cycle-accurate", "no", err, sizeof(err)) == 0 && !c.cycle_accurate);
	CHECK(etm_config_set(&c, "timestamps", "maybe", err, sizeof(err)) == -1);
	CHECK(etm_config_set(&c, "sink", "tmc_etr0", err, sizeof(err)) == 0);
	CHECK_STR(c.sink, "tmc_etr0");
	CHECK(etm_config_set(&c, "sink", "default", err, sizeof(err)) == 0);
	CHECK_STR(c.sink, "");
	CHECK(etm_config_set(&c, "sink", "a<b", err, sizeof(err)) == -1);
	CHECK(etm_config_set(&c, "mode", "snapshot", err, sizeof(err)) == 0 && c.mode == ETM_MODE_SNAPSHOT);
	CHECK(etm_config_set(&c, "mode", "ring", err, sizeof(err)) == -1);
	CHECK(etm_config_set(&c, "cc-threshold", "0x1000", err, sizeof(err)) == -1);
	CHECK(etm_config_set(&c, "bogus", "1", err, sizeof(err)) == -1);
	CHECK_STR(err, "Bad Qbtrace configuration option.");
}

static void test_check(void)
{
	struct etm_config c;
	struct etm_cpu_regs r = juno_a53();
	etm_config_init(&c);
	c.cycle_accurate = c.timestamps = c.return_stack = c.branch_broadcast = c.context_id = true;
	CHECK(etm_config_check(&c, &r, err, sizeof(err)) == 0);

	/* Four comparator pairs on the A53 (TRCIDR4.NUMACPAIRS = 4). */
	for (unsigned i = 0; i < 4; i++) {
		c.ranges[i].start = 0x1000 * (i + 1);
		c.ranges[i].end = 0x1000 * (i + 1) + 0x100;
	}
	c.n_ranges = 4;
	CHECK(etm_config_check(&c, &r, err, sizeof(err)) == 0);
	c.ranges[4] = (struct etm_addr_range){ 0x9000, 0x9100 };
	c.n_ranges = 5;
	CHECK(etm_config_check(&c, &r, err, sizeof(err)) == -1);
	CHECK_STR(err, "cpu 0: 5 address ranges requested but TRCIDR4.NUMACPAIRS allows 4.");
	c.n_ranges = 1;
	c.n_start = 1;
	CHECK(etm_config_check(&c, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cannot be combined") != NULL);
	c.n_ranges = 0;
	c.n_start = 5;
	c.n_stop = 4;
	CHECK(etm_config_check(&c, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "9 start/stop addresses") != NULL);
	c.n_start = c.n_stop = 4;
	CHECK(etm_config_check(&c, &r, err, sizeof(err)) == 0);
	c.n_start = c.n_stop = 0;

	/* Without TRCIDR4 nothing can be promised about comparators. */
	struct etm_cpu_regs no4 = r;
	no4.have_trcidr &= ~(1u << 4);
	c.n_ranges = 1;
	CHECK(etm_config_check(&c, &no4, err, sizeof(err)) == -1);
	CHECK(strstr(err, "TRCIDR4.NUMACPAIRS not available") != NULL);
	c.n_ranges = 0;

	/* The A55 has no return stack: an error, not a silent drop. */
	struct etm_cpu_regs r55 = a55();
	CHECK(etm_config_check(&c, &r55, err, sizeof(err)) == -1);
	CHECK(strstr(err, "TRCIDR0.RETSTACK=0") != NULL);
	c.return_stack = false;
	CHECK(etm_config_check(&c, &r55, err, sizeof(err)) == 0);

	struct etm_cpu_regs bad = r;
	bad.trcidr[0] &= ~(1u << 5);
	c.return_stack = false;
	CHECK(etm_config_check(&c, &bad, err, sizeof(err)) == -1);
	CHECK(strstr(err, "TRCIDR0.TRCBB=0") != NULL);
	bad = r;
	bad.trcidr[0] &= ~(0x1fu << 24);
	CHECK(etm_config_check(&c, &bad, err, sizeof(err)) == -1);
	CHECK(strstr(err, "TRCIDR0.TSSIZE=0") != NULL);
	bad = r;
	bad.trcidr[5] &= ~(7u << 28);
	CHECK(etm_config_check(&c, &bad, err, sizeof(err)) == -1);
	CHECK(strstr(err, "TRCIDR5.NUMCNTR=0") != NULL);
	bad = r;
	bad.trcidr[2] = 0;      /* CIDSIZE 0 */
	CHECK(etm_config_check(&c, &bad, err, sizeof(err)) == -1);
	CHECK(strstr(err, "CIDSIZE=0") != NULL);
	bad = r;
	bad.trcidr[0] &= ~(1u << 7);
	CHECK(etm_config_check(&c, &bad, err, sizeof(err)) == -1);
	CHECK(strstr(err, "TRCCCI") != NULL);
	c.cc_threshold = 2;     /* below TRCIDR3.CCITMIN = 4 */
	CHECK(etm_config_check(&c, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "CCITMIN 0x4") != NULL);
	c.cc_threshold = 0x100;
	CHECK(etm_config_check(&c, &r, err, sizeof(err)) == 0);

	/* core= restricts the check to that CPU. */
	c.cpu = 5;
	CHECK(etm_config_check(&c, &bad, err, sizeof(err)) == 0);

	/* ETMv3 / PTM on TC2 */
	struct etm_cpu_regs e3 = tc2_etm(), ptm = tc2_ptm();
	etm_config_init(&c);
	c.cycle_accurate = c.timestamps = true;
	CHECK(etm_config_check(&c, &e3, err, sizeof(err)) == 0);
	CHECK(etm_config_check(&c, &ptm, err, sizeof(err)) == 0);
	c.return_stack = true;          /* A7 ETM: ETMCCER bit 23 clear */
	CHECK(etm_config_check(&c, &e3, err, sizeof(err)) == -1);
	CHECK(strstr(err, "ETMCCER bit 23") != NULL);
	CHECK(etm_config_check(&c, &ptm, err, sizeof(err)) == 0);
	c.return_stack = false;
	c.branch_broadcast = true;
	CHECK(etm_config_check(&c, &ptm, err, sizeof(err)) == -1);
	CHECK(strstr(err, "PTM") != NULL);
	c.branch_broadcast = false;
	c.context_id = true;
	CHECK(etm_config_check(&c, &e3, err, sizeof(err)) == -1);
	c.context_id = false;
	for (unsigned i = 0; i < 5; i++)
		c.ranges[i] = (struct etm_addr_range){ 0x100 * i, 0x100 * i + 0x10 };
	c.n_ranges = 5;
	CHECK(etm_config_check(&c, &ptm, err, sizeof(err)) == -1);
	CHECK(strstr(err, "ETMCCR allows 4") != NULL);

	struct etm_cpu_regs unk = { .cpu = 1 };
	etm_config_init(&c);
	CHECK(etm_config_check(&c, &unk, err, sizeof(err)) == -1);
	c.range_open = true;
	CHECK(etm_config_check(&c, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no filter:end-address") != NULL);
}

static void test_attr_and_registers(void)
{
	struct etm_pmu_formats el1 = formats_61("config:14\n"), el2 = formats_61("config:15\n");
	struct etm_config c;
	uint64_t ac[4];
	uint32_t reg;
	struct etm_kernel_env root_el1 = { .root_pid_ns = true, .kernel_at_el2 = false };
	struct etm_kernel_env root_el2 = { .root_pid_ns = true, .kernel_at_el2 = true };
	struct etm_kernel_env child_ns = { .root_pid_ns = false, .kernel_at_el2 = true };
	struct etm_cpu_regs juno = juno_a53();

	etm_config_init(&c);
	c.cycle_accurate = c.timestamps = true;
	CHECK(etm_perf_attr_config(&c, &el1, 0x6d4e7f31, ac, err, sizeof(err)) == 0);
	CHECK(ac[0] == ((1ull << 12) | (1ull << 28)));
	CHECK(ac[2] == 0x6d4e7f31);
	CHECK(etm4_trcconfigr(ac, &el1, &juno, &root_el1, &reg, err, sizeof(err)) == 0);
	CHECK(reg == (TRCCONFIGR_CCI | TRCCONFIGR_TS));

	/* perf_etm.data (simpleperf, 4.19 kernel): attr.config 0x4000 gave
	 * TRCCONFIGR 0x40 on its ETMv4 (values recorded in the file). */
	etm_config_init(&c);
	c.context_id = true;
	CHECK(etm_perf_attr_config(&c, &el1, 0, ac, err, sizeof(err)) == 0);
	CHECK(ac[0] == 0x4000);
	CHECK(etm4_trcconfigr(ac, &el1, &juno, &root_el1, &reg, err, sizeof(err)) == 0);
	CHECK(reg == 0x40);
	/* ... and with no format table the kernel's fixed bits give the same. */
	CHECK(etm4_trcconfigr(ac, NULL, &juno, &root_el1, &reg, err, sizeof(err)) == 0);
	CHECK(reg == 0x40);

	/* perf_with_unformatted_trace.data (ETE, kernel at EL2): attr.config
	 * 0x8000 gave TRCCONFIGR 0x8080. */
	CHECK(etm_perf_attr_config(&c, &el2, 0, ac, err, sizeof(err)) == 0);
	CHECK(ac[0] == 0x8000);
	struct etm_cpu_regs ete = juno;
	ete.unit = ETM_UNIT_ETE;
	ete.trcidr[0] = 0x288006a1;
	ete.trcidr[2] = 0xc0001088;
	CHECK(etm4_trcconfigr(ac, &el2, &ete, &root_el2, &reg, err, sizeof(err)) == 0);
	CHECK(reg == 0x8080);
	/* contextid2 without VHE: the driver's EINVAL, said up front. */
	CHECK(etm4_trcconfigr(ac, &el2, &ete, &root_el1, &reg, err, sizeof(err)) == -1);
	CHECK(strstr(err, "EL2") != NULL);
	/* Outside the root PID namespace the driver drops context IDs. */
	CHECK(etm4_trcconfigr(ac, &el2, &ete, &child_ns, &reg, err, sizeof(err)) == 0);
	CHECK(reg == 0);

	/* Everything on the A53: BB|CCI|TS|RS. */
	etm_config_init(&c);
	c.cycle_accurate = c.timestamps = c.return_stack = c.branch_broadcast = true;
	CHECK(etm_perf_attr_config(&c, &el1, 0, ac, err, sizeof(err)) == 0);
	CHECK(etm4_trcconfigr(ac, &el1, &juno, &root_el1, &reg, err, sizeof(err)) == 0);
	CHECK(reg == 0x1818);
	/* The A55 has no return stack: the driver silently drops RS. */
	struct etm_cpu_regs r55 = a55();
	CHECK(etm4_trcconfigr(ac, &el1, &r55, &root_el1, &reg, err, sizeof(err)) == 0);
	CHECK(reg == 0x0818);
	struct etm_cpu_regs nobb = juno;
	nobb.trcidr[0] &= ~(1u << 5);
	CHECK(etm4_trcconfigr(ac, &el1, &nobb, &root_el1, &reg, err, sizeof(err)) == -1);
	CHECK(strstr(err, "TRCBB") != NULL);

	/* A kernel without cc_threshold (6.1) cannot take it. */
	etm_config_init(&c);
	c.cycle_accurate = true;
	c.cc_threshold = 0x200;
	CHECK(etm_perf_attr_config(&c, &el1, 0, ac, err, sizeof(err)) == -1);
	CHECK(strstr(err, "'cc_threshold'") != NULL);
	struct etm_pmu_formats f612 = el1;
	add_format(&f612, "cc_threshold", "config3:0-11\n");
	CHECK(etm_perf_attr_config(&c, &f612, 0, ac, err, sizeof(err)) == 0);
	CHECK(ac[3] == 0x200 && ac[0] == (1ull << 12));

	/* ETMv3/PTM: ETMCR is attr.config. TC2's PTM ran with cycle-accurate
	 * + timestamps: ETMCR 0x10001000 recorded in the snapshot. */
	struct etm_cpu_regs ptm = tc2_ptm(), e3 = tc2_etm();
	etm_config_init(&c);
	c.cycle_accurate = c.timestamps = true;
	CHECK(etm_perf_attr_config(&c, &el1, 0, ac, err, sizeof(err)) == 0);
	CHECK(etm3_etmcr(ac, &ptm, &root_el1, &reg, err, sizeof(err)) == 0);
	CHECK(reg == 0x10001000);
	c.return_stack = true;
	CHECK(etm_perf_attr_config(&c, &el1, 0, ac, err, sizeof(err)) == 0);
	CHECK(etm3_etmcr(ac, &ptm, &root_el1, &reg, err, sizeof(err)) == 0);
	CHECK(reg == 0x30001000);
	CHECK(etm3_etmcr(ac, &e3, &root_el1, &reg, err, sizeof(err)) == 0);
	CHECK(reg == 0x10001000);                /* no return stack on the A7 ETM */
	c.return_stack = false;
	c.branch_broadcast = true;
	CHECK(etm_perf_attr_config(&c, &el1, 0, ac, err, sizeof(err)) == 0);
	CHECK(etm3_etmcr(ac, &ptm, &root_el1, &reg, err, sizeof(err)) == -1);
	CHECK(strstr(err, "EINVAL") != NULL);

	CHECK(etm_legacy_trace_id(0) == 0x10);
	CHECK(etm_legacy_trace_id(7) == 0x1e);
	CHECK(etm_legacy_trace_id(48) == 0x10);
}

int main(void)
{
	test_format_parse();
	test_options();
	test_check();
	test_attr_and_registers();
	return check_done("test_etm_config");
}
