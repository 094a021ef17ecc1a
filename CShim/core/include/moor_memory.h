/* Keeping a long-lived shim's resident memory to its working set. */
#ifndef MOOR_MEMORY_H
#define MOOR_MEMORY_H

/* Drop our binary's clean read-only pages and return freed heap to the
 * kernel; best effort, never fails. Call after one-off work (start, exec). */
void moor_trim_memory(void);

#endif
