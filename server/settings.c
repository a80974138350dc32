/* Settings packets: see settings.h. */
#include "server/settings.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hex.h"
#include "server/reply.h"
#include "server/signals.h"
#include "server/target.h"


static void parse_signal_list(const char *a, size_t n, bool *table)
{
	memset(table, 0, 256 * sizeof *table);
	const char *p = a, *end = a + n;
	while (p < end) {
		uint64_t v;
		if (!hex_parse_u64(&p, end, &v))
			break;
		int host = signal_from_gdb((int)v);
		if (host > 0 && host < 256)
			table[host] = true;
		if (p < end && *p == ';')
			p++;
		else
			break;
	}
}

void handle_qpasssignals(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	parse_signal_list(a, n, target_settings.pass_signals);
	reply_ok(reply);
}

void handle_qprogramsignals(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	parse_signal_list(a, n, target_settings.program_signals);
	target_settings.program_signals_set = true;
	reply_ok(reply);
}

void handle_qcatchsyscalls(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	const char *p = a, *end = a + n;
	if (p < end && *p == '0' && p + 1 == end) {
		target_settings.catch_syscalls = false;
		reply_ok(reply);
		return;
	}
	if (p >= end || *p != '1') {
		reply_error(reply, 1);
		return;
	}
	p++;
	free(target_settings.syscalls);
	target_settings.syscalls = NULL;
	target_settings.nsyscalls = 0;
	target_settings.catch_any_syscall = p == end;
	while (p < end && *p == ';') {
		uint64_t v;
		p++;
		if (!hex_parse_u64(&p, end, &v)) {
			reply_error(reply, 1);
			return;
		}
		long *grown = realloc(target_settings.syscalls,
				      (target_settings.nsyscalls + 1) * sizeof(long));
		if (!grown)
			abort();
		target_settings.syscalls = grown;
		target_settings.syscalls[target_settings.nsyscalls++] = (long)v;
	}
	target_settings.catch_syscalls = true;
	reply_ok(reply);
}

bool parse_bool_arg(const char *a, size_t n, bool *out)
{
	if (n != 1 || (a[0] != '0' && a[0] != '1'))
		return false;
	*out = a[0] == '1';
	return true;
}

/* "Q...:0" / "Q...:1" packets that set one flag. */
static void set_flag(const char *a, size_t n, bool *flag, struct buf *reply)
{
	if (parse_bool_arg(a, n, flag))
		reply_ok(reply);
	else
		reply_error(reply, 1);
}

void handle_qdisablerandom(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	set_flag(a, n, &target_settings.disable_randomization, reply);
}

void handle_qstartupwithshell(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	set_flag(a, n, &target_settings.startup_with_shell, reply);
}

void handle_qthreadevents(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	set_flag(a, n, &target_settings.thread_events, reply);
}

/* --- environment ------------------------------------------------------ */

extern char **environ;

static size_t env_count(void)
{
	size_t n = 0;
	while (target_settings.env && target_settings.env[n])
		n++;
	return n;
}

void env_reset(void)
{
	for (size_t i = 0; target_settings.env && target_settings.env[i]; i++)
		free(target_settings.env[i]);
	free(target_settings.env);
	size_t n = 0;
	while (environ[n])
		n++;
	target_settings.env = calloc(n + 1, sizeof(char *));
	if (!target_settings.env)
		abort();
	for (size_t i = 0; i < n; i++)
		target_settings.env[i] = strdup(environ[i]);
}

static void env_unset(const char *name)
{
	size_t len = strlen(name), n = env_count(), o = 0;
	for (size_t i = 0; i < n; i++) {
		char *e = target_settings.env[i];
		if (strncmp(e, name, len) == 0 && e[len] == '=')
			free(e);
		else
			target_settings.env[o++] = e;
	}
	target_settings.env[o] = NULL;
}

static void env_set(const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	if (!eq)
		return;
	char *name = strndup(assignment, (size_t)(eq - assignment));
	env_unset(name);
	free(name);
	size_t n = env_count();
	char **grown = realloc(target_settings.env, (n + 2) * sizeof(char *));
	if (!grown)
		abort();
	target_settings.env = grown;
	grown[n] = strdup(assignment);
	grown[n + 1] = NULL;
}

char *hex_to_string(const char *a, size_t n)
{
	char *s = malloc(n / 2 + 1);
	if (!s)
		return NULL;
	if (hex_decode(a, n, s) < 0) {
		free(s);
		return NULL;
	}
	s[n / 2] = '\0';
	return s;
}

void handle_qenv_hex(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char *s = hex_to_string(a, n);
	if (!s || !strchr(s, '=')) {
		free(s);
		reply_error(reply, 1);
		return;
	}
	env_set(s);
	free(s);
	reply_ok(reply);
}

void handle_qenv_unset(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	char *s = hex_to_string(a, n);
	if (!s) {
		reply_error(reply, 1);
		return;
	}
	env_unset(s);
	free(s);
	reply_ok(reply);
}

void handle_qenv_reset(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx; (void)a; (void)n;
	env_reset();
	reply_ok(reply);
}

void handle_qsetworkingdir(void *ctx, const char *a, size_t n, struct buf *reply)
{
	(void)ctx;
	free(target_settings.cwd);
	target_settings.cwd = NULL;
	if (n) {
		target_settings.cwd = hex_to_string(a, n);
		if (!target_settings.cwd) {
			reply_error(reply, 1);
			return;
		}
	}
	reply_ok(reply);
}
