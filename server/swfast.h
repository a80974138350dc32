/* The fast path of the software branch recorder: instead of stepping every
 * instruction, a recorded thread runs to the next instruction that may
 * change the flow (found by disassembling forward from its PC) under a
 * temporary breakpoint, and only that one is single-stepped. This file is
 * the per-process cache of those "blocks"; recorder.c does the ptrace part.
 *
 * Self-modifying code: a block is only used when it lies in a mapping that
 * is executable and not writable (so nothing can rewrite it while the
 * thread runs through it), and its bytes are compared with the cached
 * decode at every use (so code changed between runs — by mprotect+write,
 * munmap+mmap, gdb's M packets — is decoded afresh). Anything else, JIT
 * code in rwx pages included, is single-stepped instruction by
 * instruction. Non-writable code changes only through a system call of
 * the thread (the fast path runs only while it is the one thread of its
 * address space) or a write through ptrace: the mappings are re-read and
 * the bytes compared after each system call and each write by gdb. */
#ifndef SERVER_SWFAST_H
#define SERVER_SWFAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch/disasm.h"

/* Reads SIZE bytes of the thread's code at ADDR as the program sees it
 * (breakpoints masked); returns the bytes read, or -1. */
typedef ssize_t (*swfast_read_fn)(void *ctx, uint64_t addr, void *buf, size_t size);

struct swfast;

/* PID's /proc/PID/maps is what tells writable code (PROC_ROOT "/proc"). */
struct swfast *swfast_new(pid_t pid, const char *proc_root);
void swfast_free(struct swfast *f);
/* The code may have changed (exec, a write): forget every block. */
void swfast_flush(struct swfast *f);
/* The mappings may have changed (after a system call): re-read them
 * before the next block is used, and compare its bytes. */
void swfast_maps_changed(struct swfast *f);
/* Code may have been written (gdb's M/X packets): compare each block's
 * bytes before it is used again. */
void swfast_code_changed(struct swfast *f);

struct swfast_stop {
	uint64_t addr;          /* the instruction to stop at and single-step */
	struct disasm_insn insn;   /* what it is */
};

/* Where a run from PC (instruction set ISA) must stop: the first
 * instruction at or after PC that may not continue sequentially (or the
 * last one decoded when a block is long). False when PC itself must be
 * single-stepped: no capstone, undecodable or writable code. */
bool swfast_next_stop(struct swfast *f, enum disasm_isa isa, uint64_t pc,
		      swfast_read_fn read, void *ctx, struct swfast_stop *stop);

/* Statistics: blocks decoded, cache hits, refusals (writable code). */
struct swfast_stats {
	uint64_t decoded, hits, writable, changed;
};
void swfast_stats(const struct swfast *f, struct swfast_stats *out);

#endif
