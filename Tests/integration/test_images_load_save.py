"""docker load / docker save / history / images --digests / image prune
against moord, through the docker CLI, docker-py and the native moor CLI.

The archives are built here, at test time: layers with Python's tarfile,
the `docker save` layout (manifest.json, <id>/layer.tar) and the OCI image
layout (oci-layout, index.json, blobs/sha256), plain or compressed with
gzip, xz and zstd (the `zstd` tool). Hostile archives are built the same
way and must each be refused naming the offending entry, with nothing
written outside the store and the daemon still healthy.

The round trips with dockerd use Debian's dockerd (docker.io), started by
the test with its own data-root, exec-root, socket, pidfile and daemon.json,
and stopped (its mounts and directories removed) afterwards.
"""

import contextlib
import gzip
import hashlib
import io
import json
import lzma
import os
import platform
import re
import shutil
import signal
import subprocess
import tarfile
import time
import uuid

import docker
import pytest

import moortest
from moortest import BUSYBOX_TAR

MOOR_CLI = os.environ.get("MOOR_CLI", "")
CREATED = "2024-01-02T03:04:05Z"


# ---------------------------------------------------------------------------
# Building archives.

def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def host_arch():
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def f(name, data=b"", mode=0o644, uid=0, gid=0):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.uid, info.gid, info.mtime = len(data), mode, uid, gid, 1700000000
    return info, data


def d(name, mode=0o755):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, 1700000000
    return info, None


def sym(name, target):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, target, 0o777, 1700000000
    return info, None


def hard(name, target):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mtime = tarfile.LNKTYPE, target, 1700000000
    return info, None


def dev(name, major, minor, block=False):
    info = tarfile.TarInfo(name)
    info.type = tarfile.BLKTYPE if block else tarfile.CHRTYPE
    info.devmajor, info.devminor, info.mode, info.mtime = major, minor, 0o600, 1700000000
    return info, None


def tar_bytes(members):
    """A tar stream of the members, names written exactly as given (no
    normalisation: hostile names stay hostile)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def compress(data, kind):
    if kind is None:
        return data
    if kind == "gzip":
        return gzip.compress(data, mtime=0)
    if kind == "xz":
        return lzma.compress(data, format=lzma.FORMAT_XZ)
    if kind == "zstd":
        return subprocess.run(["zstd", "-c", "-q"], input=data, capture_output=True, check=True).stdout
    raise ValueError(kind)


def busybox_layer():
    with open(BUSYBOX_TAR, "rb") as fh:
        return fh.read()


class Image:
    """An image to put in an archive: layers (plain tar streams, bottom
    first), tags, labels."""

    def __init__(self, layers, tags=(), labels=None, diff_ids=None, cmd=("sh",)):
        self.layers = list(layers)
        self.tags = list(tags)
        self.labels = labels or {}
        self.diff_ids = diff_ids
        self.cmd = list(cmd)

    def config(self):
        history = [{"created": CREATED, "created_by": f"/bin/sh -c #step {i}"} for i in range(len(self.layers))]
        history.append({"created": CREATED, "created_by": "/bin/sh -c #(nop) CMD [\"sh\"]", "empty_layer": True})
        return json.dumps({
            "architecture": host_arch(), "os": "linux", "created": CREATED,
            "config": {"Cmd": self.cmd, "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                       "Labels": self.labels},
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids or [sha256(layer) for layer in self.layers]},
            "history": history,
        }, sort_keys=True).encode()

    @property
    def id(self):
        return sha256(self.config())


def outer(files, extra=()):
    """The archive itself: (name, bytes) pairs plus raw extra members."""
    members = []
    for name, data in files:
        members.append(f(name, data))
    members += list(extra)
    return tar_bytes(members)


def docker_save_archive(images, layer_compression=None, compression=None, extra=()):
    files, manifest, seen = [], [], set()
    for image in images:
        paths = []
        for layer in image.layers:
            blob = compress(layer, layer_compression)
            directory = hashlib.sha256(blob + b"v1").hexdigest()
            if directory not in seen:
                seen.add(directory)
                files += [(f"{directory}/VERSION", b"1.0"), (f"{directory}/json", b"{}"),
                          (f"{directory}/layer.tar", blob)]
            paths.append(f"{directory}/layer.tar")
        config_name = image.id[7:] + ".json"
        if config_name not in seen:
            seen.add(config_name)
            files.append((config_name, image.config()))
        manifest.append({"Config": config_name, "RepoTags": image.tags or None, "Layers": paths})
    files += [("manifest.json", json.dumps(manifest).encode()), ("repositories", b"{}")]
    return compress(outer(files, extra), compression)


def oci_archive(images, layer_compression=None, compression=None, extra=(), tamper=None):
    blobs, descriptors = {}, []
    for image in images:
        layers = []
        for layer in image.layers:
            blob = compress(layer, layer_compression)
            blobs[sha256(blob)] = blob
            media = "application/vnd.oci.image.layer.v1.tar" + (f"+{layer_compression}" if layer_compression else "")
            layers.append({"mediaType": media, "digest": sha256(blob), "size": len(blob)})
        config = image.config()
        blobs[image.id] = config
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": image.id, "size": len(config)},
            "layers": layers,
        }).encode()
        blobs[sha256(manifest)] = manifest
        base = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(manifest),
                "size": len(manifest)}
        if not image.tags:
            descriptors.append(base)
        for tag in image.tags:
            full = tag if "/" in tag and "." in tag.split("/")[0] else "docker.io/" + ("" if "/" in tag else "library/") + tag
            descriptors.append(dict(base, annotations={"io.containerd.image.name": full,
                                                       "org.opencontainers.image.ref.name": tag.rsplit(":", 1)[1]}))
    if tamper:
        tamper(blobs)
    files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')]
    files += [(f"blobs/sha256/{digest[7:]}", blob) for digest, blob in sorted(blobs.items())]
    files.append(("index.json", json.dumps({"schemaVersion": 2, "manifests": descriptors}).encode()))
    return compress(outer(files, extra), compression)


def whiteout_layers():
    """Over busybox: /data with files and a directory, then a layer that
    deletes one file and makes the directory opaque."""
    lower = tar_bytes([d("data/"), f("data/keep", b"keep\n"), f("data/gone", b"gone\n"),
                       d("data/dir/"), f("data/dir/old", b"old\n"), d("data/dir/sub/"), f("data/dir/sub/older", b"x"),
                       f("data/replaced", b"lower\n")])
    upper = tar_bytes([f("data/.wh.gone"), d("data/dir/"), f("data/dir/.wh..wh..opq"), f("data/dir/new", b"new\n"),
                       f("data/replaced", b"upper\n")])
    return [busybox_layer(), lower, upper]


MERGED_VIEW = "replaced=upper\ndata: dir keep replaced\ndir: new\n"
LIST_SCRIPT = "echo replaced=$(cat /data/replaced); echo data: $(ls -A /data); echo dir: $(ls -A /data/dir)"


# ---------------------------------------------------------------------------
# Helpers around the daemon.

def write_file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def layer_dirs(moor):
    return set(os.listdir(os.path.join(moor.daemon.data_root, "layers", "sha256")))


def store_tmp(moor):
    return os.listdir(os.path.join(moor.daemon.data_root, "tmp"))


def run_in(moor, image, script):
    result = moor.cli("run", "--rm", image, "sh", "-c", script)
    assert result.returncode == 0, result.stderr
    return result.stdout


# ---------------------------------------------------------------------------
# docker load: layouts, compressions, whiteouts.

@pytest.mark.parametrize("compression", [None, "gzip", "xz", "zstd"])
@pytest.mark.parametrize("layout", ["docker", "oci"])
def test_load_multi_layer_archive_and_run_it(moor, tmp_path, layout, compression):
    tag = f"loadtest/{layout}-{compression or 'plain'}:1"
    image = Image(whiteout_layers(), tags=[tag])
    build = docker_save_archive if layout == "docker" else oci_archive
    path = write_file(tmp_path, "image.tar", build([image], layer_compression=compression, compression=compression))
    result = moor.cli("load", "-i", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Loaded image: {tag}\n"
    inspect = moor.client.api.inspect_image(tag)
    assert inspect["Id"] == image.id
    assert inspect["RootFS"]["Layers"] == [sha256(layer) for layer in image.layers]
    assert run_in(moor, tag, LIST_SCRIPT) == MERGED_VIEW
    assert store_tmp(moor) == []


def test_load_from_stdin_with_docker_py_and_progress(moor):
    image = Image([busybox_layer(), tar_bytes([f("hello", b"hi\n")])], tags=["pyload:1", "pyload:alias"])
    archive = oci_archive([image], layer_compression="gzip")
    loaded = moor.client.images.load(archive)
    # docker-py gives one Image per "Loaded image:" line.
    assert {i.id for i in loaded} == {image.id}
    assert sorted(loaded[0].tags) == ["pyload:1", "pyload:alias"]
    # quiet=0: dockerd's progress objects, then the stream lines.
    messages = list(moor.client.api.load_image(archive, quiet=False))
    progress = [m for m in messages if m.get("status") == "Loading layer"]
    assert progress, messages
    assert all(m["progressDetail"]["total"] > 0 and m["id"] for m in progress)
    assert progress[-1]["progressDetail"]["current"] == progress[-1]["progressDetail"]["total"]
    assert [m["stream"] for m in messages if "stream" in m] == ["Loaded image: pyload:1\n", "Loaded image: pyload:alias\n"]
    # quiet=1: the stream lines only.
    quiet = list(moor.client.api.load_image(archive, quiet=True))
    assert quiet == [{"stream": "Loaded image: pyload:1\n"}, {"stream": "Loaded image: pyload:alias\n"}]
    # The CLI reads stdin without -i.
    result = moor.cli("load", input=docker_save_archive([image], compression="xz"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Loaded image: pyload:1\nLoaded image: pyload:alias\n"


def test_load_moves_a_tag_and_untagged_images_load_by_id(moor, tmp_path):
    old = Image([busybox_layer()], tags=["moved:1"], cmd=("echo", "old"))
    new = Image([busybox_layer()], tags=["moved:1"], cmd=("echo", "new"))
    assert moor.cli("load", "-i", write_file(tmp_path, "old.tar", docker_save_archive([old]))).returncode == 0
    result = moor.cli("load", "-i", write_file(tmp_path, "new.tar", docker_save_archive([new])))
    assert result.stdout == (f"The image moved:1 already exists, renaming the old one with ID {old.id} to empty string\n"
                             "Loaded image: moved:1\n")
    assert moor.client.api.inspect_image("moved:1")["Id"] == new.id
    assert moor.client.api.inspect_image(old.id)["RepoTags"] == []
    untagged = Image([busybox_layer(), tar_bytes([f("u", b"u")])])
    result = moor.cli("load", "-i", write_file(tmp_path, "untagged.tar", oci_archive([untagged])))
    assert result.stdout == f"Loaded image ID: {untagged.id}\n"


def test_tags_and_digests_as_docker_images_digests_shows_them(moor, tmp_path):
    image = Image([busybox_layer(), tar_bytes([f("dig", b"d")])], tags=["digests/oci:1"])
    other = Image([busybox_layer(), tar_bytes([f("dig", b"e")])], tags=["digests/legacy:1"])
    oci = oci_archive([image])
    index = json.loads(tarfile.open(fileobj=io.BytesIO(oci)).extractfile("index.json").read())
    manifest_digest = index["manifests"][0]["digest"]
    moor.cli("load", "-i", write_file(tmp_path, "oci.tar", oci), check=True)
    moor.cli("load", "-i", write_file(tmp_path, "legacy.tar", docker_save_archive([other])), check=True)
    out = moor.cli("images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}", "digests/*", check=True).stdout
    assert sorted(out.splitlines()) == ["digests/legacy 1 <none>", f"digests/oci 1 {manifest_digest}"]
    assert moor.client.api.inspect_image("digests/oci:1")["RepoDigests"] == [f"digests/oci@{manifest_digest}"]
    # A digest reference resolves to the image.
    assert moor.client.api.inspect_image(f"digests/oci@{manifest_digest}")["Id"] == image.id


def test_history_shows_each_step_with_its_layer_size(moor, tmp_path):
    top = tar_bytes([f("big", b"x" * 100_000)])
    image = Image([busybox_layer(), top], tags=["history:1"])
    moor.cli("load", "-i", write_file(tmp_path, "h.tar", docker_save_archive([image])), check=True)
    history = moor.client.api.history("history:1")
    assert [h["CreatedBy"] for h in history] == ['/bin/sh -c #(nop) CMD ["sh"]', "/bin/sh -c #step 1", "/bin/sh -c #step 0"]
    assert history[0]["Id"] == image.id and history[0]["Tags"] == ["history:1"] and history[0]["Size"] == 0
    assert [h["Id"] for h in history[1:]] == ["<missing>", "<missing>"]
    assert history[1]["Size"] == 100_000
    assert history[2]["Size"] > 1_000_000
    out = moor.cli("history", "--format", "{{.CreatedBy}}|{{.Size}}", "history:1", check=True).stdout.splitlines()
    assert out[1] == "/bin/sh -c #step 1|100kB"


# ---------------------------------------------------------------------------
# docker save.

def test_save_and_load_back_gives_the_same_images(moor, tmp_path):
    image = Image(whiteout_layers(), tags=["saved:1", "saved:2"])
    moor.cli("load", "-i", write_file(tmp_path, "in.tar", docker_save_archive([image])), check=True)
    busybox_id = moor.client.api.inspect_image("busybox")["Id"]
    out = str(tmp_path / "out.tar")
    moor.cli("save", "-o", out, "saved", "busybox:latest", check=True)
    with tarfile.open(out) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
        for name in names:
            if name.startswith("blobs/sha256/") and len(name) > 13:
                assert sha256(tar.extractfile(name).read()) == "sha256:" + name[13:], name
    assert {"index.json", "manifest.json", "oci-layout"} <= set(names)
    assert {tuple(entry["RepoTags"]) for entry in manifest} == {("saved:1", "saved:2"), ("busybox:latest",)}
    moor.cli("rmi", "saved:1", "saved:2", check=True)
    result = moor.cli("load", "-i", out)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.splitlines()) == {"Loaded image: saved:1", "Loaded image: saved:2", "Loaded image: busybox:latest"}
    assert moor.client.api.inspect_image("saved:2")["Id"] == image.id
    assert moor.client.api.inspect_image("busybox")["Id"] == busybox_id
    assert run_in(moor, "saved:1", LIST_SCRIPT) == MERGED_VIEW


def test_save_endpoints_and_errors(moor, tmp_path):
    # GET /images/{name}/get and docker-py's image.save().
    response = moor.api("GET", "/v1.41/images/busybox/get")
    assert response.status == 200 and response.header("content-type") == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(response.body)) as tar:
        assert json.loads(tar.extractfile("manifest.json").read())[0]["RepoTags"] == ["busybox:latest"]
    data = b"".join(moor.client.images.get("busybox").save(named=True))
    assert data[:512] and tarfile.open(fileobj=io.BytesIO(data)).getmember("oci-layout")
    # An unknown name: 404 before any byte of archive.
    response = moor.api("GET", "/v1.41/images/get?names=busybox&names=nosuch:9")
    assert response.status == 404 and "nosuch:9" in response.json()["message"]
    result = moor.cli("save", "-o", str(tmp_path / "never.tar"), "nosuch:9")
    assert result.returncode != 0 and "No such image: nosuch:9" in result.stderr


# ---------------------------------------------------------------------------
# image prune and layer references.

def test_image_prune_dangling_then_all_with_filters(moor, tmp_path):
    dangling = Image([busybox_layer(), tar_bytes([f("dangling", b"d" * 5000)])])
    labelled = Image([busybox_layer(), tar_bytes([f("labelled", b"l")])], tags=["prune/labelled:1"], labels={"prune": "yes"})
    keep = Image([busybox_layer(), tar_bytes([f("keep", b"k")])], tags=["prune/keep:1"])
    moor.cli("load", "-i", write_file(tmp_path, "p.tar", oci_archive([dangling, labelled, keep])), check=True)
    result = moor.cli("image", "prune", "-f")
    assert result.returncode == 0, result.stderr
    assert f"deleted: {dangling.id}" in result.stdout
    assert re.search(r"Total reclaimed space: 5(\.\d+)?kB", result.stdout), result.stdout
    ids = moor.image_ids()
    assert dangling.id not in ids and labelled.id in ids and keep.id in ids
    # -a with a label filter, through the API: Docker's response shape.
    response = moor.api("POST", '/v1.41/images/prune?filters={"dangling":["false"],"label":["prune=yes"]}')
    assert response.status == 200
    report = response.json()
    assert {"Untagged": "prune/labelled:1"} in report["ImagesDeleted"]
    assert {"Deleted": labelled.id} in report["ImagesDeleted"]
    assert report["SpaceReclaimed"] >= 1
    assert keep.id in moor.image_ids() and labelled.id not in moor.image_ids()
    # Nothing left to prune: ImagesDeleted is null, as dockerd answers.
    assert moor.api("POST", "/v1.41/images/prune").json() == {"ImagesDeleted": None, "SpaceReclaimed": 0}
    assert moor.api("POST", '/v1.41/images/prune?filters={"bogus":["1"]}').status == 400


def test_layers_are_shared_and_go_with_the_last_user(moor, tmp_path):
    shared = tar_bytes([f("shared", b"s" * 1000)])
    first = Image([busybox_layer(), shared], tags=["share/a:1"])
    second = Image([busybox_layer(), shared, tar_bytes([f("own", b"o")])], tags=["share/b:1"])
    before = layer_dirs(moor)
    moor.cli("load", "-i", write_file(tmp_path, "a.tar", docker_save_archive([first])), check=True)
    moor.cli("load", "-i", write_file(tmp_path, "b.tar", oci_archive([second], layer_compression="zstd")), check=True)
    shared_dir = sha256(shared)[7:]
    own_dir = sha256(second.layers[2])[7:]
    assert layer_dirs(moor) - before == {shared_dir, own_dir}
    cid = moor.run_d("share/b:1", "sleep", "300")
    moor.cli("rmi", "share/a:1", check=True)
    assert shared_dir in layer_dirs(moor)
    # Forced away while a container runs on it: untagged, its layers stay.
    moor.cli("rmi", "-f", "share/b:1", check=True)
    assert {shared_dir, own_dir} <= layer_dirs(moor)
    assert moor.cli("exec", cid, "cat", "/shared").stdout == "s" * 1000
    moor.cli("rm", "-f", cid, check=True)
    moor.cli("rmi", second.id, check=True)
    assert layer_dirs(moor) == before


# ---------------------------------------------------------------------------
# Hostile archives: refused, naming the entry; nothing written outside the
# store; the daemon healthy after.

def hostile_cases(outside):
    base = [busybox_layer()]

    def bad_layer(*members):
        return Image(base + [tar_bytes([f("ok", b"fine")] + list(members))], tags=["hostile:1"])

    def digest_mismatch():
        image = bad_layer()

        def tamper(blobs):
            digest = sha256(image.layers[1])
            data = bytearray(blobs[digest])
            data[600] ^= 1
            blobs[digest] = bytes(data)
        return oci_archive([image], tamper=tamper)

    def truncated():
        archive = docker_save_archive([Image(base + [tar_bytes([f("random", os.urandom(300_000))])], tags=["cut:1"])])
        return archive[:len(archive) - 200_000]

    def missing_layer():
        image = Image([tar_bytes([f("ok", b"fine")])])
        manifest = [{"Config": "config.json", "RepoTags": ["ghost:1"], "Layers": ["missing/layer.tar"]}]
        return outer([("config.json", image.config()), ("manifest.json", json.dumps(manifest).encode())])

    def absurd_size():
        # A header declaring 1 TiB (GNU base-256 size), then a little data.
        info = tarfile.TarInfo("huge/layer.tar")
        info.size = 1 << 40
        return info.tobuf(tarfile.GNU_FORMAT) + b"\0" * 4096

    return {
        "dotdot": (lambda: docker_save_archive([bad_layer(f("../../../../../../" + outside[1:] + "/dotdot", b"x"))]),
                   "dotdot", 'contains ".."'),
        "absolute": (lambda: oci_archive([bad_layer(f(outside + "/absolute", b"x"))]), "/absolute", "absolute path"),
        "symlink-write-through": (lambda: docker_save_archive([bad_layer(sym("escape", outside), f("escape/through", b"x"))]),
                                  "escape/through", "symbolic link"),
        "hardlink-outside": (lambda: oci_archive([bad_layer(hard("passwd", "/etc/passwd"))]), "passwd", "absolute"),
        "hardlink-dotdot": (lambda: oci_archive([bad_layer(hard("shadow", "../../../../../../../../etc/shadow"))]),
                            "shadow", 'contains ".."'),
        "char-device": (lambda: docker_save_archive([bad_layer(dev("dev/mem", 1, 1))]), "dev/mem", "device"),
        "whiteout-device": (lambda: docker_save_archive([bad_layer(dev("dev/zero-zero", 0, 0))]), "dev/zero-zero", "device"),
        "block-device": (lambda: oci_archive([bad_layer(dev("dev/sda", 8, 0, block=True))]), "dev/sda", "device"),
        "digest-mismatch": (digest_mismatch, "blobs/sha256/", "digest mismatch"),
        "diffid-mismatch": (lambda: docker_save_archive([Image(base, tags=["lie:1"], diff_ids=["sha256:" + "ab" * 32])]),
                            "/layer.tar", "digest mismatch"),
        "truncated": (truncated, "layer.tar", "truncated"),
        "missing-layer": (missing_layer, "missing/layer.tar", "not in the archive"),
        "outer-dotdot": (lambda: docker_save_archive([bad_layer()], extra=[f("../../outer-escape", b"x")]),
                         "../../outer-escape", 'contains ".."'),
        "absurd-size": (absurd_size, "huge/layer.tar", "import limit"),
    }


CASES = sorted(hostile_cases("/x").keys())


@pytest.mark.parametrize("case", CASES)
def test_hostile_archive_is_refused_naming_the_entry(moor, tmp_path, case):
    outside = f"/tmp/moor-hostile-{uuid.uuid4().hex[:12]}"
    os.makedirs(outside)
    try:
        build, entry, reason = hostile_cases(outside)[case]
        layers_before, images_before = layer_dirs(moor), moor.image_ids()
        passwd = os.stat("/etc/passwd")
        path = write_file(tmp_path, "hostile.tar", build())
        result = moor.cli("load", "-i", path)
        assert result.returncode != 0, result.stdout
        assert entry in result.stderr and reason in result.stderr, result.stderr
        # Nothing outside the store, nothing left in it.
        assert os.listdir(outside) == []
        assert not os.path.exists("/outer-escape") and not os.path.exists("/tmp/outer-escape")
        assert os.stat("/etc/passwd").st_nlink == passwd.st_nlink
        assert store_tmp(moor) == []
        assert layer_dirs(moor) == layers_before
        assert moor.image_ids() == images_before
        # The daemon is healthy.
        moor.check_alive()
        assert moor.api("GET", "/_ping").body == b"OK"
        assert moor.cli("run", "--rm", "busybox", "true").returncode == 0
    finally:
        shutil.rmtree(outside, ignore_errors=True)


def test_hostile_archive_through_docker_py_raises_with_the_entry(moor):
    image = Image([busybox_layer(), tar_bytes([f("../../../py-escape", b"x")])], tags=["pyhostile:1"])
    archive = docker_save_archive([image])
    with pytest.raises(docker.errors.ImageLoadError) as raised:
        moor.client.images.load(archive)
    assert "../../../py-escape" in str(raised.value)
    assert store_tmp(moor) == []


def test_sigkill_mid_load_leaves_no_partial_layer(tmp_path):
    big = tar_bytes([f("random", os.urandom(24 << 20))])
    archive = docker_save_archive([Image([busybox_layer(), big], tags=["killed:1"])])
    with moortest.running_daemon(import_busybox=False) as moor:
        tmp = os.path.join(moor.daemon.data_root, "tmp")
        sock = moortest.raw_connect(moor.socket)
        try:
            sock.sendall(b"POST /v1.41/images/load?quiet=1 HTTP/1.1\r\nHost: moor\r\n"
                         b"Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n")
            half = archive[:len(archive) // 2]
            for start in range(0, len(half), 1 << 20):
                piece = half[start:start + (1 << 20)]
                sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")

            def partial_layer_written():
                for root, _, files in os.walk(tmp):
                    if "diff" in root.split(os.sep) and files:
                        return True
                return False
            moortest.wait_until(partial_layer_written, what="a partial layer under tmp/")
            moor.daemon.proc.send_signal(signal.SIGKILL)
            moor.daemon.proc.wait(timeout=30)
        finally:
            sock.close()
        assert os.listdir(tmp), "the killed load left nothing to sweep: the test proves nothing"
        moor.daemon.start()
        assert os.listdir(tmp) == []
        assert layer_dirs(moor) == set()
        assert moor.image_ids() == set()
        # The same archive loads completely afterwards.
        result = moor.cli("load", input=archive, timeout=120)
        assert result.returncode == 0 and result.stdout == "Loaded image: killed:1\n", result.stderr


def test_layers_nothing_holds_are_removed_at_daemon_start():
    """A daemon killed after moving a load's layers into the store but
    before writing its image leaves layers no image holds: the next daemon
    removes them (and logs each), and keeps a layer a container still uses
    after its image was force-removed."""
    orphan_layer = tar_bytes([f("orphan", b"nobody holds me")])
    used_layer = tar_bytes([f("used", b"a container holds me")])
    archive = docker_save_archive([Image([busybox_layer(), orphan_layer], tags=["orphan:1"]),
                                   Image([busybox_layer(), used_layer], tags=["used:1"])])
    with moortest.running_daemon(import_busybox=False) as moor:
        assert moor.cli("load", input=archive, binary=True, timeout=120).returncode == 0
        orphan_id = moor.client.images.get("orphan:1").id
        orphan_dir, used_dir = (hashlib.sha256(layer).hexdigest() for layer in (orphan_layer, used_layer))
        assert {orphan_dir, used_dir} <= layer_dirs(moor)
        cid = moor.cli("create", "used:1", "cat", "/used", check=True).stdout.strip()
        assert moor.cli("rmi", "-f", "used:1").returncode == 0
        moor.daemon.stop()
        # What the killed load would have left: its layers, no image.
        os.unlink(os.path.join(moor.daemon.data_root, "image", "sha256", orphan_id.split(":")[1] + ".json"))
        repositories = os.path.join(moor.daemon.data_root, "repositories.json")
        with open(repositories) as fh:
            tags = json.load(fh)
        assert "orphan" in tags["Repositories"], tags
        del tags["Repositories"]["orphan"]
        with open(repositories, "w") as fh:
            json.dump(tags, fh)
        offset = len(moor.daemon.log())
        moor.daemon.start()
        moortest.wait_until(lambda: orphan_dir not in layer_dirs(moor), what="the orphan layer to be removed")
        # The directory goes first (renamed away), the log line after its files are deleted.
        moortest.wait_until(lambda: re.search(r"removed a layer no image or container uses.*" + orphan_dir,
                                              moor.daemon.log()[offset:]), what="the removal to be logged")
        assert used_dir in layer_dirs(moor) and hashlib.sha256(busybox_layer()).hexdigest() in layer_dirs(moor)
        assert moor.cli("start", "-a", cid, check=True).stdout == "a container holds me"
        assert store_tmp(moor) == []


# ---------------------------------------------------------------------------
# The moor CLI.
# ---------------------------------------------------------------------------
# The moor CLI.

def run_moor(moor, *args, input=None, timeout=120):
    return subprocess.run([MOOR_CLI, "-H", f"unix://{moor.socket}", *args], input=input, capture_output=True,
                          timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)


@pytest.mark.skipif(not (MOOR_CLI and os.access(MOOR_CLI, os.X_OK)), reason="set MOOR_CLI to the moor binary")
def test_moor_load_and_save(moor, tmp_path):
    image = Image(whiteout_layers(), tags=["moorcli/img:1"])
    path = write_file(tmp_path, "in.tar.gz", oci_archive([image], compression="gzip"))
    result = run_moor(moor, "load", "-i", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Loaded image: moorcli/img:1\n"
    assert run_moor(moor, "load", input=docker_save_archive([image])).stdout == b"Loaded image: moorcli/img:1\n"
    out = str(tmp_path / "out.tar")
    result = run_moor(moor, "save", "-o", out, "moorcli/img:1", "busybox")
    assert result.returncode == 0 and result.stdout == b"", result.stderr
    with tarfile.open(out) as tar:
        tags = sorted(tag for entry in json.loads(tar.extractfile("manifest.json").read()) for tag in entry["RepoTags"])
    assert tags == ["busybox:latest", "moorcli/img:1"]
    piped = run_moor(moor, "save", "moorcli/img:1")
    assert piped.returncode == 0 and tarfile.open(fileobj=io.BytesIO(piped.stdout)).getmember("manifest.json")
    # Errors: a hostile archive names the entry; save refuses a terminal.
    bad = Image([tar_bytes([f("../../nope", b"x")])], tags=["moorcli/bad:1"])
    result = run_moor(moor, "load", input=docker_save_archive([bad]))
    assert result.returncode == 1 and b"../../nope" in result.stderr
    assert run_moor(moor, "save", "-o", str(tmp_path / "x.tar"), "nosuch:1").returncode == 1
    assert not os.path.exists(tmp_path / "x.tar")
    # On a terminal: a progress bar, then the same lines.
    rc, output = moor.in_terminal(f"{MOOR_CLI} -H unix://{moor.socket} load -i {path}", timeout=60)
    assert rc == 0, output
    assert b"Loading  [" in output and b"Loaded image: moorcli/img:1" in output
    rc, output = moor.in_terminal(f"{MOOR_CLI} -H unix://{moor.socket} save moorcli/img:1", timeout=60)
    assert rc == 1 and b"cowardly refusing to save to a terminal" in output


# ---------------------------------------------------------------------------
# Round trips with dockerd.

class Dockerd:
    def __init__(self, root):
        self.root = root
        self.socket = os.path.join(root, "docker.sock")
        self.log_path = os.path.join(root, "dockerd.log")
        self.proc = None

    def start(self):
        config = os.path.join(self.root, "daemon.json")
        with open(config, "w") as fh:
            json.dump({"iptables": False, "bridge": "none"}, fh)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", os.path.join(self.root, "data"), "--exec-root", os.path.join(self.root, "exec"),
             "-H", f"unix://{self.socket}", "--pidfile", os.path.join(self.root, "docker.pid"), "--config-file", config],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"dockerd exited with {self.proc.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError):
                if moortest.api(self.socket, "GET", "/_ping", timeout=5).status == 200:
                    return self
            if time.monotonic() > deadline:
                raise AssertionError(f"dockerd did not answer within 90s:\n{self.log()}")
            time.sleep(0.2)

    def log(self):
        with contextlib.suppress(OSError), open(self.log_path, "rb") as fh:
            return fh.read().decode(errors="replace")[-5000:]
        return ""

    def cli(self, *args, input=None, check=True, timeout=120):
        env = dict(os.environ, DOCKER_HOST=f"unix://{self.socket}", DOCKER_CONFIG=os.path.join(self.root, "cli"))
        env.pop("DOCKER_CONTEXT", None)
        result = subprocess.run(["docker", *args], input=input, capture_output=True, env=env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"dockerd: docker {' '.join(args)} failed: {result.stderr.decode(errors='replace')}")
        return result

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        moortest.kill_processes_under(self.root)
        moortest.unmount_under(self.root)
        with contextlib.suppress(Exception):
            self._log.close()


@pytest.fixture(scope="module")
def dockerd():
    if shutil.which("dockerd") is None:
        pytest.skip("dockerd (Debian's docker.io) is not installed")
    root = moortest.short_tmpdir()
    daemon = Dockerd(root)
    try:
        yield daemon.start()
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_moor_save_is_loaded_by_dockerd(moor, dockerd, tmp_path):
    image = Image(whiteout_layers(), tags=["roundtrip/to-dockerd:1"])
    moor.cli("load", "-i", write_file(tmp_path, "in.tar", oci_archive([image], layer_compression="gzip")), check=True)
    busybox_id = moor.client.api.inspect_image("busybox")["Id"]
    out = str(tmp_path / "from-moor.tar")
    moor.cli("save", "-o", out, "roundtrip/to-dockerd:1", "busybox:latest", check=True)
    loaded = dockerd.cli("load", "-i", out).stdout.decode()
    assert sorted(loaded.splitlines()) == ["Loaded image: busybox:latest", "Loaded image: roundtrip/to-dockerd:1"]
    inspect = json.loads(dockerd.cli("image", "inspect", "roundtrip/to-dockerd:1", "busybox:latest").stdout)
    assert [i["Id"] for i in inspect] == [image.id, busybox_id]
    assert inspect[0]["RootFS"]["Layers"] == [sha256(layer) for layer in image.layers]
    # dockerd shows the same tags and (no) digests as moor for these images.
    fmt = ["images", "--digests", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}} {{.ID}}", "roundtrip/to-dockerd"]
    assert dockerd.cli(*fmt).stdout.decode().split()[0:2] == ["roundtrip/to-dockerd:1", "<none>"]


def test_dockerd_save_is_loaded_by_moor(moor, dockerd, tmp_path):
    image = Image(whiteout_layers(), tags=["roundtrip/from-dockerd:1"], labels={"from": "dockerd"})
    dockerd.cli("load", "-i", write_file(tmp_path, "in.tar", docker_save_archive([image], compression="gzip")))
    out = str(tmp_path / "from-dockerd.tar")
    dockerd.cli("save", "-o", out, "roundtrip/from-dockerd:1")
    for compression in (None, "zstd"):
        archive = compress(open(out, "rb").read(), compression)
        result = moor.cli("load", "-i", write_file(tmp_path, "again.tar", archive))
        assert result.returncode == 0, result.stderr
        assert result.stdout == "Loaded image: roundtrip/from-dockerd:1\n"
    assert moor.client.api.inspect_image("roundtrip/from-dockerd:1")["Id"] == image.id
    assert moor.client.api.inspect_image("roundtrip/from-dockerd:1")["Config"]["Labels"] == {"from": "dockerd"}
    assert run_in(moor, "roundtrip/from-dockerd:1", LIST_SCRIPT) == MERGED_VIEW
    ours = moor.cli("images", "--digests", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}", "roundtrip/from-dockerd").stdout
    theirs = dockerd.cli("images", "--digests", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}",
                         "roundtrip/from-dockerd").stdout.decode()
    assert ours == theirs == "roundtrip/from-dockerd:1 <none>\n"
    # And back: moor's save of what dockerd made is byte-identical in its layers.
    back = str(tmp_path / "back.tar")
    moor.cli("save", "-o", back, "roundtrip/from-dockerd:1", check=True)
    with tarfile.open(back) as tar:
        for layer in image.layers:
            assert tar.extractfile("blobs/sha256/" + sha256(layer)[7:]).read() == layer
