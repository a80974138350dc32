/* fork / vfork / exec for follow-fork-mode, detach-on-fork and exec events.
 * argv[1]: "fork", "vfork" or "exec"; "exec" re-executes this program with
 * "child" so the new image is known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int g_role = 0; /* 1 in the parent after fork, 2 in the child */

void in_child(void)
{
	g_role = 2; /* @in-child */
}

void in_parent(void)
{
	g_role = 1; /* @in-parent */
}

void exec_done(void)
{
	/* @exec-done */
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "fork";
	if (strcmp(mode, "child") == 0) {
		exec_done();
		printf("exec image running\n");
		return 7;
	}
	if (strcmp(mode, "exec") == 0) {
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		return 99;
	}
	pid_t pid = strcmp(mode, "vfork") == 0 ? vfork() : fork();
	if (pid == 0) {
		if (strcmp(mode, "vfork") == 0)
			_exit(5);
		in_child();
		_exit(3);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	in_parent();
	printf("child status %d\n", WEXITSTATUS(status));
	return 0;
}
