#ifndef MOOR_CZLIB_SHIM_H
#define MOOR_CZLIB_SHIM_H

/* zlib for MoorImages' gzip decompression of `docker import` tarballs.
 * inflateInit2 is a macro in zlib.h, which Swift cannot call, so the shim
 * wraps it in a function. */
#include <zlib.h>

static inline int moor_inflate_init_gzip(z_stream *stream) {
    /* 15 + 16: the largest window, and expect a gzip header and trailer. */
    return inflateInit2(stream, 15 + 16);
}

/* For the json-file and local log drivers' `compress` option: gzip output
 * (15 + 16: the largest window, with a gzip header and trailer) at zlib's
 * default level and memory use, as gzip(1) and Go's gzip writer produce.
 * deflateInit2 is a macro too. */
static inline int moor_deflate_init_gzip(z_stream *stream) {
    return deflateInit2(stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

#endif
