/* Tracepoint definitions (server/tracepoint_defs.c): QTDP with its
 * continuation packets, QTDPsrc, QTDV, the uploads, and malformed input
 * refused with nothing changed. */
#include <string.h>

#include "server/tracepoint_defs.h"
#include "testsuite/unit/check.h"

static struct tracepoint *define(struct tp_defs *d, const char *s, bool *done, char *err)
{
	return tp_define(d, s, strlen(s), done, err, 160);
}

static const char *upload(struct tp_defs *d, bool first)
{
	static struct buf b;
	buf_reset(&b);
	if (first)
		tp_upload_first(d, &b);
	else
		tp_upload_next(d, &b);
	return b.data ? b.data : "";
}

static void test_define_and_upload(void)
{
	struct tp_defs d = {0};
	char err[160];
	bool done;
	struct tracepoint *tp = define(&d, "2:401000:E:3:a:X3,260022-", &done, err);
	CHECK(tp && !done);
	CHECK(tp->number == 2 && tp->addr == 0x401000 && tp->enabled && tp->step_count == 3 &&
	      tp->pass_count == 10);
	CHECK(tp->has_cond && tp->cond.len == 3 && tp->cond.code[0] == 0x26);
	CHECK(define(&d, "-2:401000:R1ffffffffffffffffffffM-1,601040,4-", &done, err) == tp && !done);
	CHECK(define(&d, "-2:401000:X2,2601-", &done, err) == tp && !done);
	CHECK(define(&d, "-2:401000:SR1-", &done, err) == tp && !done);
	CHECK(define(&d, "-2:401000:M6,fffffffffffffff0,8", &done, err) == tp && done);
	CHECK(tp->nactions == 3 && tp->nstep_actions == 2);
	CHECK(tp->actions[1].type == 'M' && tp->actions[1].basereg == -1 &&
	      tp->actions[1].offset == 0x601040 && tp->actions[1].len == 4);
	CHECK(tp->step_actions[1].basereg == 6 && tp->step_actions[1].offset == 0xfffffffffffffff0);
	CHECK(tp_define_source(&d, "2:401000:cond:0:6:6e203e3d2033", 30, err, sizeof err) == 0);
	/* a second one at a lower address comes first */
	CHECK(define(&d, "1:400000:D:0:0", &done, err) && done);

	CHECK_STR(upload(&d, true), "T1:400000:D:0:0");
	CHECK_STR(upload(&d, false), "T2:401000:E:3:a:X3,260022");
	CHECK_STR(upload(&d, false), "A2:401000:R1ffffffffffffffffffff");
	CHECK_STR(upload(&d, false), "A2:401000:M-1,601040,4");
	CHECK_STR(upload(&d, false), "A2:401000:X2,2601");
	CHECK_STR(upload(&d, false), "S2:401000:R1");
	CHECK_STR(upload(&d, false), "S2:401000:M6,fffffffffffffff0,8");
	CHECK_STR(upload(&d, false), "Z2:401000:cond:0:6:6e203e3d2033");
	CHECK_STR(upload(&d, false), "l");
	CHECK_STR(upload(&d, false), "l");

	/* defined again (gdb re-downloads a location): replaced, counts kept */
	tp->hit_count = 4;
	struct tracepoint *again = define(&d, "2:401000:D:0:0", &done, err);
	CHECK(again && done && !again->enabled && again->nactions == 0 && again->hit_count == 4);
	CHECK(d.count == 2 && tp_find(&d, 2, 0x401000) == again);
	char ref[] = "2:401000";
	CHECK(tp_parse_ref(&d, ref, strlen(ref), err, sizeof err) == again);
	tp_defs_clear(&d);
	CHECK(d.list == NULL && d.count == 0);
}

static void test_malformed(void)
{
	struct tp_defs d = {0};
	char err[160];
	bool done;
	CHECK(define(&d, "1:1000:E:0:0-", &done, err) != NULL);
	static const char *const bad[] = {
		"", "1", "1:", "1:1000", "1:1000:", "1:1000:E", "1:1000:E:0", "1:1000:Q:0:0",
		"0:1000:E:0:0", "10000:1000:E:0:0", "zz:1000:E:0:0", "1:zz:E:0:0",
		"2:1000:E:0:0:X", "2:1000:E:0:0:X2,26", "2:1000:E:0:0:X2,zz00", "2:1000:E:0:0:Xffff,00",
		"2:1000:E:0:0:X0,", "2:1000:E:0:0:X1,26:X1,26", "2:1000:E:0:0:S", "2:1000:E:0:0:F",
		"2:1000:E:0:0junk", "2:1000:E:0:0--", "2:1000:E:10000000000000000:0",
		"-1:1000:Q", "-1:1000:R", "-1:1000:M", "-1:1000:M1", "-1:1000:M1,2",
		"-1:1000:M1,2,0", "-1:1000:M1,2,100000000", "-1:1000:M-2,0,4", "-1:1000:M10000,0,4",
		"-1:1000:X", "-1:1000:X2,26", "-1:1000:R1-junk", "-1:1000:R1R1-x",
		"-3:1000:R1", "-1:1001:R1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		struct tracepoint *tp = define(&d, bad[i], &done, err);
		CHECK(tp == NULL);
		if (tp || !err[0])
			fprintf(stderr, "  accepted or no message: \"%s\"\n", bad[i]);
	}
	struct tracepoint *tp = tp_find(&d, 1, 0x1000);
	CHECK(d.count == 1 && tp && tp->nactions == 0 && tp->nstep_actions == 0);
	/* a piece with no action at all (found by fuzzing: no list yet) */
	CHECK(define(&d, "-1:1000:", &done, err) == tp && done && tp->nactions == 0);
	/* one bad action in a packet: none of its actions is kept */
	CHECK(define(&d, "-1:1000:R1M-1,10,4Q", &done, err) == NULL);
	CHECK(tp->nactions == 0);
	/* too many actions in one packet */
	char many[4000] = "-1:1000:";
	for (int i = 0; i < 1000; i++)
		strcat(many, "R1");
	CHECK(define(&d, many, &done, err) == NULL && tp->nactions == 0);

	static const char *const bad_src[] = {
		"", "1:1000", "1:1000:at", "1:1000::0:2:6162", "1:1000:at:0:2:616", "1:1000:at:0:1:6162",
		"1:1000:at:0:2:zz62", "2:1000:at:0:2:6162", "1:1000:waytoolongsourcetype:0:2:6162",
	};
	for (size_t i = 0; i < sizeof bad_src / sizeof bad_src[0]; i++)
		CHECK(tp_define_source(&d, bad_src[i], strlen(bad_src[i]), err, sizeof err) < 0);
	CHECK(tp->nsources == 0);
	static const char *const bad_var[] = {
		"", "1", "1:0", "1:0:0", "zz:0:0:", "1:zz:0:", "1:0:0:6", "1:0:0:zz", "1:0:0:6100",
		"80000000:0:0:", "1:10000000000000000:0:",
	};
	for (size_t i = 0; i < sizeof bad_var / sizeof bad_var[0]; i++)
		CHECK(tp_define_var(&d, bad_var[i], strlen(bad_var[i]), err, sizeof err) < 0);
	CHECK(d.nvars == 0);
	static const char *const bad_ref[] = {"", "1", "1:", "1:1000:", "2:1000", "1:zz", "1:1000x"};
	for (size_t i = 0; i < sizeof bad_ref / sizeof bad_ref[0]; i++)
		CHECK(tp_parse_ref(&d, bad_ref[i], strlen(bad_ref[i]), err, sizeof err) == NULL);
	tp_defs_clear(&d);
}

static void test_variables(void)
{
	struct tp_defs d = {0};
	char err[160];
	struct buf b = BUF_INIT;
	const char *v1 = "1:0000000000000007:0:6869747300";
	CHECK(tp_define_var(&d, v1, strlen(v1), err, sizeof err) < 0);   /* NUL in the name */
	v1 = "1:0000000000000007:0:68697473";
	CHECK(tp_define_var(&d, v1, strlen(v1), err, sizeof err) == 0);
	const char *v2 = "2:ffffffffffffffff:1:";
	CHECK(tp_define_var(&d, v2, strlen(v2), err, sizeof err) == 0);
	CHECK(tp_var(&d, 1)->value == 7 && !strcmp(tp_var(&d, 1)->name, "hits"));
	CHECK(tp_var(&d, 2)->value == -1 && tp_var(&d, 2)->builtin);
	const char *v1b = "1:0000000000000009:0:68";
	CHECK(tp_define_var(&d, v1b, strlen(v1b), err, sizeof err) == 0);
	CHECK(d.nvars == 2 && tp_var(&d, 1)->initial == 9 && !strcmp(tp_var(&d, 1)->name, "h"));
	tp_upload_var_first(&d, &b);   /* newest first (gdbserver's order) */
	CHECK_STR(b.data, "2:ffffffffffffffff:1:");
	buf_reset(&b);
	tp_upload_var_next(&d, &b);
	CHECK_STR(b.data, "1:9:0:68");
	buf_reset(&b);
	tp_upload_var_next(&d, &b);
	CHECK_STR(b.data, "l");
	buf_free(&b);
	tp_defs_clear(&d);
}

/* Definitions are bounded as a whole: sources of 60 KB each are refused
 * once 16 MiB are held, and QTinit (tp_defs_clear) gives it all back. */
static void test_budget(void)
{
	struct tp_defs d = {0};
	char err[160];
	bool done;
	CHECK(define(&d, "1:1000:E:0:0", &done, err) != NULL);
	static char pkt[32 + 120000];
	int n = snprintf(pkt, 32, "1:1000:cmd:0:%x:", 60000);
	memset(pkt + n, '4', 120000);
	int accepted = 0;
	while (accepted < 1000 && tp_define_source(&d, pkt, (size_t)n + 120000, err, sizeof err) == 0)
		accepted++;
	CHECK(accepted > 200 && accepted < 300);
	CHECK(strstr(err, "16 MiB") != NULL);
	tp_defs_clear(&d);
	CHECK(d.bytes == 0);
	CHECK(define(&d, "1:1000:E:0:0", &done, err) != NULL);
	CHECK(tp_define_source(&d, pkt, (size_t)n + 120000, err, sizeof err) == 0);
	tp_defs_clear(&d);
}

int main(void)
{
	test_define_and_upload();
	test_malformed();
	test_variables();
	test_budget();
	return check_done("test_server_tracepoint_defs");
}
