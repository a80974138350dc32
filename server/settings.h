/* Packets that set how programs are run and what is reported:
 * QPassSignals, QProgramSignals, QCatchSyscalls, QDisableRandomization,
 * QStartupWithShell, QEnvironment*, QSetWorkingDir, QThreadEvents. */
#ifndef SERVER_SETTINGS_H
#define SERVER_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

void handle_qpasssignals(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qprogramsignals(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qcatchsyscalls(void *ctx, const char *a, size_t n, struct buf *reply);
/* "0" or "1". */
bool parse_bool_arg(const char *a, size_t n, bool *out);
void handle_qdisablerandom(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qstartupwithshell(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qthreadevents(void *ctx, const char *a, size_t n, struct buf *reply);
/* The environment of new programs: the server's own again. */
void env_reset(void);
/* Hex-decoded into a malloc'd string, or NULL. */
char *hex_to_string(const char *a, size_t n);
void handle_qenv_hex(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qenv_unset(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qenv_reset(void *ctx, const char *a, size_t n, struct buf *reply);
void handle_qsetworkingdir(void *ctx, const char *a, size_t n, struct buf *reply);

#endif
