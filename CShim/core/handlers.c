/* One handler per control message; each checks its payload's size first. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "moor_shim.h"
#include "moor_memory.h"
#include "moor_util.h"
#include "shim-control.h"
#include "shim-internal.h"

#define REPLY(type) ((uint16_t)((type) | MOOR_MSG_REPLY_BIT))

uint32_t shim_encode_state(shim_t *sh, const shim_proc_t *p, uint8_t *out)
{
    (void)sh;
    memset(out, 0, STATE_BLOCK_SIZE);
    put_u32(out, p->id);
    put_u32(out + 4, (uint32_t)p->status);
    put_u32(out + 8, (uint32_t)p->pid);
    put_u32(out + 12, (uint32_t)(p->reaped ? p->exit.exit_code : 0));
    put_u32(out + 16, (uint32_t)(p->reaped ? p->exit.signal : 0));
    uint32_t flags = (p->exit.oom_killed ? 1u : 0) | (p->terminal ? 2u : 0) | (p->stdin_fd >= 0 ? 4u : 0);
    put_u32(out + 20, flags);
    put_u64(out + 24, p->exit.started_ns);
    put_u64(out + 32, p->reaped ? p->exit.finished_ns : 0);
    put_u64(out + 40, moor_spool_first_seq(&p->spool));
    put_u64(out + 48, p->spool.next_seq);
    put_u64(out + 56, p->spool.acked_seq);
    put_u64(out + 64, p->spool.total_bytes);
    put_u64(out + 72, p->spool.lost_bytes_total);
    return STATE_BLOCK_SIZE;
}

typedef struct request {
    shim_t *sh;
    int client;
    uint16_t type;
    uint32_t id;
    const uint8_t *p;
    uint32_t len;
} request_t;

static void reply_empty(request_t *r) { shim_send(r->sh, r->client, REPLY(r->type), r->id, NULL, 0); }
static void reply_err(request_t *r, int code, const char *msg)
{
    shim_send_error(r->sh, r->client, r->id, code, msg);
}

/* Payload too short for its type, or the process id unknown: say which. */
static shim_proc_t *need_proc(request_t *r, uint32_t min_len)
{
    char msg[128];
    if (r->len < min_len) {
        snprintf(msg, sizeof(msg), "message type %u: payload of %u bytes, need %u", r->type, r->len,
                 min_len);
        reply_err(r, EINVAL, msg);
        return NULL;
    }
    uint32_t id = get_u32(r->p);
    shim_proc_t *p = shim_proc_get(r->sh, id);
    if (p == NULL) {
        snprintf(msg, sizeof(msg), "no process %u in container %s", id, r->sh->opt.id);
        reply_err(r, ESRCH, msg);
    }
    return p;
}

static void on_hello(request_t *r)
{
    uint8_t *out = shim_reply_payload();
    put_u16(out, MOOR_PROTO_MAJOR);
    put_u16(out + 2, MOOR_PROTO_MINOR);
    put_u32(out + 4, (uint32_t)getpid());
    put_u32(out + 8, (uint32_t)r->sh->procs[0].pid);
    int n = snprintf((char *)out + 12, 64, "moor-shim %s", MOOR_SHIM_VERSION);
    shim_send(r->sh, r->client, REPLY(r->type), r->id, out, (uint32_t)(12 + n));
}

static void on_state(request_t *r)
{
    shim_proc_t *p = need_proc(r, 4);
    if (p == NULL)
        return;
    uint8_t *out = shim_reply_payload();
    shim_send(r->sh, r->client, REPLY(r->type), r->id, out, shim_encode_state(r->sh, p, out));
}

static int signal_all(shim_t *sh, int sig)
{
    pid_t pids[1024];
    moor_err_t err;
    int n = sh->cgroup.ops->pids(&sh->cgroup, pids, 1024, &err);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++)
        kill(pids[i], sig);
    return 0;
}

static void on_signal(request_t *r)
{
    shim_proc_t *p = need_proc(r, 12);
    if (p == NULL)
        return;
    int sig = (int)get_u32(r->p + 4);
    uint32_t flags = get_u32(r->p + 8);
    char msg[128];
    if (sig <= 0 || sig >= NSIG) {
        snprintf(msg, sizeof(msg), "invalid signal %d", sig);
        return reply_err(r, EINVAL, msg);
    }
    if (p->reaped) {
        snprintf(msg, sizeof(msg), "process %u of container %s is not running", p->id, r->sh->opt.id);
        return reply_err(r, ESRCH, msg);
    }
    int ret = (flags & MOOR_SIGNAL_ALL) && p->id == MOOR_PROCESS_INIT ? signal_all(r->sh, sig)
              : kill(p->pid, sig) < 0                                 ? -errno
                                                                      : 0;
    if (ret < 0) {
        snprintf(msg, sizeof(msg), "signal %d to pid %d: %s", sig, p->pid, strerror(-ret));
        return reply_err(r, -ret, msg);
    }
    reply_empty(r);
}

static void on_stdin_write(request_t *r)
{
    shim_proc_t *p = need_proc(r, 4);
    if (p == NULL)
        return;
    if (p->stdin_fd < 0)
        return reply_err(r, EPIPE, "stdin is closed or was not requested");
    uint32_t accepted = 0;
    if (r->len > 4) {
        ssize_t n = write(p->stdin_fd, r->p + 4, r->len - 4);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            char msg[128];
            snprintf(msg, sizeof(msg), "write to stdin of process %u: %s", p->id, strerror(errno));
            return reply_err(r, errno, msg);
        }
        accepted = n > 0 ? (uint32_t)n : 0;
    }
    uint8_t *out = shim_reply_payload();
    put_u32(out, accepted);
    shim_send(r->sh, r->client, REPLY(r->type), r->id, out, 4);
}

static void on_stdin_close(request_t *r)
{
    shim_proc_t *p = need_proc(r, 4);
    if (p == NULL)
        return;
    if (p->terminal && p->stdin_fd >= 0) {
        /* A terminal has no half-close: send the EOF character instead. */
        if (write(p->stdin_fd, "\x04", 1) < 0)
            shim_log("process %u: EOF to the terminal: %s", p->id, strerror(errno));
    } else
        moor_close(&p->stdin_fd);
    reply_empty(r);
}

/* u32 process, u32 max_bytes, u64 from_seq [, u32 wait_ms]: a read that
 * finds nothing waits up to wait_ms for output (the field is optional). */
static void on_spool_read(request_t *r)
{
    shim_proc_t *p = need_proc(r, 16);
    if (p == NULL)
        return;
    uint32_t max = get_u32(r->p + 4);
    uint64_t from = get_u64(r->p + 8);
    uint32_t wait_ms = r->len >= 20 ? get_u32(r->p + 16) : 0;
    if (shim_spool_should_park(p, from, wait_ms))
        shim_park_spool_read(r->sh, r->client, r->id, p, from, max, wait_ms);
    else
        shim_send_spool_batch(r->sh, r->client, r->id, p, from, max, NULL);
}

static void on_spool_ack(request_t *r)
{
    shim_proc_t *p = need_proc(r, 16);
    if (p == NULL)
        return;
    moor_err_t err;
    if (moor_spool_ack(&p->spool, get_u64(r->p + 8), &err) < 0)
        return reply_err(r, err.code, err.msg);
    reply_empty(r);
}

static void on_exec(request_t *r)
{
    if (r->len < 5)
        return reply_err(r, EINVAL, "exec: payload needs flags and a process JSON object");
    uint32_t flags = get_u32(r->p);
    uint32_t id = 0;
    pid_t pid = 0;
    moor_err_t err = {0};
    if (shim_exec_start(r->sh, (const char *)r->p + 4, r->len - 4, flags & MOOR_EXEC_STDIN, &id, &pid,
                        &err) < 0)
        return reply_err(r, err.code, err.msg);
    uint8_t *out = shim_reply_payload();
    put_u32(out, id);
    put_u32(out + 4, (uint32_t)pid);
    shim_send(r->sh, r->client, REPLY(r->type), r->id, out, 8);
    moor_trim_memory(); /* the exec's JSON parsing and fork are one-off work */
}

static void on_resize(request_t *r)
{
    shim_proc_t *p = need_proc(r, 8);
    if (p == NULL)
        return;
    if (!p->terminal || p->stdin_fd < 0)
        return reply_err(r, ENOTTY, "process has no terminal to resize");
    struct winsize ws = {.ws_row = get_u16(r->p + 4), .ws_col = get_u16(r->p + 6)};
    if (ioctl(p->stdin_fd, TIOCSWINSZ, &ws) < 0)
        return reply_err(r, errno, "resize the terminal");
    reply_empty(r);
}

static void on_wait(request_t *r)
{
    shim_proc_t *p = need_proc(r, 4);
    if (p == NULL)
        return;
    if (p->finished) {
        uint8_t *out = shim_reply_payload();
        shim_send(r->sh, r->client, REPLY(r->type), r->id, out, shim_encode_state(r->sh, p, out));
        return;
    }
    for (int i = 0; i < SHIM_MAX_WAITERS; i++) {
        shim_waiter_t *w = &r->sh->waiters[i];
        if (!w->used) {
            *w = (shim_waiter_t){.used = true, .client = r->client, .request = r->id, .process = p->id};
            return;
        }
    }
    reply_err(r, EAGAIN, "too many waiters");
}

static void on_freeze(request_t *r, bool frozen)
{
    shim_t *sh = r->sh;
    moor_err_t err;
    if (sh->procs[0].reaped)
        return reply_err(r, ESRCH, "the container is not running");
    if (sh->cgroup.ops->freeze(&sh->cgroup, frozen, &err) < 0)
        return reply_err(r, err.code, err.msg);
    sh->procs[0].status = frozen ? MOOR_STATUS_PAUSED : MOOR_STATUS_RUNNING;
    reply_empty(r);
}

static void on_shutdown(request_t *r)
{
    shim_t *sh = r->sh;
    uint32_t flags = r->len >= 4 ? get_u32(r->p) : 0;
    if (!sh->procs[0].reaped && !(flags & MOOR_SHUTDOWN_KILL))
        return reply_err(r, EBUSY, "the container is still running");
    reply_empty(r);
    shim_shutdown_and_exit(sh);
}

void shim_dispatch(shim_t *sh, int client, uint16_t type, uint32_t id, const uint8_t *payload,
                   uint32_t len)
{
    request_t r = {.sh = sh, .client = client, .type = type, .id = id, .p = payload, .len = len};
    switch (type) {
    case MOOR_MSG_HELLO: return on_hello(&r);
    case MOOR_MSG_STATE: return on_state(&r);
    case MOOR_MSG_SIGNAL: return on_signal(&r);
    case MOOR_MSG_STDIN_WRITE: return on_stdin_write(&r);
    case MOOR_MSG_STDIN_CLOSE: return on_stdin_close(&r);
    case MOOR_MSG_SPOOL_READ: return on_spool_read(&r);
    case MOOR_MSG_SPOOL_ACK: return on_spool_ack(&r);
    case MOOR_MSG_EXEC: return on_exec(&r);
    case MOOR_MSG_RESIZE: return on_resize(&r);
    case MOOR_MSG_WAIT: return on_wait(&r);
    case MOOR_MSG_PAUSE: return on_freeze(&r, true);
    case MOOR_MSG_RESUME: return on_freeze(&r, false);
    case MOOR_MSG_SHUTDOWN: return on_shutdown(&r);
    default: {
        char msg[64];
        snprintf(msg, sizeof(msg), "unknown message type %u", type);
        reply_err(&r, EPROTO, msg);
    }
    }
}
