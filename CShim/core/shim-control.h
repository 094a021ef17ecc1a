/* Internal: the pieces of the control protocol shared by control.c and handlers.c. */
#ifndef MOOR_SHIM_CONTROL_H
#define MOOR_SHIM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim-internal.h"

#define STATE_BLOCK_SIZE 80u

void put_u16(uint8_t *p, uint16_t v);
void put_u32(uint8_t *p, uint32_t v);
void put_u64(uint8_t *p, uint64_t v);
uint16_t get_u16(const uint8_t *p);
uint32_t get_u32(const uint8_t *p);
uint64_t get_u64(const uint8_t *p);

/* The reply buffer's payload area (SHIM_MAX_REPLY bytes). */
uint8_t *shim_reply_payload(void);
int shim_send(shim_t *sh, int client, uint16_t type, uint32_t id, const uint8_t *payload,
              uint32_t len);
int shim_send_error(shim_t *sh, int client, uint32_t id, int code, const char *msg);
uint32_t shim_encode_state(shim_t *sh, const shim_proc_t *p, uint8_t *out);
/* control-spool.c: SPOOL_READ replies and the long poll. */
int shim_send_spool_batch(shim_t *sh, int client, uint32_t request, shim_proc_t *p,
                          uint64_t from, uint32_t max, size_t *out_len);
bool shim_spool_should_park(const shim_proc_t *p, uint64_t from, uint32_t wait_ms);
int shim_park_spool_read(shim_t *sh, int client, uint32_t request, shim_proc_t *p, uint64_t from,
                         uint32_t max, uint32_t wait_ms);
void shim_control_forget_spool_waiters(shim_t *sh, int client);

/* handlers.c: answer one well-framed request. */
void shim_dispatch(shim_t *sh, int client, uint16_t type, uint32_t id, const uint8_t *payload,
                   uint32_t len);

#endif
