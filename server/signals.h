/* Host signal numbers <-> GDB's target-independent numbers (signals.def),
 * which is what stop replies, vCont and QPassSignals carry. */
#ifndef SERVER_SIGNALS_H
#define SERVER_SIGNALS_H

#define GDB_SIGNAL_0 0
#define GDB_SIGNAL_INT 2
#define GDB_SIGNAL_TRAP 5
#define GDB_SIGNAL_STOP 17
#define GDB_SIGNAL_UNKNOWN 143
#define GDB_SIGNAL_LAST 144

int signal_to_gdb(int host_sig);
/* 0 when GDB's signal has no host equivalent. */
int signal_from_gdb(int gdb_sig);

#endif
