/*
 * The default OCI config.json, with Docker's defaults: what `moor-shim spec`
 * prints and the daemon starts every container's spec from.
 */
#ifndef MOOR_SPEC_H
#define MOOR_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "moor_error.h"

/* Docker's `--cap-add`, `--cap-drop`, `--privileged`, `--security-opt seccomp=unconfined`. */
typedef struct moor_spec_options {
    uint64_t cap_add;  /* bits by CAP_* number */
    uint64_t cap_drop;
    bool cap_add_all;  /* --cap-add ALL */
    bool cap_drop_all; /* --cap-drop ALL */
    bool privileged;   /* every capability, no seccomp, no masked/read-only paths, rw /sys */
    bool no_seccomp;
} moor_spec_options_t;

/*
 * The capability set those options give, Docker's rules: --cap-add ALL is
 * every capability but the dropped ones; --cap-drop ALL is only the added
 * ones; otherwise the defaults without the dropped ones, plus the added.
 */
uint64_t moor_spec_caps(const moor_spec_options_t *opt);
/*
 * What --privileged (and --cap-add ALL) gives: every capability this build
 * and the running kernel know that the calling process's bounding set
 * still holds, as Docker computes it.
 */
uint64_t moor_spec_all_caps(void);
/*
 * "CAP_NET_ADMIN", "net_admin" or "NET_ADMIN" -> 12, as Docker's flags take
 * them; -EINVAL if unknown. "ALL" is not a capability: the caller checks it.
 */
int moor_spec_cap_from_flag(const char *name);

/* Pretty-printed config.json in a malloc'd string (caller frees). */
int moor_spec_build(const moor_spec_options_t *opt, char **out, moor_err_t *err);
/* moor_spec_build with no options: Docker's defaults as they are. */
int moor_spec_default(char **out, moor_err_t *err);

#endif
