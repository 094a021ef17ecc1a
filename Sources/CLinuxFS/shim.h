#ifndef MOOR_CLINUXFS_SHIM_H
#define MOOR_CLINUXFS_SHIM_H

/* Linux file-system calls MoorImages needs that Swift's Glibc module does not
 * expose (they sit behind _GNU_SOURCE or in headers the module leaves out):
 * extended attributes, for the PAX SCHILY.xattr.* records of an imported
 * layer (file capabilities live there), and syncfs, so a layer is on disk
 * before the metadata naming it is written. All are plain libc; no library
 * to link. */
#include <sys/xattr.h>

/* Declared by <unistd.h> only under _GNU_SOURCE; same prototype as glibc's. */
int syncfs(int fd);

#endif
