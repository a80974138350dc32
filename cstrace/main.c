/* cstrace: command-line companion of csgdbserver for CoreSight trace.
 *
 *   cstrace decode DIR [--ranges] [--id N] [--buffer NAME] [--stop-on-error] [-q]
 *   cstrace info DIR
 *   cstrace snapshot CAPTURE_DIR OUT_DIR
 *   cstrace capture HOST:PORT... [OPTIONS] [-- PROG ARGS...]
 *
 * Exit status: 0 done, 1 bad input or decode errors, 2 usage, 3 nothing to
 * decode (no instruction-trace source); capture: 4 connection failed or
 * lost, 5 the target refused, 6 trace overflowed (--fail-on-overflow).
 * The commands: cmd_decode.c (decode, info, snapshot), cmd_capture.c and
 * the capture client it runs (capture.c, see session.h for its parts). */
#include <stdio.h>
#include <string.h>

#include "cstrace/cmd_capture.h"
#include "cstrace/cmd_decode.h"
#include "cstrace/usage.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"capture", cmd_capture},
	{"decode", cmd_decode},
	{"info", cmd_info},
	{"snapshot", cmd_snapshot},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	usage_error("unknown command '%s'", argv[1]);
	return EXIT_USAGE;
}
