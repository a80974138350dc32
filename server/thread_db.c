/* libthread_db support (gdbserver's thread-db.cc and proc-service.cc).
 * glibc's libthread_db knows the layout of struct pthread and the TLS
 * bookkeeping of the inferior's libc; it reads them through the
 * proc_service callbacks below (which the executable exports, see
 * server/proc-service.list). It is dlopen()ed so that the server also runs
 * where it is missing. */
#include "server/thread_db.h"

#include <dlfcn.h>
#include <elf.h>
#include <inttypes.h>
#include <proc_service.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <thread_db.h>

#include "common/hex.h"
#include "common/buf.h"
#include "server/target.h"

#define debug(...) do { if (debug_target) fprintf(DEBUG_OUT, "[thread_db] " __VA_ARGS__); } while (0)

/* Opaque to libthread_db; it hands it back to every callback. */
struct ps_prochandle {
	pid_t pid;
};

struct tdb_symbol {
	char *name;
	uint64_t addr;
	struct tdb_symbol *next;
};

/* Last pthread_t seen per LWP, for threads that cannot be asked now (they
 * run, in non-stop mode): gdbserver keeps it from the thread's creation. */
struct tdb_handle {
	pid_t tid;
	thread_t pthread;
};

/* A loaded libthread_db; never unloaded (agents point into it). */
struct tdb_lib {
	char *path;
	void *handle;
	__typeof__(td_ta_new) *ta_new;
	__typeof__(td_ta_delete) *ta_delete;
	__typeof__(td_ta_map_lwp2thr) *ta_map_lwp2thr;
	__typeof__(td_thr_get_info) *thr_get_info;
	__typeof__(td_thr_tls_get_addr) *thr_tls_get_addr;
	__typeof__(td_thr_tlsbase) *thr_tlsbase;
	__typeof__(td_symbol_list) *symbol_list;
	struct tdb_lib *next;
};

struct tdb_proc {
	struct ps_prochandle ph;        /* first: callbacks cast back */
	unsigned long long start_time;  /* with the pid, names the process */
	const struct tdb_lib *lib;      /* the library that accepted it */
	td_thragent_t *agent;
	/* Every symbol of td_symbol_list was asked of gdb: a symbol not in the
	 * cache does not exist (gdb can only be asked during qSymbol). */
	bool all_symbols_looked_up;
	struct tdb_symbol *symbols;
	struct tdb_handle *handles;
	size_t nhandles, handles_cap;
	struct tdb_proc *next;
};

static struct tdb_lib *tdb_libs;
static struct tdb_proc *tdb_procs;

/* gdbserver's libthread-db-search-path: directories, "$sdir" for the
 * dynamic linker's own search, "$pdir" (ignored, as gdbserver does). */
#define DEFAULT_SEARCH_PATH "$pdir:$sdir"
static char *search_path;

/* How to ask gdb for a symbol (only while handling its qSymbol::
 * packet), else NULL. */
static thread_db_ask_fn asking;
static void *asking_ctx;
static bool asking_failed;

static const char *td_err_str(td_err_e err)
{
	switch (err) {
	case TD_OK: return "ok";
	case TD_ERR: return "generic error";
	case TD_NOTHR: return "no thread to satisfy query";
	case TD_NOLWP: return "no LWP to satisfy query";
	case TD_BADPH: return "invalid process handle";
	case TD_BADTH: return "invalid thread handle";
	case TD_BADTA: return "invalid thread agent";
	case TD_NOLIBTHREAD: return "application not linked with libthread";
	case TD_NOCAPAB: return "capability not available";
	case TD_DBERR: return "debugger service failed";
	case TD_NOAPLIC: return "operation not applicable";
	case TD_NOTSD: return "no thread-specific data for this thread";
	case TD_MALLOC: return "malloc failed";
	case TD_VERSION: return "version mismatch between libthread_db and libpthread";
	case TD_NOTLS: return "no TLS for this thread";
	case TD_TLSDEFER: return "TLS not yet allocated for this thread";
	default: return "other error";
	}
}

static const struct tdb_lib *load_library(const char *path)
{
	for (struct tdb_lib *lib = tdb_libs; lib; lib = lib->next)
		if (!strcmp(lib->path, path))
			return lib;
	void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		debug("cannot load %s: %s\n", path, dlerror());
		return NULL;
	}
	struct tdb_lib *lib = calloc(1, sizeof *lib);
	if (!lib || !(lib->path = strdup(path))) {
		free(lib);
		dlclose(handle);
		return NULL;
	}
	lib->handle = handle;
#define SYM(field, sym) (lib->field = (__typeof__(lib->field))dlsym(handle, #sym))
	__typeof__(td_init) *init;
	init = (__typeof__(td_init) *)dlsym(handle, "td_init");
	SYM(ta_new, td_ta_new);
	SYM(ta_delete, td_ta_delete);
	SYM(ta_map_lwp2thr, td_ta_map_lwp2thr);
	SYM(thr_get_info, td_thr_get_info);
	SYM(thr_tls_get_addr, td_thr_tls_get_addr);
	SYM(thr_tlsbase, td_thr_tlsbase);
	SYM(symbol_list, td_symbol_list);
#undef SYM
	if (!lib->ta_new || !lib->ta_map_lwp2thr || !lib->thr_get_info || !lib->symbol_list ||
	    (init && init() != TD_OK)) {
		debug("%s: not a usable libthread_db\n", path);
		free(lib->path);
		free(lib);
		dlclose(handle);
		return NULL;
	}
	debug("loaded %s\n", path);
	lib->next = tdb_libs;
	tdb_libs = lib;
	return lib;
}

int thread_db_set_search_path(const char *args, struct buf *out)
{
	char *path = strdup(*args ? args : DEFAULT_SEARCH_PATH);
	if (!path)
		return -1;
	free(search_path);
	search_path = path;
	buf_printf(out, "libthread-db-search-path set to `%s'\n", search_path);
	return 0;
}

/* Field 22 of /proc/PID/stat: when the process started; 0 if unknown. */
static unsigned long long start_time_of(pid_t pid)
{
	char path[64], line[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	unsigned long long t = 0;
	if (fgets(line, sizeof line, f)) {
		char *p = strrchr(line, ')');
		/* fields from 3 on follow ')', each after a space */
		for (int field = 2; p && field < 22; field++)
			p = strchr(p + 1, ' ');
		if (p)
			t = strtoull(p + 1, NULL, 10);
	}
	fclose(f);
	return t;
}

static void tdb_proc_free(struct tdb_proc *tp)
{
	if (tp->agent && tp->lib->ta_delete)
		tp->lib->ta_delete(tp->agent);
	while (tp->symbols) {
		struct tdb_symbol *next = tp->symbols->next;
		free(tp->symbols->name);
		free(tp->symbols);
		tp->symbols = next;
	}
	free(tp->handles);
	free(tp);
}

void thread_db_forget(pid_t pid)
{
	for (struct tdb_proc **pp = &tdb_procs; *pp;) {
		struct tdb_proc *tp = *pp;
		if (tp->ph.pid == pid) {
			debug("forgetting process %d\n", (int)pid);
			*pp = tp->next;
			tdb_proc_free(tp);
		} else {
			pp = &tp->next;
		}
	}
}

/* The state of process P, after dropping that of processes which are gone
 * (killed, detached; a reused pid has another start time). */
static struct tdb_proc *tdb_find(struct process *p, bool create)
{
	for (struct tdb_proc **pp = &tdb_procs; *pp;) {
		struct tdb_proc *tp = *pp;
		if (!find_process(tp->ph.pid) || start_time_of(tp->ph.pid) != tp->start_time) {
			*pp = tp->next;
			tdb_proc_free(tp);
			continue;
		}
		if (tp->ph.pid == p->pid)
			return tp;
		pp = &tp->next;
	}
	if (!create)
		return NULL;
	struct tdb_proc *tp = calloc(1, sizeof *tp);
	if (!tp)
		return NULL;
	tp->ph.pid = p->pid;
	tp->start_time = start_time_of(p->pid);
	tp->next = tdb_procs;
	tdb_procs = tp;
	return tp;
}

/* Cached, else asked of gdb when that is possible now. */
static bool look_up_symbol(struct tdb_proc *tp, const char *name, uint64_t *addr)
{
	for (struct tdb_symbol *sym = tp->symbols; sym; sym = sym->next)
		if (!strcmp(sym->name, name)) {
			*addr = sym->addr;
			return true;
		}
	if (!asking || asking_failed || tp->all_symbols_looked_up)
		return false;
	int rc = asking(asking_ctx, name, addr);
	if (rc < 0) {
		asking_failed = true;
		return false;
	}
	if (rc == 0)
		return false;
	struct tdb_symbol *sym = calloc(1, sizeof *sym);
	if (sym && (sym->name = strdup(name))) {
		sym->addr = *addr;
		sym->next = tp->symbols;
		tp->symbols = sym;
	} else {
		free(sym);
	}
	return true;
}

/* td_ta_new with the library at PATH; true when it accepts the process. */
static bool try_library(struct tdb_proc *tp, const char *path)
{
	const struct tdb_lib *lib = load_library(path);
	if (!lib)
		return false;
	td_err_e err = lib->ta_new(&tp->ph, &tp->agent);
	if (err != TD_OK) {
		/* Usually: libc is not loaded yet; gdb sends qSymbol:: again. */
		debug("td_ta_new of %s for process %d: %s\n", path, (int)tp->ph.pid, td_err_str(err));
		tp->agent = NULL;
		return false;
	}
	tp->lib = lib;
	return true;
}

void thread_db_qsymbol(struct thread *t, thread_db_ask_fn ask, void *ctx)
{
	if (!t)
		return;
	struct tdb_proc *tp = tdb_find(t->proc, true);
	if (!tp || tp->agent)
		return;
	asking = ask;
	asking_ctx = ctx;
	asking_failed = false;
	char *dirs = strdup(search_path ? search_path : DEFAULT_SEARCH_PATH);
	bool found = false;
	for (char *save, *dir = dirs ? strtok_r(dirs, ":", &save) : NULL; dir && !found && !asking_failed;
	     dir = strtok_r(NULL, ":", &save)) {
		if (!strcmp(dir, "$pdir") || !strncmp(dir, "$pdir/", 6))
			continue;   /* where libpthread is: gdbserver does not know either */
		if (!strcmp(dir, "$sdir")) {
			found = try_library(tp, "libthread_db.so.1");
		} else {
			char path[4096];
			if ((size_t)snprintf(path, sizeof path, "%s/libthread_db.so.1", dir) < sizeof path)
				found = try_library(tp, path);
		}
	}
	free(dirs);
	if (found) {
		/* Ask now for everything libthread_db may look up later, when
		 * gdb cannot be asked (gdbserver's thread_db_look_up_symbols). */
		uint64_t unused;
		for (const char **sym = tp->lib->symbol_list(); *sym && !asking_failed; sym++)
			look_up_symbol(tp, *sym, &unused);
		tp->all_symbols_looked_up = true;
		debug("libthread_db ready for process %d\n", (int)tp->ph.pid);
	}
	asking = NULL;
}

/* libthread_db's handle and pthread_t of LWP TID (which must be stopped). */
static bool map_thread(struct tdb_proc *tp, pid_t tid, td_thrhandle_t *th, thread_t *pthread)
{
	td_err_e err = tp->lib->ta_map_lwp2thr(tp->agent, tid, th);
	if (err != TD_OK) {
		debug("td_ta_map_lwp2thr(%d): %s\n", (int)tid, td_err_str(err));
		return false;
	}
	td_thrinfo_t ti;
	err = tp->lib->thr_get_info(th, &ti);
	if (err != TD_OK) {
		debug("td_thr_get_info(%d): %s\n", (int)tid, td_err_str(err));
		return false;
	}
	if (ti.ti_lid != tid) {
		debug("LWP mismatch: asked %d, got %d\n", (int)tid, (int)ti.ti_lid);
		return false;
	}
	/* 0: the thread is not set up yet (e.g. before libc initialised). */
	if (ti.ti_tid == 0)
		return false;
	*pthread = ti.ti_tid;
	return true;
}

static void remember_handle(struct tdb_proc *tp, pid_t tid, thread_t pthread)
{
	for (size_t i = 0; i < tp->nhandles; i++)
		if (tp->handles[i].tid == tid) {
			tp->handles[i].pthread = pthread;
			return;
		}
	if (tp->nhandles == tp->handles_cap) {
		/* Drop threads that are gone before growing. */
		size_t kept = 0;
		for (size_t i = 0; i < tp->nhandles; i++)
			if (find_thread(tp->handles[i].tid))
				tp->handles[kept++] = tp->handles[i];
		tp->nhandles = kept;
	}
	if (tp->nhandles == tp->handles_cap) {
		size_t cap = tp->handles_cap ? 2 * tp->handles_cap : 16;
		struct tdb_handle *h = realloc(tp->handles, cap * sizeof *h);
		if (!h)
			return;
		tp->handles = h;
		tp->handles_cap = cap;
	}
	tp->handles[tp->nhandles++] = (struct tdb_handle){tid, pthread};
}

size_t thread_db_thread_handle(struct thread *t, uint8_t *out, size_t size)
{
	if (!tdb_procs || size < sizeof(thread_t))
		return 0;
	struct tdb_proc *tp = tdb_find(t->proc, false);
	if (!tp || !tp->agent)
		return 0;
	td_thrhandle_t th;
	thread_t pthread;
	if (map_thread(tp, t->tid, &th, &pthread)) {
		remember_handle(tp, t->tid, pthread);
	} else {
		size_t i = 0;
		while (i < tp->nhandles && tp->handles[i].tid != t->tid)
			i++;
		if (i == tp->nhandles)
			return 0;
		pthread = tp->handles[i].pthread;
	}
	memcpy(out, &pthread, sizeof pthread);
	return sizeof pthread;
}

int thread_db_tls_address(struct thread *t, uint64_t offset, uint64_t lm, uint64_t *addr)
{
	struct tdb_proc *tp = tdb_find(t->proc, false);
	if (!tp || !tp->agent || !tp->all_symbols_looked_up)
		return TD_ERR;
	const struct tdb_lib *lib = tp->lib;
	if (!lib->thr_tls_get_addr || (lm == 0 && !lib->thr_tlsbase))
		return -1;
	td_thrhandle_t th;
	thread_t pthread;
	if (!map_thread(tp, t->tid, &th, &pthread))
		return TD_NOTHR;
	psaddr_t a = NULL;
	td_err_e err;
	if (lm != 0) {
		err = lib->thr_tls_get_addr(&th, (psaddr_t)(uintptr_t)lm, (size_t)offset, &a);
	} else {
		/* -static -pthread executables: no link map; glibc gives the
		 * executable's TLS block module id 1 (gdbserver does the same). */
		err = lib->thr_tlsbase(&th, 1, &a);
	}
	if (err != TD_OK) {
		debug("TLS address for LWP %d: %s\n", (int)t->tid, td_err_str(err));
		return (int)err;
	}
	*addr = (uint64_t)(uintptr_t)a + (lm != 0 ? 0 : offset);
	return 0;
}

/* --- proc_service: what libthread_db calls back --------------------------- */

static struct tdb_proc *tdb_of(struct ps_prochandle *ph)
{
	return (struct tdb_proc *)ph;   /* ph is its first member */
}

ps_err_e ps_pdread(struct ps_prochandle *ph, psaddr_t addr, void *buf, size_t size)
{
	struct process *p = find_process(ph->pid);
	if (!p || target_read_memory(p, (uint64_t)(uintptr_t)addr, buf, size) != (ssize_t)size)
		return PS_ERR;
	return PS_OK;
}

ps_err_e ps_pdwrite(struct ps_prochandle *ph, psaddr_t addr, const void *buf, size_t size)
{
	struct process *p = find_process(ph->pid);
	if (!p || target_write_memory(p, (uint64_t)(uintptr_t)addr, buf, size) != (ssize_t)size)
		return PS_ERR;
	return PS_OK;
}

ps_err_e ps_pglobal_lookup(struct ps_prochandle *ph, const char *object_name,
			   const char *sym_name, psaddr_t *sym_addr)
{
	(void)object_name;      /* gdb looks names up in every object */
	uint64_t addr;
	if (!look_up_symbol(tdb_of(ph), sym_name, &addr))
		return PS_NOSYM;
	*sym_addr = (psaddr_t)(uintptr_t)addr;
	return PS_OK;
}

/* General registers in the kernel's layout (NT_PRSTATUS). */
ps_err_e ps_lgetregs(struct ps_prochandle *ph, lwpid_t lwpid, prgregset_t gregset)
{
	(void)ph;
	struct iovec iov = {gregset, sizeof(prgregset_t)};
	if (ptrace(PTRACE_GETREGSET, lwpid, (void *)NT_PRSTATUS, &iov) < 0)
		return PS_ERR;
	return PS_OK;
}

/* Not needed for thread handles and TLS (gdbserver neither). */
ps_err_e ps_lsetregs(struct ps_prochandle *ph, lwpid_t lwpid, const prgregset_t gregset)
{
	(void)ph; (void)lwpid; (void)gregset;
	return PS_ERR;
}

ps_err_e ps_lgetfpregs(struct ps_prochandle *ph, lwpid_t lwpid, prfpregset_t *fpregset)
{
	(void)ph; (void)lwpid; (void)fpregset;
	return PS_ERR;
}

ps_err_e ps_lsetfpregs(struct ps_prochandle *ph, lwpid_t lwpid, const prfpregset_t *fpregset)
{
	(void)ph; (void)lwpid; (void)fpregset;
	return PS_ERR;
}

pid_t ps_getpid(struct ps_prochandle *ph)
{
	return ph->pid;
}

/* The thread pointer: the architecture knows where it is (arch_ops). */
ps_err_e ps_get_thread_area(struct ps_prochandle *ph, lwpid_t lwpid, int idx, psaddr_t *base)
{
	(void)ph;
	uint64_t addr;
	if (!the_arch.thread_area || the_arch.thread_area(lwpid, idx, &addr) < 0)
		return PS_ERR;
	*base = (psaddr_t)(uintptr_t)addr;
	return PS_OK;
}
