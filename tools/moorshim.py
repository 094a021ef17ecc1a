"""Minimal Python client of the moor-shim control protocol and spool format.

Used by `make run` and `make bench` (docs/shim-protocol.md is the contract;
the daemon's client is Sources/MoorShimClient). Kept small on purpose.
"""
import errno
import json
import os
import socket
import struct
import subprocess

MAGIC = 0x524F4F4D
HEADER = struct.Struct("<IHHII")
MAX_PAYLOAD = 1024 * 1024
RECORD = struct.Struct("<IBBHQQ")
RECORD_MAGIC = 0x4D52
RECORD_MAX_PAYLOAD = 64 * 1024
LOSS = struct.Struct("<QQQQ")
REPLY_BIT = 0x8000
ERROR = 0xFFFF
MSG = {"hello": 1, "state": 2, "signal": 3, "stdin_write": 4, "stdin_close": 5,
       "spool_read": 6, "spool_ack": 7, "exec": 8, "resize": 9, "shutdown": 10,
       "wait": 11, "pause": 12, "resume": 13}
STATE = struct.Struct("<IIiiiIQQQQQQQ")
STREAM_STDOUT, STREAM_STDERR, STREAM_LOSS = 1, 2, 3


class ShimError(Exception):
    """errno is the shim's (or EPROTO for a broken reply), None if unknown."""

    def __init__(self, message, errno=None, status=None):
        super().__init__(message)
        self.errno = errno
        self.status = status


class Shim:
    def __init__(self, socket_path, timeout=60):
        self.path = socket_path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(socket_path)
        except OSError:
            self.sock.close()
            raise
        self.next_id = 1

    def close(self):
        self.sock.close()

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ShimError(f"{self.path}: shim closed the connection", errno.ECONNRESET)
            buf += chunk
        return buf

    def call(self, kind, payload=b""):
        """One request, its reply payload; WAIT's reply may take long (timeout)."""
        rid = self.next_id
        self.next_id += 1
        self.sock.sendall(HEADER.pack(MAGIC, MSG[kind], 0, rid, len(payload)) + payload)
        magic, typ, _, got_id, length = HEADER.unpack(self._recv(HEADER.size))
        # Checked before reading the body: a bad header's length means nothing.
        if magic != MAGIC or length > MAX_PAYLOAD:
            raise ShimError(f"{self.path}: bad reply header to {kind}", errno.EPROTO)
        body = self._recv(length) if length else b""
        if got_id != rid:
            raise ShimError(f"{self.path}: reply id {got_id} to {kind} id {rid}", errno.EPROTO)
        if typ == ERROR:
            if len(body) < 4:
                raise ShimError(f"{self.path}: truncated error reply to {kind}", errno.EPROTO)
            code = struct.unpack_from("<i", body)[0]
            text = body[4:].rstrip(b"\0").decode(errors="replace")
            raise ShimError(f"{self.path}: {kind}: {text} (errno {code})", code)
        if typ != MSG[kind] | REPLY_BIT:
            raise ShimError(f"{self.path}: reply type {typ:#x} to {kind}", errno.EPROTO)
        return body

    def hello(self):
        body = self.call("hello", struct.pack("<HH", 1, 0))
        if len(body) < 12:
            raise ShimError(f"{self.path}: truncated HELLO reply", errno.EPROTO)
        major, minor, shim_pid, init_pid = struct.unpack_from("<HHII", body)
        return {"major": major, "minor": minor, "shim_pid": shim_pid, "init_pid": init_pid,
                "build": body[12:].rstrip(b"\0").decode(errors="replace")}

    def state(self, process=0):
        return _state(self.call("state", struct.pack("<I", process)))

    def wait(self, process=0):
        return _state(self.call("wait", struct.pack("<I", process)))

    def signal(self, sig, process=0, all_processes=False):
        self.call("signal", struct.pack("<IiI", process, sig, 1 if all_processes else 0))

    def read_spool(self, process=0, from_seq=1, max_bytes=64 * 1024):
        body = self.call("spool_read", struct.pack("<IIQ", process, max_bytes, from_seq))
        if len(body) < 8:
            raise ShimError(f"{self.path}: truncated SPOOL_READ reply", errno.EPROTO)
        next_seq = struct.unpack_from("<Q", body)[0]
        return next_seq, list(parse_records(body[8:]))

    def ack(self, seq, process=0):
        self.call("spool_ack", struct.pack("<IIQ", process, 0, seq))

    def shutdown(self, kill=False):
        """Best effort: the shim may already be gone."""
        try:
            self.call("shutdown", struct.pack("<I", 1 if kill else 0))
        except (ShimError, OSError):
            pass


def _state(body):
    if len(body) < STATE.size:
        raise ShimError(f"state block of {len(body)} bytes, need {STATE.size}", errno.EPROTO)
    f = STATE.unpack_from(body)
    return {"process": f[0], "status": f[1], "pid": f[2], "exit_code": f[3], "signal": f[4],
            "oom_killed": bool(f[5] & 1), "terminal": bool(f[5] & 2), "stdin_open": bool(f[5] & 4),
            "started_ns": f[6], "finished_ns": f[7], "spool_first_seq": f[8],
            "spool_next_seq": f[9], "spool_acked_seq": f[10], "spool_bytes": f[11],
            "lost_bytes": f[12]}


def parse_records(data, torn_tail_ok=False):
    """Yields (seq, stream, time_ns, payload) from concatenated whole records.

    A loss record's payload is raw; decode it with parse_loss(). torn_tail_ok:
    stop quietly at a partial last record (a segment a crashed shim was
    writing) instead of raising."""
    off = 0
    while off < len(data):
        if off + RECORD.size > len(data):
            if torn_tail_ok:
                return
            raise ShimError(f"torn record header at offset {off}", errno.EPROTO)
        length, stream, _flags, magic, seq, time_ns = RECORD.unpack_from(data, off)
        if magic != RECORD_MAGIC or length > RECORD_MAX_PAYLOAD or stream not in (1, 2, 3):
            raise ShimError(f"bad record header at offset {off}", errno.EPROTO)
        off += RECORD.size
        if off + length > len(data):
            if torn_tail_ok:
                return
            raise ShimError(f"torn record payload at offset {off}", errno.EPROTO)
        yield seq, stream, time_ns, data[off:off + length]
        off += length


def parse_loss(payload):
    """A loss record's payload: dict of bytes, records, first_seq, last_seq."""
    if len(payload) < LOSS.size:
        raise ShimError(f"loss payload of {len(payload)} bytes", errno.EPROTO)
    return dict(zip(("bytes", "records", "first_seq", "last_seq"), LOSS.unpack_from(payload)))


def read_spool_dir(spool_dir):
    """Reads a spool straight from disk, without a shim."""
    out = []
    for name in sorted(os.listdir(spool_dir)):
        if name.endswith(".seg"):
            with open(os.path.join(spool_dir, name), "rb") as f:
                out.extend(parse_records(f.read(), torn_tail_ok=True))
    return out


def start(shim_bin, cid, bundle, state_dir, lower=None, upper=None, work=None, extra=()):
    args = [shim_bin, "start", "--id", cid, "--bundle", bundle, "--state-dir", state_dir]
    for layer in lower or []:
        args += ["--lower", layer]
    if upper:
        args += ["--upper", upper, "--work", work]
    args += list(extra)
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        msg = res.stderr.strip().removeprefix("moor-shim: ")
        raise ShimError(msg or f"moor-shim start exited with {res.returncode}",
                        status=res.returncode)
    return json.loads(res.stdout)


def default_spec(shim_bin):
    return json.loads(subprocess.run([shim_bin, "spec"], capture_output=True, check=True, text=True).stdout)
