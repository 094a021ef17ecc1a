"""The shim's three benchmarks; each returns (name, value, ref name, ref, ratio, target)."""
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import uuid

import moorshim

CONMON = shutil.which("conmon") or "/usr/bin/conmon"
RUNC = shutil.which("runc") or "/usr/sbin/runc"


class Workspace:
    """A temp dir with bundles sharing the busybox rootfs read-only."""

    def __init__(self, shim_bin, rootfs):
        self.shim_bin, self.rootfs = shim_bin, rootfs
        self.dir = tempfile.mkdtemp(prefix="moor-bench-")
        self.tag = uuid.uuid4().hex[:8]
        self.cgroup_parent = f"/moor-bench-{self.tag}"
        self.shims = []

    def bundle(self, name, args):
        bundle = os.path.join(self.dir, name, "bundle")
        os.makedirs(bundle)
        spec = moorshim.default_spec(self.shim_bin)
        spec["process"]["args"] = args
        spec["root"] = {"path": self.rootfs, "readonly": True}
        spec["linux"]["cgroupsPath"] = f"{self.cgroup_parent}/{name}"
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(spec, f)
        return bundle

    def start_shim(self, name, args, extra=()):
        bundle = self.bundle(name, args)
        state = os.path.join(self.dir, name, "state")
        started = moorshim.start(self.shim_bin, name, bundle, state,
                                 extra=["--shim-cgroup", f"{self.cgroup_parent}-shims/{name}",
                                        "--seccomp-cache", os.path.join(self.dir, "seccomp"), *extra])
        started["state"] = state
        self.shims.append(started)
        return started

    def cleanup(self):
        for s in self.shims:
            try:
                shim = moorshim.Shim(s["socket"], timeout=10)
                shim.shutdown(kill=True)
                shim.close()
            except OSError:
                pass
        time.sleep(0.3)
        remove_cgroup_tree(self.cgroup_parent)
        remove_cgroup_tree(self.cgroup_parent + "-shims")
        shutil.rmtree(self.dir, ignore_errors=True)


def remove_cgroup_tree(parent):
    root = "/sys/fs/cgroup"
    for h in os.listdir(root):
        base = os.path.join(root, h) + parent
        if not os.path.isdir(base):
            continue
        for leaf in sorted(os.listdir(base)):
            path = os.path.join(base, leaf)
            if os.path.isdir(path):
                try:
                    os.rmdir(path)
                except OSError:
                    pass
        try:
            os.rmdir(base)
        except OSError:
            pass


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def runc_root(ws):
    return os.path.join(ws.dir, "runc-root")


def start_conmon(ws, name, args):
    bundle = ws.bundle(name, args)
    d = os.path.join(ws.dir, name)
    cmd = [CONMON, "--api-version", "1", "-c", name, "-u", name, "-n", name, "-r", RUNC,
           "-b", bundle, "-p", os.path.join(d, "pid"), "--exit-dir", d,
           "-l", "k8s-file:" + os.path.join(d, "ctr.log"), "--log-level", "error",
           "--runtime-arg", "--root=" + runc_root(ws), "--socket-dir-path", d,
           "--conmon-pidfile", os.path.join(d, "conmon.pid"), "--syslog"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)
    # conmon returns before `runc create` is done: wait for the container's pid file.
    deadline = time.time() + 20
    while not os.path.exists(os.path.join(d, "pid")) and time.time() < deadline:
        time.sleep(0.05)
    subprocess.run([RUNC, "--root", runc_root(ws), "start", name], check=True, capture_output=True)
    with open(os.path.join(d, "conmon.pid")) as f:
        return int(f.read().strip())


def runc_cleanup(ws, names):
    for n in names:
        subprocess.run([RUNC, "--root", runc_root(ws), "kill", n, "KILL"], capture_output=True)
    time.sleep(0.3)
    for n in names:
        subprocess.run([RUNC, "--root", runc_root(ws), "delete", "-f", n], capture_output=True)


def bench_rss(shim_bin, rootfs, n=10):
    ws = Workspace(shim_bin, rootfs)
    conmons = []
    try:
        shims = [ws.start_shim(f"rss{i}", ["sleep", "1000"]) for i in range(n)]
        time.sleep(0.5)
        moor = statistics.mean(rss_kib(s["shim_pid"]) for s in shims)
        for i in range(n):
            conmons.append((f"conmon{i}", start_conmon(ws, f"conmon{i}", ["sleep", "1000"])))
        time.sleep(0.5)
        ref = statistics.mean(rss_kib(pid) for _, pid in conmons)
    finally:
        runc_cleanup(ws, [c for c, _ in conmons])
        for _, pid in conmons:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        ws.cleanup()
    return ("shim RSS per running container", f"{moor / 1024:.2f} MiB", "conmon",
            f"{ref / 1024:.2f} MiB", moor / ref, lambda r: moor <= 1024)


def bench_latency(shim_bin, rootfs, n=20):
    ws = Workspace(shim_bin, rootfs)
    moor, ref, runc_names = [], [], []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            s = ws.start_shim(f"lat{i}", ["sleep", "1000"])
            moor.append(time.perf_counter() - t0)
            shim = moorshim.Shim(s["socket"])
            shim.shutdown(kill=True)
            shim.close()
        for i in range(n):
            name = f"runc{i}"
            bundle = ws.bundle(name, ["sleep", "1000"])
            t0 = time.perf_counter()
            subprocess.run([RUNC, "--root", runc_root(ws), "run", "-d", "--bundle", bundle, name],
                           check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            ref.append(time.perf_counter() - t0)
            runc_names.append(name)
            runc_cleanup(ws, [name])
    finally:
        runc_cleanup(ws, runc_names)
        ws.cleanup()
    m, r = statistics.median(moor), statistics.median(ref)
    return ("create-to-exec latency (median)", f"{m * 1000:.1f} ms", "runc run -d",
            f"{r * 1000:.1f} ms", m / r, lambda x: x <= 0.5)


def run_seconds(ws, name, script):
    """Runs `script` in a container; returns how long its init ran, from the
    shim's exit record (started_ns to finished_ns): no reader, no daemon."""
    s = ws.start_shim(name, ["sh", "-c", script], extra=["--spool-max", str(4 << 30)])
    shim = moorshim.Shim(s["socket"], timeout=600)
    shim.wait()
    shim.shutdown()
    shim.close()
    with open(os.path.join(s["state"], "exit")) as f:
        record = json.load(f)
    if record["exit_code"] != 0:
        raise RuntimeError(f"{name}: {script!r} exited with {record['exit_code']}")
    return (record["finished_ns"] - record["started_ns"]) / 1e9


# Log-like output (lines, as applications write them) is the target figure;
# raw 64 KiB blocks from /dev/zero are the worst case for any spool that
# writes to disk (the /dev/null side then costs nothing), shown for the record.
WORKLOADS = [
    ("log lines (seq, 21 MiB)", "seq 1 3000000", "seq 1 3000000 > /dev/null", True),
    ("raw 64 KiB blocks (dd, 512 MiB)", "dd if=/dev/zero bs=65536 count=8192 2>/dev/null",
     "dd if=/dev/zero of=/dev/null bs=65536 count=8192 2>/dev/null", False),
]


def bench_throughput(shim_bin, rootfs, rounds=3):
    ws = Workspace(shim_bin, rootfs)
    results = []
    try:
        for label, to_stdout, to_null, target in WORKLOADS:
            spool = min(run_seconds(ws, f"tp-s{len(results)}-{i}", to_stdout) for i in range(rounds))
            null = min(run_seconds(ws, f"tp-n{len(results)}-{i}", to_null) for i in range(rounds))
            check = (lambda r: r >= 0.8) if target else None
            results.append((f"stdout into the spool, no reader: {label}", f"{spool:.3f} s", "same to /dev/null",
                            f"{null:.3f} s", null / spool, check))
    finally:
        ws.cleanup()
    return results


def run_all(shim_bin, rootfs):
    return [bench_rss(shim_bin, rootfs), bench_latency(shim_bin, rootfs)] + bench_throughput(shim_bin, rootfs)
