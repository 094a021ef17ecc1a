"""Fixtures for moord's black-box tests.

`moor_module` starts one moord per test module (own data-root, exec-root,
config file and socket under a short /tmp/mt-* directory), imports busybox
as busybox:latest and tears everything down afterwards, failure or not:
moord is stopped (SIGTERM, then SIGKILL), leftover shims are killed, the
cgroups of containers it created are removed, the directory goes.

`moor` is what tests use: the module's daemon, plus removal of every
container and image tag the test made. It unpacks as
`(socket_path, docker_py_client, cli)`.

Tests that need a daemon of their own (flags, daemon.json, restarts) use
`moortest.running_daemon(...)` or `moortest.Daemon` directly.
"""

import contextlib
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import moortest  # noqa: E402


def pytest_configure(config):
    missing = [path for path in (moortest.MOORD, moortest.MOOR_SHIM, moortest.BUSYBOX_TAR) if not os.path.exists(path)]
    if missing:
        raise pytest.UsageError(f"moord integration tests need {', '.join(missing)} (set MOORD, MOOR_SHIM, MOOR_TEST_IMAGES)")
    if os.geteuid() != 0:
        raise pytest.UsageError("moord integration tests must run as root")


@pytest.fixture(scope="module")
def moor_module():
    with moortest.running_daemon() as moor:
        yield moor


@pytest.fixture
def moor(moor_module):
    before_containers = moor_module.container_ids()
    before_tags = moor_module.image_tags()
    before_images = moor_module.image_ids()
    try:
        yield moor_module
    finally:
        moor_module.check_alive()
        _restore(moor_module, before_containers, before_tags, before_images)


def _restore(moor, before_containers, before_tags, before_images):
    """Removes what the test created (containers, tags, images, even
    untagged ones) and brings busybox:latest back if the test took it
    away, so the next test starts from the same state."""
    api = moor.client.api
    for cid in moor.container_ids() - before_containers:
        with contextlib.suppress(Exception):
            api.unpause(cid)
        with contextlib.suppress(Exception):
            api.remove_container(cid, force=True)
    for tag in moor.image_tags() - before_tags:
        with contextlib.suppress(Exception):
            api.remove_image(tag, force=True)
    for image in moor.image_ids() - before_images:
        with contextlib.suppress(Exception):
            api.remove_image(image, force=True)
    if "busybox:latest" not in moor.image_tags():
        moor.import_busybox()
