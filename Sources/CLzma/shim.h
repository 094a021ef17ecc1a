#ifndef MOOR_CLZMA_SHIM_H
#define MOOR_CLZMA_SHIM_H

/* liblzma for MoorImages' xz decompression of `docker load` archives and
 * their layers (Debian: liblzma-dev). LZMA_STREAM_INIT is a macro Swift
 * cannot use; a zeroed lzma_stream is the same value. */
#include <lzma.h>

#endif
