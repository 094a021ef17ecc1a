/* Small checked file-system helpers shared by the shim's subsystems. */
#ifndef MOOR_UTIL_H
#define MOOR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "moor_error.h"

/* close() that keeps errno and tolerates -1; sets *fd to -1. */
void moor_close(int *fd);
/* Cleanup attribute: int fd __attribute__((cleanup(moor_closep))) = -1; */
void moor_closep(int *fd);
void moor_freep(void *ptr);
#define moor_cleanup_close __attribute__((cleanup(moor_closep)))
#define moor_cleanup_free __attribute__((cleanup(moor_freep)))

/* write()/read() the whole buffer, retrying EINTR and short transfers. */
int moor_write_all(int fd, const void *buf, size_t len);
ssize_t moor_read_all(int fd, void *buf, size_t len);

/* Write `data` to `path` (O_WRONLY|O_TRUNC|O_CREAT 0644 unless exists). */
int moor_write_file(const char *path, const char *data, size_t len, moor_err_t *err);
/* Read a whole small file (< cap bytes) into buf, NUL terminated. */
int moor_read_file(const char *path, char *buf, size_t cap, size_t *out_len, moor_err_t *err);
/* Read a whole file of any size into a malloc'd NUL-terminated buffer. */
int moor_read_file_alloc(const char *path, char **out, size_t *out_len, moor_err_t *err);
/* mkdir -p with `mode` for the directories created. */
int moor_mkdir_p(const char *path, mode_t mode, moor_err_t *err);
/* Write `data` atomically: temp file, fsync, rename, fsync of the directory. */
int moor_write_file_atomic(const char *path, const char *data, size_t len, moor_err_t *err);

uint64_t moor_now_realtime_ns(void);
uint64_t moor_now_monotonic_ns(void);

#endif
