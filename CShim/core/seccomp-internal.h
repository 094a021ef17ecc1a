/* Internal to seccomp.c and seccomp-bpf.c: the libseccomp filter of a profile. */
#ifndef MOOR_SECCOMP_INTERNAL_H
#define MOOR_SECCOMP_INTERNAL_H

#include <seccomp.h>

#include "moor_seccomp.h"

/* Build (not load) the filter for `profile`; the caller releases *out. */
int moor_seccomp_build(const moor_seccomp_t *profile, scmp_filter_ctx *out, moor_err_t *err);

#endif
