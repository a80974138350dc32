/* Writes known lines to stdout and stderr: the inferior shares the
 * server's descriptors. Also shows its arguments, one environment variable
 * and its working directory (QEnvironment*, QSetWorkingDir, vRun args). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char cwd[4096];
	const char *var = getenv("ITEST_VAR");
	printf("stdout line from inferior argc=%d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("arg %d: [%s]\n", i, argv[i]);
	printf("ITEST_VAR=%s\n", var ? var : "(unset)");
	printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
	fflush(stdout);
	fprintf(stderr, "stderr line from inferior\n");
	return argc;
}
