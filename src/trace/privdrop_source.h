/* git roar under sudo (util/privdrop.h): the eBPF source's kernel-side calls as root. */
#ifndef ROAR_TRACE_PRIVDROP_SOURCE_H
#define ROAR_TRACE_PRIVDROP_SOURCE_H

#include "trace/collector.h"

/* Makes `s`'s start, stop and free (the calls that update or tear down kernel state)
 * run as root; read and lost use only memory mapped at load. A no-op when not active. */
void roar_privdrop_wrap_source(roar_trace_source *s);

#endif
