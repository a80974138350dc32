/* For the decoder's unit tests: feed a whole buffer the way the server
 * and cstrace do, in pieces, resuming after every pause. */
#ifndef TESTSUITE_UNIT_DECODE_FEED_H
#define TESTSUITE_UNIT_DECODE_FEED_H

#include "etm/decode.h"

/* Feed DATA in CHUNK-byte pieces (resuming after pauses), then end. */
static inline enum etm_decode_status feed_all(struct etm_decoder *dec, const uint8_t *data,
					      size_t len, size_t chunk)
{
	size_t off = 0;
	enum etm_decode_status st = ETM_DECODE_OK;
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk, used = 0;
		st = etm_decoder_feed(dec, data + off, n, &used);
		if (st == ETM_DECODE_ERROR)
			return st;
		off += used;
	}
	while ((st = etm_decoder_end(dec)) == ETM_DECODE_PAUSED)
		;
	return st;
}

#endif
