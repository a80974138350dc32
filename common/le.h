/* Fields of kernel perf records and perf.data files, which are in the
 * byte order of the machine that wrote them: little-endian on every
 * machine this server runs on (x86_64, aarch64, arm). P need not be
 * aligned. */
#ifndef COMMON_LE_H
#define COMMON_LE_H

#include <stdint.h>
#include <string.h>

static inline uint16_t le16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline uint32_t le32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline uint64_t le64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

#endif
