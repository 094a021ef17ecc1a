"""`make bench`: moor against its references, measured in one run.

Prints each figure with the reference measured alongside it and the ratio:
  1. shim RSS per running container vs conmon's (conmon + runc, Debian)
  2. create-to-exec latency vs `runc run -d` on the same bundle
  3. container stdout throughput into the spool (no reader) vs /dev/null
and moord against a reference dockerd 20.10 (bench_daemon):
  4. restore time of 100 running containers after a SIGKILL
  5. a container's write rate with the daemon down vs up
  6. the daemon's CPU over 60 s idle with 100 running containers
and image handling against the same dockerd, through the docker CLI
(bench_images):
  7. `docker load` of a ~200 MiB 5-layer archive
  8. `docker run -d` of a 5-layer image

`python3 bench/run.py [shim] [daemon] [images]` runs only the parts named.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
sys.path.insert(0, os.path.dirname(__file__))

import bench_daemon  # noqa: E402
import bench_images  # noqa: E402
import bench_shim  # noqa: E402

PARTS = ("shim", "daemon", "images")


def _terminate(signum, frame):
    # SIGTERM (e.g. make interrupted) unwinds like Ctrl-C, so every bench's
    # cleanup (daemons, containers, cgroups, mounts, temp dirs) still runs.
    raise KeyboardInterrupt(f"signal {signum}")


def print_results(title, results):
    print()
    print(title)
    for name, value, ref_name, ref, ratio, target in results:
        verdict = "info" if target is None else ("ok" if target(ratio) else "MISSED")
        print(f"  {name:44s} {value:>12s}   {ref_name}: {ref:>12s}   ratio {ratio:6.3f}  [{verdict}]")


def main():
    signal.signal(signal.SIGTERM, _terminate)
    parts = set(sys.argv[1:]) or set(PARTS)
    if parts - set(PARTS):
        sys.exit(f"usage: run.py [{'] ['.join(PARTS)}]: unknown part {', '.join(sorted(parts - set(PARTS)))}")
    shim_bin = os.path.abspath(os.environ.get("MOOR_SHIM", "build/bin/moor-shim"))
    images = os.environ.get("MOOR_TEST_IMAGES", "build/images")
    rootfs = os.path.abspath(os.path.join(images, "busybox", "rootfs"))
    busybox_tar = os.path.abspath(os.path.join(images, "busybox", "rootfs.tar"))
    moord = os.path.abspath(os.environ.get("MOORD", "build/bin/moord"))
    started = time.monotonic()
    sections = []
    if "shim" in parts:
        sections.append(("moor-shim benchmarks (ratios against references measured in this run)",
                         bench_shim.run_all(shim_bin, rootfs)))
    if "daemon" in parts:
        sections.append(("moord benchmarks (ratios against dockerd 20.10 measured in this run)",
                         bench_daemon.run_all(moord, shim_bin, busybox_tar)))
    if "images" in parts:
        sections.append(("image benchmarks (ratios against dockerd 20.10 measured in this run, docker CLI)",
                         bench_images.run_all(moord, shim_bin, busybox_tar)))
    for title, results in sections:
        print_results(title, results)
    print(f"\n(benchmarks took {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
