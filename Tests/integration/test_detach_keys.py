"""Detach keys: a client attached to a container's (or an exec's) stdin
leaves with ctrl-p ctrl-q (or its own `--detach-keys`); the container keeps
running with its stdin open, and no byte of the sequence reaches it."""

import contextlib
import os
import subprocess
import time

from moortest import hijack, read_all, wait_until


def _attach_stdin(moor, cid, query=""):
    sock, status, _, rest = hijack(moor, f"/containers/{cid}/attach?stream=1&stdin=1&stdout=1&stderr=1{query}")
    assert status.startswith("HTTP/1.1 101"), status
    return sock, rest


def test_default_sequence_detaches_an_attach_and_keeps_the_container_running(moor):
    # cat echoes its stdin to the log: what reached the container is visible.
    cid = moor.client.api.create_container("busybox", ["cat"], stdin_open=True)["Id"]
    moor.client.api.start(cid)
    sock, rest = _attach_stdin(moor, cid)
    try:
        # A broken sequence passes through whole; the full one detaches.
        sock.sendall(b"one\x10two\n")
        wait_until(lambda: moor.cli("logs", cid).stdout == "one\x10two\n", what="the first line in the log")
        sock.sendall(b"three\n\x10\x11after\n")
        read_all(sock, rest, timeout=10)  # the daemon ends the stream
    finally:
        sock.close()
    wait_until(lambda: moor.cli("logs", cid).stdout == "one\x10two\nthree\n", what="the second line")
    assert moor.state(cid)["Status"] == "running"
    # stdin stayed open: a second attach still reaches cat.
    sock, rest = _attach_stdin(moor, cid)
    try:
        sock.sendall(b"again\n")
        wait_until(lambda: moor.cli("logs", cid).stdout.endswith("three\nagain\n"), what="the line after re-attaching")
    finally:
        sock.close()
    moor.cli("rm", "-f", cid, check=True)


def test_custom_detach_keys_and_invalid_ones(moor):
    cid = moor.client.api.create_container("busybox", ["cat"], stdin_open=True)["Id"]
    moor.client.api.start(cid)
    sock, rest = _attach_stdin(moor, cid, "&detachKeys=ctrl-a,x")
    try:
        sock.sendall(b"keep\x10\x11\n\x01x")  # ctrl-p ctrl-q is ordinary input here
        read_all(sock, rest, timeout=10)
    finally:
        sock.close()
    wait_until(lambda: moor.cli("logs", cid).stdout == "keep\x10\x11\n", what="the input before the keys")
    assert moor.state(cid)["Status"] == "running"
    response = moor.api("POST", f"/containers/{cid}/attach?stream=1&stdin=1&detachKeys=ctrl-1")
    assert response.status == 400 and "ctrl-1" in response.json()["message"], response
    moor.cli("rm", "-f", cid, check=True)


class Terminal:
    """A command under a pseudo-terminal (util-linux `script`), typed into
    as a user would: after what it printed shows it is ready."""

    def __init__(self, moor, command):
        self.proc = subprocess.Popen(["script", "-qec", f"stty -ixon; {command}", "/dev/null"], env=moor.env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.output = b""

    def wait_for(self, text, timeout=20):
        def seen():
            with contextlib.suppress(BlockingIOError, TypeError):
                self.output += self.proc.stdout.read() or b""
            return self.output.count(text)
        return wait_until(seen, timeout=timeout, what=f"{text!r} on the terminal; it shows {self.output!r}")

    def type(self, keys):
        self.proc.stdin.write(keys)
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


def test_docker_run_it_detaches_with_ctrl_p_ctrl_q(moor):
    name = f"detach-{time.monotonic_ns()}"
    terminal = Terminal(moor, f"docker -H unix://{moor.socket} run -it --name {name} busybox sh")
    try:
        terminal.wait_for(b"/ # ")
        terminal.type(b"echo typed-before-detach\n")
        terminal.wait_for(b"\ntyped-before-detach")
        terminal.type(b"\x10\x11")
        assert terminal.proc.wait(timeout=20) == 0, terminal.output
    finally:
        terminal.close()
    assert moor.state(name)["Status"] == "running"
    assert "typed-before-detach" in moor.cli("logs", name).stdout
    assert moor.cli("exec", name, "true").returncode == 0
    moor.cli("rm", "-f", name, check=True)


def test_exec_detaches_with_its_own_keys(moor):
    cid = moor.run_d("busybox", "sleep", "1000")
    exec_id = moor.client.api.exec_create(cid, ["sh", "-c", "cat > /tmp/got"], stdin=True,
                                          detach_keys="ctrl-x,ctrl-y")["Id"]
    sock = moor.client.api.exec_start(exec_id, socket=True, detach=False)._sock
    try:
        sock.sendall(b"data\x18\x19")
        sock.settimeout(10)
        while sock.recv(65536):
            pass
    finally:
        sock.close()
    assert moor.client.api.exec_inspect(exec_id)["Running"] is True
    wait_until(lambda: moor.cli("exec", cid, "cat", "/tmp/got").stdout == "data", what="the exec's input")
    moor.cli("rm", "-f", cid, check=True)
