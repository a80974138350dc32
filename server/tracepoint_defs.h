/* Tracepoint and trace state variable definitions as gdb downloads them
 * (GDB manual, "Tracepoint Packets": QTDP, QTDPsrc, QTDV) and uploads them
 * back (qTfP/qTsP, qTfV/qTsV). Parsing is strict: a malformed field, an
 * unknown action, a duplicate or unknown tracepoint is an error naming it,
 * and nothing is changed. Pure: no target, no packets sent. */
#ifndef SERVER_TRACEPOINT_DEFS_H
#define SERVER_TRACEPOINT_DEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/ax.h"
#include "common/buf.h"

#define TP_MAX_TRACEPOINTS 4096
#define TP_MAX_ACTIONS     1024     /* per tracepoint, stepping ones apart */
#define TP_MAX_SOURCES     1024
#define TP_MAX_VARIABLES   4096
#define TP_MAX_BYTES       (16u << 20)  /* of actions, expressions, sources, names */

struct tp_action {
	char type;              /* 'R' registers, 'M' memory, 'X' expression */
	int basereg;            /* M: register the offset is from, -1 none */
	uint64_t offset, len;   /* M */
	struct ax_expr expr;    /* X */
	char *text;             /* as gdb sent it (qTsP gives it back) */
};

struct tp_source {
	char *type;             /* "at", "cond", "cmd" */
	char *text;
};

struct tracepoint {
	unsigned number;
	uint64_t addr;
	bool enabled;
	uint64_t step_count, pass_count;
	bool fast;              /* F: needs the in-process agent we lack */
	bool has_cond;
	struct ax_expr cond;
	struct tp_action *actions, *step_actions;
	size_t nactions, nstep_actions;
	bool in_step_actions;   /* an 'S' came: the rest are while-stepping */
	struct tp_source *sources;
	size_t nsources;
	/* the run's */
	uint64_t hit_count, usage;
	int installed_pid;      /* its breakpoint is in this process, or 0 */
	struct tracepoint *next;
};

struct trace_var {
	unsigned number;
	int64_t initial, value;
	bool builtin;
	char *name;
	struct trace_var *next;
};

struct tp_defs {
	struct tracepoint *list;        /* by address, as gdbserver keeps them */
	size_t count;
	struct trace_var *vars;
	size_t nvars;
	size_t bytes;                   /* held against TP_MAX_BYTES */
	/* qTsP / qTsV walk */
	struct tracepoint *up_tp;
	size_t up_action, up_step, up_source;
	struct trace_var *up_var;
};

void tp_defs_clear(struct tp_defs *d);
struct tracepoint *tp_find(const struct tp_defs *d, unsigned number, uint64_t addr);
struct tracepoint *tp_find_number(const struct tp_defs *d, unsigned number);
struct trace_var *tp_var(const struct tp_defs *d, unsigned number);

/* QTDP:... (ARGS after "QTDP:"). *DONE: no '-' at the end, gdb has sent
 * the tracepoint's last piece. Returns the tracepoint, or NULL with ERR. */
struct tracepoint *tp_define(struct tp_defs *d, const char *args, size_t n, bool *done,
			     char *err, size_t errlen);
int tp_define_source(struct tp_defs *d, const char *args, size_t n, char *err, size_t errlen);
int tp_define_var(struct tp_defs *d, const char *args, size_t n, char *err, size_t errlen);
/* QTEnable/QTDisable "N:ADDR". */
struct tracepoint *tp_parse_ref(const struct tp_defs *d, const char *args, size_t n,
				char *err, size_t errlen);

/* qTfP/qTsP and qTfV/qTsV replies ("l" at the end). */
void tp_upload_first(struct tp_defs *d, struct buf *reply);
void tp_upload_next(struct tp_defs *d, struct buf *reply);
void tp_upload_var_first(struct tp_defs *d, struct buf *reply);
void tp_upload_var_next(struct tp_defs *d, struct buf *reply);

#endif
