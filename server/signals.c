#include "server/signals.h"

#include <signal.h>

static const struct { int host, gdb; } signal_map[] = {
	{SIGHUP, 1}, {SIGINT, 2}, {SIGQUIT, 3}, {SIGILL, 4}, {SIGTRAP, 5},
	{SIGABRT, 6}, {SIGFPE, 8}, {SIGKILL, 9}, {SIGBUS, 10}, {SIGSEGV, 11},
	{SIGSYS, 12}, {SIGPIPE, 13}, {SIGALRM, 14}, {SIGTERM, 15}, {SIGURG, 16},
	{SIGSTOP, 17}, {SIGTSTP, 18}, {SIGCONT, 19}, {SIGCHLD, 20}, {SIGTTIN, 21},
	{SIGTTOU, 22}, {SIGIO, 23}, {SIGXCPU, 24}, {SIGXFSZ, 25}, {SIGVTALRM, 26},
	{SIGPROF, 27}, {SIGWINCH, 28}, {SIGUSR1, 30}, {SIGUSR2, 31}, {SIGPWR, 32},
#ifdef SIGSTKFLT
	/* GDB has no SIGSTKFLT; it is reported as unknown. */
#endif
};

/* Real-time signals: host 32 is GDB 77, 33..63 are 45..75, 64..127 are 78.. */
int signal_to_gdb(int host_sig)
{
	if (host_sig == 0)
		return 0;
	for (unsigned i = 0; i < sizeof signal_map / sizeof signal_map[0]; i++)
		if (signal_map[i].host == host_sig)
			return signal_map[i].gdb;
	if (host_sig == 32)
		return 77;
	if (host_sig >= 33 && host_sig <= 63)
		return 45 + host_sig - 33;
	if (host_sig >= 64 && host_sig <= 127)
		return 78 + host_sig - 64;
	return GDB_SIGNAL_UNKNOWN;
}

int signal_from_gdb(int gdb_sig)
{
	if (gdb_sig == 0)
		return 0;
	for (unsigned i = 0; i < sizeof signal_map / sizeof signal_map[0]; i++)
		if (signal_map[i].gdb == gdb_sig)
			return signal_map[i].host;
	int host = 0;
	if (gdb_sig == 77)
		host = 32;
	else if (gdb_sig >= 45 && gdb_sig <= 75)
		host = 33 + gdb_sig - 45;
	else if (gdb_sig >= 78 && gdb_sig <= 141)
		host = 64 + gdb_sig - 78;
	return host <= SIGRTMAX ? host : 0;
}
