/* Z0/Z1 options (server/agent_points.c): ";X len,bytes" conditions and
 * ";cmds:persist,X len,bytes..." commands as gdb sends them, the garbage a
 * client could send instead, and the table replacing a breakpoint's list
 * when gdb re-sends Z. */
#include <string.h>

#include "server/agent_points.h"
#include "testsuite/unit/check.h"

static char err[256];

static bool parses(const char *opts, struct agent_point_opts *o)
{
	err[0] = '\0';
	return agent_point_parse(opts, strlen(opts), o, err, sizeof err) == 0;
}

/* OPTS is refused with an error mentioning WANT, and nothing is kept. */
static bool refused(const char *opts, const char *want)
{
	struct agent_point_opts o;
	if (parses(opts, &o)) {
		fprintf(stderr, "  \"%s\" accepted\n", opts);
		agent_point_opts_free(&o);
		return false;
	}
	if (!strstr(err, want)) {
		fprintf(stderr, "  \"%s\": error \"%s\", wanted \"%s\"\n", opts, err, want);
		return false;
	}
	return o.nconds == 0 && o.ncmds == 0 && !o.conds && !o.cmds;
}

static void test_gdb_forms(void)
{
	struct agent_point_opts o;
	CHECK(parses("", &o) && o.nconds == 0 && o.ncmds == 0);
	agent_point_opts_free(&o);
	/* gdb 13: conditions concatenated after one ';' */
	CHECK(parses(";X3,220127X2,2227", &o) && o.nconds == 2 && o.ncmds == 0);
	CHECK(o.nconds == 2 && o.conds[0].len == 3 && o.conds[0].code[2] == 0x27 &&
	      o.conds[1].len == 2 && o.conds[1].code[1] == 0x27);
	agent_point_opts_free(&o);
	CHECK(o.conds == NULL && o.nconds == 0);
	/* a dprintf: the commands after cmds:persist, */
	CHECK(parses(";cmds:1,X3,220027X1,27", &o) && o.ncmds == 2 && o.persist && !o.nconds);
	agent_point_opts_free(&o);
	CHECK(parses(";X3,220127;cmds:0,X3,220027", &o) && o.nconds == 1 && o.ncmds == 1 &&
	      !o.persist);
	agent_point_opts_free(&o);
	CHECK(parses(";X3,22012A", &o) && o.conds[0].code[2] == 0x2a);  /* upper-case hex */
	agent_point_opts_free(&o);
}

static void test_garbage(void)
{
	CHECK(refused("X3,220127", "must start with ';'"));
	CHECK(refused(";X2,227", "2 bytes announced, 3 hex digits sent"));
	CHECK(refused(";X2,zz27", "not hex at byte 0"));
	CHECK(refused(";X9,2227", "9 bytes announced"));
	CHECK(refused(";X0,", "expression of 0 bytes"));
	CHECK(refused(";Xffffffffffffffff,27", "(1 to 4096 accepted)"));
	CHECK(refused(";X1ffffffffffffffffff,27", "bad length"));
	CHECK(refused(";X2", "bad length"));
	CHECK(refused(";Xq,27", "bad length"));
	CHECK(refused(";X", "bad length"));
	CHECK(refused(";cmds:1", "\"cmds:persist,\" expected"));
	CHECK(refused(";cmds:2,X1,27", "\"cmds:persist,\" expected"));
	CHECK(refused(";cmds:1,Y1,27", "\"X len,bytes\" expected"));
	CHECK(refused(";Y1,27", "unknown breakpoint option"));
	CHECK(refused(";X1,27;Z", "unknown breakpoint option"));
	/* a good condition before a bad one: nothing kept */
	CHECK(refused(";X1,27X1,2", "1 bytes announced, 1 hex digits sent"));
	/* too many */
	char many[4096] = ";";
	for (int i = 0; i <= AGENT_POINT_MAX_EXPRS; i++)
		strcat(many, "X1,27");
	CHECK(refused(many, "more than 64 expressions"));
	/* an expression bigger than any packet could hold */
	static char big[2 * 5000 + 16];
	strcpy(big, ";X1388,");
	memset(big + strlen(big), '2', 2 * 5000);
	CHECK(refused(big, "expression of 5000 bytes"));
}

static void test_table(void)
{
	struct agent_point_opts o;
	CHECK(!agent_point_here(100, 0, 0x1000));
	CHECK(parses(";X3,220127", &o));
	agent_points_set(100, 0, 0x1000, &o);
	CHECK(o.conds == NULL && o.nconds == 0);   /* taken over */
	CHECK(agent_point_here(100, 0, 0x1000));
	CHECK(!agent_point_here(100, 1, 0x1000));  /* Z1 is another point */
	CHECK(!agent_point_here(101, 0, 0x1000));
	/* re-sent without options: the list is gone (as gdbserver) */
	CHECK(parses("", &o));
	agent_points_set(100, 0, 0x1000, &o);
	CHECK(!agent_point_here(100, 0, 0x1000));
	CHECK(parses(";cmds:0,X1,27", &o));
	agent_points_set(100, 1, 0x2000, &o);
	CHECK(parses(";X1,27", &o));
	agent_points_set(100, 0, 0x3000, &o);
	CHECK(parses(";X1,27", &o));
	agent_points_set(200, 0, 0x3000, &o);
	agent_points_clear(100, 1, 0x2000);
	CHECK(!agent_point_here(100, 1, 0x2000) && agent_point_here(100, 0, 0x3000));
	agent_points_forget(100);
	CHECK(!agent_point_here(100, 0, 0x3000) && agent_point_here(200, 0, 0x3000));
	agent_points_forget(200);
	CHECK(!agent_point_here(200, 0, 0x3000));
	/* all breakpoints together keep at most AGENT_POINTS_MAX_BYTES */
	static char cond[16 + 2 * 4096];
	strcpy(cond, ";X1000,");
	memset(cond + strlen(cond), '2', 2 * 4096);
	cond[strlen(";X1000,") + 2 * 4095] = '2';
	cond[strlen(";X1000,") + 2 * 4095 + 1] = '7';
	unsigned kept = 0;
	for (uint64_t a = 0; a < 8192; a++) {
		if (!parses(cond, &o))
			break;
		agent_points_set(300, 0, 0x10000 + a, &o);
		kept++;
	}
	CHECK(kept == AGENT_POINTS_MAX_BYTES / 4096);
	CHECK(strstr(err, "bytes of them kept already") != NULL);
	agent_points_forget(300);
	CHECK(parses(cond, &o));   /* room again */
	agent_point_opts_free(&o);
}

int main(void)
{
	test_gdb_forms();
	test_garbage();
	test_table();
	return check_done("test_server_agent_points");
}
