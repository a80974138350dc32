/* libthread_db, loaded at run time: the pthread_t of each thread (the
 * handle="" of qXfer:threads) and addresses of __thread variables
 * (qGetTLSAddr), as gdbserver's thread-db.cc. Without the library (e.g. a
 * minimal guest) all of this is simply absent. */
#ifndef SERVER_THREAD_DB_H
#define SERVER_THREAD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct thread;
struct buf;

/* Asks gdb for NAME's address: 1 found (*ADDR set), 0 gdb does not know
 * it, -1 the exchange broke down (nothing more is asked). */
typedef int (*thread_db_ask_fn)(void *ctx, const char *name, uint64_t *addr);

/* gdb's "qSymbol::": new symbols may be known. Until libthread_db accepts
 * the process of T (its libc is loaded), try again; then ask gdb, through
 * ASK, for every symbol libthread_db may want. The caller sends the final
 * "OK". */
void thread_db_qsymbol(struct thread *t, thread_db_ask_fn ask, void *ctx);

/* The thread's pthread_t in target byte order into OUT; returns its
 * length, or 0 when unknown (no libthread_db, libc not loaded yet). */
size_t thread_db_thread_handle(struct thread *t, uint8_t *out, size_t size);

/* Address of the __thread variable at OFFSET in the TLS block of module LM
 * (a link_map address; 0: the static executable's block) for thread T.
 * Returns 0 with *ADDR set, > 0 on an error (E01; also without
 * libthread_db, as gdbserver), < 0 when the library cannot do it (empty
 * reply), as gdbserver's get_tls_address. */
int thread_db_tls_address(struct thread *t, uint64_t offset, uint64_t lm, uint64_t *addr);

/* monitor set libthread-db-search-path [PATH] (gdbserver's): where later
 * processes look for the library; empty: the default. */
int thread_db_set_search_path(const char *args, struct buf *out);

/* The process image is gone or replaced (exit, exec): drop its agent. */
void thread_db_forget(pid_t pid);

#endif
