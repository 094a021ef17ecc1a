"""Minimal Python client of the moor-shim control protocol and spool format.

Used by `make run` and `make bench` (docs/shim-protocol.md is the contract;
the daemon's client is Sources/MoorShimClient). Kept small on purpose.
"""
import json
import os
import socket
import struct
import subprocess

MAGIC = 0x524F4F4D
HEADER = struct.Struct("<IHHII")
RECORD = struct.Struct("<IBBHQQ")
REPLY_BIT = 0x8000
ERROR = 0xFFFF
MSG = {"hello": 1, "state": 2, "signal": 3, "spool_read": 6, "spool_ack": 7,
       "shutdown": 10, "wait": 11}
STATE = struct.Struct("<IIiiiIQQQQQQQ")


class ShimError(Exception):
    pass


class Shim:
    def __init__(self, socket_path, timeout=60):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(socket_path)
        self.next_id = 1

    def close(self):
        self.sock.close()

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ShimError("shim closed the connection")
            buf += chunk
        return buf

    def call(self, kind, payload=b""):
        rid = self.next_id
        self.next_id += 1
        self.sock.sendall(HEADER.pack(MAGIC, MSG[kind], 0, rid, len(payload)) + payload)
        magic, typ, _, got_id, length = HEADER.unpack(self._recv(HEADER.size))
        body = self._recv(length) if length else b""
        if magic != MAGIC or got_id != rid:
            raise ShimError("bad reply header")
        if typ == ERROR:
            code = struct.unpack_from("<i", body)[0]
            raise ShimError(f"errno {code}: {body[4:].decode(errors='replace')}")
        return body

    def state(self, process=0):
        return _state(self.call("state", struct.pack("<I", process)))

    def wait(self, process=0):
        return _state(self.call("wait", struct.pack("<I", process)))

    def read_spool(self, process=0, from_seq=1, max_bytes=64 * 1024):
        body = self.call("spool_read", struct.pack("<IIQ", process, max_bytes, from_seq))
        next_seq = struct.unpack_from("<Q", body)[0]
        return next_seq, list(parse_records(body[8:]))

    def shutdown(self, kill=False):
        try:
            self.call("shutdown", struct.pack("<I", 1 if kill else 0))
        except (ShimError, OSError):
            pass


def _state(body):
    f = STATE.unpack_from(body)
    return {"process": f[0], "status": f[1], "pid": f[2], "exit_code": f[3], "signal": f[4],
            "oom_killed": bool(f[5] & 1), "started_ns": f[6], "finished_ns": f[7],
            "spool_next_seq": f[9], "spool_bytes": f[11], "lost_bytes": f[12]}


def parse_records(data):
    """Yields (seq, stream, time_ns, payload) from concatenated records."""
    off = 0
    while off + RECORD.size <= len(data):
        length, stream, _flags, _magic, seq, time_ns = RECORD.unpack_from(data, off)
        off += RECORD.size
        yield seq, stream, time_ns, data[off:off + length]
        off += length


def read_spool_dir(spool_dir):
    """Reads a spool straight from disk, without a shim."""
    out = []
    for name in sorted(os.listdir(spool_dir)):
        if name.endswith(".seg"):
            with open(os.path.join(spool_dir, name), "rb") as f:
                out.extend(parse_records(f.read()))
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
        raise ShimError(res.stderr.strip())
    return json.loads(res.stdout)


def default_spec(shim_bin):
    return json.loads(subprocess.run([shim_bin, "spec"], capture_output=True, check=True, text=True).stdout)
