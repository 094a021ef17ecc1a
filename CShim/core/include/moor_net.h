/* Network setup the shim does inside a new network namespace. */
#ifndef MOOR_NET_H
#define MOOR_NET_H

#include "moor_error.h"

/* Bring `lo` up in the calling process's network namespace. */
int moor_net_loopback_up(moor_err_t *err);

#endif
