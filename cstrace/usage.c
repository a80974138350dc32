/* cstrace's help: see usage.h. */
#include "cstrace/usage.h"

#include <stdio.h>

const char usage_text[] =
	"Usage: cstrace COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  decode DIR [OPTIONS]        decode an OpenCSD snapshot directory, or a capture\n"
	"                              directory (trace.bin + etm.ini + one ELF image)\n"
	"      --ranges                print only instruction ranges, one per line:\n"
	"                              0xSTART 0xEND (END exclusive), in trace order\n"
	"      --id N                  decode only trace ID N (0x01-0x6f)\n"
	"      --buffer NAME           decode only the named trace buffer (default: all\n"
	"                              buffers holding instruction trace)\n"
	"      --stop-on-error         stop at the first decoder error (as trc_pkt_lister\n"
	"                              does) instead of resynchronising\n"
	"      -q, --quiet             no warnings on stderr\n"
	"  info DIR                    list the trace buffers and sources of DIR\n"
	"  snapshot CAPTURE_DIR OUT    write a capture directory as an OpenCSD snapshot\n"
	"                              (ELF segments dumped to .bin files), e.g. for\n"
	"                              trc_pkt_lister -ss_dir OUT -decode\n"
	"  capture HOST:PORT... [OPTIONS] [-- PROG [ARGS...]]\n"
	"                              record a branch trace from csgdbserver over TCP\n"
	"                              (no gdb needed) into a capture directory: an\n"
	"                              OpenCSD snapshot (CoreSight) or a block list (bts),\n"
	"                              memory dumps, capture.json. With PROG the server\n"
	"                              (--multi) runs it; else --attach PID, else the\n"
	"                              process the server already has.\n"
	"      -o, --output DIR        capture directory (default capture-DATE-TIME);\n"
	"                              several targets: one subdirectory HOST_PORT each\n"
	"      --target HOST:PORT      another board to capture at the same time\n"
	"      --attach PID            trace a running process\n"
	"      --format F              auto (default: CoreSight if offered, else bts),\n"
	"                              CoreSight or bts\n"
	"      --size BYTES            trace buffer size (K/M suffixes)\n"
	"      --core N, --id N, --sink NAME, --mode full|snapshot, --context PID\n"
	"      --range START-END       trace only this address range (repeatable)\n"
	"      --start-at ADDR         start trace when ADDR executes (trigger)\n"
	"      --stop-at ADDR          stop trace and end the capture at ADDR\n"
	"      --conf NAME=VALUE       any Qbtrace-conf:CoreSight option (repeatable)\n"
	"      --time SECONDS          end the capture after this long\n"
	"      --max-size BYTES        end it when this much trace has been read\n"
	"                              (CoreSight trace files stop at exactly this)\n"
	"      --drain-interval MS     read the trace this often while it runs (100)\n"
	"      --all-stop              stop the program for each read (default: read it\n"
	"                              running, in non-stop mode, if the server offers it)\n"
	"      --timeout SECONDS       wait this long for a reply (30)\n"
	"      --fail-on-overflow      exit 6 when trace was lost\n"
	"      --no-memory             no memory dumps\n"
	"      --progress, --no-progress   progress on stderr (default: if a terminal)\n"
	"      -q, --quiet             no summary line\n"
	"  help, --help                this text\n"
	"\n"
	"Exit status: 0 done, 1 bad input or decode errors, 2 usage error,\n"
	"3 nothing to decode (no instruction-trace source); capture: 4 cannot\n"
	"connect, or cut short by the server or the connection (lost, a corrupt\n"
	"reply, a reply past a limit, a refusal mid-run: what was captured is\n"
	"kept, marked incomplete), 5 the target refused while setting up\n"
	"(program, attach or trace options; nothing written), 6 trace overflowed\n"
	"with --fail-on-overflow.\n";

void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "cstrace: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'cstrace --help'.\n");
}
