#ifndef MOOR_CLZMA_SHIM_H
#define MOOR_CLZMA_SHIM_H

/* liblzma for MoorImages' xz decompression of `docker load` archives and
 * their layers (Debian: liblzma-dev). LZMA_STREAM_INIT is a macro Swift
 * cannot use (a zeroed lzma_stream is the same value), and the decoder flags
 * are function-like macros, so the shim starts the decoder. */
#include <lzma.h>

/* A .xz decoder that reads concatenated streams as one (as xz(1) does),
 * refusing to use more than `memlimit` bytes of memory. */
static inline lzma_ret moor_lzma_stream_decoder(lzma_stream *stream, uint64_t memlimit) {
    return lzma_stream_decoder(stream, memlimit, LZMA_CONCATENATED);
}

#endif
