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

#endif
