/* Capabilities (libcap) and no_new_privs for the container process. */
#ifndef MOOR_CAPS_H
#define MOOR_CAPS_H

#include <stdint.h>

#include "moor_config.h"

/* "CAP_NET_ADMIN" -> 12; -EINVAL for an unknown name. */
int moor_cap_from_name(const char *name);
/* Docker's default capability set as a bitmask. */
uint64_t moor_caps_docker_default(void);
/* Name of capability `cap` ("CAP_CHOWN"), NULL if unknown. */
const char *moor_cap_name(int cap);

/*
 * Drop every capability not in caps->bounding from the bounding set. Must run
 * before the uid switch (needs CAP_SETPCAP).
 */
int moor_caps_drop_bounding(const moor_caps_t *caps, moor_err_t *err);
/*
 * Switch to proc's uid/gid/additional gids, keeping capabilities across the
 * switch, then set effective/permitted/inheritable and raise ambient ones.
 */
int moor_caps_apply_user(const moor_process_t *proc, moor_err_t *err);
#endif
