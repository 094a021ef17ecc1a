"""The daemon's benchmarks, moord against dockerd 20.10 measured in the
same run; each figure is returned as (name, value, ref name, ref, ratio,
target) like bench_shim's.

Both daemons run side by side, each in a fresh temp dir with busybox
imported from the same tar and 100 running `sleep` containers; the machine
may be busy with other work, so the two are measured under the same load:
  1. CPU over the same 60 s idle window: each daemon's utime+stime (moord
     vs dockerd + containerd), the shims' totals printed for the record;
  2. restore, rounds alternating between the daemons: SIGKILL the daemon,
     exec its binary again and time until all 100 containers are listed as
     running and each answers an exec (`docker exec C true`, 16 at a time);
     the median of 3 rounds;
  3. one daemon after the other, a container writing 1 KiB lines as fast as
     it can (busybox `yes`): its write rate (the kernel's count of the bytes
     its write() calls put out, /proc/PID/io wchar), sampled every second
     over 5 s with the daemon up, then 5 s with the daemon SIGKILLed, three
     times, once it wrote more than moor's spool bound; the medians are
     compared.
Everything is removed afterwards, failure or not (dockerref's cleanup).
"""
import concurrent.futures
import os
import statistics
import sys
import time

import dockerref

CONTAINERS = 100
IDLE_SECONDS = 60
SETTLE_SECONDS = 5
RESTORE_ROUNDS = 3
RESTORE_TIMEOUT = 300
EXEC_WORKERS = 16
WRITE_WINDOW = 5
WRITE_WARMUP = 2
WRITE_CYCLES = 3
# Before the first window the writer runs until it has written more than
# moor's spool bound (1 GiB by default) or for at most 15 s: a spool still
# filling takes writes faster than one at its bound (which drops its oldest
# segment for each new one), and only the latter is the steady state.
WRITE_FILL_BYTES = 3 << 29
WRITE_FILL_SECONDS = 15
# The pause between the SIGKILL and the next exec of the binary (not timed):
# the same for both daemons; dockerd also waits until its old containerd
# has left the process table (see Dockerd.after_kill).
PAUSE_AFTER_KILL = 1.0
LINE = "x" * 1000  # `yes LINE` writes 1001-byte lines
WRITER_LOG_OPTS = {"max-size": "100m", "max-file": "2"}  # bounds the disk the up windows use
CLK_TCK = os.sysconf("SC_CLK_TCK")


def wait_running(daemon, ids, timeout):
    """Polls the container list until every id in `ids` is running; the
    daemon may not be listening yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ids <= daemon.running_ids():
                return
        except (OSError, dockerref.BenchError):
            pass
        if daemon.proc.poll() is not None:
            raise dockerref.BenchError(f"{daemon.name} exited with {daemon.proc.returncode}:\n{daemon.log_tail()}")
        if time.monotonic() > deadline:
            raise dockerref.BenchError(f"{daemon.name}: containers not all running after {timeout}s")
        time.sleep(0.02)


def prepare(daemon, busybox_tar):
    """Starts the daemon with busybox and CONTAINERS sleepers; their ids."""
    daemon.start()
    daemon.import_image(busybox_tar)
    ids = set(daemon.run_many(CONTAINERS, ["sleep", "1000000"]))
    wait_running(daemon, ids, 120)
    return ids


# ---------------------------------------------------------------------------
# 1. CPU while idle.

def process_ticks(pids):
    ticks = {}
    for pid in pids:
        value = dockerref.cpu_ticks(pid)
        if value is not None:
            ticks[pid] = value
    return ticks


def cpu_seconds_over(before, after):
    """CPU seconds used between two samples by the processes present in both."""
    return sum(after[p] - before[p] for p in before if p in after) / CLK_TCK


def idle_cpu(daemons, seconds):
    """For each daemon, over the same `seconds`: (daemon CPU s, shims' CPU s)."""
    pids = [(d, d.daemon_pids(), d.shim_pids()) for d in daemons]
    for d, _, shims in pids:
        if len(shims) != CONTAINERS:
            raise dockerref.BenchError(f"{d.name}: found {len(shims)} shims for {CONTAINERS} containers")
    before = [(process_ticks(own), process_ticks(shims)) for _, own, shims in pids]
    time.sleep(seconds)
    out = []
    for (d, own, shims), (own0, shims0) in zip(pids, before):
        own1 = process_ticks(own)
        if set(own1) != set(own):
            raise dockerref.BenchError(f"{d.name}: a daemon process died during the idle window")
        out.append((cpu_seconds_over(own0, own1), cpu_seconds_over(shims0, process_ticks(shims))))
    return out


# ---------------------------------------------------------------------------
# 2. Restore.

def exec_until_ok(daemon, cid, deadline):
    """Retries `exec true` until it succeeds (a restoring daemon may refuse
    it at first); returns the failed attempts' errors."""
    failures = []
    while time.monotonic() < deadline:
        try:
            if daemon.exec_true(cid, timeout=max(1.0, deadline - time.monotonic())):
                return failures
            failures.append("exit code not 0")
        except (OSError, dockerref.BenchError) as e:
            failures.append(str(e))
        time.sleep(0.02)
    raise dockerref.BenchError(f"{daemon.name}: exec in {cid[:12]} never succeeded: {failures[-1:]}")


def restore_once(daemon, ids):
    """SIGKILL, exec the binary again; returns (seconds until all listed
    running, seconds until all answered an exec, from the exec; the errors
    of exec attempts that failed on the way)."""
    daemon.sigkill()
    time.sleep(PAUSE_AFTER_KILL)
    t0 = time.perf_counter()
    daemon.spawn()
    wait_running(daemon, ids, RESTORE_TIMEOUT)
    listed = time.perf_counter() - t0
    deadline = time.monotonic() + RESTORE_TIMEOUT
    failures = []
    with concurrent.futures.ThreadPoolExecutor(EXEC_WORKERS) as pool:
        for future in [pool.submit(exec_until_ok, daemon, cid, deadline) for cid in ids]:
            failures += future.result()
    return listed, time.perf_counter() - t0, failures


# ---------------------------------------------------------------------------
# 3. Writes with the daemon down.

def wchar(pid):
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise dockerref.BenchError(f"no wchar in /proc/{pid}/io")


def write_samples(pid, seconds):
    """The process's write rate (bytes/s) over each second of `seconds`."""
    rates = []
    for _ in range(int(seconds)):
        b0, t0 = wchar(pid), time.perf_counter()
        time.sleep(1)
        rates.append((wchar(pid) - b0) / (time.perf_counter() - t0))
    return rates


def write_rates(daemon):
    """(bytes/s with the daemon up, bytes/s with it SIGKILLed): medians of
    1 s samples over WRITE_CYCLES alternations, so that a burst of load from
    elsewhere on the machine moves one sample, not the figure. The daemon
    runs again afterwards, and the writer is gone."""
    cid = daemon.run_detached(["yes", LINE], log_opts=WRITER_LOG_OPTS)
    pid = daemon.inspect(cid)["State"]["Pid"]
    with open(f"/proc/{pid}/comm") as f:
        if f.read().strip() != "yes":
            raise dockerref.BenchError(f"{daemon.name}: pid {pid} of the writer {cid[:12]} is not `yes`")
    deadline = time.monotonic() + WRITE_FILL_SECONDS
    while wchar(pid) < WRITE_FILL_BYTES and time.monotonic() < deadline:
        time.sleep(0.1)
    up, down = [], []
    for _ in range(WRITE_CYCLES):
        time.sleep(WRITE_WARMUP)
        up += write_samples(pid, WRITE_WINDOW)
        daemon.sigkill()
        time.sleep(PAUSE_AFTER_KILL)
        down += write_samples(pid, WRITE_WINDOW)
        daemon.start()
    # The next daemon's writer must not share the CPU with this one.
    dockerref.api_json(daemon.socket, "DELETE", f"/containers/{cid}?force=1", expect=(204,), timeout=120)
    return statistics.median(up), statistics.median(down)


# ---------------------------------------------------------------------------

def measure(moor, ref, busybox_tar):
    """Both daemons' figures: {daemon: {...}}."""
    ids = {d: prepare(d, busybox_tar) for d in (moor, ref)}
    time.sleep(SETTLE_SECONDS)
    out = {d: {"restore": [], "listed": [], "failures": []} for d in (moor, ref)}
    for d, (cpu, shim_cpu) in zip((moor, ref), idle_cpu((moor, ref), IDLE_SECONDS)):
        out[d].update(cpu=cpu, shim_cpu=shim_cpu)
    for _ in range(RESTORE_ROUNDS):
        for d in (moor, ref):
            listed, restored, failures = restore_once(d, ids[d])
            out[d]["listed"].append(listed)
            out[d]["restore"].append(restored)
            out[d]["failures"] += failures
    for d in (moor, ref):
        out[d]["up"], out[d]["down"] = write_rates(d)
    return out[moor], out[ref]


def ratio(a, b):
    if b:
        return a / b
    return float("nan") if not a else float("inf")


def mbs(rate):
    return f"{rate / 1e6:.0f}"


def show_failures(name, failures):
    """Why execs were refused while restoring (the first few distinct)."""
    for reason in sorted(set(failures))[:3]:
        print(f"{name}: an exec was refused while restoring: {reason}")


def run_all(moord_bin, shim_bin, busybox_tar):
    daemons, errors = [], []
    try:
        daemons.append(dockerref.Moord(moord_bin, shim_bin))
        daemons.append(dockerref.Dockerd())
        moor, ref = measure(daemons[0], daemons[1], busybox_tar)
    finally:
        for d in daemons:
            try:
                d.cleanup()
            except Exception as e:  # the other daemon is still cleaned up
                print(f"bench cleanup: {e}", file=sys.stderr)
                errors.append(e)
    if errors:
        raise errors[0]
    show_failures("moord", moor["failures"])
    show_failures("dockerd", ref["failures"])
    n = CONTAINERS
    restored, ref_restored = statistics.median(moor["restore"]), statistics.median(ref["restore"])
    listed, ref_listed = statistics.median(moor["listed"]), statistics.median(ref["listed"])
    write, ref_write = ratio(moor["down"], moor["up"]), ratio(ref["down"], ref["up"])
    return [
        (f"restore {n} running, to all exec ok (median)", f"{restored:.2f} s", "dockerd", f"{ref_restored:.2f} s",
         ratio(restored, ref_restored), lambda r: r <= 0.5),
        (f"  restore {n}: until all listed (median)", f"{listed:.2f} s", "dockerd", f"{ref_listed:.2f} s",
         ratio(listed, ref_listed), None),
        (f"  execs refused while restoring ({RESTORE_ROUNDS} rounds)", f"{len(moor['failures'])}", "dockerd",
         f"{len(ref['failures'])}", ratio(len(moor["failures"]), len(ref["failures"])), None),
        ("writes, daemon down/up (MB/s, medians)", f"{mbs(moor['down'])}/{mbs(moor['up'])}", "dockerd",
         f"{mbs(ref['down'])}/{mbs(ref['up'])}", write, lambda r: r >= 0.9),
        ("  down/up ratio: moord's, dockerd's", f"{write:.3f}", "dockerd", f"{ref_write:.3f}",
         ratio(write, ref_write), None),
        (f"daemon CPU, {IDLE_SECONDS} s idle, {n} running", f"{moor['cpu']:.2f} s", "dockerd+containerd",
         f"{ref['cpu']:.2f} s", ratio(moor["cpu"], ref["cpu"]), lambda r: r < 1),
        (f"  shims' CPU, {IDLE_SECONDS} s idle (all {n})", f"{moor['shim_cpu']:.2f} s", "containerd-shim-runc-v2",
         f"{ref['shim_cpu']:.2f} s", ratio(moor["shim_cpu"], ref["shim_cpu"]), None),
    ]
