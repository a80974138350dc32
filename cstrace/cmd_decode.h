/* The commands that read a capture or snapshot directory: decode, info,
 * snapshot. Each takes its argv from the command name on and returns an
 * exit status (usage.h). */
#ifndef CSTRACE_CMD_DECODE_H
#define CSTRACE_CMD_DECODE_H

int cmd_decode(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);

#endif
