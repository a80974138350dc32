/* Text for XML documents (qXfer objects, btrace, target descriptions). */
#ifndef COMMON_XML_H
#define COMMON_XML_H

#include "common/buf.h"

/* Append S with &, <, >, " and ' replaced by entities. */
void xml_escape(struct buf *out, const char *s);

#endif
