#include "protocol/qxfer.h"

#include <stdint.h>
#include <string.h>

#include "common/hex.h"
#include "protocol/escape.h"
#include "protocol/packet.h"

bool xfer_split_annex(const char *args, size_t len, char *annex, size_t annex_size,
		      const char **range, size_t *range_len)
{
	const char *colon = NULL;
	for (size_t i = len; i > 0 && !colon; i--)
		if (args[i - 1] == ':')
			colon = args + i - 1;
	if (!colon || (size_t)(colon - args) >= annex_size)
		return false;
	memcpy(annex, args, (size_t)(colon - args));
	annex[colon - args] = '\0';
	*range = colon + 1;
	*range_len = (size_t)(args + len - *range);
	return true;
}

int xfer_parse_range(const char *args, size_t len,
		     unsigned long long *offset, unsigned long long *length)
{
	const char *p = args, *end = args + len;
	uint64_t off, n;
	if (!hex_parse_u64_sep(&p, end, ',', &off) || !hex_parse_u64(&p, end, &n) || p != end)
		return -1;
	*offset = off;
	*length = n;
	return 0;
}

int xfer_reply(struct buf *reply, const char *doc, size_t doc_len,
	       const char *args, size_t args_len)
{
	unsigned long long off, n;
	if (xfer_parse_range(args, args_len, &off, &n) < 0)
		return -1;
	if (off >= doc_len) {
		buf_putc(reply, 'l');
		return 0;
	}
	/* A length beyond what one packet holds gets one packet's worth, as
	 * gdbserver does, however much the client asked for. */
	if (n > RSP_PACKET_SIZE - 1)
		n = RSP_PACKET_SIZE - 1;
	size_t avail = doc_len - (size_t)off;
	size_t take = bin_escape_fit(doc + off, avail, n);
	buf_putc(reply, take < avail ? 'm' : 'l');
	bin_escape(reply, doc + off, take);
	return 0;
}
