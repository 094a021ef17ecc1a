"""Nothing leaks: moord SIGKILLed at random points of a loop of create,
start, exec, stop, rm and image import, each time restarted and checked:
no cgroup, mount, directory, socket or shim is left that belongs to no
container, and every remaining container is managed. At start moord sweeps
what belongs to no known container and logs each removal."""

import contextlib
import os
import random
import threading
import time

import moortest
import restoretest
from moortest import wait_until
from restoretest import COUNTER, alive, restore_daemon

ROUNDS = 20
# Where to kill moord: each operation in turn, at a random moment within
# about as long as it takes.
TARGETS = {"create": 0.15, "start": 0.25, "exec": 0.15, "image import": 0.5, "stop": 1.5, "rm": 0.2,
           "run -d (kept)": 0.3, "rm -f (running)": 1.5}


class OperationLoop(threading.Thread):
    """Runs container and image operations through the docker CLI until
    told to stop (or until the daemon dies under it), remembering every id
    it was told and the operation under way."""

    def __init__(self, moor, round_number, target):
        super().__init__(daemon=True)
        self.moor = moor
        self.round = round_number
        # The operation the test wants to kill moord in: `reached` is set
        # just before its first run.
        self.target = target
        self.reached = threading.Event()
        self.stop_flag = threading.Event()
        self.ids = set()
        self.tags = set()
        self.current = "nothing yet"
        self.done = []

    def cli(self, what, *args):
        if self.stop_flag.is_set():
            raise StopIteration
        self.current = what
        if what == self.target:
            self.reached.set()
        result = self.moor.cli(*args, timeout=60)
        if result.returncode != 0:
            raise StopIteration  # moord is gone (or refused): this round is over
        self.done.append(what)
        return result.stdout.strip()

    def run(self):
        with contextlib.suppress(StopIteration):
            for k in range(1000):
                name = f"r{self.round}c{k}"
                cid = self.cli("create", "create", "--name", name, "--stop-timeout", "1", "busybox", "sh", "-c",
                               COUNTER)
                self.ids.add(cid)
                self.cli("start", "start", cid)
                self.cli("exec", "exec", cid, "echo", "hi")
                if k % 2 == 0:
                    tag = f"loop:{self.round}-{k}"
                    self.tags.add(tag)
                    self.cli("image import", "import", moortest.BUSYBOX_TAR, tag)
                self.cli("stop", "stop", "-t", "1", cid)
                self.cli("rm", "rm", cid)
                if k % 3 == 0:
                    kept = self.cli("run -d (kept)", "run", "-d", "--name", name + "k", "busybox", "sh", "-c",
                                    COUNTER)
                    self.ids.add(kept)
                    self.cli("rm -f (running)", "rm", "-f", kept)


def _known(moor):
    return {c["Id"]: c for c in moor.client.api.containers(all=True)}


def _check_after_restart(moor, all_ids, context):
    """No trace of any container the daemon does not know; every known
    container consistent (a running one managed, a stopped one without
    shim, processes or cgroups); the image store without half imports."""
    daemon = moor.daemon
    known = _known(moor)
    shims, mounts = restoretest.shim_pids(daemon), restoretest.mounts_under(daemon.root)
    for cid in all_ids - set(known):
        leftovers = restoretest.traces(daemon, cid, shims, mounts)
        assert not leftovers, f"{context}: {cid[:12]} is gone but left {leftovers}"
    strays = restoretest.stray_entries(daemon, set(known))
    assert not strays, f"{context}: left behind: {strays}"
    assert not mounts, f"{context}: mounts left on the host: {mounts}"
    for cid in known:
        state = moor.state(cid)
        assert state["Status"] in ("created", "running", "exited"), f"{context}: {cid[:12]} is {state}"
        if state["Running"]:
            assert alive(state["Pid"]), f"{context}: {cid[:12]} is running with a dead pid: {state}"
            assert restoretest.shim_pid_of(daemon, cid), f"{context}: {cid[:12]} runs without a shim"
            restoretest.wait_managed(moor, cid, timeout=10)
        else:
            assert not restoretest.shim_pid_of(daemon, cid), f"{context}: {cid[:12]} is {state['Status']} " \
                                                              f"but its shim runs"
            assert not restoretest.container_processes(cid), f"{context}: {cid[:12]} is {state['Status']} " \
                                                             f"but processes run in its cgroups"
            assert not restoretest.cgroup_dirs(cid), f"{context}: {cid[:12]} is {state['Status']} " \
                                                     f"but has cgroups: {restoretest.cgroup_dirs(cid)}"
    tmp = os.path.join(daemon.data_root, "tmp")
    assert not os.path.isdir(tmp) or not os.listdir(tmp), f"{context}: half imports left: {os.listdir(tmp)}"
    layers = os.path.join(daemon.data_root, "layers", "sha256")
    for layer in os.listdir(layers):
        assert os.path.exists(os.path.join(layers, layer, "layer.json")), f"{context}: half layer {layer}"


def test_sigkill_at_random_points_of_a_container_and_image_loop_leaves_no_half_state():
    seed = int(os.environ.get("MOOR_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    all_ids = set()
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        interrupted = []
        for number in range(ROUNDS):
            target = list(TARGETS)[number % len(TARGETS)]
            loop = OperationLoop(moor, number, target)
            loop.start()
            assert loop.reached.wait(timeout=60), f"the loop never reached {target}: {loop.done}"
            time.sleep(rng.uniform(0, TARGETS[target]))
            daemon.kill9()
            loop.stop_flag.set()
            loop.join(timeout=60)
            assert not loop.is_alive(), "the operation loop hangs"
            interrupted.append(f"{target}: {loop.current}")
            all_ids |= loop.ids | daemon.container_ids()
            context = f"round {number} (seed {seed}), killed during {loop.current} after {loop.done[-3:]}"
            daemon.start_restored()
            _check_after_restart(moor, all_ids, context)
            for tag in loop.tags & {t for image in moor.client.api.images() for t in image.get("RepoTags") or []}:
                moor.cli("run", "--rm", tag, "true", check=True)
            # Keep a few containers across rounds; remove the rest.
            for cid in sorted(_known(moor))[3:]:
                moor.cli("rm", "-f", cid, check=True)
        print(f"seed {seed}; killed during: {interrupted}")
        for cid in _known(moor):
            moor.cli("rm", "-f", cid, check=True)
        shims, mounts = restoretest.shim_pids(daemon), restoretest.mounts_under(daemon.root)
        for cid in all_ids:
            leftovers = restoretest.traces(daemon, cid, shims, mounts)
            assert not leftovers, f"rm -f left {leftovers}"


def test_start_sweeps_what_belongs_to_no_container_and_logs_each_removal():
    ghost = os.urandom(32).hex()
    with restore_daemon(config={"live-restore": True}) as moor:
        daemon = moor.daemon
        kept = moor.run_d("busybox", "sleep", "1000")
        daemon.kill9()
        planted = [os.path.join(daemon.data_root, "containers", ghost),
                   os.path.join(daemon.exec_root, "containers", ghost),
                   os.path.join(daemon.exec_root, "s", ghost[:32])]
        cgroups = [os.path.join(moortest.CGROUP_ROOT, h, "moor", ghost) for h in ("pids", "memory")]
        try:
            for path in planted + cgroups:
                os.makedirs(path)
            offset = len(daemon.log())
            daemon.start_restored()
            log = daemon.log_since(offset)
            for path in planted + cgroups:
                wait_until(lambda: not os.path.exists(path), timeout=5, what=f"{path} to be swept")
                assert path in log, f"the removal of {path} was not logged:\n{log}"
            # A known container's things are never swept.
            restoretest.wait_managed(moor, kept)
            assert os.path.isdir(os.path.join(daemon.data_root, "containers", kept))
            assert restoretest.cgroup_dirs(kept) and restoretest.shim_pid_of(daemon, kept)
        finally:
            for path in cgroups:
                with contextlib.suppress(OSError):
                    os.rmdir(path)
