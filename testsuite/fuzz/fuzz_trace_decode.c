/* libFuzzer harness: trace decode through the decoder child (etm/decode.c,
 * decode_child.c, decode_wire.c), the way cstrace decode and the server
 * decode. OpenCSD's own crashes happen in the child and must come back as
 * one error; what this looks for is our side going wrong: the parent
 * crashing, leaking, hanging, or breaking the API's promises.
 *
 * Input byte 0 picks a target: a real snapshot's configuration and memory
 * images (ETMv4 formatted, ETMv3+PTM formatted, PTM raw, ETE raw, ETMv3
 * capture with ELF), or the juno ETMv4 units decoding with memory through
 * a callback (the parent answers the child's requests, as for /proc/PID/mem);
 * the rest of the input is the trace, fed in chunk sizes and with pauses
 * taken from byte 1. `make fuzz` runs it (testsuite/fuzz/run.sh).
 *
 * CSG_SHARED (default ../shared beside the tree) locates the snapshots. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etm/decode.h"
#include "etm/ranges.h"
#include "etm/snapshot.h"

static const char *const targets[] = {
	"opencsd-snapshots/snapshots/juno_r1_1",          /* ETMv4, formatted, 6 IDs */
	"opencsd-snapshots/snapshots/TC2",                /* ETMv3 + PTM, formatted */
	"opencsd-snapshots/snapshots/tc2-ptm-rstk-t32",   /* PTM raw, Thumb-2 */
	"opencsd-snapshots/snapshots-ete/ete_spec_1",     /* ETE raw */
	"etmv3-cortex-r5/freertos",                       /* ETMv3 capture, ELF memory */
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

static struct etm_snapshot *snaps[NTARGETS];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Called once by libFuzzer and by replay_main.c before any input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *shared = getenv("CSG_SHARED") ? getenv("CSG_SHARED") : "../shared";
	char path[1024], err[512];
	(void)argc, (void)argv;
	for (size_t i = 0; i < NTARGETS; i++) {
		snprintf(path, sizeof(path), "%s/testdata/%s", shared, targets[i]);
		snaps[i] = etm_snapshot_load(path, err, sizeof(err));
		if (!snaps[i]) {
			fprintf(stderr, "fuzz_trace_decode: %s (set CSG_SHARED)\n", err);
			exit(1);
		}
	}
	return 0;
}

struct sink {
	unsigned pause_mask;
	unsigned count;
	uint64_t sum;
	unsigned lost;          /* "decode of this trace stopped" errors */
	bool after_lost;        /* an element came after one */
};

static int on_elem(void *ctx, const struct etm_elem *e)
{
	struct sink *s = ctx;
	/* Touch what the element carries, so bad values are noticed. */
	s->sum += e->start ^ e->end ^ e->num_insns ^ e->kind ^ e->trace_id;
	if (s->lost)
		s->after_lost = true;
	if (e->kind == ETM_ELEM_ERROR && e->message) {
		s->sum += strlen(e->message);
		if (strstr(e->message, "decode of this trace stopped"))
			s->lost++;
	}
	return s->pause_mask && (++s->count & s->pause_mask) == 0;
}

static void quiet(void *ctx, const char *msg)
{
	(void)ctx, (void)msg;
}

/* Program memory for the callback target: a fixed pattern of NOPs and
 * branches, so the decoder walks somewhere. */
static uint32_t pattern_mem(void *ctx, uint64_t addr, uint32_t len, uint8_t *buf)
{
	(void)ctx;
	static const uint8_t insns[8] = {0x1f, 0x20, 0x03, 0xd5, 0x02, 0x00, 0x00, 0x14};
	if (addr > 0x100000)
		return 0;
	for (uint32_t i = 0; i < len; i++)
		buf[i] = insns[(addr + i) & 7];
	return len;
}

static void decode_with_callback(const uint8_t *data, size_t size)
{
	struct etm_cpu_regs units[8];
	size_t n = 0;
	for (size_t i = 0; i < snaps[0]->nsources && n < 8; i++) {
		char why[256];
		if (etm_snapshot_source_config(snaps[0], &snaps[0]->sources[i], &units[n], why, sizeof why) == 0)
			n++;
	}
	struct trace_ranges tr;
	char err[256];
	trace_ranges_init(&tr, 1 << 16);
	etm_ranges_decode(units, n, true, data, size, pattern_mem, NULL, &tr, err, sizeof err);
	trace_ranges_free(&tr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned target = data[0] % (NTARGETS + 1), knobs = data[1];
	data += 2;
	size -= 2;

	if (target == NTARGETS) {
		decode_with_callback(data, size);
		return 0;
	}
	char err[512];
	struct etm_decoder *dec = etm_snapshot_decoder(snaps[target], 0, -1, quiet, NULL, NULL,
						       err, sizeof(err));
	if (!dec)
		abort();        /* the real snapshots always set up */
	struct sink sink = {.pause_mask = (knobs & 0x80) ? (knobs & 7) : 0};
	size_t chunk = (size_t)16 << (knobs & 0x0f), off = 0;
	etm_decoder_set_recover(dec, (knobs & 0x40) == 0);
	etm_decoder_set_output(dec, on_elem, &sink);
	enum etm_decode_status st = ETM_DECODE_OK;
	while (off < size) {
		size_t used = 0, n = size - off < chunk ? size - off : chunk;
		st = etm_decoder_feed(dec, data + off, n, &used);
		if (st == ETM_DECODE_ERROR)
			break;
		if (used > n)
			abort();
		off += used;
	}
	if (st != ETM_DECODE_ERROR)
		for (int i = 0; i < 1000000 && (st = etm_decoder_end(dec)) == ETM_DECODE_PAUSED; i++)
			;
	/* A lost child is said once, last, and the decoder stays failed. */
	if (sink.lost > 1 || sink.after_lost)
		abort();
	if (sink.lost && (etm_decoder_end(dec) != ETM_DECODE_ERROR ||
			  !strstr(etm_decoder_error(dec), "decode of this trace stopped")))
		abort();
	etm_decoder_free(dec);
	return 0;
}
