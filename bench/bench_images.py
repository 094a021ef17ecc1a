"""The image benchmarks (issue 5), moord against dockerd 20.10 measured in
the same run through the docker CLI, the real client, on each daemon's
socket (`docker -H unix://SOCK ...`); each figure is returned as (name,
value, ref name, ref, ratio, target) like bench_shim's.

Both daemons run side by side, each in a fresh temp dir (dockerref), and
the rounds alternate between them so that both are measured under the same
load from elsewhere on the machine:
  1. `docker load -i` of a ~200 MiB `docker save` archive built at bench
     time (5 layers: busybox's rootfs, then four of mixed large and small
     files), each daemon's data-root on a fresh ext4 of its own (see
     on_a_fresh_filesystem); the median of 3 rounds, the image removed
     between rounds (and, on ext4 without a journal, a wait until the
     inodes it freed may be reused: see recently_freed_seconds);
  2. `docker run -d` of a 5-layer image of small layers (busybox first,
     command `sleep 1000`), from invoking the CLI to its return; the median
     of 10 runs, each container removed (untimed) before the next.
The median of a `docker ps -q` round trip is printed too: the CLI's own
start-up is part of every figure here and bounds how low a ratio can go.
Everything is removed afterwards, failure or not.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import dockerref
import savearchive

LOAD_ROUNDS = 3
RUN_ROUNDS = 10
PS_ROUNDS = 10
FILLER_LAYERS = 4
FILLER_BYTES = 50 << 20
SMALL_LAYERS = 4
LOAD_REPO, RUN_REPO = "moor-bench/load", "moor-bench/run"
CMD = ["sleep", "1000"]
CLI_TIMEOUT = 300
RECENTLY_FREED_SECONDS = 61
DATA_FS_BYTES = 4 << 30  # each daemon's data-root filesystem (sparse)


# ---------------------------------------------------------------------------
# The archives.

def build_archives(work, busybox_tar):
    """Writes the two archives under `work`: {"load": (path, image id,
    diffIDs), "run": (...)}. busybox's rootfs tar is the first layer of
    both, as it is, so that the images can run."""
    busybox = (busybox_tar, "sha256:" + savearchive.file_sha256(busybox_tar))
    out = {}
    kinds = (("load", LOAD_REPO, FILLER_LAYERS, _filler), ("run", RUN_REPO, SMALL_LAYERS, _small))
    for name, repo, count, write in kinds:
        layers = [busybox]
        for i in range(1, count + 1):
            path = os.path.join(work, f"{name}-layer{i}.tar")
            layers.append((path, write(path, i)))
        archive = os.path.join(work, f"{name}.tar")
        image_id = savearchive.write_archive(archive, layers, repo, "latest", CMD)
        for path, _ in layers[1:]:
            os.unlink(path)  # in the archive now; only its disk space is left to free
        out[name] = (archive, image_id, [d for _, d in layers])
    return out


def _filler(path, seed):
    return savearchive.write_filler_layer(path, seed, FILLER_BYTES)


def _small(path, seed):
    return savearchive.write_small_layer(path, 100 + seed)


# ---------------------------------------------------------------------------
# The client.

def cli(daemon, *args, timeout=CLI_TIMEOUT):
    """Runs `docker -H unix://SOCK ARGS...`; returns (seconds from exec to
    exit, stdout). DOCKER_CONFIG points into the daemon's temp dir so the
    user's CLI config (contexts, plugins, credential helpers) plays no part."""
    cmd = [dockerref.DOCKER_CLI, "-H", f"unix://{daemon.socket}", *args]
    t0 = time.perf_counter()
    result = subprocess.run(cmd, env=daemon.env(), capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    if result.returncode != 0:
        raise dockerref.BenchError(f"{daemon.name}: docker {' '.join(args)}: exit {result.returncode}: "
                                   f"{result.stderr.strip()[-500:]}\n{daemon.log_tail(1500)}")
    return seconds, result.stdout


def image_layers(daemon, reference):
    """The image's diffIDs as the daemon lists them; None when it has no such image."""
    status, body = dockerref.api(daemon.socket, "GET", f"/images/{reference}/json")
    if status == 404:
        return None
    if status != 200:
        raise dockerref.BenchError(f"{daemon.name}: GET /images/{reference}/json: {status} {body[:300]!r}")
    return json.loads(body)["RootFS"]["Layers"]


def load(daemon, archive, reference, diff_ids):
    """`docker load -i ARCHIVE`: its seconds, once the image is checked to
    be there with the archive's layers."""
    seconds, out = cli(daemon, "load", "-i", archive)
    layers = image_layers(daemon, reference)
    if layers != diff_ids:
        raise dockerref.BenchError(f"{daemon.name}: after `docker load` ({out.strip()!r}) {reference} "
                                   f"has layers {layers}, the archive {diff_ids}")
    return seconds


def remove_image(daemon, reference):
    """Removes the image and checks that the daemon no longer lists it, so
    that the next load unpacks every layer again."""
    dockerref.api_json(daemon.socket, "DELETE", f"/images/{reference}?force=1", expect=(200,), timeout=120)
    if image_layers(daemon, reference) is not None:
        raise dockerref.BenchError(f"{daemon.name}: {reference} is still listed after its removal")


def settle_disk():
    """Writes back the dirty pages the last step left (untimed), so that
    one daemon's writeback does not land in the other's measurement."""
    os.sync()


def recently_freed_seconds(path):
    """How long after a removal the freed inodes still slow down new files
    on `path`'s filesystem. ext4 without a journal (as on the machine these
    benches were written on) does not reuse an inode freed less than 60 s
    ago (its inode table block written back; 360 s while dirty): every new
    file's allocation walks past each such inode of its block group, so a
    load just after a removal is slower by how many files were freed near
    where it writes, whichever daemon freed them. 0 on other filesystems."""
    st = os.stat(path)
    device = os.path.basename(os.path.realpath(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}"))
    try:
        with open(f"/sys/fs/ext4/{device}/journal_task") as f:
            return RECENTLY_FREED_SECONDS if f.read().strip() == "<none>" else 0
    except OSError:
        return 0


def on_a_fresh_filesystem(daemon, work):
    """Gives the daemon's data-root an ext4 of its own, made for the bench
    in a sparse file under `work` and loop-mounted (its default journal
    on). Both daemons then write into identical, empty filesystems, and a
    load measures the daemon rather than where on the shared disk it lands
    and how recently other work freed inodes there (see
    recently_freed_seconds). The daemon's cleanup unmounts it."""
    image = os.path.join(work, f"{daemon.name}-data.ext4")
    with open(image, "wb") as f:
        f.truncate(DATA_FS_BYTES)
    for command in (["mkfs.ext4", "-q", "-F", image], ["mount", "-o", "loop", image, daemon.data_root]):
        os.makedirs(daemon.data_root, exist_ok=True)
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise dockerref.BenchError(f"{' '.join(command)}: {result.stderr.strip()}")


def detach_loop_devices(work):
    """Frees the loop devices still backed by a file under `work` (a lazy
    unmount leaves its device attached until the filesystem is released)."""
    for name in os.listdir(work) if os.path.isdir(work) else []:
        if name.endswith(".ext4"):
            found = subprocess.run(["losetup", "-j", os.path.join(work, name)], capture_output=True, text=True)
            for line in found.stdout.splitlines():
                subprocess.run(["losetup", "-d", line.split(":", 1)[0]], capture_output=True)


# ---------------------------------------------------------------------------
# 1. docker load.

def load_times(daemons, archive, reference, diff_ids):
    """{daemon: [seconds]} over LOAD_ROUNDS rounds, alternating. After each
    round both images are removed, the disk synced, and the next round
    waits until the inodes the removals freed are no longer recent (see
    recently_freed_seconds), so that no load pays for the previous round's
    deletions."""
    wait = max(recently_freed_seconds(d.data_root) for d in daemons)
    out = {d: [] for d in daemons}
    for n in range(LOAD_ROUNDS):
        for d in daemons:
            settle_disk()
            out[d].append(load(d, archive, reference, diff_ids))
        for d in daemons:
            remove_image(d, reference)
        settle_disk()
        if n + 1 < LOAD_ROUNDS:
            time.sleep(wait)
    return out


# ---------------------------------------------------------------------------
# 2. docker run -d.

def run_once(daemon, reference):
    """Seconds of `docker run -d --network none IMAGE`, once the container
    is checked to be running; the container is then removed (untimed)."""
    seconds, out = cli(daemon, "run", "-d", "--network", "none", reference)
    cid = out.strip().splitlines()[-1] if out.strip() else ""
    if len(cid) != 64:
        raise dockerref.BenchError(f"{daemon.name}: `docker run -d` printed {out!r}, not a container id")
    daemon.ids.add(cid)
    state = daemon.inspect(cid)["State"]
    if not state.get("Running"):
        raise dockerref.BenchError(f"{daemon.name}: {cid[:12]} is not running after `docker run -d`: {state}")
    dockerref.api_json(daemon.socket, "DELETE", f"/containers/{cid}?force=1", expect=(204,), timeout=120)
    return seconds


def run_times(daemons, reference):
    """({daemon: seconds of the image's first run}, {daemon: [seconds]}
    over RUN_ROUNDS rounds after it, alternating). The first run is kept
    apart: it also pays one-time costs (the daemon's first use of the
    image, the CLI binary's page cache), which would move the median of
    so few rounds; it is printed for the record."""
    first = {d: run_once(d, reference) for d in daemons}
    out = {d: [] for d in daemons}
    for _ in range(RUN_ROUNDS):
        for d in daemons:
            out[d].append(run_once(d, reference))
    return first, out


def ps_times(daemons):
    """{daemon: [seconds]} of `docker ps -q`: the CLI's own cost."""
    out = {d: [] for d in daemons}
    for _ in range(PS_ROUNDS):
        for d in daemons:
            out[d].append(cli(d, "ps", "-q")[0])
    return out


# ---------------------------------------------------------------------------

def measure(moor, ref, busybox_tar, work):
    """Both daemons' figures: {"load": {daemon: [s]}, "run": ..., "ps": ...,
    "first": {daemon: s}, "mib": the load archive's MiB}."""
    archives = build_archives(work, busybox_tar)
    daemons = (moor, ref)
    for d in daemons:
        on_a_fresh_filesystem(d, work)
        d.start()
    load_archive, _, load_layers = archives["load"]
    out = {"mib": os.path.getsize(load_archive) / (1 << 20)}
    out["load"] = load_times(daemons, load_archive, f"{LOAD_REPO}:latest", load_layers)
    run_archive, _, run_layers = archives["run"]
    for d in daemons:
        load(d, run_archive, f"{RUN_REPO}:latest", run_layers)
    out["first"], out["run"] = run_times(daemons, f"{RUN_REPO}:latest")
    out["ps"] = ps_times(daemons)
    return out


def ratio(a, b):
    return a / b if b else float("inf")


def show_rounds(what, rounds):
    """Every round's time, for the record: how far the median can be trusted."""
    for name, seconds in rounds.items():
        print(f"{what}, {name}: " + " ".join(f"{s:.3f}" for s in seconds) + " s")


def run_all(moord_bin, shim_bin, busybox_tar):
    daemons, errors = [], []
    work = tempfile.mkdtemp(prefix="mb-images-", dir="/tmp")
    try:
        daemons.append(dockerref.Moord(moord_bin, shim_bin))
        daemons.append(dockerref.Dockerd())
        out = measure(daemons[0], daemons[1], busybox_tar, work)
    finally:
        for d in daemons:
            try:
                d.cleanup()
            except Exception as e:  # the other daemon is still cleaned up
                print(f"bench cleanup: {e}", file=sys.stderr)
                errors.append(e)
        detach_loop_devices(work)
        shutil.rmtree(work, ignore_errors=True)
    if errors:
        raise errors[0]
    moor, ref = daemons
    for key, what in (("load", "docker load"), ("run", "docker run -d")):
        show_rounds(what, {d.name: out[key][d] for d in daemons})
    med = {key: {d: statistics.median(out[key][d]) for d in daemons} for key in ("load", "run", "ps")}
    return [
        (f"docker load, {out['mib']:.0f} MiB in {FILLER_LAYERS + 1} layers (median {LOAD_ROUNDS})",
         f"{med['load'][moor]:.2f} s", "dockerd", f"{med['load'][ref]:.2f} s",
         ratio(med["load"][moor], med["load"][ref]), lambda r: r <= 0.7),
        (f"docker run -d, {SMALL_LAYERS + 1} layers (median of {RUN_ROUNDS})", f"{med['run'][moor] * 1000:.0f} ms",
         "dockerd", f"{med['run'][ref] * 1000:.0f} ms", ratio(med["run"][moor], med["run"][ref]), lambda r: r <= 0.4),
        ("  docker run -d, the image's first run", f"{out['first'][moor] * 1000:.0f} ms",
         "dockerd", f"{out['first'][ref] * 1000:.0f} ms", ratio(out["first"][moor], out["first"][ref]), None),
        (f"  CLI floor: docker ps -q (median of {PS_ROUNDS})", f"{med['ps'][moor] * 1000:.0f} ms",
         "dockerd", f"{med['ps'][ref] * 1000:.0f} ms", ratio(med["ps"][moor], med["ps"][ref]), None),
    ]
