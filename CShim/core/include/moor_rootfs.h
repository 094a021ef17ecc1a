/*
 * The container's filesystem, set up inside its new mount namespace:
 * overlayfs of the image layers (or root.path as is), the config's mounts,
 * /dev (tmpfs, standard nodes, pts, shm, mqueue), pivot_root, masked and
 * read-only paths, read-only root.
 */
#ifndef MOOR_ROOTFS_H
#define MOOR_ROOTFS_H

#include "moor_config.h"

/* Layers for an overlay root; n_lower == 0 means use root.path as it is. */
typedef struct moor_overlay {
    const char **lower; /* top-most first, as overlayfs lowerdir= wants */
    size_t n_lower;
    const char *upper;
    const char *work;
} moor_overlay_t;

/*
 * Everything from making mounts private to pivot_root and the masked and
 * read-only paths. Runs in the child, after unshare(CLONE_NEWNS), as root.
 * `console_slave` is the pty slave path to bind on /dev/console, or NULL.
 */
int moor_rootfs_setup(const moor_config_t *cfg, const moor_overlay_t *overlay,
                      const char *console_slave, moor_err_t *err);

/* Mount options: "ro,nosuid,size=64m" -> flags, propagation flags, data. */
int moor_mount_options(char *const *options, size_t n, unsigned long *flags,
                       unsigned long *propagation, char *data, size_t data_cap,
                       moor_err_t *err);

#endif
