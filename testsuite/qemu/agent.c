/* csg-agent: runs inside a QEMU test guest and lets the host start
 * processes there and look at the guest's /proc, over one TCP port that
 * QEMU forwards (testsuite/qemu/boot.sh; host side testsuite/qemu/guest.py).
 *
 * One request per connection: a line of hex holding NUL-separated fields,
 * the first being the command.
 *   read PATH | readlink PATH | listdir PATH | exists PATH | mkdir PATH
 *   write PATH DATA | unlink PATH | kill PID SIG | connect IPV4 PORT
 *       -> "OK <len>\n<bytes>" or "ERR <errno>\n"
 *   spawn CWD ARGV0 ARGV1...
 *       -> frames "<tag> <len>\n<bytes>": P pid, 1 stdout, 2 stderr,
 *          E exec errno, X "exit N" / "signal N"; the host may send
 *          "0 <len>\n<stdin bytes>" (len 0 closes stdin) and "K <len>\n<sig>".
 * The spawned process leads a new session; when the connection closes
 * everything left in that session is SIGKILLed, so a host test that dies
 * leaves nothing behind in the guest.
 * Each spawned process is bound to one CPU, taken in turn (its children,
 * e.g. a server's inferiors, inherit it): under TCG a ptrace stop handed
 * from one vCPU to another waits for the host to run the other vCPU's
 * thread (the tracer spins in wait_task_inactive meanwhile), 30-80 times
 * slower than on one vCPU; stepping by breakpoints (32-bit arm's branch
 * recorder) stops at every instruction. CSG_AGENT_PIN=0 turns it off. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FIELDS 256

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_frame(int sock, const char *tag, const void *data, size_t len)
{
	char head[64];
	int n = snprintf(head, sizeof head, "%s %zu\n", tag, len);
	if (write_all(sock, head, (size_t)n) < 0)
		return -1;
	return write_all(sock, data, len);
}

static void reply_ok(int sock, const void *data, size_t len)
{
	send_frame(sock, "OK", data, len);
}

static void reply_err(int sock, int err)
{
	char line[32];
	int n = snprintf(line, sizeof line, "ERR %d\n", err);
	write_all(sock, line, (size_t)n);
}

/* The request line, hex-decoded in place into NUL-separated fields. */
static int read_request(int sock, char **buf, size_t *len)
{
	size_t cap = 4096, used = 0;
	char *line = malloc(cap);
	for (;;) {
		char c;
		ssize_t n = read(sock, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(line);
			return -1;
		}
		if (c == '\n')
			break;
		if (used + 1 >= cap)
			line = realloc(line, cap *= 2);
		line[used++] = c;
	}
	if (used % 2) {
		free(line);
		return -1;
	}
	for (size_t i = 0; i < used / 2; i++) {
		unsigned v;
		if (sscanf(line + 2 * i, "%2x", &v) != 1) {
			free(line);
			return -1;
		}
		line[i] = (char)v;
	}
	*len = used / 2;
	line[*len] = 0;
	*buf = line;
	return 0;
}

static int split_fields(char *buf, size_t len, char **fields, size_t *lens)
{
	int n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len && n < MAX_FIELDS - 1; i++) {
		if (i == len || buf[i] == 0) {
			fields[n] = buf + start;
			lens[n++] = i - start;
			start = i + 1;
		}
	}
	fields[n] = NULL;
	return n;
}

static void do_read(int sock, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		reply_err(sock, errno);
		return;
	}
	size_t cap = 65536, used = 0;
	char *data = malloc(cap);
	for (;;) {
		if (used == cap)
			data = realloc(data, cap *= 2);
		ssize_t n = read(fd, data + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			reply_err(sock, errno);
			free(data);
			close(fd);
			return;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	reply_ok(sock, data, used);
	free(data);
}

static void do_listdir(int sock, const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		reply_err(sock, errno);
		return;
	}
	size_t cap = 4096, used = 0;
	char *out = malloc(cap);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		size_t n = strlen(e->d_name) + 1;
		while (used + n > cap)
			out = realloc(out, cap *= 2);
		memcpy(out + used, e->d_name, n);
		used += n;
	}
	closedir(d);
	reply_ok(sock, out, used ? used - 1 : 0);
	free(out);
}

static void do_connect(int sock, const char *ip, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((unsigned short)atoi(port)) };
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		reply_err(sock, EINVAL);
		return;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		reply_err(sock, errno);
	} else {
		reply_ok(sock, "", 0);
	}
	close(fd);
}

/* SIGKILL every live process of session SID (what a spawn started). */
static void kill_session(pid_t sid)
{
	for (int round = 0; round < 20; round++) {
		int found = 0;
		DIR *d = opendir("/proc");
		struct dirent *e;
		while (d && (e = readdir(d))) {
			pid_t pid = atoi(e->d_name);
			if (pid <= 0)
				continue;
			char path[64], stat[512];
			snprintf(path, sizeof path, "/proc/%d/stat", pid);
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			ssize_t n = read(fd, stat, sizeof stat - 1);
			close(fd);
			if (n <= 0)
				continue;
			stat[n] = 0;
			char *rp = strrchr(stat, ')');
			char state;
			int ppid, pgrp, session;
			if (!rp || sscanf(rp + 2, "%c %d %d %d", &state, &ppid,
					  &pgrp, &session) != 4)
				continue;
			if (session == sid && state != 'Z') {
				kill(pid, SIGKILL);
				found = 1;
			}
		}
		if (d)
			closedir(d);
		if (!found)
			return;
		usleep(20000);
	}
}

static int chld_pipe[2];
/* Spawns so far, shared by the per-connection children (CPU turns). */
static unsigned *spawn_count;

static void pin_to_next_cpu(void)
{
	const char *pin = getenv("CSG_AGENT_PIN");
	if (!spawn_count || (pin && strcmp(pin, "0") == 0))
		return;
	cpu_set_t online;
	if (sched_getaffinity(0, sizeof online, &online) < 0 || CPU_COUNT(&online) < 2)
		return;
	unsigned turn = __atomic_fetch_add(spawn_count, 1, __ATOMIC_RELAXED) %
			(unsigned)CPU_COUNT(&online);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &online) || turn-- > 0)
			continue;
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		sched_setaffinity(0, sizeof one, &one);
		return;
	}
}

static void on_sigchld(int sig)
{
	(void)sig;
	int saved = errno;
	if (write(chld_pipe[1], "c", 1) < 0) {
		/* pipe full: a wakeup is already pending */
	}
	errno = saved;
}

static void do_spawn(int sock, char **fields, int nfields)
{
	if (nfields < 3) {
		reply_err(sock, EINVAL);
		return;
	}
	const char *cwd = fields[1];
	int in[2], out[2], err[2], exe[2];
	if (pipe(in) || pipe(out) || pipe(err) || pipe2(exe, O_CLOEXEC) ||
	    pipe2(chld_pipe, O_CLOEXEC | O_NONBLOCK)) {
		reply_err(sock, errno);
		return;
	}
	signal(SIGCHLD, on_sigchld);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		pin_to_next_cpu();
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(err[0]); close(err[1]); close(sock);
		int e = 0;
		if (*cwd && chdir(cwd) < 0)
			e = errno;
		if (!e) {
			execvp(fields[2], fields + 2);
			e = errno;
		}
		if (write(exe[1], &e, sizeof e) < 0)
			_exit(126);
		_exit(127);
	}
	close(in[0]); close(out[1]); close(err[1]); close(exe[1]);
	if (pid < 0) {
		reply_err(sock, errno);
		return;
	}
	int e;
	if (read(exe[0], &e, sizeof e) == (ssize_t)sizeof e) {
		char msg[32];
		int n = snprintf(msg, sizeof msg, "%d", e);
		send_frame(sock, "E", msg, (size_t)n);
	}
	close(exe[0]);
	char msg[64];
	int n = snprintf(msg, sizeof msg, "%d", pid);
	send_frame(sock, "P", msg, (size_t)n);

	int in_fd = in[1], out_fd = out[0], err_fd = err[0], exited = 0;
	char inbuf[65536];
	size_t inlen = 0;
	for (;;) {
		struct pollfd p[4] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = out_fd, .events = POLLIN },
			{ .fd = err_fd, .events = POLLIN },
			{ .fd = chld_pipe[0], .events = POLLIN },
		};
		if (exited && out_fd < 0 && err_fd < 0)
			break;
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[3].revents) {
			char junk[64];
			while (read(chld_pipe[0], junk, sizeof junk) > 0)
				;
			int status;
			if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
				exited = 1;
				n = WIFEXITED(status) ?
					snprintf(msg, sizeof msg, "exit %d", WEXITSTATUS(status)) :
					snprintf(msg, sizeof msg, "signal %d", WTERMSIG(status));
				if (send_frame(sock, "X", msg, (size_t)n) < 0)
					break;
			}
		}
		for (int i = 1; i <= 2; i++) {
			if (!p[i].revents)
				continue;
			char buf[16384];
			ssize_t got = read(p[i].fd, buf, sizeof buf);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(p[i].fd);
				if (i == 1)
					out_fd = -1;
				else
					err_fd = -1;
				continue;
			}
			if (send_frame(sock, i == 1 ? "1" : "2", buf, (size_t)got) < 0)
				goto gone;
		}
		if (p[0].revents) {
			ssize_t got = read(sock, inbuf + inlen, sizeof inbuf - inlen);
			if (got <= 0)
				goto gone;
			inlen += (size_t)got;
			/* complete host frames: "<tag> <len>\n<data>" */
			for (;;) {
				char *nl = memchr(inbuf, '\n', inlen);
				if (!nl)
					break;
				char tag = inbuf[0];
				size_t flen = strtoul(inbuf + 2, NULL, 10);
				size_t head = (size_t)(nl - inbuf) + 1;
				if (head + flen > sizeof inbuf)
					goto gone;
				if (inlen < head + flen)
					break;
				char *data = inbuf + head;
				if (tag == '0') {
					if (flen == 0 && in_fd >= 0) {
						close(in_fd);
						in_fd = -1;
					} else if (in_fd >= 0 && write_all(in_fd, data, flen) < 0) {
						close(in_fd);
						in_fd = -1;
					}
				} else if (tag == 'K') {
					char sig[16] = "";
					memcpy(sig, data, flen < 15 ? flen : 15);
					kill(pid, atoi(sig));
				}
				memmove(inbuf, inbuf + head + flen, inlen - head - flen);
				inlen -= head + flen;
			}
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	/* leftovers of a process that has exited (e.g. a daemonised child) */
	kill_session(pid);
	return;
gone:
	kill_session(pid);
	if (!exited)
		waitpid(pid, NULL, 0);
}

static void serve(int sock)
{
	char *buf, *fields[MAX_FIELDS];
	size_t len, lens[MAX_FIELDS];
	if (read_request(sock, &buf, &len) < 0)
		return;
	int n = split_fields(buf, len, fields, lens);
	const char *cmd = fields[0];
	if (!strcmp(cmd, "spawn")) {
		do_spawn(sock, fields, n);
	} else if (n < 2) {
		reply_err(sock, EINVAL);
	} else if (!strcmp(cmd, "read")) {
		do_read(sock, fields[1]);
	} else if (!strcmp(cmd, "readlink")) {
		char target[4096];
		ssize_t got = readlink(fields[1], target, sizeof target);
		if (got < 0)
			reply_err(sock, errno);
		else
			reply_ok(sock, target, (size_t)got);
	} else if (!strcmp(cmd, "listdir")) {
		do_listdir(sock, fields[1]);
	} else if (!strcmp(cmd, "exists")) {
		struct stat st;
		if (lstat(fields[1], &st) < 0)
			reply_err(sock, errno);
		else
			reply_ok(sock, "", 0);
	} else if (!strcmp(cmd, "mkdir")) {
		if (mkdir(fields[1], 0777) < 0 && errno != EEXIST)
			reply_err(sock, errno);
		else
			reply_ok(sock, "", 0);
	} else if (!strcmp(cmd, "unlink")) {
		if (unlink(fields[1]) < 0)
			reply_err(sock, errno);
		else
			reply_ok(sock, "", 0);
	} else if (!strcmp(cmd, "write") && n >= 3) {
		int fd = open(fields[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write_all(fd, fields[2], lens[2]) < 0)
			reply_err(sock, errno);
		else
			reply_ok(sock, "", 0);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(cmd, "kill") && n >= 3) {
		if (kill(atoi(fields[1]), atoi(fields[2])) < 0)
			reply_err(sock, errno);
		else
			reply_ok(sock, "", 0);
	} else if (!strcmp(cmd, "connect") && n >= 3) {
		do_connect(sock, fields[1], fields[2]);
	} else {
		reply_err(sock, ENOSYS);
	}
	free(buf);
}

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 1234;
	signal(SIGPIPE, SIG_IGN);
	/* orphans (a server's inferiors after the server died) come here and
	 * are reaped at once instead of piling up as zombies of PID 1 */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGCHLD, SIG_IGN);
	spawn_count = mmap(NULL, sizeof *spawn_count, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (spawn_count == MAP_FAILED)
		spawn_count = NULL;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((unsigned short)port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 64) < 0) {
		perror("csg-agent: bind");
		return 1;
	}
	printf("csg-agent: listening on port %d\n", port);
	fflush(stdout);
	for (;;) {
		int sock = accept(lfd, NULL, NULL);
		if (sock < 0)
			continue;
		setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pid_t pid = fork();
		if (pid == 0) {
			close(lfd);
			signal(SIGCHLD, SIG_DFL);
			serve(sock);
			_exit(0);
		}
		close(sock);
	}
}
