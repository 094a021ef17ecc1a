#include "moor_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void format_into(moor_err_t *err, const char *fmt, va_list ap)
{
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int moor_fail(moor_err_t *err, int code, const char *fmt, ...)
{
    if (code <= 0)
        code = EIO;
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        format_into(err, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return -code;
}

int moor_fail_errno(moor_err_t *err, const char *fmt, ...)
{
    int code = errno != 0 ? errno : EIO;
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        format_into(err, fmt, ap);
        va_end(ap);
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof(err->msg) - used, ": %s", strerror(code));
        err->code = code;
    }
    return -code;
}

int moor_err_wrap(moor_err_t *err, const char *fmt, ...)
{
    if (err == NULL)
        return -EIO;
    char prefix[MOOR_ERR_MSG_MAX];
    char old[MOOR_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
    if (err->code <= 0)
        err->code = EIO;
    return -err->code;
}

void moor_err_clear(moor_err_t *err)
{
    if (err != NULL) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}
