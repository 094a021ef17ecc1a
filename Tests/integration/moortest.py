"""Helpers for moord's black-box tests: start a private moord, talk to it
with raw HTTP, the docker CLI and docker-py, and clean up everything a test
made (processes, cgroups, mounts, the temporary directory).

The binaries come from the environment, so `make test` can point the suite
at the real build: MOORD, MOOR_SHIM, MOOR_TEST_IMAGES (a directory holding
busybox/rootfs.tar).
"""

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import docker

# The repository's own build directory (make shim / make images).
REPO_BUILD = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build"))


def _first_existing(*paths):
    return next((p for p in paths if os.path.exists(p)), paths[0])


MOORD = os.environ.get("MOORD", "/work/dev-it/.build/debug/moord")
MOOR_SHIM = os.environ.get("MOOR_SHIM") or _first_existing(os.path.join(REPO_BUILD, "bin", "moor-shim"),
                                                           "/work/main/build/bin/moor-shim")
IMAGES = os.environ.get("MOOR_TEST_IMAGES") or _first_existing(os.path.join(REPO_BUILD, "images"),
                                                               "/work/main/build/images")
BUSYBOX_TAR = os.path.join(IMAGES, "busybox", "rootfs.tar")
CGROUP_ROOT = "/sys/fs/cgroup"
# Where moord puts containers and their shims (cgroup v1 hierarchies).
CGROUP_PARENTS = ("moor", "moor-shims")


LAZY_REAPER = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lazyreaper.py")]


def short_tmpdir():
    """A directory short enough for unix socket paths (< 108 bytes)."""
    return tempfile.mkdtemp(prefix="mt-", dir="/tmp")


def wait_until(predicate, timeout=20.0, interval=0.05, what="condition"):
    """Polls `predicate` until it returns a truthy value; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Raw HTTP over the unix socket (what docker-py and the CLI hide).

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


def api(sock_path, method, path, body=None, headers=None, timeout=30):
    """One request; returns the whole response."""
    conn = UnixHTTPConnection(sock_path, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, resp.reason, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def raw_connect(sock_path, timeout=30):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(sock_path)
    return sock


def read_head(sock):
    """Reads an HTTP response head from a raw socket; returns
    (status line, headers dict, bytes already read past the head)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed before the response head: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, rest


def read_body(sock, headers, rest=b"", timeout=60):
    """Reads the rest of a response body from a raw socket: chunked
    (to the last chunk), sized (Content-Length) or to the end."""
    sock.settimeout(timeout)
    data = rest

    def more():
        nonlocal data
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed inside the body: {data!r}")
        data += chunk

    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, pos = b"", 0
        while True:
            while b"\r\n" not in data[pos:]:
                more()
            line_end = data.index(b"\r\n", pos)
            size = int(data[pos:line_end].split(b";")[0], 16)
            start = line_end + 2
            while len(data) < start + size + 2:
                more()
            if size == 0:
                return body
            body += data[start:start + size]
            pos = start + size + 2
    if "content-length" in headers:
        while len(data) < int(headers["content-length"]):
            more()
        return data[:int(headers["content-length"])]
    return read_all(sock, data, timeout)


def hijack(moor, path):
    """Sends an attach-style upgrade request; returns (socket, status line,
    headers, bytes already read)."""
    sock = raw_connect(moor.socket)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: d\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n"
                 "Content-Length: 0\r\n\r\n".encode())
    status, headers, rest = read_head(sock)
    return sock, status, headers, rest


def read_all(sock, rest=b"", timeout=30):
    """Reads a raw socket to its end (the peer closes)."""
    sock.settimeout(timeout)
    data = rest
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def demux(data):
    """Splits Docker's multiplexed stream into (stdout, stderr); fails on a
    malformed frame."""
    out, err = b"", b""
    pos = 0
    while pos < len(data):
        assert pos + 8 <= len(data), f"truncated frame header at {pos}: {data!r}"
        stream = data[pos]
        assert data[pos + 1:pos + 4] == b"\0\0\0", f"bad frame header at {pos}: {data[pos:pos + 8]!r}"
        length = int.from_bytes(data[pos + 4:pos + 8], "big")
        payload = data[pos + 8:pos + 8 + length]
        assert len(payload) == length, f"truncated frame at {pos}"
        if stream in (0, 1):
            out += payload
        elif stream == 2:
            err += payload
        else:
            raise AssertionError(f"unknown stream {stream} in frame at {pos}")
        pos += 8 + length
    return out, err


# ---------------------------------------------------------------------------
# Cleanup of what a daemon and its containers leave on the host.

def alive(pid):
    """Whether `pid` runs (not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cgroup_dirs(container_id):
    """The container's cgroup directories, in every hierarchy."""
    out = []
    for hierarchy in sorted(os.listdir(CGROUP_ROOT)):
        for parent in CGROUP_PARENTS:
            path = os.path.join(CGROUP_ROOT, hierarchy, parent, container_id)
            if os.path.isdir(path):
                out.append(path)
    return out


def cgroup_file(hierarchy, container_id, name):
    """The host-side cgroup file of a container (cgroup v1)."""
    return os.path.join(CGROUP_ROOT, hierarchy, "moor", container_id, name)


def remove_cgroups(container_ids):
    """Kills what is left in these containers' cgroups (ours only) and
    removes the directories, deepest first."""
    for cid in container_ids:
        if not cid or "/" in cid:
            continue
        for top in cgroup_dirs(cid):
            for dirpath, _, _ in sorted(os.walk(top), key=lambda entry: -entry[0].count("/")):
                state = os.path.join(dirpath, "freezer.state")
                if os.path.exists(state):
                    with contextlib.suppress(OSError):
                        with open(state, "w") as f:
                            f.write("THAWED")
                with contextlib.suppress(OSError):
                    with open(os.path.join(dirpath, "cgroup.procs")) as f:
                        for pid in f.read().split():
                            with contextlib.suppress(OSError):
                                os.kill(int(pid), signal.SIGKILL)
                for _ in range(50):
                    try:
                        os.rmdir(dirpath)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.05)


def kill_processes_under(path):
    """SIGKILLs every process whose command line names `path` (shims left
    behind), never this process."""
    result = subprocess.run(["pgrep", "-f", path], capture_output=True, text=True)
    for pid in result.stdout.split():
        if int(pid) != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)


def unmount_under(path):
    """Lazily unmounts anything mounted below `path`, deepest first."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in sorted((p for p in points if p.startswith(path + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


# ---------------------------------------------------------------------------
# A private moord.

class Daemon:
    """One moord with its own data-root, exec-root, socket and config file
    under `root`."""

    def __init__(self, root, config=None, args=(), socket_path=None, data_root=None, exec_root=None, wrapper=()):
        self.root = root
        self.data_root = data_root or os.path.join(root, "data")
        self.exec_root = exec_root or os.path.join(root, "exec")
        self.socket = socket_path or os.path.join(root, "moor.sock")
        self.config_path = os.path.join(root, "daemon.json")
        self.config = {} if config is None else config
        self.args = list(args)
        # A command moord runs under (e.g. lazyreaper.py); SIGTERM reaches moord through it.
        self.wrapper = list(wrapper)
        self.proc = None
        self.log_path = os.path.join(root, f"moord-{os.getpid()}-{id(self)}.log")
        self.seen_ids = set()
        self._events = None

    def command(self):
        return [MOORD, "--data-root", self.data_root, "--exec-root", self.exec_root, "-H", f"unix://{self.socket}",
                "--shim-binary", MOOR_SHIM, "--config-file", self.config_path] + self.args

    def write_config(self):
        if isinstance(self.config, (bytes, str)):
            data = self.config if isinstance(self.config, bytes) else self.config.encode()
        else:
            data = json.dumps(self.config).encode()
        with open(self.config_path, "wb") as f:
            f.write(data)

    def spawn(self, command=None):
        self.write_config()
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(command or (self.wrapper + self.command()), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.root)
        return self.proc

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def start(self, timeout=60):
        self.spawn()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"moord exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if api(self.socket, "GET", "/_ping", timeout=5).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"moord did not answer on {self.socket} within {timeout}s:\n{self.log()}")
            time.sleep(0.05)
        self._watch_events()
        return self

    def run_to_exit(self, timeout=30, command=None, probe=True):
        """For settings that must be refused: the exit status and output.
        With `probe`, a moord that answers on its socket fails at once."""
        self.spawn(command)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            serving = False
            if probe:
                with contextlib.suppress(OSError):
                    serving = api(self.socket, "GET", "/_ping", timeout=2).status == 200
            if serving or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"moord kept running although it should have refused to start:\n{self.log()}")
            time.sleep(0.05)
        return self.proc.returncode, self.log()

    def _watch_events(self):
        """Remembers the id of every container this daemon creates, so the
        teardown removes exactly their cgroups. The stream is open before
        start() returns."""
        conn = UnixHTTPConnection(self.socket, timeout=None)
        conn.request("GET", '/events?filters={"type":["container"]}')
        resp = conn.getresponse()
        assert resp.status == 200, f"GET /events answered {resp.status}"
        self._events_conn = conn

        def run():
            try:
                for line in resp:
                    with contextlib.suppress(ValueError):
                        event = json.loads(line)
                        actor = event.get("Actor", {}).get("ID") or event.get("id")
                        if actor:
                            self.seen_ids.add(actor)
            except Exception:
                pass
        self._events = threading.Thread(target=run, daemon=True)
        self._events.start()

    def container_ids(self):
        ids = set(self.seen_ids)
        with contextlib.suppress(OSError):
            ids.update(os.listdir(os.path.join(self.data_root, "containers")))
        return ids

    def close_event_watch(self):
        """Ends the event watcher's stream (an open stream would hold up
        moord's shutdown), waiting for it to note what it received."""
        conn, self._events_conn = getattr(self, "_events_conn", None), None
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        if self._events is not None:
            self._events.join(timeout=5)

    def stop(self, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.close_event_watch()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def cleanup(self):
        """Stops moord and removes every trace (also after a failure)."""
        ids = self.container_ids()
        try:
            self.stop()
        finally:
            kill_processes_under(self.root)
            ids |= self.container_ids()
            remove_cgroups(ids)
            unmount_under(self.root)
            with contextlib.suppress(Exception):
                self._log.close()


@contextlib.contextmanager
def temp_root():
    root = short_tmpdir()
    try:
        yield root
    finally:
        kill_processes_under(root)
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def running_daemon(root=None, config=None, args=(), import_busybox=True, **kwargs):
    """A started moord (busybox:latest imported) that is torn down on exit."""
    own_root = root is None
    root = root or short_tmpdir()
    daemon = Daemon(root, config=config, args=args, **kwargs)
    try:
        daemon.start()
        moor = Moor(daemon)
        if import_busybox:
            moor.import_busybox()
        yield moor
    finally:
        daemon.cleanup()
        if own_root:
            shutil.rmtree(root, ignore_errors=True)


class Moor:
    """What a test talks to: the socket, docker-py, the docker CLI, raw HTTP."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.socket = daemon.socket
        self.docker_config = os.path.join(daemon.root, "docker-cli")
        os.makedirs(self.docker_config, exist_ok=True)
        self.client = docker.DockerClient(base_url=f"unix://{self.socket}", version="auto", timeout=120)

    def __iter__(self):
        return iter((self.socket, self.client, self.cli))

    @property
    def env(self):
        env = dict(os.environ)
        env.update(DOCKER_HOST=f"unix://{self.socket}", DOCKER_CONFIG=self.docker_config, DOCKER_CLI_HINTS="false")
        env.pop("DOCKER_CONTEXT", None)
        env.pop("DOCKER_API_VERSION", None)
        return env

    def cli(self, *args, input=None, timeout=90, check=False, binary=False):
        """Runs `docker ARGS`; returns the CompletedProcess (text, with
        newlines kept as they are; bytes if `binary`)."""
        if isinstance(input, str):
            input = input.encode()
        result = subprocess.run(["docker", *args], input=input, capture_output=True, env=self.env, timeout=timeout)
        if not binary:
            result.stdout = result.stdout.decode(errors="replace")
            result.stderr = result.stderr.decode(errors="replace")
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}):\n"
                                 f"stdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def cli_popen(self, *args, **kwargs):
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(["docker", *args], env=self.env, **kwargs)

    def in_terminal(self, command, cols=97, rows=31, timeout=30, keys=b""):
        """Runs a shell command under a pseudo-terminal of the given size
        (util-linux `script`), as a user at a terminal would; the
        terminal's input stays open (no end-of-file is typed) until the
        command ends; `keys` are typed at once. Returns (exit status, output
        bytes)."""
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(["script", "-qec", f"stty cols {cols} rows {rows}; {command}", "/dev/null"],
                                    env=self.env, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT)
            try:
                if keys:
                    proc.stdin.write(keys)
                    proc.stdin.flush()
                rc = proc.wait(timeout=timeout)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdin.close()
            out.seek(0)
            return rc, out.read()

    def api(self, method, path, body=None, headers=None, timeout=30):
        return api(self.socket, method, path, body=body, headers=headers, timeout=timeout)

    def import_busybox(self, tag="busybox:latest", changes=()):
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        return self.cli(*args, BUSYBOX_TAR, tag, check=True, timeout=120).stdout.strip()

    def inspect(self, ref):
        return self.client.api.inspect_container(ref)

    def state(self, ref):
        return self.inspect(ref)["State"]

    def wait_state(self, ref, status, timeout=20):
        return wait_until(lambda: self.state(ref)["Status"] == status, timeout=timeout,
                          what=f"container {ref} to be {status}")

    def run_d(self, *args):
        """`docker run -d ARGS`; returns the container id."""
        return self.cli("run", "-d", *args, check=True).stdout.strip()

    def container_ids(self):
        return {c["Id"] for c in self.client.api.containers(all=True)}

    def check_alive(self):
        """Fails (with the end of moord's log) when moord is gone."""
        rc = self.daemon.proc.poll()
        if rc is not None:
            raise AssertionError(f"moord exited with status {rc}; the end of its log:\n{self.daemon.log()[-6000:]}")

    def image_ids(self):
        return {image["Id"] for image in self.client.api.images(all=True)}

    def image_tags(self):
        return {tag for image in self.client.api.images() for tag in (image.get("RepoTags") or [])}
