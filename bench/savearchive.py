"""`docker save` archives built at bench time for the image benches.

The layout dockerd 20.10's `docker save` writes, which both daemons load:
manifest.json (Config, RepoTags, Layers), repositories (the legacy tag
map), the image config `<sha256>.json` whose rootfs.diff_ids are the
sha256 of each uncompressed layer tar, and one directory per layer with
layer.tar, VERSION and the legacy v1 json. The filler layers are made from
a seeded generator, so every run loads the same bytes.
"""
import hashlib
import json
import os
import platform
import random
import tarfile

ENV_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CREATED = "2024-01-01T00:00:00Z"
MTIME = 1704067200
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


class _HashingWriter:
    """A write-only file that hashes what goes through it, so a layer's
    diffID comes from the one pass that writes it."""

    def __init__(self, f):
        self.f, self.sha = f, hashlib.sha256()

    def write(self, data):
        self.sha.update(data)
        return self.f.write(data)


def file_sha256(path):
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def _member(name, kind=tarfile.REGTYPE, size=0, mode=0o644):
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode, info.mtime = kind, size, mode, MTIME
    info.uname = info.gname = "root"
    return info


class _Bytes:
    """Just enough of a file for tarfile.addfile to copy `data` from."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def read(self, n=-1):
        end = len(self.data) if n < 0 else self.at + n
        chunk, self.at = self.data[self.at:end], min(end, len(self.data))
        return chunk


def _add_file(tar, name, data, mode=0o644):
    tar.addfile(_member(name, size=len(data), mode=mode), _Bytes(data))


def _text(rng, size):
    """Compressible, text-like content (as config files and sources are)."""
    words = [b"moor", b"layer", b"bench", b"container", b"image", b"daemon", b"restore", b"spool"]
    line = b" ".join(rng.choice(words) for _ in range(12)) + b"\n"
    return (line * (size // len(line) + 1))[:size]


def write_filler_layer(path, seed, size, large_share=0.7):
    """A layer tar of about `size` bytes of mixed content under /bench/<seed>/:
    `large_share` of it in 4 MiB random (incompressible) files, the rest in
    small files of 512 B to 16 KiB, half random, half text, in nested
    directories, plus a symlink and a hard link. Returns its diffID
    (sha256:hex of the tar)."""
    rng = random.Random(seed)
    top = f"bench/layer{seed}"
    with open(path, "wb") as f:
        out = _HashingWriter(f)
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for d in ("bench", top, f"{top}/large", f"{top}/small"):
                tar.addfile(_member(d, tarfile.DIRTYPE, mode=0o755))
            large = int(size * large_share)
            for i in range(max(1, round(large / (4 << 20)))):
                _add_file(tar, f"{top}/large/blob{i}.bin", rng.randbytes(4 << 20))
            _add_small_files(tar, rng, f"{top}/small", size - large)
            tar.addfile(_link(f"{top}/latest", tarfile.SYMTYPE, "large/blob0.bin"))
            tar.addfile(_link(f"{top}/blob0.hardlink", tarfile.LNKTYPE, f"{top}/large/blob0.bin"))
    return "sha256:" + out.sha.hexdigest()


def _add_small_files(tar, rng, top, budget):
    """Small files in directories of 100 until `budget` bytes are written."""
    written, i = 0, 0
    while written < budget:
        if i % 100 == 0:
            tar.addfile(_member(f"{top}/d{i // 100}", tarfile.DIRTYPE, mode=0o755))
        n = rng.randint(512, 16 << 10)
        data = rng.randbytes(n) if i % 2 else _text(rng, n)
        _add_file(tar, f"{top}/d{i // 100}/f{i}", data, mode=0o755 if i % 7 == 0 else 0o644)
        written, i = written + n, i + 1


def _link(name, kind, target):
    info = _member(name, kind, mode=0o777 if kind == tarfile.SYMTYPE else 0o644)
    info.linkname = target
    return info


def write_small_layer(path, seed, files=8, size=8 << 10):
    """A small layer: `files` files of `size` random bytes under
    /bench/small<seed>/. Returns its diffID."""
    rng = random.Random(seed)
    top = f"bench/small{seed}"
    with open(path, "wb") as f:
        out = _HashingWriter(f)
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for d in ("bench", top):
                tar.addfile(_member(d, tarfile.DIRTYPE, mode=0o755))
            for i in range(files):
                _add_file(tar, f"{top}/f{i}", rng.randbytes(size))
    return "sha256:" + out.sha.hexdigest()


def image_config(diff_ids, cmd):
    """The image config: linux on this host's architecture, PATH set, the
    command, one history entry per layer."""
    return {
        "architecture": ARCHITECTURES.get(platform.machine(), platform.machine()),
        "os": "linux",
        "created": CREATED,
        "config": {"Env": [ENV_PATH], "Cmd": cmd},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": CREATED, "created_by": f"moor bench layer {i}"} for i in range(len(diff_ids))],
    }


def _layer_ids(diff_ids):
    """The legacy v1 directory names: a chain, each over its parent's."""
    ids, parent = [], ""
    for diff_id in diff_ids:
        parent = hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest()
        ids.append(parent)
    return ids


def write_archive(path, layers, repo, tag, cmd):
    """Writes the `docker save` archive of one image `repo:tag` made of
    `layers` [(layer tar path, diffID)], bottom-most first. Returns the
    image id (sha256:hex of its config)."""
    diff_ids = [d for _, d in layers]
    config = json.dumps(image_config(diff_ids, cmd), separators=(",", ":")).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    ids = _layer_ids(diff_ids)
    manifest = [{"Config": f"{config_hex}.json", "RepoTags": [f"{repo}:{tag}"],
                 "Layers": [f"{i}/layer.tar" for i in ids]}]
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for position, ((layer_path, _), lid) in enumerate(zip(layers, ids)):
            tar.addfile(_member(lid, tarfile.DIRTYPE, mode=0o755))
            _add_file(tar, f"{lid}/VERSION", b"1.0")
            v1 = {"id": lid, "created": CREATED, **({"parent": ids[position - 1]} if position else {})}
            _add_file(tar, f"{lid}/json", json.dumps(v1).encode())
            info = _member(f"{lid}/layer.tar", size=os.path.getsize(layer_path))
            with open(layer_path, "rb") as f:
                tar.addfile(info, f)
        _add_file(tar, f"{config_hex}.json", config)
        _add_file(tar, "manifest.json", json.dumps(manifest).encode())
        _add_file(tar, "repositories", json.dumps({repo: {tag: ids[-1]}}).encode())
    return f"sha256:{config_hex}"
