/* Inferior for the memory-dump bench: a 16 MiB buffer with a known CRC-32,
 * so the bench can check that the dumped bytes are the real ones. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define BENCH_BUF_SIZE (16u << 20)

unsigned char *bench_buf;
size_t bench_buf_size = BENCH_BUF_SIZE;
volatile uint32_t bench_buf_crc;

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	static uint32_t table[256];
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	uint32_t crc = 0xffffffffu;
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* The bench stops here, with the buffer filled and resident. */
__attribute__((noinline)) void bench_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	bench_buf = malloc(BENCH_BUF_SIZE);
	if (!bench_buf)
		return 1;
	/* Not compressible and not periodic within a packet. */
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (size_t i = 0; i < BENCH_BUF_SIZE; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		bench_buf[i] = (unsigned char)x;
	}
	bench_buf_crc = crc32_of(bench_buf, BENCH_BUF_SIZE);
	bench_ready();
	free(bench_buf);
	return 0;
}
