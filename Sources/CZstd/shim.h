#ifndef MOOR_CZSTD_SHIM_H
#define MOOR_CZSTD_SHIM_H

/* libzstd for MoorImages' zstd decompression of `docker load` archives and
 * of OCI layers (application/vnd.oci.image.layer.v1.tar+zstd); Debian:
 * libzstd-dev. Only the stable streaming API is used. */
#include <zstd.h>

#endif
