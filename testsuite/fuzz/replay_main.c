/* A fuzz harness without libFuzzer: its seed corpus replayed through
 * LLVMFuzzerTestOneInput, so that `make check-unit` runs every harness's
 * corpus (testsuite/fuzz/seeds/NAME/ for build/unit/replay_NAME) with any
 * compiler, under the normal and the ASan build, in seconds. `make fuzz`
 * explores with libFuzzer (testsuite/fuzz/run.sh).
 *   replay_NAME [FILE_OR_DIR...]    (default: the seeds of NAME) */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_SEEDS_DIR
#define FUZZ_SEEDS_DIR "testsuite/fuzz/seeds"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replayed, unreadable;

static void replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: not a readable file\n", path);
		unreadable++;
		if (f)
			fclose(f);
		return;
	}
	/* a copy of its own size, so ASan sees any read past the input */
	uint8_t *data = malloc(st.st_size ? (size_t)st.st_size : 1);
	size_t n = data ? fread(data, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (!data || n != (size_t)st.st_size) {
		fprintf(stderr, "%s: read failed\n", path);
		unreadable++;
		free(data);
		return;
	}
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	replayed++;
}

static void replay(const char *path)
{
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		replay_file(path);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", path, names[i]->d_name);
			replay_file(p);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *name = strncmp(base, "replay_", 7) ? base : base + 7;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay(argv[i]);
	} else {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/%s", FUZZ_SEEDS_DIR, name);
		replay(dir);
	}
	/* no seed at all is a failure too: the corpus is part of the test */
	printf("replay_%s: %d passed, %d failed\n", name, replayed, unreadable + !replayed);
	return unreadable || !replayed;
}
