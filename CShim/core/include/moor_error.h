/*
 * Error contract of the shim (crun's shape): a fallible function returns a
 * negative errno (or -MOOR_E*) and fills a moor_err_t naming what failed,
 * which container and which path. Library code never exits.
 */
#ifndef MOOR_ERROR_H
#define MOOR_ERROR_H

#include <stddef.h>

#define MOOR_ERR_MSG_MAX 1024

typedef struct moor_err {
    int code;                    /* positive errno, 0 when no error */
    char msg[MOOR_ERR_MSG_MAX];  /* human readable, names the thing */
} moor_err_t;

/* Fill `err` with `code` and a formatted message; returns -code. */
int moor_fail(moor_err_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like moor_fail with code = errno, appending ": strerror(errno)". */
int moor_fail_errno(moor_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefix an existing error message with more context: "ctx: old". */
int moor_err_wrap(moor_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void moor_err_clear(moor_err_t *err);

#endif
