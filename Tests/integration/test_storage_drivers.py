"""Storage drivers: overlay2 (the default: an image's shared layers under
each container's own upper directory) and vfs (a plain copy of the image
per container, for hosts without overlayfs), and a daemon restarted with
the other driver while containers run: they stay managed under the driver
they were created with, and `docker inspect` and `docker info` say so."""

import os
import time

import pytest

import restoretest
from moortest import wait_until
from restoretest import COUNTER, restore_daemon
from test_images_load_save import (LIST_SCRIPT, MERGED_VIEW, Image, docker_save_archive, layer_dirs,
                                   whiteout_layers, write_file)


def overlay_mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        rows = [line.split(" - ") for line in f]
    return [head.split()[4] for head, tail in rows if tail.split()[0] == "overlay" and head.split()[4].startswith(path + "/")]


def test_vfs_gives_each_container_a_plain_copy_of_the_merged_image(tmp_path):
    with restore_daemon(config={"storage-driver": "vfs"}) as moor:
        daemon = moor.daemon
        info = moor.api("GET", "/info").json()
        assert info["Driver"] == "vfs"
        image = Image(whiteout_layers(), tags=["vfs/whiteouts:1"])
        moor.cli("load", "-i", write_file(tmp_path, "w.tar", docker_save_archive([image])), check=True)
        layers = layer_dirs(moor)
        # The merged view, whiteouts and opaque directories applied.
        result = moor.cli("run", "--rm", "vfs/whiteouts:1", "sh", "-c", LIST_SCRIPT)
        assert result.returncode == 0 and result.stdout == MERGED_VIEW, result

        cid = moor.run_d("vfs/whiteouts:1", "sh", "-c", "echo mine > /data/keep; echo written; exec sleep 1000")
        wait_until(lambda: moor.cli("logs", cid).stdout == "written\n", what="the container's write")
        graph = moor.inspect(cid)["GraphDriver"]
        assert graph == {"Name": "vfs", "Data": None}, graph
        assert not overlay_mounts_under(daemon.data_root), "vfs mounted an overlay"
        # The write went to the container's copy, never to a shared layer.
        copy = os.path.join(daemon.data_root, "containers", cid, "rootfs")
        with open(os.path.join(copy, "data", "keep")) as f:
            assert f.read() == "mine\n"
        for layer in layers:
            kept = os.path.join(daemon.data_root, "layers", "sha256", layer, "data", "keep")
            if os.path.exists(kept):
                with open(kept) as f:
                    assert f.read() == "keep\n"
        assert moor.cli("exec", cid, "cat", "/data/keep", check=True).stdout == "mine\n"
        # Another container starts from the image, not from the first's copy.
        assert moor.cli("run", "--rm", "vfs/whiteouts:1", "cat", "/data/keep", check=True).stdout == "keep\n"
        moor.cli("rm", "-f", cid, check=True)
        assert not os.path.exists(copy)
        assert not restoretest.traces(daemon, cid)
        # A vfs container holds no layer: the image and its layers can go.
        moor.cli("rmi", "vfs/whiteouts:1", check=True)
        assert layer_dirs(moor) < layers


def test_vfs_copy_of_a_missing_image_is_refused_and_leaves_nothing():
    with restore_daemon(config={"storage-driver": "vfs"}) as moor:
        daemon = moor.daemon
        containers = os.path.join(daemon.data_root, "containers")

        def entries():
            return set(os.listdir(containers)) if os.path.isdir(containers) else set()
        before = entries()
        result = moor.cli("create", "nosuch/image:1", "true")
        assert result.returncode != 0 and "nosuch/image:1" in result.stderr
        assert entries() == before


@pytest.mark.parametrize("first,second", [("overlay2", "vfs"), ("vfs", "overlay2")])
def test_restart_with_the_other_storage_driver_keeps_containers_managed(first, second):
    with restore_daemon(config={"live-restore": True, "storage-driver": first}) as moor:
        daemon = moor.daemon
        old = moor.run_d("busybox", "sh", "-c", COUNTER)
        stopped = moor.cli("create", "busybox", "echo", "later", check=True).stdout.strip()
        pid = moor.state(old)["Pid"]
        wait_until(lambda: len(moor.cli("logs", old).stdout.splitlines()) >= 3, what="the first lines")
        daemon.kill9()
        time.sleep(1)
        daemon.set_config({"live-restore": True, "storage-driver": second})
        daemon.start_restored()

        # Still the same process, fully managed under the driver it was created with.
        state = moor.state(old)
        assert state["Status"] == "running" and state["Pid"] == pid, state
        inspect = moor.inspect(old)
        assert inspect["Driver"] == first and inspect["GraphDriver"]["Name"] == first
        drift = inspect["Moor"]["SettingsDrift"]
        assert drift == [f"storage-driver: {first} (daemon now: {second})"], drift
        info = moor.api("GET", "/info").json()
        assert info["Driver"] == second
        assert any(old in w and "storage-driver" in w for w in info["Warnings"] or []), info["Warnings"]
        assert moor.cli("exec", old, "echo", "hi", check=True).stdout == "hi\n"

        # A created container keeps its driver too, and runs.
        assert moor.cli("start", "-a", stopped, check=True).stdout == "later\n"
        assert moor.inspect(stopped)["Driver"] == first

        # New containers get the new driver.
        new = moor.run_d("busybox", "sleep", "1000")
        assert moor.inspect(new)["Driver"] == second and moor.inspect(new)["Moor"]["SettingsDrift"] == []
        assert moor.cli("exec", new, "true").returncode == 0

        # Logs complete across the restart, then stop and rm as usual.
        moor.cli("stop", "-t", "5", old, check=True)
        numbers = [int(line.split()[0]) for line in moor.cli("logs", old, check=True).stdout.splitlines()]
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 3
        assert moor.state(old)["ExitCode"] == 0
        for cid in (old, stopped, new):
            moor.cli("rm", "-f", cid, check=True)
            assert not restoretest.traces(daemon, cid), cid
        info = moor.api("GET", "/info").json()
        assert not any("storage-driver" in w for w in info["Warnings"] or []), info["Warnings"]
