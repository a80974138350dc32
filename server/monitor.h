/* qRcmd: gdb's `monitor CMD`, one table of commands (monitor.c). */
#ifndef SERVER_MONITOR_H
#define SERVER_MONITOR_H

#include "common/buf.h"

struct session;

/* Run CMD: its console text goes to OUT_TEXT, the packet reply (OK, E,
 * or empty for an unknown command) to REPLY. */
void handle_monitor(struct session *s, const char *cmd, struct buf *out_text, struct buf *reply);

#endif
