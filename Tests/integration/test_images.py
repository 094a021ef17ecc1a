"""images: import (with --change), list, inspect, tag, rmi with Docker's
conflict rules, and hostile archives."""

import io
import os
import re
import tarfile
import uuid

import docker
import pytest

from moortest import BUSYBOX_TAR


def image_id(moor, ref):
    return moor.client.api.inspect_image(ref)["Id"]


def short(image_or_container_id):
    return image_or_container_id.split(":")[-1][:12]


def test_import_prints_the_image_id(moor):
    out = moor.import_busybox("imp:v1")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", out), out
    assert image_id(moor, "imp:v1") == out


def test_import_with_changes_is_honoured_by_a_container(moor):
    moor.import_busybox("changed:v1", changes=[
        'ENTRYPOINT ["/bin/sh", "-c"]',
        'CMD ["echo \\"$FOO\\"; pwd; id -u"]',
        "ENV FOO=from-image",
        "WORKDIR /tmp",
        "USER nobody",
        "LABEL origin=import",
    ])
    cfg = moor.client.api.inspect_image("changed:v1")["Config"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c"]
    assert cfg["Cmd"] == ['echo "$FOO"; pwd; id -u']
    assert "FOO=from-image" in cfg["Env"]
    assert cfg["WorkingDir"] == "/tmp"
    assert cfg["User"] == "nobody"
    assert cfg["Labels"] == {"origin": "import"}
    r = moor.cli("run", "--name", "fromchanged", "changed:v1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["from-image", "/tmp", "65534"]
    assert moor.inspect("fromchanged")["Config"]["Labels"] == {"origin": "import"}
    # the container's own settings win over the image's
    r = moor.cli("run", "--rm", "-e", "FOO=mine", "-u", "0", "-w", "/", "changed:v1")
    assert r.stdout.splitlines() == ["mine", "/", "0"]
    r = moor.cli("run", "--rm", "changed:v1", "echo replaced-cmd")
    assert r.stdout == "replaced-cmd\n"


def test_import_with_bad_change_is_refused(moor):
    r = moor.cli("import", "--change", "FROBNICATE yes", BUSYBOX_TAR, "bad:change")
    assert r.returncode != 0
    assert "FROBNICATE" in r.stderr.upper()
    assert "bad:change" not in moor.image_tags()


def test_import_message_shows_in_history(moor):
    r = moor.cli("import", "-m", "made by the tests", BUSYBOX_TAR, "withmsg:v1", check=True)
    iid = r.stdout.strip()
    assert moor.client.api.inspect_image("withmsg:v1")["Comment"] == "made by the tests"
    history = moor.client.api.history("withmsg:v1")
    assert history[0]["Id"] == iid and history[0]["Comment"] == "made by the tests"
    assert "withmsg:v1" in history[0]["Tags"]
    out = moor.cli("history", "--format", "{{.Comment}}", "withmsg:v1", check=True).stdout
    assert out.strip() == "made by the tests"


def test_docker_py_images(moor):
    image = moor.client.images.get("busybox")
    assert image.tags == ["busybox:latest"]
    assert image.id == image_id(moor, "busybox")
    assert image.tag("pyimg", "v3") is True
    assert "pyimg:v3" in moor.client.images.get("pyimg:v3").tags
    assert any("pyimg:v3" in i.tags for i in moor.client.images.list())
    assert [i.id for i in moor.client.images.list(name="pyimg")] == [image.id]
    moor.client.images.remove("pyimg:v3")
    with pytest.raises(docker.errors.ImageNotFound):
        moor.client.images.get("pyimg:v3")


def test_docker_py_import_from_file(moor):
    out = moor.client.api.import_image_from_file(BUSYBOX_TAR, repository="pyimport", tag="v1")
    assert "sha256:" in (out if isinstance(out, str) else out.decode())
    assert moor.cli("run", "--rm", "pyimport:v1", "echo", "imported").stdout == "imported\n"


def test_tag_moves_to_a_new_image(moor, private_image):
    name, iid = private_image
    moor.cli("tag", "busybox", name, check=True)
    assert image_id(moor, name) == image_id(moor, "busybox")
    # the old image lost its only tag: it is dangling now
    rows = moor.client.api.images(filters={"dangling": True})
    assert iid in [r["Id"] for r in rows]


def test_import_of_gzipped_tar(moor, tmp_path):
    import gzip
    gz = tmp_path / "rootfs.tar.gz"
    with open(BUSYBOX_TAR, "rb") as src, gzip.open(gz, "wb") as dst:
        dst.write(src.read())
    r = moor.cli("import", str(gz), "gz:v1", check=True)
    assert r.stdout.strip() == image_id(moor, "gz:v1")
    assert moor.cli("run", "--rm", "gz:v1", "echo", "ok").stdout == "ok\n"


def test_import_of_garbage_is_refused(moor, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar archive at all" * 50)
    r = moor.cli("import", str(junk), "junk:v1")
    assert r.returncode != 0
    assert "junk:v1" not in moor.image_tags()


def test_images_lists_busybox(moor):
    rows = moor.client.api.images()
    row = next(r for r in rows if "busybox:latest" in (r["RepoTags"] or []))
    assert row["Id"] == image_id(moor, "busybox")
    assert row["Size"] > 1_000_000
    out = moor.cli("images", "--format", "{{.Repository}}:{{.Tag}}", check=True).stdout.split()
    assert "busybox:latest" in out
    out = moor.cli("images", "--filter", "reference=busybox", "--format", "{{.Repository}}", check=True).stdout.split()
    assert out == ["busybox"]


def test_image_inspect(moor):
    info = moor.client.api.inspect_image("busybox")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", info["Id"])
    assert info["RepoTags"] == ["busybox:latest"]
    assert info["Os"] == "linux"
    assert info["Architecture"] in ("amd64", "arm64")
    assert info["RootFS"]["Type"] == "layers" and len(info["RootFS"]["Layers"]) == 1
    assert info["Size"] > 1_000_000
    assert moor.client.api.inspect_image(info["Id"])["Id"] == info["Id"]
    assert moor.client.api.inspect_image(info["Id"][7:19])["Id"] == info["Id"]
    r = moor.api("GET", "/images/no-such-image:v3/json")
    assert r.status == 404 and "no-such-image" in r.json()["message"]


def test_tag(moor):
    moor.cli("tag", "busybox", "tagged/repo:v2", check=True)
    assert image_id(moor, "tagged/repo:v2") == image_id(moor, "busybox")
    assert "tagged/repo:v2" in moor.image_tags()
    r = moor.cli("tag", "no-such-source", "x:y")
    assert r.returncode != 0 and "no-such-source" in r.stderr
    r = moor.api("POST", "/images/busybox/tag?repo=Bad%20Repo&tag=v1")
    assert r.status == 400


def test_rmi_of_unused_tagged_image(moor):
    iid = moor.import_busybox("solo:v1")
    # busybox:latest and solo:v1 are the same content: import makes a new id per import time
    r = moor.cli("rmi", "solo:v1", check=True)
    assert "Untagged: solo:v1" in r.stdout
    if iid != image_id(moor, "busybox"):
        assert f"Deleted: {iid}" in r.stdout
        assert moor.api("GET", f"/images/{iid}/json").status == 404


@pytest.fixture
def private_image(moor):
    """An image of its own (a fresh import with a unique label)."""
    name = f"private-{uuid.uuid4().hex[:8]}:v1"
    iid = moor.import_busybox(name, changes=[f"LABEL unique={uuid.uuid4().hex}"])
    assert iid != image_id(moor, "busybox")
    return name, iid


def test_rmi_refused_while_a_container_uses_the_only_tag(moor, private_image):
    name, iid = private_image
    cid = moor.cli("create", name, "true", check=True).stdout.strip()
    r = moor.api("DELETE", f"/images/{name}")
    assert r.status == 409
    assert r.json()["message"] == (f'conflict: unable to remove repository reference "{name}" (must force) - '
                                   f"container {short(cid)} is using its referenced image {short(iid)}")
    r = moor.cli("rmi", name)
    assert r.returncode != 0 and "must force" in r.stderr
    assert name in moor.image_tags()


def test_rmi_of_one_of_several_tags_only_untags_even_when_used(moor, private_image):
    name, iid = private_image
    moor.cli("tag", name, "second-tag:v1", check=True)
    moor.cli("create", name, "true", check=True)
    r = moor.cli("rmi", "second-tag:v1", check=True)
    assert r.stdout.strip() == "Untagged: second-tag:v1"
    assert image_id(moor, name) == iid


def test_rmi_force_with_running_container_untags_but_keeps_the_image(moor, private_image):
    name, iid = private_image
    cid = moor.run_d(name, "sleep", "300")
    r = moor.cli("rmi", "-f", name, check=True)
    assert r.stdout.strip() == f"Untagged: {name}"
    assert moor.api("GET", f"/images/{iid}/json").status == 200, "an image a running container uses was deleted"
    assert name not in moor.image_tags()
    assert iid in [r["Id"] for r in moor.client.api.images(filters={"dangling": True})]
    assert moor.state(cid)["Status"] == "running"


def test_rmi_force_with_stopped_container_deletes_the_image(moor, private_image):
    name, iid = private_image
    moor.cli("create", name, "true", check=True)
    r = moor.cli("rmi", "-f", name, check=True)
    assert f"Untagged: {name}" in r.stdout
    assert f"Deleted: {iid}" in r.stdout
    assert moor.api("GET", f"/images/{iid}/json").status == 404


def test_rmi_by_id_with_running_container_cannot_be_forced(moor, private_image):
    name, iid = private_image
    cid = moor.run_d(name, "sleep", "300")
    for force in ("0", "1"):
        r = moor.api("DELETE", f"/images/{iid}?force={force}")
        assert r.status == 409
        assert r.json()["message"] == (f"conflict: unable to delete {short(iid)} (cannot be forced) - "
                                       f"image is being used by running container {short(cid)}")
    assert name in moor.image_tags()


def test_rmi_by_id_with_stopped_container_must_be_forced(moor, private_image):
    name, iid = private_image
    cid = moor.cli("create", name, "true", check=True).stdout.strip()
    r = moor.api("DELETE", f"/images/{iid}")
    assert r.status == 409
    assert r.json()["message"] == (f"conflict: unable to delete {short(iid)} (must be forced) - "
                                   f"image is being used by stopped container {short(cid)}")
    r = moor.api("DELETE", f"/images/{iid}?force=1")
    assert r.status == 200
    assert {"Deleted": iid} in r.json() and {"Untagged": name} in r.json()


def test_rmi_by_id_with_several_tags_must_be_forced(moor, private_image):
    name, iid = private_image
    moor.cli("tag", name, "other-repo:v9", check=True)
    r = moor.api("DELETE", f"/images/{iid}")
    assert r.status == 409
    assert r.json()["message"] == (f"conflict: unable to delete {short(iid)} (must be forced) - "
                                   "image is referenced in multiple repositories")
    r = moor.api("DELETE", f"/images/{iid}?force=1")
    assert r.status == 200
    items = r.json()
    assert {"Untagged": name} in items and {"Untagged": "other-repo:v9"} in items and {"Deleted": iid} in items


def test_rmi_of_missing_image_is_404(moor):
    r = moor.cli("rmi", "never-there:v1")
    assert r.returncode != 0
    assert "No such image: never-there:v1" in r.stderr


def test_container_keeps_running_from_a_deleted_image(moor, private_image):
    name, iid = private_image
    cid = moor.cli("create", name, "echo", "still-works", check=True).stdout.strip()
    moor.cli("rmi", "-f", name, check=True)
    r = moor.cli("start", "-a", cid)
    assert r.stdout == "still-works\n", r.stderr

# ---------------------------------------------------------------- hostile archives


def tar_bytes(members):
    """members: (TarInfo, data or None)"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        ok = tarfile.TarInfo("ok.txt")
        ok.size = 3
        tar.addfile(ok, io.BytesIO(b"ok\n"))
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def file_entry(name, data=b"pwned\n"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def symlink_entry(name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info, None


def hardlink_entry(name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE
    info.linkname = target
    return info, None


def found_anywhere(root, filename):
    return [os.path.join(d, filename) for d, _, files in os.walk(root) if filename in files]


def hostile_cases(outside):
    tag = uuid.uuid4().hex[:8]
    return {
        "dotdot": ([file_entry("../escape-" + tag)], "../escape-" + tag, "escape-" + tag),
        "deep-dotdot": ([file_entry("a/../../../../../../../../.." + outside + "/deep-" + tag)], "deep-" + tag,
                        "deep-" + tag),
        "absolute": ([file_entry(outside + "/abs-" + tag)], outside + "/abs-" + tag, "abs-" + tag),
        "symlink-then-file": ([symlink_entry("evil-link", outside), file_entry("evil-link/through-" + tag)],
                              "evil-link/through-" + tag, "through-" + tag),
        "relative-symlink-then-file": ([symlink_entry("up", "../../../../../../../../.." + outside),
                                        file_entry("up/rel-" + tag)], "up/rel-" + tag, "rel-" + tag),
        "hardlink-outside": ([hardlink_entry("hl-" + tag, "../../../../../../../../../etc/passwd")], "hl-" + tag,
                             "hl-" + tag),
    }


@pytest.mark.parametrize("case", ["dotdot", "deep-dotdot", "absolute", "symlink-then-file",
                                  "relative-symlink-then-file", "hardlink-outside"])
def test_hostile_import_is_refused_naming_the_entry(moor, tmp_path, case):
    outside = str(tmp_path / "outside")
    os.makedirs(outside)
    members, entry, filename = hostile_cases(outside)[case]
    images_before = {i["Id"] for i in moor.client.api.images()}
    r = moor.api("POST", f"/images/create?fromSrc=-&repo=hostile&tag={case}", body=tar_bytes(members),
                 headers={"Content-Type": "application/x-tar"}, timeout=60)
    assert r.status >= 400, f"a hostile archive ({case}) was accepted: {r}"
    message = r.json()["message"]
    assert entry in message, message
    assert os.listdir(outside) == [], "something was written outside the layer"
    assert found_anywhere(moor.daemon.root, filename) == [], "the entry was written somewhere"
    assert {i["Id"] for i in moor.client.api.images()} == images_before
    assert f"hostile:{case}" not in moor.image_tags()
    layers = os.path.join(moor.daemon.data_root, "layers")
    # no half-imported layer is left behind
    if os.path.isdir(layers):
        for dirpath, _, files in os.walk(layers):
            assert "ok.txt" not in files, f"a partial layer stayed: {dirpath}"


def test_symlinks_inside_the_layer_are_fine(moor):
    members = [symlink_entry("abs-link", "/etc/passwd"), symlink_entry("rel-link", "ok.txt")]
    r = moor.api("POST", "/images/create?fromSrc=-&repo=links&tag=v1", body=tar_bytes(members), timeout=60)
    assert r.status == 200, r
    assert "links:v1" in moor.image_tags()
