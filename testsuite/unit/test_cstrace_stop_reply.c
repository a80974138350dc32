/* cstrace/stop_reply.h: the stop replies a capture acts on. */
#include "cstrace/stop_reply.h"
#include "testsuite/unit/check.h"

int main(void)
{
	struct stop st;
	long pid, tid;

	stop_reply_parse("T05thread:p1a2b.1a2c;syscall_entry:e7;", 7, &st);
	CHECK(st.kind == 'T' && st.sig == 5 && st.pid == 0x1a2b && st.tid == 0x1a2c);
	CHECK(st.syscall_entry && st.syscall == 0xe7 && !st.swbreak);

	stop_reply_parse("T05swbreak:;thread:2a;", 7, &st);
	CHECK(st.swbreak && st.pid == 7 && st.tid == 0x2a && !st.syscall_entry);
	stop_reply_parse("T05hwbreak:;thread:2a;", 7, &st);
	CHECK(st.swbreak);

	stop_reply_parse("S0b", 7, &st);
	CHECK(st.kind == 'S' && st.sig == 11 && st.pid == 7 && st.tid == 0);
	stop_reply_parse("W00;process:99", 7, &st);
	CHECK(st.kind == 'W' && st.sig == 0 && st.pid == 0x99);
	stop_reply_parse("X09", 7, &st);
	CHECK(st.kind == 'X' && st.sig == 9 && st.pid == 7);
	stop_reply_parse("w00;p10.11", 7, &st);
	CHECK(st.kind == 'w' && st.pid == 0x10 && st.tid == 0x11);
	stop_reply_parse("N", 7, &st);
	CHECK(st.kind == 'N');

	/* short and malformed replies read nothing past their end */
	stop_reply_parse("T", 7, &st);
	CHECK(st.kind == 'T' && st.sig == 0 && st.tid == 0);
	stop_reply_parse("T0", 7, &st);
	CHECK(st.kind == 'T' && st.sig == 0 && st.tid == 0);
	stop_reply_parse("Tzzthread:", 7, &st);
	CHECK(st.sig == 0 && st.tid == 0);
	stop_reply_parse("", 7, &st);
	CHECK(st.kind == '\0');

	CHECK(stop_parse_ptid("p1.2", 9, &pid, &tid) && pid == 1 && tid == 2);
	CHECK(stop_parse_ptid("ff", 9, &pid, &tid) && pid == 9 && tid == 0xff);
	CHECK(!stop_parse_ptid("p1", 9, &pid, &tid));
	CHECK(!stop_parse_ptid("", 9, &pid, &tid));
	CHECK(!stop_parse_ptid("0", 9, &pid, &tid));
	return check_done("test_cstrace_stop_reply");
}
