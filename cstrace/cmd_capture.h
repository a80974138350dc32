/* `cstrace capture HOST:PORT... [OPTIONS] [-- PROG ARGS...]`: the command
 * line into struct capture_opts; several targets captured at once, one
 * process and one subdirectory each. */
#ifndef CSTRACE_CMD_CAPTURE_H
#define CSTRACE_CMD_CAPTURE_H

/* ARGV from "capture" on; returns the exit status (the worst of several
 * targets'). */
int cmd_capture(int argc, char **argv);

#endif
