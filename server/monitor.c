/* monitor (qRcmd) commands, from a table so that later subsystems (ETM)
 * add theirs by adding rows. */
#include "server/monitor.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "server/btrace.h"
#include "server/reply.h"
#include "server/session.h"
#include "server/target.h"
#include "server/thread_db.h"

struct monitor_cmd {
	const char *name;       /* matched as a word prefix of the command */
	const char *usage;
	const char *help;
	/* Returns 0, or -1 for an error reply after the text. */
	int (*fn)(struct session *s, const char *args, struct buf *out);
};

static int mon_help(struct session *s, const char *args, struct buf *out);

static int parse_01(const char *args, bool *v)
{
	if (strcmp(args, "1") == 0 || strcmp(args, "on") == 0)
		*v = true;
	else if (strcmp(args, "0") == 0 || strcmp(args, "off") == 0)
		*v = false;
	else
		return -1;
	return 0;
}

static int mon_exit(struct session *s, const char *args, struct buf *out)
{
	(void)args; (void)out;
	s->exit_requested = true;
	return 0;
}

static int mon_set_debug(struct session *s, const char *args, struct buf *out)
{
	(void)s;
	bool v;
	if (parse_01(args, &v) < 0) {
		buf_puts(out, "usage: monitor set debug <0|1>\n");
		return -1;
	}
	debug_target = v;
	buf_puts(out, v ? "Debug output enabled.\n" : "Debug output disabled.\n");
	return 0;
}

static int mon_set_remote_debug(struct session *s, const char *args, struct buf *out)
{
	bool v;
	if (parse_01(args, &v) < 0) {
		buf_puts(out, "usage: monitor set remote-debug <0|1>\n");
		return -1;
	}
	s->remote.log = v;
	buf_puts(out, v ? "Protocol debug output enabled.\n" : "Protocol debug output disabled.\n");
	return 0;
}

static int mon_set_debug_format(struct session *s, const char *args, struct buf *out)
{
	(void)s;
	if (strcmp(args, "all") == 0)
		buf_puts(out, "All extra debug format options enabled.\n");
	else if (strcmp(args, "none") == 0)
		buf_puts(out, "All extra debug format options disabled.\n");
	else if (strcmp(args, "timestamp") == 0)
		buf_puts(out, "Timestamps will be added to debug output.\n");
	else {
		buf_printf(out, "Unknown debug-format argument: \"%s\"\n", args);
		return -1;
	}
	return 0;
}

static int mon_set_hw_debug(struct session *s, const char *args, struct buf *out)
{
	(void)s;
	bool v;
	if (parse_01(args, &v) < 0)
		return -1;
	buf_puts(out, v ? "H/W point debugging output enabled.\n"
			: "H/W point debugging output disabled.\n");
	return 0;
}

static int mon_set_btrace_step(struct session *s, const char *args, struct buf *out)
{
	(void)s;
	bool v;
	if (parse_01(args, &v) < 0) {
		buf_puts(out, "usage: monitor set btrace-step <on|off>\n");
		return -1;
	}
	target_btrace_per_insn = v;
	buf_puts(out, v ? "Software branch recording steps every instruction.\n"
			: "Software branch recording runs from branch to branch.\n");
	return 0;
}

static int mon_set_libthread_db_search_path(struct session *s, const char *args, struct buf *out)
{
	(void)s;
	return thread_db_set_search_path(args, out);
}

static const struct monitor_cmd monitor_cmds[] = {
	{"help", "help", "List the monitor commands", mon_help},
	{"set debug-hw-points", "set debug-hw-points <0|1>",
	 "Enable h/w breakpoint/watchpoint debugging messages", mon_set_hw_debug},
	{"set debug-format", "set debug-format option1[,option2,...]",
	 "Add additional information to debugging messages (all, none, timestamp)",
	 mon_set_debug_format},
	{"set debug", "set debug <0|1>", "Enable general debugging messages", mon_set_debug},
	{"set remote-debug", "set remote-debug <0|1>", "Enable remote protocol debugging messages",
	 mon_set_remote_debug},
	{"set btrace-step", "set btrace-step <on|off>",
	 "Software branch recording: single-step every instruction (on) instead of running "
	 "to each branch under a temporary breakpoint (off, the default)", mon_set_btrace_step},
	{"set libthread-db-search-path", "set libthread-db-search-path [PATH]",
	 "Where to look for libthread_db (for thread handles and TLS); no PATH: the default",
	 mon_set_libthread_db_search_path},
	{"exit", "exit", "Quit csgdbserver", mon_exit},
	{"etm status", "etm status", "Show the trace source and each traced thread's trace", mon_etm_status},
	{"etm config", "etm config [NAME=VALUE ...]",
	 "Show or set the ETM options for threads traced from now on (names of Qbtrace-conf:CoreSight)",
	 mon_etm_config},
	{"etm call-history", "etm call-history [N|FROM,TO]",
	 "Function call history of the current thread, calls/returns classified from the ETM trace",
	 mon_etm_call_history},
	{"etm instruction-history", "etm instruction-history [N|FROM,TO]",
	 "Instruction history of the current thread, with each branch's class", mon_etm_insn_history},
};

static int mon_help(struct session *s, const char *args, struct buf *out)
{
	(void)s; (void)args;
	buf_puts(out, "The following monitor commands are supported:\n");
	for (size_t i = 0; i < sizeof monitor_cmds / sizeof monitor_cmds[0]; i++)
		buf_printf(out, "  %s\n    %s\n", monitor_cmds[i].usage, monitor_cmds[i].help);
	return 0;
}

void handle_monitor(struct session *s, const char *cmd, struct buf *out, struct buf *reply)
{
	while (*cmd == ' ')
		cmd++;
	const struct monitor_cmd *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < sizeof monitor_cmds / sizeof monitor_cmds[0]; i++) {
		size_t n = strlen(monitor_cmds[i].name);
		if (strncmp(cmd, monitor_cmds[i].name, n) == 0 && (cmd[n] == '\0' || cmd[n] == ' ') &&
		    n > best_len) {
			best = &monitor_cmds[i];
			best_len = n;
		}
	}
	if (!best) {
		buf_puts(out, "Unknown monitor command.\n\n");
		mon_help(s, "", out);
		reply_error(reply, 1);
		return;
	}
	const char *args = cmd + best_len;
	while (*args == ' ')
		args++;
	if (best->fn(s, args, out) < 0)
		reply_error(reply, 1);
	else
		reply_ok(reply);
}
