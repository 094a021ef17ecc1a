/*
 * Docker's default seccomp profile, written out as an OCI "seccomp" object.
 * Its shape is an allow-list: everything not named fails with EPERM. What
 * stays out is what Docker's documentation lists as blocked -- kernel
 * modules, keyrings, kexec, clock setting, mounts and namespaces, tracing,
 * NUMA policy, obsolete calls -- and some of it comes back with the
 * capability that governs it, as Docker does, so `--cap-add SYS_ADMIN`
 * really gives mount(2). Three calls are allowed only with some arguments:
 * personality (the harmless personas), clone (no namespace flags) and socket
 * (no AF_VSOCK). clone3 cannot be inspected (its flags are in memory), so
 * without CAP_SYS_ADMIN it answers ENOSYS and libc falls back to clone.
 *
 * Names this libseccomp or kernel does not know are skipped when the filter
 * is loaded (seccomp.c), so the list may name calls of newer kernels and of
 * other architectures (arch_prctl on x86, cacheflush on arm).
 */
#include "moor_seccomp.h"

#include <errno.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>

#include "config-json.h"
#include "moor_error.h"

/* Allowed whatever the capabilities. */
static const char *const allowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat",
    "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
    "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
    "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2",
    "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
    "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
    "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
    "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat",
    "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents", "getdents64",
    "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
    "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
    "getrlimit", "getrusage", "getsid", "getsockname", "getsockopt", "gettid",
    "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "ioprio_get",
    "ioprio_set", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
    "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
    "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
    "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause",
    "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
    "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
    "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "set_robust_list", "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32",
    "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
    "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
    "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid",
    "setsockopt", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
    "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
    "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx",
    "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill",
    "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
    "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat",
    "utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4",
    "waitid", "waitpid", "write", "writev",
    /* x86 only */
    "arch_prctl", "modify_ldt",
    /* arm only */
    "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "set_tls",
    "sync_file_range2",
};

#define MAX_GATED 24

/* Allowed with a capability: what the kernel would check it for anyway. */
static const struct cap_gate {
    int cap;
    const char *names[MAX_GATED]; /* NULL-terminated */
} cap_gates[] = {
    {CAP_SYS_ADMIN, {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
                     "fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
                     "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname",
                     "sethostname", "setns", "syslog", "umount", "umount2", "unshare"}},
    {CAP_SYS_BOOT, {"reboot"}},
    {CAP_SYS_CHROOT, {"chroot"}},
    {CAP_SYS_MODULE, {"delete_module", "finit_module", "init_module"}},
    {CAP_SYS_PACCT, {"acct"}},
    {CAP_SYS_PTRACE, {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                      "process_vm_writev", "ptrace", "userfaultfd"}},
    {CAP_SYS_RAWIO, {"ioperm", "iopl"}},
    {CAP_SYS_TIME, {"clock_adjtime", "clock_adjtime64", "clock_settime", "clock_settime64",
                    "settimeofday", "stime"}},
    {CAP_SYS_TTY_CONFIG, {"vhangup"}},
    {CAP_SYS_NICE, {"get_mempolicy", "mbind", "move_pages", "set_mempolicy",
                    "set_mempolicy_home_node"}},
    {CAP_SYSLOG, {"syslog"}},
    {CAP_DAC_READ_SEARCH, {"name_to_handle_at", "open_by_handle_at"}},
#ifdef CAP_BPF
    {CAP_BPF, {"bpf"}},
#endif
#ifdef CAP_PERFMON
    {CAP_PERFMON, {"perf_event_open"}},
#endif
};

/* personality(2) personas that change nothing dangerous, and the query. */
static const uint64_t personas[] = {
    0x0,        /* PER_LINUX */
    0x8,        /* PER_LINUX32 */
    0x20000,    /* UNAME26 */
    0x20008,    /* UNAME26 | PER_LINUX32 */
    0xffffffff, /* query the current persona */
};

#define CLONE_NS_FLAGS                                                                     \
    ((uint64_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |  \
                CLONE_NEWNET | CLONE_NEWCGROUP))

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool has_cap(uint64_t caps, int cap)
{
    return cap >= 0 && cap < 64 && (caps >> cap & 1) != 0;
}


static bool in_array(json_object *arr, const char *name)
{
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), name) == 0)
            return true;
    }
    return false;
}

/* ---- rules ---- */

/* {"index": i, "value": v, "valueTwo": v2, "op": op}; v2 only for MASKED_EQ. */
static json_object *arg_cond(unsigned index, uint64_t value, uint64_t value_two, const char *op)
{
    json_object *a = json_object_new_object();
    if (a == NULL)
        return NULL;
    int ret = cj_put(a, "index", json_object_new_int64(index));
    if (ret == 0)
        ret = cj_put(a, "value", json_object_new_uint64(value));
    if (ret == 0)
        ret = cj_put(a, "valueTwo", json_object_new_uint64(value_two));
    if (ret == 0)
        ret = cj_put(a, "op", json_object_new_string(op));
    if (ret < 0) {
        json_object_put(a);
        return NULL;
    }
    return a;
}

/*
 * A rule for one syscall; `args` (may be NULL) is taken over. Objects are
 * attached to their parent first and filled after, so on failure everything
 * goes with the profile, which the caller drops.
 */
static int add_rule(json_object *rules, const char *name, const char *action, int errno_ret,
                    json_object *args)
{
    json_object *r = json_object_new_object();
    if (cj_push(rules, r) < 0) {
        json_object_put(args);
        return -ENOMEM;
    }
    json_object *names = json_object_new_array();
    int ret = cj_put(r, "names", names);
    if (ret == 0)
        ret = cj_push(names, json_object_new_string(name));
    if (ret == 0)
        ret = cj_put(r, "action", json_object_new_string(action));
    if (ret == 0 && errno_ret > 0)
        ret = cj_put(r, "errnoRet", json_object_new_int(errno_ret));
    if (args == NULL)
        return ret;
    if (ret < 0) {
        json_object_put(args);
        return ret;
    }
    return cj_put(r, "args", args);
}

/* One rule allowing `name` when the condition `cond` (taken over) holds. */
static int add_conditional(json_object *rules, const char *name, json_object *cond)
{
    json_object *args = json_object_new_array();
    if (args == NULL) {
        json_object_put(cond);
        return -ENOMEM;
    }
    int ret = cj_push(args, cond);
    if (ret < 0) {
        json_object_put(args);
        return ret;
    }
    return add_rule(rules, name, "SCMP_ACT_ALLOW", 0, args);
}

/* Every unconditional name, the capability-gated ones included, once each. */
static int add_allowed(json_object *rules, uint64_t caps)
{
    json_object *r = json_object_new_object(), *names = json_object_new_array();
    int ret = cj_push(rules, r);
    if (ret < 0) {
        json_object_put(names);
        return ret;
    }
    if ((ret = cj_put(r, "names", names)) < 0 ||
        (ret = cj_put(r, "action", json_object_new_string("SCMP_ACT_ALLOW"))) < 0)
        return ret;
    for (size_t i = 0; i < N_OF(allowed) && ret == 0; i++)
        ret = cj_push(names, json_object_new_string(allowed[i]));
    for (size_t g = 0; g < N_OF(cap_gates) && ret == 0; g++) {
        if (!has_cap(caps, cap_gates[g].cap))
            continue;
        for (size_t i = 0; i < MAX_GATED && cap_gates[g].names[i] != NULL && ret == 0; i++) {
            /* bpf and perf_event_open come with two caps: name them once. */
            if (!in_array(names, cap_gates[g].names[i]))
                ret = cj_push(names, json_object_new_string(cap_gates[g].names[i]));
        }
    }
    return ret;
}

static int add_argument_rules(json_object *rules, uint64_t caps)
{
    int ret = 0;
    for (size_t i = 0; i < N_OF(personas) && ret == 0; i++)
        ret = add_conditional(rules, "personality", arg_cond(0, personas[i], 0, "SCMP_CMP_EQ"));
    if (ret == 0)
        ret = add_conditional(rules, "socket", arg_cond(0, AF_VSOCK, 0, "SCMP_CMP_NE"));
    if (ret < 0 || has_cap(caps, CAP_SYS_ADMIN))
        return ret; /* clone and clone3 are in the allow-list then */
    /* (flags & CLONE_NS_FLAGS) == 0: a plain fork or thread. */
    ret = add_conditional(rules, "clone", arg_cond(0, CLONE_NS_FLAGS, 0, "SCMP_CMP_MASKED_EQ"));
    if (ret == 0)
        ret = add_rule(rules, "clone3", "SCMP_ACT_ERRNO", ENOSYS, NULL);
    return ret;
}

/* ---- the profile ---- */

static json_object *architectures(void)
{
#if defined(__aarch64__) || defined(__arm__)
    static const char *const arches[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#else
    static const char *const arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#endif
    json_object *a = json_object_new_array();
    for (size_t i = 0; a != NULL && i < N_OF(arches); i++) {
        if (cj_push(a, json_object_new_string(arches[i])) < 0) {
            json_object_put(a);
            return NULL;
        }
    }
    return a;
}

static int build_profile(json_object *p, uint64_t caps)
{
    int ret = cj_put(p, "defaultAction", json_object_new_string("SCMP_ACT_ERRNO"));
    if (ret == 0)
        ret = cj_put(p, "defaultErrnoRet", json_object_new_int(EPERM));
    if (ret == 0)
        ret = cj_put(p, "architectures", architectures());
    json_object *rules = ret == 0 ? json_object_new_array() : NULL;
    if (ret == 0)
        ret = cj_put(p, "syscalls", rules);
    if (ret == 0)
        ret = add_allowed(rules, caps);
    if (ret == 0)
        ret = add_argument_rules(rules, caps);
    return ret;
}

int moor_seccomp_default_json(uint64_t caps, char **out, moor_err_t *err)
{
    json_object *p = json_object_new_object();
    int ret = p == NULL ? -ENOMEM : build_profile(p, caps);
    const char *text = ret == 0 ? json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN)
                                : NULL;
    *out = text != NULL ? strdup(text) : NULL;
    json_object_put(p);
    if (*out == NULL)
        return moor_fail(err, ENOMEM, "build the default seccomp profile: out of memory");
    return 0;
}
