/*
 * Capabilities of the container process: names <-> numbers, the bounding
 * set (dropped while still root), and the uid/gid switch that keeps exactly
 * the configured effective/permitted/inheritable/ambient sets.
 */
#include "moor_caps.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "moor_error.h"

/*
 * Our own table rather than cap_to_name(): that one allocates, and names
 * unknown to libcap come back as numbers. Indexed by CAP_* value.
 */
#define CAP_ENTRY(cap) [cap] = #cap
static const char *const cap_names[] = {
    CAP_ENTRY(CAP_CHOWN),            CAP_ENTRY(CAP_DAC_OVERRIDE),  CAP_ENTRY(CAP_DAC_READ_SEARCH),
    CAP_ENTRY(CAP_FOWNER),           CAP_ENTRY(CAP_FSETID),        CAP_ENTRY(CAP_KILL),
    CAP_ENTRY(CAP_SETGID),           CAP_ENTRY(CAP_SETUID),        CAP_ENTRY(CAP_SETPCAP),
    CAP_ENTRY(CAP_LINUX_IMMUTABLE),  CAP_ENTRY(CAP_NET_BIND_SERVICE), CAP_ENTRY(CAP_NET_BROADCAST),
    CAP_ENTRY(CAP_NET_ADMIN),        CAP_ENTRY(CAP_NET_RAW),       CAP_ENTRY(CAP_IPC_LOCK),
    CAP_ENTRY(CAP_IPC_OWNER),        CAP_ENTRY(CAP_SYS_MODULE),    CAP_ENTRY(CAP_SYS_RAWIO),
    CAP_ENTRY(CAP_SYS_CHROOT),       CAP_ENTRY(CAP_SYS_PTRACE),    CAP_ENTRY(CAP_SYS_PACCT),
    CAP_ENTRY(CAP_SYS_ADMIN),        CAP_ENTRY(CAP_SYS_BOOT),      CAP_ENTRY(CAP_SYS_NICE),
    CAP_ENTRY(CAP_SYS_RESOURCE),     CAP_ENTRY(CAP_SYS_TIME),      CAP_ENTRY(CAP_SYS_TTY_CONFIG),
    CAP_ENTRY(CAP_MKNOD),            CAP_ENTRY(CAP_LEASE),         CAP_ENTRY(CAP_AUDIT_WRITE),
    CAP_ENTRY(CAP_AUDIT_CONTROL),    CAP_ENTRY(CAP_SETFCAP),       CAP_ENTRY(CAP_MAC_OVERRIDE),
    CAP_ENTRY(CAP_MAC_ADMIN),        CAP_ENTRY(CAP_SYSLOG),        CAP_ENTRY(CAP_WAKE_ALARM),
    CAP_ENTRY(CAP_BLOCK_SUSPEND),    CAP_ENTRY(CAP_AUDIT_READ),
#ifdef CAP_PERFMON
    CAP_ENTRY(CAP_PERFMON),
#endif
#ifdef CAP_BPF
    CAP_ENTRY(CAP_BPF),
#endif
#ifdef CAP_CHECKPOINT_RESTORE
    CAP_ENTRY(CAP_CHECKPOINT_RESTORE),
#endif
};
#define N_CAP_NAMES ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

/* Masks are 64 bits wide; a (future) cap above that cannot be configured. */
#define MASK_BITS 64

int moor_cap_from_name(const char *name)
{
    if (name == NULL)
        return -EINVAL;
    for (int cap = 0; cap < N_CAP_NAMES && cap <= CAP_LAST_CAP; cap++) {
        if (cap_names[cap] != NULL && strcasecmp(cap_names[cap], name) == 0)
            return cap;
    }
    return -EINVAL;
}

const char *moor_cap_name(int cap)
{
    if (cap < 0 || cap >= N_CAP_NAMES || cap > CAP_LAST_CAP)
        return NULL;
    return cap_names[cap];
}

uint64_t moor_caps_docker_default(void)
{
    static const int defaults[] = {
        CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,     CAP_MKNOD,
        CAP_NET_RAW, CAP_SETGID,      CAP_SETUID,           CAP_SETFCAP,    CAP_SETPCAP,
        CAP_NET_BIND_SERVICE,         CAP_SYS_CHROOT,       CAP_KILL,       CAP_AUDIT_WRITE,
    };
    uint64_t mask = 0;
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        mask |= 1ull << defaults[i];
    return mask;
}

/* "CAP_NET_ADMIN", or "capability 45" for one newer than this table. */
static const char *label(int cap, char *buf, size_t size)
{
    const char *name = moor_cap_name(cap);
    if (name != NULL)
        return name;
    snprintf(buf, size, "capability %d", cap);
    return buf;
}

static bool in_mask(uint64_t mask, int cap)
{
    return cap < MASK_BITS && (mask >> cap & 1) != 0;
}

/* ---- bounding set ---- */

static int drop_bound(int cap, moor_err_t *err)
{
    char buf[32];
    int held = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    /* EINVAL: the kernel does not know this cap, so nothing to drop. */
    if (held < 0 && errno == EINVAL)
        return 0;
    if (held < 0)
        return moor_fail_errno(err, "prctl(PR_CAPBSET_READ, %s)", label(cap, buf, sizeof(buf)));
    if (held == 0)
        return 0;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        return moor_fail_errno(err, "drop %s from the bounding set: prctl(PR_CAPBSET_DROP)",
                               label(cap, buf, sizeof(buf)));
    return 0;
}

int moor_caps_drop_bounding(const moor_caps_t *caps, moor_err_t *err)
{
    if (!caps->present)
        return 0;
    int max = (int)cap_max_bits();
    for (int cap = 0; cap < max; cap++) {
        if (in_mask(caps->bounding, cap))
            continue;
        int ret = drop_bound(cap, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* ---- uid/gid switch ---- */

static int set_groups(const moor_process_t *proc, moor_err_t *err)
{
    size_t n = proc->n_additional_gids;
    if (setgroups(n, n > 0 ? proc->additional_gids : NULL) == 0)
        return 0;
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(list) - 16; i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%u", i > 0 ? "," : "",
                                 (unsigned)proc->additional_gids[i]);
    return moor_fail_errno(err, "setgroups([%s])", list);
}

static int switch_ids(const moor_process_t *proc, moor_err_t *err)
{
    int ret = set_groups(proc, err);
    if (ret < 0)
        return ret;
    if (setresgid(proc->gid, proc->gid, proc->gid) < 0)
        return moor_fail_errno(err, "setresgid(%u)", (unsigned)proc->gid);
    if (setresuid(proc->uid, proc->uid, proc->uid) < 0)
        return moor_fail_errno(err, "setresuid(%u)", (unsigned)proc->uid);
    return 0;
}

/* ---- capability sets ---- */

static int fill_flag(cap_t state, cap_flag_t flag, uint64_t mask)
{
    cap_value_t list[MASK_BITS];
    int n = 0;
    /* Caps the running kernel does not know are skipped, as runc does. */
    int max = (int)cap_max_bits();
    for (int cap = 0; cap < MASK_BITS && cap < max; cap++) {
        if (in_mask(mask, cap))
            list[n++] = cap;
    }
    return n == 0 ? 0 : cap_set_flag(state, flag, n, list, CAP_SET);
}

static int set_cap_sets(const moor_caps_t *caps, moor_err_t *err)
{
    cap_t state = cap_init();
    if (state == NULL)
        return moor_fail_errno(err, "cap_init");
    int ret = 0;
    if (fill_flag(state, CAP_EFFECTIVE, caps->effective) < 0 ||
        fill_flag(state, CAP_PERMITTED, caps->permitted) < 0 ||
        fill_flag(state, CAP_INHERITABLE, caps->inheritable) < 0)
        ret = moor_fail_errno(err, "cap_set_flag");
    else if (cap_set_proc(state) < 0)
        ret = moor_fail_errno(err, "cap_set_proc(effective %#llx, permitted %#llx, "
                              "inheritable %#llx)", (unsigned long long)caps->effective,
                              (unsigned long long)caps->permitted,
                              (unsigned long long)caps->inheritable);
    cap_free(state);
    return ret;
}

static int set_ambient(const moor_caps_t *caps, moor_err_t *err)
{
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
        /* Kernels before 4.3 have no ambient set: fine unless one is asked for. */
        if (errno == EINVAL && caps->ambient == 0)
            return 0;
        return moor_fail_errno(err, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    }
    int max = (int)cap_max_bits();
    for (int cap = 0; cap < MASK_BITS && cap < max; cap++) {
        char buf[32];
        if (in_mask(caps->ambient, cap) &&
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return moor_fail_errno(err, "raise ambient %s (must be permitted and inheritable): "
                                   "prctl(PR_CAP_AMBIENT_RAISE)", label(cap, buf, sizeof(buf)));
    }
    return 0;
}

int moor_caps_apply_user(const moor_process_t *proc, moor_err_t *err)
{
    /*
     * KEEPCAPS keeps the permitted set across the switch to a non-root uid,
     * so the configured sets can be installed afterwards. Without configured
     * caps the leftovers are harmless: execve recomputes them for non-root.
     */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return moor_fail_errno(err, "prctl(PR_SET_KEEPCAPS, 1)");
    int ret = switch_ids(proc, err);
    if (ret < 0)
        return ret;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return moor_fail_errno(err, "prctl(PR_SET_KEEPCAPS, 0)");
    if (!proc->caps.present)
        return 0;
    if ((ret = set_cap_sets(&proc->caps, err)) < 0)
        return ret;
    return set_ambient(&proc->caps, err);
}
