/*
 * Keeping the shim small. It parses JSON, builds a seccomp filter and sets
 * up mounts once, then only loops over epoll for as long as the container
 * lives; the pages that setup code faulted in would otherwise stay resident
 * in every shim. Dropping the clean, read-only pages of our own binary and
 * returning freed heap leaves the steady state's working set, which the
 * loop faults back in as it needs (from the page cache, no I/O).
 */
#include "moor_memory.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* One /proc/self/maps line: "start-end perms offset dev inode path". */
static void drop_if_ours(const char *line, const char *exe)
{
    unsigned long start, end;
    char perms[8], path[PATH_MAX];
    path[0] = '\0';
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &start, &end, perms, path) < 3)
        return;
    /* Only clean file pages: text and read-only data, never the rw data. */
    if (strcmp(path, exe) != 0 || perms[1] == 'w')
        return;
    madvise((void *)start, end - start, MADV_DONTNEED);
}

void moor_trim_memory(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        FILE *maps = fopen("/proc/self/maps", "re");
        if (maps != NULL) {
            char line[PATH_MAX + 128];
            while (fgets(line, sizeof(line), maps) != NULL)
                drop_if_ours(line, exe);
            fclose(maps);
        }
    }
    malloc_trim(0);
}
