/* qXfer:osdata:read — the tables of gdb's `info os TYPE`, built from /proc
 * with the types and column names of GNU gdbserver on Linux so that gdb
 * (and scripts parsing its output) see the same thing from either server. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/file.h"
#include "common/xml.h"
#include "server/session.h"
#include "server/xfer.h"

/* --- small /proc readers ---------------------------------------------------- */

/* Directory entries that are decimal ids (pids, tids, fds); -1 otherwise. */
static long numeric_entry(const struct dirent *de)
{
	if (!isdigit((unsigned char)de->d_name[0]))
		return -1;
	char *end;
	long v = strtol(de->d_name, &end, 10);
	return *end == '\0' && v >= 0 && v <= INT32_MAX ? v : -1;
}

/* Short command name (comm) of PID: between the first '(' and the last ')'
 * of /proc/PID/stat, as comm itself may contain ')' or spaces. The pid as
 * text when the process is gone, like gdbserver. */
static void comm_of_pid(long pid, char *out, size_t size)
{
	char path[64];
	struct buf b = BUF_INIT;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	out[0] = '\0';
	if (file_read(path, 1u << 20, &b, NULL, 0) < 0 || !b.data) {
		snprintf(out, size, "%ld", pid);
	} else {
		char *open_paren = strchr(b.data, '(');
		char *close_paren = strrchr(b.data, ')');
		if (open_paren && close_paren && close_paren > open_paren)
			snprintf(out, size, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
	}
	buf_free(&b);
}

/* Full command line with NULs as spaces; "[comm]" for kernel threads whose
 * cmdline is empty; "" when the process is gone. */
static void cmdline_of_pid(long pid, struct buf *out)
{
	char path[64];
	struct buf b = BUF_INIT;
	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	if (file_read(path, 64u << 20, &b, NULL, 0) < 0) {
		buf_free(&b);
		return;
	}
	size_t len = b.len;
	while (len > 0 && b.data[len - 1] == '\0')
		len--;
	if (len == 0) {
		char comm[64];
		comm_of_pid(pid, comm, sizeof comm);
		buf_printf(out, "[%s]", comm);
	} else {
		for (size_t i = 0; i < len; i++)
			buf_putc(out, b.data[i] == '\0' ? ' ' : b.data[i]);
	}
	buf_free(&b);
}

/* Core a thread last ran on: field 39 of its stat line, the 37th after
 * the ')' that ends comm. -1 when unknown. */
static int core_of_thread(long pid, long tid)
{
	char path[96];
	struct buf b = BUF_INIT;
	int core = -1;
	snprintf(path, sizeof path, "/proc/%ld/task/%ld/stat", pid, tid);
	if (file_read(path, 1u << 20, &b, NULL, 0) == 0 && b.data) {
		char *p = strrchr(b.data, ')');
		for (int field = 0; p && field < 37; field++) {
			p = strchr(p, ' ');
			if (p)
				while (*p == ' ')
					p++;
		}
		if (p && isdigit((unsigned char)*p))
			core = atoi(p);
	}
	buf_free(&b);
	return core;
}

/* User name of UID; the number when there is no passwd entry. */
static void user_name(uid_t uid, char *out, size_t size)
{
	struct passwd pw, *found = NULL;
	char scratch[1024];
	if (getpwuid_r(uid, &pw, scratch, sizeof scratch, &found) == 0 && found)
		snprintf(out, size, "%s", found->pw_name);
	else
		snprintf(out, size, "%u", (unsigned)uid);
}

static void group_name(gid_t gid, char *out, size_t size)
{
	struct group gr, *found = NULL;
	char scratch[1024];
	if (getgrgid_r(gid, &gr, scratch, sizeof scratch, &found) == 0 && found)
		snprintf(out, size, "%s", found->gr_name);
	else
		snprintf(out, size, "%u", (unsigned)gid);
}

/* ctime without its newline; "" for 0 (never happened), like gdbserver. */
static void time_text(long long seconds, char *out, size_t size)
{
	out[0] = '\0';
	if (seconds == 0)
		return;
	time_t t = (time_t)seconds;
	char text[64];
	if (!ctime_r(&t, text))
		return;
	text[strcspn(text, "\n")] = '\0';
	snprintf(out, size, "%s", text);
}

/* --- XML ------------------------------------------------------------------- */

static void item_begin(struct buf *doc) { buf_puts(doc, "<item>"); }
static void item_end(struct buf *doc) { buf_puts(doc, "</item>\n"); }

static void column(struct buf *doc, const char *name, const char *value)
{
	buf_puts(doc, "<column name=\"");
	xml_escape(doc, name);
	buf_puts(doc, "\">");
	xml_escape(doc, value);
	buf_puts(doc, "</column>");
}

static void column_long(struct buf *doc, const char *name, long long value)
{
	char text[32];
	snprintf(text, sizeof text, "%lld", value);
	column(doc, name, text);
}

/* Read FILE line by line, calling EACH for every line (header included:
 * parsers reject it by their field count). */
static void for_each_line(const char *file, struct buf *doc, void (*each)(char *line, struct buf *doc))
{
	FILE *f = fopen(file, "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) >= 0)
		each(line, doc);
	free(line);
	fclose(f);
}

/* --- processes, procgroups, threads, files ---------------------------------- */

static int compare_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* "0,1": the distinct cores PID's threads last ran on, ascending. */
static void cores_of_process(long pid, struct buf *out)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return;
	int *cores = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		long tid = numeric_entry(de);
		int core = tid >= 0 ? core_of_thread(pid, tid) : -1;
		if (core < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			int *grown = realloc(cores, cap * sizeof *cores);
			if (!grown)
				break;
			cores = grown;
		}
		cores[n++] = core;
	}
	closedir(d);
	if (n)
		qsort(cores, n, sizeof *cores, compare_int);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || cores[i] != cores[i - 1])
			buf_printf(out, "%s%d", out->len ? "," : "", cores[i]);
	free(cores);
}

static void osdata_processes(struct buf *doc)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	while (proc && (de = readdir(proc))) {
		long pid = numeric_entry(de);
		if (pid < 0)
			continue;
		char path[64], user[64] = "?";
		struct stat st;
		snprintf(path, sizeof path, "/proc/%ld", pid);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			user_name(st.st_uid, user, sizeof user);
		struct buf cmd = BUF_INIT, cores = BUF_INIT;
		cmdline_of_pid(pid, &cmd);
		cores_of_process(pid, &cores);
		item_begin(doc);
		column_long(doc, "pid", pid);
		column(doc, "user", user);
		column(doc, "command", cmd.data ? cmd.data : "");
		column(doc, "cores", cores.data ? cores.data : "");
		item_end(doc);
		buf_free(&cmd);
		buf_free(&cores);
	}
	if (proc)
		closedir(proc);
}

struct pid_pgid {
	long pid, pgid;
};

/* By group; the leader first, then by pid (gdbserver's order). */
static int compare_pid_pgid(const void *a, const void *b)
{
	const struct pid_pgid *x = a, *y = b;
	if (x->pgid != y->pgid)
		return x->pgid < y->pgid ? -1 : 1;
	bool x_leads = x->pid == x->pgid, y_leads = y->pid == y->pgid;
	if (x_leads != y_leads)
		return x_leads ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void osdata_procgroups(struct buf *doc)
{
	struct pid_pgid *list = NULL;
	size_t n = 0, cap = 0;
	DIR *proc = opendir("/proc");
	struct dirent *de;
	while (proc && (de = readdir(proc))) {
		long pid = numeric_entry(de);
		if (pid < 0)
			continue;
		pid_t pgid = getpgid((pid_t)pid);
		if (pgid <= 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			struct pid_pgid *grown = realloc(list, cap * sizeof *list);
			if (!grown)
				break;
			list = grown;
		}
		list[n++] = (struct pid_pgid){pid, pgid};
	}
	if (proc)
		closedir(proc);
	if (n)
		qsort(list, n, sizeof *list, compare_pid_pgid);
	for (size_t i = 0; i < n; i++) {
		char leader[64];
		struct buf cmd = BUF_INIT;
		comm_of_pid(list[i].pgid, leader, sizeof leader);
		cmdline_of_pid(list[i].pid, &cmd);
		item_begin(doc);
		column_long(doc, "pgid", list[i].pgid);
		column(doc, "leader command", leader);
		column_long(doc, "pid", list[i].pid);
		column(doc, "command line", cmd.data ? cmd.data : "");
		item_end(doc);
		buf_free(&cmd);
	}
	free(list);
}

/* Call EACH for every entry of /proc/PID/SUBDIR of every process. */
static void for_each_process_entry(const char *subdir, struct buf *doc,
				   void (*each)(struct buf *doc, long pid, const char *comm,
						const char *dir, const struct dirent *de))
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	while (proc && (de = readdir(proc))) {
		long pid = numeric_entry(de);
		if (pid < 0)
			continue;
		char dir[96], comm[64];
		snprintf(dir, sizeof dir, "/proc/%ld/%s", pid, subdir);
		DIR *sub = opendir(dir);
		if (!sub)
			continue;
		comm_of_pid(pid, comm, sizeof comm);
		struct dirent *entry;
		while ((entry = readdir(sub)))
			if (numeric_entry(entry) >= 0)
				each(doc, pid, comm, dir, entry);
		closedir(sub);
	}
	if (proc)
		closedir(proc);
}

static void thread_item(struct buf *doc, long pid, const char *comm, const char *dir,
			const struct dirent *de)
{
	(void)dir;
	long tid = numeric_entry(de);
	item_begin(doc);
	column_long(doc, "pid", pid);
	column(doc, "command", comm);
	column_long(doc, "tid", tid);
	column_long(doc, "core", core_of_thread(pid, tid));
	item_end(doc);
}

static void osdata_threads(struct buf *doc)
{
	for_each_process_entry("task", doc, thread_item);
}

static void file_item(struct buf *doc, long pid, const char *comm, const char *dir,
		      const struct dirent *de)
{
	char link[512], target[4096];
	snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n >= 0)
		target[n] = '\0';
	item_begin(doc);
	column_long(doc, "pid", pid);
	column(doc, "command", comm);
	column(doc, "file descriptor", de->d_name);
	column(doc, "name", n >= 0 ? target : de->d_name);
	item_end(doc);
}

static void osdata_files(struct buf *doc)
{
	for_each_process_entry("fd", doc, file_item);
}

/* --- sockets ------------------------------------------------------------------- */

static const char *tcp_state_name(unsigned state)
{
	/* include/net/tcp_states.h */
	static const char *const names[] = {
		NULL, "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
	};
	return state < sizeof names / sizeof names[0] && names[state] ? names[state] : "(unknown)";
}

/* The kernel prints addresses as the in-memory 32-bit words in hex, so
 * each word goes back to memory as the same native value. */
static bool parse_address(const char *hex, int family, char *out, size_t size)
{
	unsigned char raw[16];
	size_t words = family == AF_INET ? 1 : 4;
	if (strlen(hex) != words * 8)
		return false;
	for (size_t i = 0; i < words; i++) {
		char part[9];
		memcpy(part, hex + i * 8, 8);
		part[8] = '\0';
		char *end;
		uint32_t word = (uint32_t)strtoul(part, &end, 16);
		if (*end)
			return false;
		memcpy(raw + i * 4, &word, 4);
	}
	return inet_ntop(family, raw, out, (socklen_t)size) != NULL;
}

struct socket_table {
	const char *file;
	int family;
	bool tcp;
};

static void socket_line(char *line, struct buf *doc, const struct socket_table *table)
{
	char local_hex[40], remote_hex[40];
	unsigned local_port, remote_port, state, uid;
	if (sscanf(line, "%*d: %32[0-9A-Fa-f]:%X %32[0-9A-Fa-f]:%X %X %*X:%*X %*X:%*X %*X %u",
		   local_hex, &local_port, remote_hex, &remote_port, &state, &uid) != 6)
		return;
	char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN], user[64];
	if (!parse_address(local_hex, table->family, local, sizeof local)
	    || !parse_address(remote_hex, table->family, remote, sizeof remote))
		return;
	user_name((uid_t)uid, user, sizeof user);
	item_begin(doc);
	column(doc, "local address", local);
	column_long(doc, "local port", local_port);
	column(doc, "remote address", remote);
	column_long(doc, "remote port", remote_port);
	column(doc, "state", tcp_state_name(state));
	column(doc, "user", user);
	column(doc, "family", table->family == AF_INET ? "INET" : "INET6");
	column(doc, "protocol", table->tcp ? "STREAM" : "DGRAM");
	item_end(doc);
}

static void osdata_sockets(struct buf *doc)
{
	static const struct socket_table tables[] = {
		{"/proc/net/tcp", AF_INET, true},
		{"/proc/net/udp", AF_INET, false},
		{"/proc/net/tcp6", AF_INET6, true},
		{"/proc/net/udp6", AF_INET6, false},
	};
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
		FILE *f = fopen(tables[t].file, "re");
		if (!f)
			continue;
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, f) >= 0)
			socket_line(line, doc, &tables[t]);
		free(line);
		fclose(f);
	}
}

/* --- System V IPC ------------------------------------------------------------- */

static void owner_columns(struct buf *doc, unsigned uid, unsigned gid, unsigned cuid, unsigned cgid)
{
	char name[64];
	user_name((uid_t)uid, name, sizeof name);
	column(doc, "user", name);
	group_name((gid_t)gid, name, sizeof name);
	column(doc, "group", name);
	user_name((uid_t)cuid, name, sizeof name);
	column(doc, "creator user", name);
	group_name((gid_t)cgid, name, sizeof name);
	column(doc, "creator group", name);
}

static void octal_column(struct buf *doc, const char *name, unsigned value)
{
	char text[16];
	snprintf(text, sizeof text, "%o", value);
	column(doc, name, text);
}

static void command_column(struct buf *doc, const char *name, long long pid)
{
	char comm[64];
	comm_of_pid((long)pid, comm, sizeof comm);
	column(doc, name, comm);
}

static void time_column(struct buf *doc, const char *name, long long seconds)
{
	char text[64];
	time_text(seconds, text, sizeof text);
	column(doc, name, text);
}

static void shm_line(char *line, struct buf *doc)
{
	int key, shmid;
	unsigned perms, nattch, uid, gid, cuid, cgid;
	unsigned long long size;
	long long cpid, lpid, atime, dtime, ctime;
	if (sscanf(line, "%d %d %o %llu %lld %lld %u %u %u %u %u %lld %lld %lld", &key, &shmid, &perms,
		   &size, &cpid, &lpid, &nattch, &uid, &gid, &cuid, &cgid, &atime, &dtime, &ctime) != 14)
		return;
	item_begin(doc);
	column_long(doc, "key", key);
	column_long(doc, "shmid", shmid);
	octal_column(doc, "permissions", perms);
	column_long(doc, "size", (long long)size);
	command_column(doc, "creator command", cpid);
	command_column(doc, "last op. command", lpid);
	column_long(doc, "num attached", nattch);
	owner_columns(doc, uid, gid, cuid, cgid);
	time_column(doc, "last shmat() time", atime);
	time_column(doc, "last shmdt() time", dtime);
	time_column(doc, "last shmctl() time", ctime);
	item_end(doc);
}

static void sem_line(char *line, struct buf *doc)
{
	int key, semid;
	unsigned perms, nsems, uid, gid, cuid, cgid;
	long long otime, ctime;
	if (sscanf(line, "%d %d %o %u %u %u %u %u %lld %lld", &key, &semid, &perms, &nsems, &uid, &gid,
		   &cuid, &cgid, &otime, &ctime) != 10)
		return;
	item_begin(doc);
	column_long(doc, "key", key);
	column_long(doc, "semid", semid);
	octal_column(doc, "permissions", perms);
	column_long(doc, "num semaphores", nsems);
	owner_columns(doc, uid, gid, cuid, cgid);
	time_column(doc, "last semop() time", otime);
	time_column(doc, "last semctl() time", ctime);
	item_end(doc);
}

static void msg_line(char *line, struct buf *doc)
{
	int key, msqid;
	unsigned perms, uid, gid, cuid, cgid;
	unsigned long long cbytes, qnum;
	long long lspid, lrpid, stime, rtime, ctime;
	if (sscanf(line, "%d %d %o %llu %llu %lld %lld %u %u %u %u %lld %lld %lld", &key, &msqid, &perms,
		   &cbytes, &qnum, &lspid, &lrpid, &uid, &gid, &cuid, &cgid, &stime, &rtime, &ctime) != 14)
		return;
	item_begin(doc);
	column_long(doc, "key", key);
	column_long(doc, "msqid", msqid);
	octal_column(doc, "permissions", perms);
	column_long(doc, "num used bytes", (long long)cbytes);
	column_long(doc, "num messages", (long long)qnum);
	command_column(doc, "last msgsnd() command", lspid);
	command_column(doc, "last msgrcv() command", lrpid);
	owner_columns(doc, uid, gid, cuid, cgid);
	time_column(doc, "last msgsnd() time", stime);
	time_column(doc, "last msgrcv() time", rtime);
	time_column(doc, "last msgctl() time", ctime);
	item_end(doc);
}

static void osdata_shm(struct buf *doc) { for_each_line("/proc/sysvipc/shm", doc, shm_line); }
static void osdata_semaphores(struct buf *doc) { for_each_line("/proc/sysvipc/sem", doc, sem_line); }
static void osdata_msg(struct buf *doc) { for_each_line("/proc/sysvipc/msg", doc, msg_line); }

/* --- modules, cpus -------------------------------------------------------------- */

/* "name size uses deps state address" */
static void module_line(char *line, struct buf *doc)
{
	char *save = NULL;
	char *name = strtok_r(line, " \n", &save);
	char *size = strtok_r(NULL, " \n", &save);
	char *uses = strtok_r(NULL, " \n", &save);
	char *deps = strtok_r(NULL, " \n", &save);
	char *state = strtok_r(NULL, " \n", &save);
	char *address = strtok_r(NULL, " \n", &save);
	if (!address)
		return;
	char *end_size, *end_uses, *end_address;
	unsigned long long size_value = strtoull(size, &end_size, 10);
	long uses_value = strtol(uses, &end_uses, 10);
	unsigned long long address_value = strtoull(address, &end_address, 16);
	if (*end_size || *end_uses || *end_address)
		return;
	char text[32];
	item_begin(doc);
	column(doc, "name", name);
	column_long(doc, "size", (long long)size_value);
	column_long(doc, "num uses", uses_value);
	column(doc, "dependencies", deps);
	column(doc, "status", state);
	snprintf(text, sizeof text, "%llx", address_value);
	column(doc, "address", text);
	item_end(doc);
}

static void osdata_modules(struct buf *doc) { for_each_line("/proc/modules", doc, module_line); }

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/* /proc/cpuinfo: "key<tabs>: value" lines; each "processor" starts an item. */
static void osdata_cpus(struct buf *doc)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	bool in_item = false;
	while (getline(&line, &cap, f) >= 0) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *key = trim(line), *value = trim(colon + 1);
		if (!*key)
			continue;
		if (strcmp(key, "processor") == 0) {
			if (in_item)
				item_end(doc);
			item_begin(doc);
			in_item = true;
		}
		if (in_item)
			column(doc, key, value);
	}
	if (in_item)
		item_end(doc);
	free(line);
	fclose(f);
}

/* --- the table -------------------------------------------------------------- */

static void osdata_types(struct buf *doc);

static const struct osdata_type {
	const char *name;          /* annex; `info os NAME` */
	const char *doc_type;      /* <osdata type="..."> as gdbserver writes it */
	const char *title;
	const char *description;
	void (*build)(struct buf *doc);
} osdata_types_table[] = {
	{"types", "types", "Types", "Listing of info os types you can list", osdata_types},
	{"cpus", "cpus", "CPUs", "Listing of all cpus/cores on the system", osdata_cpus},
	{"files", "files", "File descriptors", "Listing of all file descriptors", osdata_files},
	{"modules", "modules", "Kernel modules", "Listing of all loaded kernel modules", osdata_modules},
	{"msg", "message queues", "Message queues", "Listing of all message queues", osdata_msg},
	{"processes", "processes", "Processes", "Listing of all processes", osdata_processes},
	{"procgroups", "process groups", "Process groups", "Listing of all process groups", osdata_procgroups},
	{"semaphores", "semaphores", "Semaphores", "Listing of all semaphores", osdata_semaphores},
	{"shm", "shared memory", "Shared-memory regions", "Listing of all shared-memory regions", osdata_shm},
	{"sockets", "I sockets", "Sockets", "Listing of all internet-domain sockets", osdata_sockets},
	{"threads", "threads", "Threads", "Listing of all threads", osdata_threads},
};

#define OSDATA_TYPE_COUNT (sizeof osdata_types_table / sizeof osdata_types_table[0])

/* Every type but "types" itself. */
static void osdata_types(struct buf *doc)
{
	for (size_t i = 1; i < OSDATA_TYPE_COUNT; i++) {
		item_begin(doc);
		column(doc, "Type", osdata_types_table[i].name);
		column(doc, "Description", osdata_types_table[i].description);
		column(doc, "Title", osdata_types_table[i].title);
		item_end(doc);
	}
}

const char *xfer_osdata(struct session *s, const char *annex, struct buf *doc)
{
	(void)s;
	const struct osdata_type *type = NULL;
	if (annex[0] == '\0')
		type = &osdata_types_table[0];
	for (size_t i = 0; !type && i < OSDATA_TYPE_COUNT; i++)
		if (strcmp(annex, osdata_types_table[i].name) == 0)
			type = &osdata_types_table[i];
	/* Unknown type: an empty document, as gdbserver sends; gdb then warns
	 * "Empty data returned by target.  Wrong osdata type?". */
	if (!type)
		return NULL;
	buf_puts(doc, "<osdata type=\"");
	xml_escape(doc, type->doc_type);
	buf_puts(doc, "\">\n");
	type->build(doc);
	buf_puts(doc, "</osdata>\n");
	return NULL;
}
