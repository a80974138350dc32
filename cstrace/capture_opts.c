/* The capture's options: see capture_opts.h. */
#include "cstrace/capture_opts.h"

#include <string.h>

void capture_opts_init(struct capture_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->format = "auto";
	o->drain_ms = 100;
	o->connect_timeout_ms = 5000;
	o->reply_timeout_ms = 30000;
	o->memory = true;
}
