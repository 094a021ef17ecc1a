#include "moor_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void moor_close(int *fd)
{
    if (fd != NULL && *fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
        *fd = -1;
    }
}

void moor_closep(int *fd) { moor_close(fd); }

void moor_freep(void *ptr)
{
    void **p = ptr;
    free(*p);
    *p = NULL;
}

int moor_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t moor_read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int moor_write_file(const char *path, const char *data, size_t len, moor_err_t *err)
{
    int fd moor_cleanup_close = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return moor_fail_errno(err, "open `%s` for writing", path);
    int ret = moor_write_all(fd, data, len);
    if (ret < 0) {
        errno = -ret;
        return moor_fail_errno(err, "write `%s`", path);
    }
    return 0;
}

int moor_read_file(const char *path, char *buf, size_t cap, size_t *out_len, moor_err_t *err)
{
    int fd moor_cleanup_close = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return moor_fail_errno(err, "open `%s`", path);
    ssize_t n = moor_read_all(fd, buf, cap - 1);
    if (n < 0) {
        errno = (int)-n;
        return moor_fail_errno(err, "read `%s`", path);
    }
    buf[n] = '\0';
    if (out_len != NULL)
        *out_len = (size_t)n;
    return 0;
}

int moor_read_file_alloc(const char *path, char **out, size_t *out_len, moor_err_t *err)
{
    int fd moor_cleanup_close = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return moor_fail_errno(err, "open `%s`", path);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return moor_fail(err, ENOMEM, "read `%s`: out of memory", path);
    for (;;) {
        if (len + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                return moor_fail(err, ENOMEM, "read `%s`: out of memory", path);
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            free(buf);
            errno = saved;
            return moor_fail_errno(err, "read `%s`", path);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    if (out_len != NULL)
        *out_len = len;
    return 0;
}

int moor_mkdir_p(const char *path, mode_t mode, moor_err_t *err)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(buf))
        return moor_fail(err, ENAMETOOLONG, "mkdir `%s`: bad path length", path);
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return moor_fail_errno(err, "mkdir `%s`", buf);
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    return 0;
}

int moor_write_file_atomic(const char *path, const char *data, size_t len, moor_err_t *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
        return moor_fail(err, ENAMETOOLONG, "write `%s`: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return moor_fail_errno(err, "create `%s`", tmp);
    int ret = moor_write_all(fd, data, len);
    if (ret == 0 && fsync(fd) < 0)
        ret = -errno;
    if (close(fd) < 0 && ret == 0)
        ret = -errno;
    if (ret < 0) {
        unlink(tmp);
        errno = -ret;
        return moor_fail_errno(err, "write `%s`", tmp);
    }
    if (rename(tmp, path) < 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return moor_fail_errno(err, "rename `%s` to `%s`", tmp, path);
    }
    /* fsync the directory so the rename itself survives a crash. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return moor_fail_errno(err, "open directory `%s`", dir);
    if (fsync(dfd) < 0) {
        int saved = errno;
        close(dfd);
        errno = saved;
        return moor_fail_errno(err, "fsync directory `%s`", dir);
    }
    close(dfd);
    return 0;
}

uint64_t moor_now_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t moor_now_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
