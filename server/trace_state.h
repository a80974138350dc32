/* What the tracepoint files share (tracepoint.c the packets, trace_collect.c
 * the hits, trace_view.c the selected frame): the definitions, the buffer
 * and the state of the run. One per server: a run may go on while no
 * client is connected (QTDisconnected). */
#ifndef SERVER_TRACE_STATE_H
#define SERVER_TRACE_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/trace_frames.h"
#include "server/tracepoint_defs.h"

#define TRACE_MAX_RO_REGIONS 256

struct trace_state {
	struct tp_defs defs;
	struct trace_buffer buf;
	bool tracing;
	/* qTStatus: tnotrun, tstop, tfull, tpasscount, terror, tdisconnected */
	const char *stop_reason;
	unsigned stop_tpnum;
	char error[160];            /* terror's text */
	int64_t start_time, stop_time;  /* microseconds since the epoch */
	char *user, *notes, *stop_note;
	bool disconnected_tracing;
	long frame;                 /* selected by QTFrame, -1 none */
	unsigned generation;        /* frames or selection changed (qXfer cache key) */
	struct { uint64_t start, end; } ro[TRACE_MAX_RO_REGIONS];
	size_t nro;
	pid_t pid;                  /* the process the run traces */
	bool allow_insert;          /* QAllow:InsertTrace */
	/* Set while collecting: the run stops once the hit is done. */
	struct tracepoint *stopping;
	bool full;
	struct tracepoint *error_tp;
};

extern struct trace_state trace_state;

/* End the run (QTStop, a pass count, a full buffer, an error, gdb gone):
 * REASON unless a hit set one. Tracepoints come out of the program. */
void trace_stop_run(const char *reason);
/* A variable's value now: the builtin $trace_timestamp (number 1, as
 * gdbserver's) is the time in microseconds. */
int64_t trace_var_value(const struct trace_var *v);
/* Forget every thread's while-stepping (trace_collect.c). */
void trace_forget_stepping(void);
/* A frame's register block is laid out as the 'g' packet (the registers
 * gdb reads with it, in order), which is what gdb's tfile reader takes
 * from a `tsave`d buffer (its "R" size is the g packet's). */
size_t trace_regblock_size(void);
void trace_regs_to_block(const uint8_t *raw, uint8_t *block);
/* The PC a frame was collected at: its registers', else its tracepoint's. */
uint64_t trace_frame_pc(const struct trace_frame *f);

#endif
