#include "protocol/dispatch.h"

#include <string.h>

const struct packet_handler *
dispatch_find(const struct packet_handler *table, size_t count,
	      const char *pkt, size_t len, const char **args)
{
	const struct packet_handler *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(table[i].name);
		if (n > len || memcmp(table[i].name, pkt, n) != 0)
			continue;
		if (table[i].exact && n != len)
			continue;
		if (!best || n > best_len) {
			best = &table[i];
			best_len = n;
		}
	}
	if (best)
		*args = pkt + best_len;
	return best;
}
