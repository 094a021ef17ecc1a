/*
 * moor shim control protocol, shared by the C shim and the Swift client.
 *
 * Every message is a 16-byte header followed by `length` payload bytes.
 * All integers are little-endian. A reply carries the request's id and the
 * request's type with MOOR_MSG_REPLY_BIT set, or MOOR_MSG_ERROR with an
 * error payload. See docs/shim-protocol.md for every payload layout.
 */
#ifndef MOOR_PROTOCOL_H
#define MOOR_PROTOCOL_H

#include <stdint.h>

#define MOOR_PROTO_MAJOR 1
#define MOOR_PROTO_MINOR 0
/* "MOOR" read as a little-endian u32. */
#define MOOR_PROTO_MAGIC 0x524f4f4du
#define MOOR_PROTO_HEADER_SIZE 16u
/* Largest payload either side accepts; bigger messages are a protocol error. */
#define MOOR_PROTO_MAX_PAYLOAD (1024u * 1024u)

enum moor_msg_type {
    MOOR_MSG_HELLO = 1,
    MOOR_MSG_STATE = 2,
    MOOR_MSG_SIGNAL = 3,
    MOOR_MSG_STDIN_WRITE = 4,
    MOOR_MSG_STDIN_CLOSE = 5,
    MOOR_MSG_SPOOL_READ = 6,
    MOOR_MSG_SPOOL_ACK = 7,
    MOOR_MSG_EXEC = 8,
    MOOR_MSG_RESIZE = 9,
    MOOR_MSG_SHUTDOWN = 10,
    MOOR_MSG_WAIT = 11,
    MOOR_MSG_PAUSE = 12,
    MOOR_MSG_RESUME = 13,
    MOOR_MSG_REPLY_BIT = 0x8000,
    MOOR_MSG_ERROR = 0xffff,
};

/* Process ids inside one shim: 0 is the container's init, 1.. are execs. */
#define MOOR_PROCESS_INIT 0u

enum moor_process_status {
    MOOR_STATUS_RUNNING = 1,
    MOOR_STATUS_PAUSED = 2,
    MOOR_STATUS_EXITED = 3,
};

/* Spool record streams. */
enum moor_stream {
    MOOR_STREAM_STDOUT = 1,
    MOOR_STREAM_STDERR = 2,
    /* Payload: moor_loss_payload. Written where records had to be dropped. */
    MOOR_STREAM_LOSS = 3,
};

/* Flags of MOOR_MSG_SIGNAL. */
#define MOOR_SIGNAL_ALL 1u /* every process of the container, not just init */
/* Flags of MOOR_MSG_EXEC. */
#define MOOR_EXEC_STDIN 1u /* give the exec a stdin pipe fed by STDIN_WRITE */
/* Flags of MOOR_MSG_SHUTDOWN. */
#define MOOR_SHUTDOWN_KILL 1u /* SIGKILL the container first if it still runs */

/*
 * A spool record, as stored on disk and as sent by SPOOL_READ replies:
 * this 24-byte header then `length` payload bytes.
 */
#define MOOR_RECORD_HEADER_SIZE 24u
#define MOOR_RECORD_MAX_PAYLOAD (64u * 1024u)
struct moor_record_header {
    uint32_t length;   /* payload bytes */
    uint8_t stream;    /* enum moor_stream */
    uint8_t flags;     /* reserved, 0 */
    uint16_t magic;    /* MOOR_RECORD_MAGIC, catches torn or foreign data */
    uint64_t seq;      /* 1, 2, 3, ... per spool, never reused */
    uint64_t time_ns;  /* CLOCK_REALTIME when the shim read the bytes */
};
#define MOOR_RECORD_MAGIC 0x4d52u

/* Payload of a MOOR_STREAM_LOSS record. */
#define MOOR_LOSS_PAYLOAD_SIZE 32u
struct moor_loss_payload {
    uint64_t bytes;     /* payload bytes dropped */
    uint64_t records;   /* records dropped (0 when bytes never became records) */
    uint64_t first_seq; /* first dropped seq, 0 if none had a seq */
    uint64_t last_seq;  /* last dropped seq, 0 if none had a seq */
};

#endif
