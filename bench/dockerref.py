"""Private daemons for `make bench`: moord and a reference dockerd.

Each daemon lives in its own short temp dir under /tmp (data-root,
exec-root, socket, pid file, config, log). `cleanup()` removes everything
the daemon and the bench's containers left on the host, also after a
SIGKILL or a failed bench: the daemon and its helpers (dockerd's containerd,
the shims), the processes and cgroups of the containers this bench created
(by id, under the daemon's own cgroup parent), the mounts under the temp
dir, the temp dir itself, and the few host paths dockerd creates outside it
(only when this bench created them).

The reference is Debian's docker.io (dockerd 20.10 with the containerd it
starts itself: config, socket and state all under the temp dir).
"""
import concurrent.futures
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

CGROUP_ROOT = "/sys/fs/cgroup"
DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
DOCKER_CLI = shutil.which("docker") or "/usr/bin/docker"
# Host paths dockerd 20.10 creates whatever its flags say (plugin discovery).
DOCKERD_HOST_DIRS = ("/run/docker/plugins", "/run/docker")


class BenchError(Exception):
    """A bench step that failed; the message names the daemon and the step."""


# ---------------------------------------------------------------------------
# The Engine API over a unix socket (what the docker CLI would send, without
# paying a CLI process per call).

class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def api(sock_path, method, path, body=None, timeout=30):
    """One request; returns (status, body bytes). Raises OSError when the
    daemon does not answer."""
    conn = _UnixConnection(sock_path, timeout)
    try:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except http.client.HTTPException as e:
        raise OSError(f"{method} {path}: {e}") from e
    finally:
        conn.close()


def api_json(sock_path, method, path, body=None, expect=(200, 201), timeout=30):
    status, data = api(sock_path, method, path, body, timeout)
    if status not in expect:
        raise BenchError(f"{method} {path} on {sock_path}: {status} {data[:300]!r}")
    return json.loads(data) if data else None


def exec_attached(sock_path, exec_id, timeout=60):
    """`POST /exec/ID/start` attached, as `docker exec` does (upgrade
    request, hijacked stream read to its end). Returns (status code,
    what the stream carried)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(sock_path)
        body = b'{"Detach":false,"Tty":false}'
        sock.sendall(b"POST /exec/%s/start HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     b"Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: %d\r\n\r\n%s"
                     % (exec_id.encode(), len(body), body))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise OSError(f"exec {exec_id}: connection closed before the response head")
            head += chunk
        head, _, output = head.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status in (101, 200):
            while chunk := sock.recv(65536):
                output += chunk
        return status, output
    finally:
        sock.close()


# ---------------------------------------------------------------------------
# Host cleanup helpers (ours only: matched by our temp dir or container ids).

def pids_matching(needle, comm=None):
    """Pids whose command line contains `needle` (and whose name is `comm`
    when given); never this process."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            if comm is not None:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() != comm:
                        continue
        except OSError:
            continue
        if needle in cmdline:
            out.append(int(entry))
    return out


def alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone(pid):
    """True once `pid` has left the process table (reaped)."""
    return not os.path.exists(f"/proc/{pid}")


def wait_for(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def kill_all(pids):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def remove_container_cgroups(parents, ids):
    """Kills what is left in the cgroups of these containers (by id, under
    the daemon's parents) and removes them, deepest first."""
    for cid in ids:
        if not cid or "/" in cid or cid.startswith("."):
            continue
        for hierarchy in sorted(os.listdir(CGROUP_ROOT)):
            for parent in parents:
                top = os.path.join(CGROUP_ROOT, hierarchy, parent, cid)
                if os.path.isdir(top) and not os.path.islink(top):
                    _remove_cgroup_dir(top)


def _remove_cgroup_dir(top):
    for dirpath, _, _ in sorted(os.walk(top), key=lambda entry: -entry[0].count("/")):
        state = os.path.join(dirpath, "freezer.state")
        if os.path.exists(state):
            with contextlib.suppress(OSError), open(state, "w") as f:
                f.write("THAWED")
        with contextlib.suppress(OSError), open(os.path.join(dirpath, "cgroup.procs")) as f:
            kill_all(int(p) for p in f.read().split())
        for _ in range(100):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)


def remove_empty_cgroup_parent(parent):
    """Removes `/sys/fs/cgroup/*/parent` where it is empty (rmdir refuses a
    cgroup with children or tasks, so nothing else's cgroup can go)."""
    for hierarchy in sorted(os.listdir(CGROUP_ROOT)):
        path = os.path.join(CGROUP_ROOT, hierarchy, parent)
        if os.path.isdir(path) and not os.path.islink(path):
            with contextlib.suppress(OSError):
                os.rmdir(path)


def cgroup_parent_exists(parent):
    return any(os.path.isdir(os.path.join(CGROUP_ROOT, h, parent)) for h in os.listdir(CGROUP_ROOT))


def unmount_under(path):
    """Lazily unmounts everything at or below `path`, deepest first (also
    mounts stacked more than once on the same point)."""
    for _ in range(5):
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
        ours = sorted({p for p in points if p == path or p.startswith(path + "/")}, key=len, reverse=True)
        if not ours:
            return
        for point in ours:
            subprocess.run(["umount", "-l", point], capture_output=True)


def cpu_ticks(pid):
    """utime+stime of the whole process (all its threads, dead ones
    included) plus the children it reaped, in clock ticks; None once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14..17.
    return sum(int(fields[i]) for i in (11, 12, 13, 14))


# ---------------------------------------------------------------------------
# The daemons.

class EngineDaemon:
    """What the benches need from a daemon speaking the Engine API; the
    subclasses say how to start it and what it leaves behind."""

    name = "daemon"
    cgroup_parents = ()

    def __init__(self, tag):
        self.root = tempfile.mkdtemp(prefix=f"mb-{tag}-", dir="/tmp")
        self.data_root = os.path.join(self.root, "data")
        self.exec_root = os.path.join(self.root, "exec")
        self.socket = os.path.join(self.root, "engine.sock")
        self.pidfile = os.path.join(self.root, "daemon.pid")
        self.config_path = os.path.join(self.root, "daemon.json")
        self.log_path = os.path.join(self.root, "daemon.log")
        self.proc = None
        self.ids = set()
        self._log = None

    # -- lifecycle -----------------------------------------------------------
    def command(self):
        raise NotImplementedError

    def config(self):
        return {"live-restore": True}

    def spawn(self):
        """Execs the daemon binary; returns at once."""
        with open(self.config_path, "w") as f:
            json.dump(self.config(), f)
        if self._log is None:
            self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.root)

    def wait_ping(self, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if api(self.socket, "GET", "/_ping", timeout=5)[0] == 200:
                    return
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name} did not answer on {self.socket} within {timeout}s:\n{self.log_tail()}")
            time.sleep(0.02)

    def start(self, timeout=120):
        self.spawn()
        self.wait_ping(timeout)
        return self

    def sigkill(self):
        """SIGKILL, as a crash would; waits until whatever dies with the
        daemon is gone so that the next start is not refused."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.after_kill()

    def after_kill(self):
        pass

    def stop(self, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def log_tail(self, n=4000):
        with contextlib.suppress(OSError), open(self.log_path, "rb") as f:
            return f.read()[-n:].decode(errors="replace")
        return ""

    # -- what the CPU bench reads -----------------------------------------
    def daemon_pids(self):
        """The daemon's own processes (the CPU bench sums their time)."""
        return [self.proc.pid] if self.proc is not None and self.proc.poll() is None else []

    def shim_pids(self):
        raise NotImplementedError

    # -- containers ---------------------------------------------------------
    def env(self):
        env = dict(os.environ)
        env.update(DOCKER_HOST=f"unix://{self.socket}", DOCKER_CONFIG=os.path.join(self.root, "cli"))
        env.pop("DOCKER_CONTEXT", None)
        return env

    def import_image(self, tar, tag="busybox:latest"):
        result = subprocess.run([DOCKER_CLI, "import", tar, tag], env=self.env(), capture_output=True,
                                text=True, timeout=300)
        if result.returncode != 0:
            raise BenchError(f"{self.name}: docker import {tar}: {result.stderr.strip()}")

    def run_detached(self, cmd, image="busybox:latest", log_opts=None):
        """Creates and starts a container; returns its id."""
        host_config = {"NetworkMode": "none"}
        if log_opts is not None:
            host_config["LogConfig"] = {"Type": "json-file", "Config": log_opts}
        created = api_json(self.socket, "POST", "/containers/create",
                           {"Image": image, "Cmd": cmd, "HostConfig": host_config}, timeout=120)
        cid = created["Id"]
        self.ids.add(cid)
        api_json(self.socket, "POST", f"/containers/{cid}/start", expect=(204, 304), timeout=120)
        return cid

    def run_many(self, n, cmd, workers=4):
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda _: self.run_detached(cmd), range(n)))

    def running_ids(self):
        return {c["Id"] for c in api_json(self.socket, "GET", "/containers/json", timeout=30)}

    def inspect(self, cid):
        return api_json(self.socket, "GET", f"/containers/{cid}/json")

    def exec_true(self, cid, timeout=60):
        """`docker exec CID true`; True when it ran and exited 0 with no
        output (a daemon that cannot start the exec writes why into the
        stream and leaves its exit code null)."""
        created = api_json(self.socket, "POST", f"/containers/{cid}/exec",
                           {"Cmd": ["true"], "AttachStdout": True, "AttachStderr": True}, timeout=timeout)
        eid = created["Id"]
        status, output = exec_attached(self.socket, eid, timeout)
        if status not in (101, 200):
            raise BenchError(f"{self.name}: exec start in {cid[:12]} answered {status}: {output[:200]!r}")
        if output:
            raise BenchError(f"{self.name}: exec in {cid[:12]} wrote {output[:200]!r}")
        # The stream ends when the process does; the exit code may land a moment later.
        deadline = time.monotonic() + 10
        while True:
            view = api_json(self.socket, "GET", f"/exec/{eid}/json", timeout=timeout)
            if not view.get("Running"):
                return view.get("ExitCode") == 0
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name}: exec {eid[:12]} in {cid[:12]} still running 10 s after its stream ended")
            time.sleep(0.01)

    def remove_all(self, workers=32, timeout=120):
        """Best effort `docker rm -f` of every container the bench made."""
        if self.proc is None or self.proc.poll() is not None:
            return

        def rm(cid):
            with contextlib.suppress(OSError, BenchError):
                api(self.socket, "DELETE", f"/containers/{cid}?force=1&v=1", timeout=timeout)
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(rm, sorted(self.ids)))

    # -- cleanup ------------------------------------------------------------
    def known_ids(self):
        ids = set(self.ids)
        with contextlib.suppress(OSError):
            ids.update(e for e in os.listdir(os.path.join(self.data_root, "containers")) if len(e) == 64)
        return ids

    def cleanup(self):
        """Removes every trace; each step runs even if an earlier one failed."""
        ids = self.known_ids()
        steps = [self.remove_all, self.stop, self.kill_leftovers,
                 lambda: remove_container_cgroups(self.cgroup_parents, ids),
                 lambda: unmount_under(self.root), self.remove_host_leftovers,
                 lambda: shutil.rmtree(self.root, ignore_errors=True)]
        errors = []
        for step in steps:
            try:
                step()
            except Exception as e:  # cleanup goes on; the first error is reported
                errors.append(e)
        if self._log is not None:
            self._log.close()
            self._log = None
        if errors:
            raise BenchError(f"{self.name} cleanup: {errors[0]}")

    def kill_leftovers(self):
        """SIGKILLs every process naming our temp dir (shims, helpers)."""
        kill_all(pids_matching(self.root))
        wait_for(lambda: not any(alive(p) for p in pids_matching(self.root)), 10)

    def remove_host_leftovers(self):
        pass


class Moord(EngineDaemon):
    name = "moord"
    cgroup_parents = ("moor", "moor-shims")

    def __init__(self, moord, shim):
        super().__init__("moor")
        self.binary, self.shim = moord, shim

    def command(self):
        return [self.binary, "--data-root", self.data_root, "--exec-root", self.exec_root,
                "-H", f"unix://{self.socket}", "--pidfile", self.pidfile, "--shim-binary", self.shim,
                "--config-file", self.config_path]

    def shim_pids(self):
        return pids_matching(self.root, comm="moor-shim")


class Dockerd(EngineDaemon):
    """dockerd 20.10 with its own containerd (started by dockerd: its
    config, socket, root and state are under our exec-root and data-root,
    and the shims' runc root is EXEC_ROOT/runtime-runc)."""

    name = "dockerd"
    cgroup_parents = ("docker",)

    def __init__(self):
        super().__init__("dockerd")
        self.containerd_sock = os.path.join(self.exec_root, "containerd", "containerd.sock")
        self.containerd_pidfile = os.path.join(self.exec_root, "containerd", "containerd.pid")
        self.preexisting = {p for p in DOCKERD_HOST_DIRS if os.path.exists(p)}
        self.cgroup_parent_preexisting = cgroup_parent_exists("docker")
        self.last_containerd = None

    def config(self):
        # The trust key would otherwise be written to /etc/docker/key.json;
        # ip-forward off keeps dockerd from writing the host's sysctl.
        return {"live-restore": True, "iptables": False, "bridge": "none", "ip-forward": False,
                "ip-masq": False, "userland-proxy": False,
                "deprecated-key-path": os.path.join(self.root, "key.json")}

    def command(self):
        return [DOCKERD, "--data-root", self.data_root, "--exec-root", self.exec_root,
                "-H", f"unix://{self.socket}", "--pidfile", self.pidfile, "--config-file", self.config_path]

    def containerd_pid(self):
        with contextlib.suppress(OSError, ValueError), open(self.containerd_pidfile) as f:
            pid = int(f.read().strip())
            if alive(pid):
                self.last_containerd = pid
                return pid
        return None

    def daemon_pids(self):
        pids = super().daemon_pids()
        containerd = self.containerd_pid()
        return pids + ([containerd] if containerd else [])

    def shim_pids(self):
        return pids_matching(self.containerd_sock, comm="containerd-shim")

    def sigkill(self):
        self.containerd_pid()
        super().sigkill()

    def after_kill(self):
        """containerd dies with dockerd; a dockerd started while its old
        containerd is still in the process table (even as a zombie) times
        out waiting for containerd, so wait until it is reaped."""
        pid, self.last_containerd = self.last_containerd, None
        if pid is not None and not wait_for(lambda: gone(pid), 60, 0.1):
            if alive(pid):
                kill_all([pid])
            if not wait_for(lambda: gone(pid), 30, 0.1):
                raise BenchError(f"dockerd's containerd (pid {pid}) is still in the process table after 90 s")

    def stop(self, timeout=30):
        self.containerd_pid()
        super().stop(timeout)
        self.after_kill()

    def remove_host_leftovers(self):
        for path in DOCKERD_HOST_DIRS:
            if path not in self.preexisting:
                with contextlib.suppress(OSError):
                    os.rmdir(path)
        if not self.cgroup_parent_preexisting:
            remove_empty_cgroup_parent("docker")
