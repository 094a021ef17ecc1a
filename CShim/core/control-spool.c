/*
 * SPOOL_READ replies, and the long poll behind them: a read that finds no
 * record and asks to wait is parked until the process writes, finishes, or
 * the wait runs out. The daemon then needs no timer per container, and an
 * idle container costs it nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "moor_util.h"
#include "shim-control.h"
#include "shim-internal.h"

/* Longest wait a reader may ask for; it asks again after. */
#define SPOOL_WAIT_MAX_MS 60000u

int shim_send_spool_batch(shim_t *sh, int client, uint32_t request, shim_proc_t *p,
                          uint64_t from, uint32_t max, size_t *out_len)
{
    if (max == 0 || max > SHIM_MAX_REPLY - 8)
        max = SHIM_MAX_REPLY - 8;
    uint8_t *out = shim_reply_payload();
    size_t got = 0;
    uint64_t next = from;
    moor_err_t err;
    if (moor_spool_read(&p->spool, from, out + 8, max, &got, &next, &err) < 0)
        return shim_send_error(sh, client, request, err.code, err.msg);
    if (out_len != NULL)
        *out_len = got;
    put_u64(out, next);
    return shim_send(sh, client, MOOR_MSG_SPOOL_READ | MOOR_MSG_REPLY_BIT, request, out,
                     (uint32_t)(8 + got));
}

/* Whether a read from `from` would return something now. */
static bool has_records(const shim_proc_t *p, uint64_t from)
{
    uint64_t first = moor_spool_first_seq(&p->spool);
    if (first == 0)
        return false; /* nothing kept */
    /* A read from before the oldest kept record starts at the oldest. */
    uint64_t start = from > first ? from : first;
    return p->spool.next_seq > start;
}

bool shim_spool_should_park(const shim_proc_t *p, uint64_t from, uint32_t wait_ms)
{
    return wait_ms > 0 && !p->finished && !has_records(p, from);
}

int shim_park_spool_read(shim_t *sh, int client, uint32_t request, shim_proc_t *p, uint64_t from,
                         uint32_t max, uint32_t wait_ms)
{
    if (wait_ms > SPOOL_WAIT_MAX_MS)
        wait_ms = SPOOL_WAIT_MAX_MS;
    for (int i = 0; i < SHIM_MAX_WAITERS; i++) {
        shim_spool_waiter_t *w = &sh->spool_waiters[i];
        if (w->used)
            continue;
        *w = (shim_spool_waiter_t){
            .used = true, .client = client, .request = request, .process = p->id,
            .max_bytes = max, .from_seq = from,
            .deadline_ns = moor_now_monotonic_ns() + (uint64_t)wait_ms * 1000000ull,
        };
        return 0;
    }
    /* No slot: answer at once (empty); the reader simply asks again. */
    return shim_send_spool_batch(sh, client, request, p, from, max, NULL);
}

void shim_control_answer_spool_waiters(shim_t *sh, shim_proc_t *p, uint64_t now_ns)
{
    for (int i = 0; i < SHIM_MAX_WAITERS; i++) {
        shim_spool_waiter_t *w = &sh->spool_waiters[i];
        if (!w->used)
            continue;
        shim_proc_t *target = p != NULL ? p : shim_proc_get(sh, w->process);
        if (target == NULL) {
            /* The exec's slot was reused for a newer one. */
            w->used = false;
            shim_send_error(sh, w->client, w->request, ESRCH, "the process is gone");
            continue;
        }
        if (target->id != w->process)
            continue;
        bool due = has_records(target, w->from_seq) || target->finished || now_ns >= w->deadline_ns;
        if (!due)
            continue;
        w->used = false;
        shim_send_spool_batch(sh, w->client, w->request, target, w->from_seq, w->max_bytes, NULL);
    }
}

int shim_control_spool_timeout_ms(shim_t *sh, uint64_t now_ns)
{
    int best = -1;
    for (int i = 0; i < SHIM_MAX_WAITERS; i++) {
        const shim_spool_waiter_t *w = &sh->spool_waiters[i];
        if (!w->used)
            continue;
        uint64_t left = w->deadline_ns > now_ns ? w->deadline_ns - now_ns : 0;
        int ms = (int)((left + 999999ull) / 1000000ull);
        if (best < 0 || ms < best)
            best = ms;
    }
    return best;
}

void shim_control_forget_spool_waiters(shim_t *sh, int client)
{
    for (int i = 0; i < SHIM_MAX_WAITERS; i++)
        if (sh->spool_waiters[i].used && sh->spool_waiters[i].client == client)
            sh->spool_waiters[i].used = false;
}
