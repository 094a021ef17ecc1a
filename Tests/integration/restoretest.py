"""Helpers for the live-restore tests (test_live_restore_*.py): a private
moord that a test stops in every way a daemon can stop (SIGKILL, SIGTERM,
binary replacement) and starts again on the same data-root; host-side
checks (processes, cgroups, directories, sockets, mounts); logs with their
timestamps; a simulated host reboot.

Built on moortest (Daemon, Moor, the cleanup helpers), which it only wraps.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from datetime import datetime, timezone

import moortest
from moortest import CGROUP_ROOT, Daemon, Moor, alive, api, cgroup_dirs, wait_until

# A numbered line every INTERVAL seconds, with the container's own clock
# (/proc/uptime, 10 ms steps) so gaps in the log can be compared with gaps
# the container really made. Stops cleanly on SIGTERM.
INTERVAL = 0.1
COUNTER = ("trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); read up idle < /proc/uptime; "
           f"echo \"$i $up\"; sleep {INTERVAL}; done")

TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z (.*)$")


class RestoreDaemon(Daemon):
    """moortest.Daemon started from `binary` (a copy of moord the test may
    replace) instead of MOORD."""

    def __init__(self, root, binary=None, **kwargs):
        super().__init__(root, **kwargs)
        self.binary = binary or moortest.MOORD
        # cgroup.procs of a cgroup (the test's own) moord starts in.
        self.cgroup_procs = None

    def command(self):
        command = super().command()
        command[0] = self.binary
        if self.cgroup_procs:
            command = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', self.cgroup_procs, *command]
        return command

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL, as a crash or `kill -9` would end moord."""
        self.close_event_watch()
        self.proc.kill()
        self.proc.wait(timeout=30)

    def term(self, timeout=60):
        """SIGTERM; returns (exit status, seconds moord took to exit)."""
        self.close_event_watch()
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        return rc, time.monotonic() - started

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def set_config(self, config):
        """Rewrites daemon.json (for a reload or the next start)."""
        self.config = config
        self.write_config()

    def log_since(self, offset):
        return self.log()[offset:]

    def log_tail(self):
        """For a failure message: a crash report from its first line (the
        reason comes before the backtrace), else the log's end."""
        log = self.log()
        starts = [i for i in (log.find("Fatal error"), log.find("Program crashed")) if i >= 0]
        return log[min(starts):][:6000] if starts else log[-3000:]

    def start_restored(self, timeout=30):
        """Starts moord and waits until it logged the end of its restore
        (the API answers before: a container's state is the stored one
        until its restore settled)."""
        offset = len(self.log())
        self.start()
        self.wait_log(r"restore finished", offset, timeout=timeout)
        return self

    def wait_log(self, pattern, offset=0, timeout=20):
        """Waits for a line of moord's log (after `offset` characters)
        matching the regular expression; returns the match."""
        regex = re.compile(pattern)
        return wait_until(lambda: regex.search(self.log_since(offset)), timeout=timeout,
                          what=f"moord to log /{pattern}/; its log:\n{self.log_since(offset)[-3000:]}")


@contextlib.contextmanager
def cpu_limited_cgroup(percent):
    """A cpu cgroup of the test's own, limited to `percent` of one CPU (for
    a deliberately slow moord); whatever still runs in it at the end is
    killed and the cgroup removed."""
    path = os.path.join(CGROUP_ROOT, "cpu", f"moor-restoretest-{os.getpid()}-{time.monotonic_ns()}")
    os.mkdir(path)
    try:
        with open(os.path.join(path, "cpu.cfs_period_us"), "w") as f:
            f.write("100000")
        with open(os.path.join(path, "cpu.cfs_quota_us"), "w") as f:
            f.write(str(int(percent * 1000)))
        yield os.path.join(path, "cgroup.procs")
    finally:
        for _ in range(100):
            with open(os.path.join(path, "cgroup.procs")) as f:
                pids = [int(p) for p in f.read().split()]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.05)


@contextlib.contextmanager
def restore_daemon(config=None, args=(), copy_binary=False, import_busybox=True):
    """A started moord of the test's own, torn down on exit whatever
    happened: every container force-removed while a daemon can still do it,
    then moortest's cleanup (moord stopped, shims and container processes
    killed, cgroups removed, mounts undone, the directory removed). With
    `copy_binary`, moord runs from a copy in the test's directory
    (`daemon.binary`), which the test may replace."""
    root = moortest.short_tmpdir()
    binary = None
    if copy_binary:
        binary = os.path.join(root, "bin", "moord")
        os.makedirs(os.path.dirname(binary))
        shutil.copy2(moortest.MOORD, binary)
    daemon = RestoreDaemon(root, binary=binary, config=config, args=args)
    try:
        daemon.start()
        moor = Moor(daemon)
        if import_busybox:
            moor.import_busybox()
        yield moor
    finally:
        try:
            remove_all_containers(daemon)
        finally:
            daemon.cleanup()
            shutil.rmtree(root, ignore_errors=True)


def remove_all_containers(daemon):
    """Best effort: `rm -f` of every container the daemon knows (starting a
    daemon if none runs), so shims are let go the normal way."""
    with contextlib.suppress(Exception):
        if not daemon.alive:
            daemon.start(timeout=30)
        resp = api(daemon.socket, "GET", "/containers/json?all=1", timeout=10)
        for container in resp.json():
            with contextlib.suppress(Exception):
                api(daemon.socket, "POST", f"/containers/{container['Id']}/unpause", timeout=10)
            with contextlib.suppress(Exception):
                api(daemon.socket, "DELETE", f"/containers/{container['Id']}?force=1", timeout=40)


# ---------------------------------------------------------------------------
# Replacing moord's binary the way a package upgrade does.

def replace_binary(path, source=None):
    """Puts a fresh copy of `source` (moord) at `path` by rename, as package
    managers do: the running process keeps the old inode. Returns the new
    file's inode."""
    temp = path + ".new"
    shutil.copy2(source or moortest.MOORD, temp)
    os.rename(temp, path)
    return os.stat(path).st_ino


# ---------------------------------------------------------------------------
# Processes.

def process_start_time(pid):
    """The kernel's start time of `pid` (clock ticks since boot): with the
    pid, it names one process even if pids are reused."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def shim_pids(daemon):
    """pid -> command line of every moor-shim process of this daemon (their
    command lines name its directories)."""
    result = subprocess.run(["pgrep", "-f", daemon.root], capture_output=True, text=True)
    out = {}
    for text in result.stdout.split():
        pid = int(text)
        line = cmdline(pid)
        if pid != os.getpid() and " start --id " in line and "moor-shim" in line.split(" ", 1)[0]:
            out[pid] = line
    return out


def shim_pid_of(daemon, container_id):
    return next((pid for pid, line in shim_pids(daemon).items() if f"--id {container_id}" in line), None)


def container_processes(container_id):
    """Pids in the container's cgroups (every v1 hierarchy)."""
    pids = set()
    for hierarchy in os.listdir(CGROUP_ROOT):
        path = os.path.join(CGROUP_ROOT, hierarchy, "moor", container_id)
        for dirpath, _, _ in os.walk(path):
            with contextlib.suppress(OSError):
                with open(os.path.join(dirpath, "cgroup.procs")) as f:
                    pids.update(int(p) for p in f.read().split())
    return pids


def simulate_host_reboot(daemon, container_ids):
    """What a reboot leaves of a daemon that was SIGKILLed: no shim, no
    container process, no cgroup, no mount, an empty exec-root (a tmpfs on
    a real host); the data-root (store, records, logs) stays. The shims go
    first so none of them can write an exit record."""
    assert not daemon.alive, "stop moord first"
    shims = list(shim_pids(daemon))
    for pid in shims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not any(alive(pid) for pid in shims), timeout=10, what="the shims to die")
    moortest.remove_cgroups(container_ids)
    for cid in container_ids:
        assert not container_processes(cid), f"processes of {cid} survived the simulated reboot"
    moortest.unmount_under(daemon.root)
    if os.path.isdir(daemon.exec_root):
        shutil.rmtree(daemon.exec_root)


# ---------------------------------------------------------------------------
# What a container leaves on the host.

def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(path + "/")]


def traces(daemon, container_id, shims=None, mounts=None):
    """Everything on the host that belongs to `container_id`: cgroups,
    directories, the shim's socket directory, shim processes, mounts.
    (`shims` and `mounts`: shim_pids() and mounts_under() when the caller
    checks many ids at once.)"""
    shims = shim_pids(daemon) if shims is None else shims
    mounts = mounts_under(daemon.root) if mounts is None else mounts
    found = cgroup_dirs(container_id)
    for path in (os.path.join(daemon.data_root, "containers", container_id),
                 os.path.join(daemon.exec_root, "containers", container_id),
                 os.path.join(daemon.exec_root, "s", container_id[:32])):
        if os.path.lexists(path):
            found.append(path)
    found += [f"shim pid {pid}: {line}" for pid, line in shims.items() if container_id in line]
    found += [f"mount {point}" for point in mounts if container_id in point]
    return found


def stray_entries(daemon, known_ids):
    """Entries under the data-root and exec-root container directories and
    the shim socket directory that belong to no id in `known_ids`, and
    shims of unknown containers."""
    known_keys = {cid[:32] for cid in known_ids}
    out = []
    for directory, keyed in ((os.path.join(daemon.data_root, "containers"), False),
                             (os.path.join(daemon.exec_root, "containers"), False),
                             (os.path.join(daemon.exec_root, "s"), True)):
        with contextlib.suppress(FileNotFoundError):
            for entry in os.listdir(directory):
                if entry not in (known_keys if keyed else known_ids):
                    out.append(os.path.join(directory, entry))
    for pid, line in shim_pids(daemon).items():
        if not any(f"--id {cid}" in line for cid in known_ids):
            out.append(f"shim pid {pid}: {line}")
    return out


# ---------------------------------------------------------------------------
# Logs.

def parse_timestamp(text):
    """RFC 3339 with nanoseconds (as `docker logs -t` prints) -> ns since
    the epoch."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$", text)
    assert match, f"not an RFC 3339 UTC time: {text!r}"
    seconds = int(datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return seconds * 1_000_000_000 + int((match.group(2) or "0").ljust(9, "0"))


def parse_docker_time(text):
    """Inspect's times ("2024-01-02T03:04:05.123456789Z") -> ns; None for
    Docker's zero time."""
    if text.startswith("0001-01-01"):
        return None
    return parse_timestamp(text)


def timestamped_lines(moor, ref, *extra):
    """`docker logs -t REF` as [(time ns, line)] for stdout, and stderr's
    lines as they are."""
    result = moor.cli("logs", "-t", *extra, ref, check=True, timeout=300)
    out = []
    for line in result.stdout.splitlines():
        match = TIMESTAMP.match(line)
        assert match, f"docker logs -t printed a line without a timestamp: {line!r}"
        out.append((parse_timestamp(line.split(" ", 1)[0]), match.group(3)))
    return out, result.stderr.splitlines()


def check_counter_log(entries, interval=INTERVAL, slack=0.35):
    """The COUNTER container's log: numbers 1..N, each exactly once, in
    order; no gap between two lines' timestamps longer than the gap the
    container itself measured between writing them plus `slack` (so a
    downtime never shows as a gap, nor as a burst of lines stamped with the
    reconnect time). Returns N."""
    numbers = [int(text.split()[0]) for _, text in entries]
    assert numbers, "the log is empty"
    dupes = sorted({n for n in numbers if numbers.count(n) > 1})[:10]
    assert not dupes, f"lines logged more than once: {dupes}"
    assert numbers == list(range(1, len(numbers) + 1)), (
        f"lines missing or out of order: first bad index "
        f"{next(i for i, n in enumerate(numbers) if n != i + 1)} of {len(numbers)}")
    worst = (0.0, None)
    for (t0, a), (t1, b) in zip(entries, entries[1:]):
        logged = (t1 - t0) / 1e9
        own = float(b.split()[1]) - float(a.split()[1])
        assert logged >= -0.001, f"timestamps go backwards between {a!r} and {b!r}"
        excess = logged - max(own, interval)
        if excess > worst[0]:
            worst = (excess, (a, b, logged, own))
    assert worst[0] <= slack, (
        f"a gap of {worst[1][2]:.3f} s in the log timestamps between {worst[1][0]!r} and {worst[1][1]!r}, "
        f"where the container waited {worst[1][3]:.3f} s")
    return len(numbers)


def events(moor, since_ns, until_ns=None, **filters):
    """Kept events between two times (GET /events with since/until)."""
    until_ns = until_ns or time.time_ns()
    query = f"since={since_ns / 1e9:.9f}&until={until_ns / 1e9:.9f}"
    if filters:
        query += "&filters=" + urllib.parse.quote(json.dumps({k: v if isinstance(v, list) else [v]
                                                              for k, v in filters.items()}))
    resp = moor.api("GET", f"/events?{query}", timeout=30)
    assert resp.status == 200, resp
    return [json.loads(line) for line in resp.body.splitlines() if line.strip()]


def api_ready_seconds(daemon):
    """Starts moord and returns how long its socket took to answer
    GET /_ping, measured from the spawn."""
    started = time.monotonic()
    daemon.spawn()
    while True:
        if daemon.proc.poll() is not None:
            raise AssertionError(f"moord exited with {daemon.proc.returncode}:\n{daemon.log()[-4000:]}")
        with contextlib.suppress(OSError):
            if api(daemon.socket, "GET", "/_ping", timeout=5).status == 200:
                took = time.monotonic() - started
                daemon._watch_events()
                return took
        if time.monotonic() - started > 60:
            raise AssertionError(f"moord did not answer within 60 s:\n{daemon.log()[-4000:]}")
        time.sleep(0.01)


# ---------------------------------------------------------------------------
# Containers seen from the host.

def container_file(pid, path):
    """A file inside a running container (through /proc/PID/root), or None."""
    try:
        with open(f"/proc/{pid}/root{path}") as f:
            return f.read()
    except OSError:
        return None


def counter_value(pid, path):
    """An integer the container keeps in `path` (written by rename, so
    never seen half-written); None until it exists."""
    text = container_file(pid, path)
    return int(text) if text and text.strip() else None


def fingerprint(moor, ref):
    """What a restore must keep of a container, from inspect."""
    info = moor.inspect(ref)
    host = info["HostConfig"]
    return {
        "Id": info["Id"], "Name": info["Name"], "Image": info["Image"], "Path": info["Path"], "Args": info["Args"],
        "Pid": info["State"]["Pid"], "Status": info["State"]["Status"], "StartedAt": info["State"]["StartedAt"],
        "RestartCount": info["RestartCount"], "Labels": info["Config"]["Labels"],
        "Memory": host.get("Memory"), "PidsLimit": host.get("PidsLimit"), "CpuShares": host.get("CpuShares"),
        "LogConfig": host.get("LogConfig"), "NetworkMode": host.get("NetworkMode"),
        "RestartPolicy": host.get("RestartPolicy"),
    }


def wait_managed(moor, ref, timeout=20):
    """Waits until the daemon really manages the running container again
    (an exec runs in it), not only lists it."""
    def ok():
        # The output, not only the status: the CLI exits 0 for an exec the
        # daemon refused after the stream was upgraded.
        result = moor.cli("exec", ref, "echo", "managed", timeout=30)
        return result.returncode == 0 and result.stdout == "managed\n"
    wait_until(ok, timeout=timeout, interval=0.2, what=f"an exec to run in {ref}")


@contextlib.contextmanager
def garbage_server(path):
    """Puts a listener at a shim's socket path that answers every
    connection with bytes that are not the shim protocol (a broken shim).
    The real shim keeps its listening socket, now without a path."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (socket.timeout, OSError):
                continue
            with contextlib.suppress(OSError):
                conn.sendall(b"this is not the moor shim protocol\n" * 8)
            conn.close()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def frames(data):
    """Docker's multiplexed stream as [(stream, payload)], in order."""
    out, pos = [], 0
    while pos < len(data):
        assert pos + 8 <= len(data), f"truncated frame header at {pos}"
        length = int.from_bytes(data[pos + 4:pos + 8], "big")
        out.append((data[pos], data[pos + 8:pos + 8 + length]))
        pos += 8 + length
    return out
