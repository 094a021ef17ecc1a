"""`make bench`: moor-shim against its references, measured in one run.

Prints each figure with the reference measured alongside it and the ratio:
  1. shim RSS per running container vs conmon's (conmon + runc, Debian)
  2. create-to-exec latency vs `runc run -d` on the same bundle
  3. container stdout throughput into the spool (no reader) vs /dev/null
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
sys.path.insert(0, os.path.dirname(__file__))

import bench_shim  # noqa: E402


def main():
    shim_bin = os.environ.get("MOOR_SHIM", "build/bin/moor-shim")
    images = os.environ.get("MOOR_TEST_IMAGES", "build/images")
    rootfs = os.path.abspath(os.path.join(images, "busybox", "rootfs"))
    results = bench_shim.run_all(os.path.abspath(shim_bin), rootfs)
    print()
    print("moor-shim benchmarks (ratios against references measured in this run)")
    for name, value, ref_name, ref, ratio, target in results:
        verdict = "info" if target is None else ("ok" if target(ratio) else "MISSED")
        print(f"  {name:44s} {value:>12s}   {ref_name}: {ref:>12s}   ratio {ratio:6.3f}  [{verdict}]")


if __name__ == "__main__":
    main()
