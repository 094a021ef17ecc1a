/* seccomp filters (libseccomp) from the OCI config, and Docker's default. */
#ifndef MOOR_SECCOMP_H
#define MOOR_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "moor_config.h"

/* A compiled filter: BPF instructions ready for seccomp(2). */
typedef struct moor_bpf {
    struct sock_filter *insns; /* malloc'd */
    unsigned short len;
} moor_bpf_t;

/*
 * Compile `profile` to BPF, or take it from `cache_dir` (NULL: no cache),
 * where a fresh compile is also stored (keyed by the profile and this build).
 */
int moor_seccomp_compile(const moor_seccomp_t *profile, const char *cache_dir, moor_bpf_t *out,
                         moor_err_t *err);
/* Install a compiled filter in the calling thread (no no_new_privs here). */
int moor_seccomp_install(const moor_bpf_t *bpf, moor_err_t *err);
void moor_bpf_free(moor_bpf_t *bpf);

/*
 * Build and load the filter. Syscall names unknown to this libseccomp or
 * kernel are skipped (as runc does); an unknown architecture is an error.
 * Does not set no_new_privs itself (caller decides the order, as runc does).
 */
int moor_seccomp_load(const moor_seccomp_t *profile, moor_err_t *err);
/*
 * Docker's default profile as an OCI "seccomp" JSON object in a malloc'd
 * NUL-terminated string (caller frees); used by `moor-shim spec`, and so by
 * the daemon, which takes its default spec from there. `caps` (bits by CAP_*
 * number) are the container's capabilities: as in Docker, some open the
 * syscalls they govern (CAP_SYS_ADMIN: mount, unshare, setns, clone with
 * namespace flags...; CAP_SYS_PTRACE: ptrace...).
 */
int moor_seccomp_default_json(uint64_t caps, char **out, moor_err_t *err);
/*
 * For tests: fork a child that sets no_new_privs, loads `profile` and calls
 * the syscall named `syscall_name` with `args` (6 values; NULL = all zero),
 * then reports back. *out_errno is that call's errno, 0 if it succeeded. Only
 * probe calls that are harmless in a forked copy of the caller. Fails if the
 * filter does not load or the child dies (e.g. killed by the filter).
 */
int moor_seccomp_selftest_in_child(const moor_seccomp_t *profile, const char *syscall_name,
                                   const unsigned long *args, int *out_errno, moor_err_t *err);

#endif
