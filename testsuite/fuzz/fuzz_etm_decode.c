/* libFuzzer harness for the trace decode path (etm/decode.c, etm/snapshot.c).
 *
 * Input byte 0 picks a target: a real snapshot's configuration and memory
 * images (ETMv4 formatted, ETMv3+PTM formatted, PTM raw, ETE raw, ETMv3
 * capture with ELF), fed the rest of the input as its trace, in chunk sizes
 * and with pauses taken from byte 1; or the ini parser. Build and run:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *     testsuite/fuzz/fuzz_etm_decode.c etm/decode.c etm/snapshot.c \
 *     -lopencsd_c_api -lopencsd -lelf -lpthread -o build-fuzz/fuzz_etm_decode
 *   mkdir -p build-fuzz/corpus && S=../shared/testdata/opencsd-snapshots/snapshots
 *   printf '\0\0' | cat - $S/juno_r1_1/cstrace.bin > build-fuzz/corpus/etmv4
 *   printf '\1\0' | cat - $S/TC2/cstrace.bin > build-fuzz/corpus/etmv3-ptm
 *   CSG_SHARED=../shared build-fuzz/fuzz_etm_decode -max_total_time=60 build-fuzz/corpus
 *
 * CSG_SHARED (default ../shared beside the tree) locates the snapshots. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etm/decode.h"
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
const char *__asan_default_options(void);

/* Full stacks for leaks, so the suppression of OpenCSD 1.3.3's own leak
 * (see etm/decode.c) matches through libstdc++'s frames. */
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *shared = getenv("CSG_SHARED") ? getenv("CSG_SHARED") : "../shared";
	char path[1024], err[512];
	(void)argc, (void)argv;
	for (size_t i = 0; i < NTARGETS; i++) {
		snprintf(path, sizeof(path), "%s/testdata/%s", shared, targets[i]);
		snaps[i] = etm_snapshot_load(path, err, sizeof(err));
		if (!snaps[i]) {
			fprintf(stderr, "fuzz_etm_decode: %s (set CSG_SHARED)\n", err);
			exit(1);
		}
	}
	return 0;
}

struct sink {
	unsigned pause_mask;
	unsigned count;
	uint64_t sum;
};

static int on_elem(void *ctx, const struct etm_elem *e)
{
	struct sink *s = ctx;
	/* Touch what the element carries, so bad values are noticed. */
	s->sum += e->start ^ e->end ^ e->num_insns ^ e->kind ^ e->trace_id;
	if (e->message)
		s->sum += strlen(e->message);
	return s->pause_mask && (++s->count & s->pause_mask) == 0;
}

static void quiet(void *ctx, const char *msg)
{
	(void)ctx, (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned target = data[0] % (NTARGETS + 1), knobs = data[1];
	data += 2;
	size -= 2;

	if (target == NTARGETS) {
		struct etm_ini ini;
		char err[256];
		if (etm_ini_parse((const char *)data, size, "fuzz.ini", &ini, err, sizeof(err)) == 0) {
			uint32_t v;
			const struct etm_ini_section *s = ini.nsections ? &ini.sections[0] : NULL;
			etm_ini_reg(s, "TRCIDR0", &v);
			etm_ini_free(&ini);
		}
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
	while (off < size) {
		size_t used = 0, n = size - off < chunk ? size - off : chunk;
		enum etm_decode_status st = etm_decoder_feed(dec, data + off, n, &used);
		if (st == ETM_DECODE_ERROR)
			break;
		if (used > n)
			abort();
		off += used;
	}
	for (int i = 0; i < 1000000 && etm_decoder_end(dec) == ETM_DECODE_PAUSED; i++)
		;
	etm_decoder_free(dec);
	return 0;
}
