/*
 * The exit record (moor_exit.h): written durably the moment a process is
 * reaped, read back by whoever was not there to see it.
 */
#include "moor_exit.h"
#include "moor_util.h"
#include "config-json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* Bigger than any record we write; a bigger file is not ours. */
#define EXIT_RECORD_MAX 4096

void moor_exit_from_status(moor_exit_t *ex, int status)
{
    if (WIFSIGNALED(status)) {
        ex->signal = WTERMSIG(status);
        ex->exit_code = 128 + ex->signal;
    } else if (WIFEXITED(status)) {
        ex->signal = 0;
        ex->exit_code = WEXITSTATUS(status);
    } else {
        /* Not an end (stopped, continued): waitpid without WUNTRACED never says so. */
        ex->signal = 0;
        ex->exit_code = 255;
    }
}

int moor_exit_write(const char *path, const moor_exit_t *ex, moor_err_t *err)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf),
                     "{\"pid\":%d,\"exit_code\":%d,\"signal\":%d,\"oom_killed\":%s,"
                     "\"started_ns\":%" PRIu64 ",\"finished_ns\":%" PRIu64 "}\n",
                     (int)ex->pid, ex->exit_code, ex->signal, ex->oom_killed ? "true" : "false",
                     ex->started_ns, ex->finished_ns);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return moor_fail(err, EOVERFLOW, "exit record `%s`: does not fit", path);
    int ret = moor_write_file_atomic(path, buf, (size_t)n, err);
    if (ret < 0)
        moor_err_wrap(err, "exit record");
    return ret;
}

/* obj[key] must be an integer within [lo, hi]. */
static int get_int(cj_ctx_t *c, json_object *obj, const char *key, int64_t lo, int64_t hi,
                   int64_t *out)
{
    int ret = cj_get_int64(c, obj, key, out);
    if (ret == 0)
        return cj_missing(c, key);
    if (ret < 0)
        return ret;
    if (*out < lo || *out > hi) {
        size_t mark = cj_push_key(c, key);
        ret = cj_fail(c, EINVAL, "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", *out,
                      lo, hi);
        cj_pop(c, mark);
    }
    return ret < 0 ? ret : 0;
}

static int get_time(cj_ctx_t *c, json_object *obj, const char *key, uint64_t *out)
{
    int ret = cj_get_uint64(c, obj, key, out);
    if (ret == 0)
        return cj_missing(c, key);
    return ret < 0 ? ret : 0;
}

static int get_bool(cj_ctx_t *c, json_object *obj, const char *key, bool *out)
{
    int ret = cj_get_bool(c, obj, key, out);
    if (ret == 0)
        return cj_missing(c, key);
    return ret < 0 ? ret : 0;
}

static int parse_fields(cj_ctx_t *c, json_object *doc, moor_exit_t *ex)
{
    int64_t pid, code, sig;
    int ret = get_int(c, doc, "pid", 1, INT_MAX, &pid);
    if (ret == 0)
        ret = get_int(c, doc, "exit_code", 0, 255, &code);
    if (ret == 0)
        ret = get_int(c, doc, "signal", 0, 127, &sig);
    if (ret == 0 && sig != 0 && code != 128 + sig) {
        size_t mark = cj_push_key(c, "exit_code");
        ret = cj_fail(c, EINVAL, "%" PRId64 " does not match signal %" PRId64 " (must be %" PRId64 ")",
                      code, sig, 128 + sig);
        cj_pop(c, mark);
    }
    if (ret == 0)
        ret = get_bool(c, doc, "oom_killed", &ex->oom_killed);
    if (ret == 0)
        ret = get_time(c, doc, "started_ns", &ex->started_ns);
    if (ret == 0)
        ret = get_time(c, doc, "finished_ns", &ex->finished_ns);
    if (ret < 0)
        return ret;
    ex->pid = (pid_t)pid;
    ex->exit_code = (int)code;
    ex->signal = (int)sig;
    return 0;
}

int moor_exit_read(const char *path, moor_exit_t *ex, moor_err_t *err)
{
    char buf[EXIT_RECORD_MAX + 1];
    size_t len = 0;
    memset(ex, 0, sizeof(*ex));
    int ret = moor_read_file(path, buf, sizeof(buf), &len, err);
    if (ret < 0) {
        moor_err_wrap(err, "exit record");
        return ret;
    }
    if (len == EXIT_RECORD_MAX)
        return moor_fail(err, EFBIG, "exit record `%s`: larger than %d bytes", path, EXIT_RECORD_MAX);
    char source[PATH_MAX + 16];
    snprintf(source, sizeof(source), "exit record `%s`", path);
    cj_ctx_t c = {.err = err, .source = source};
    json_object *doc = NULL;
    if ((ret = cj_parse_document(&c, buf, len, &doc)) < 0)
        return ret;
    moor_exit_t parsed = {0};
    ret = parse_fields(&c, doc, &parsed);
    json_object_put(doc);
    if (ret == 0)
        *ex = parsed;
    return ret;
}
