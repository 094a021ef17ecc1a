"""Runs one busybox container through moor-shim and prints its output."""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import moorshim  # noqa: E402


def main():
    shim_bin, rootfs = sys.argv[1], sys.argv[2]
    cmd = sys.argv[3:] or ["sh", "-c", "echo hello from a moor container; hostname; id; "
                           "cat /proc/self/status | grep -E 'CapBnd|Seccomp'; ls /"]
    work = tempfile.mkdtemp(prefix="moor-run-")
    cid = "run-" + os.path.basename(work)[-8:].lower().replace("_", "x")
    try:
        bundle = os.path.join(work, "bundle")
        os.makedirs(os.path.join(bundle, "rootfs"))
        for d in ("upper", "work"):
            os.makedirs(os.path.join(work, d))
        spec = moorshim.default_spec(shim_bin)
        spec["process"]["args"] = cmd
        spec["linux"]["cgroupsPath"] = f"/moor/{cid}"
        with open(os.path.join(bundle, "config.json"), "w") as f:
            import json
            json.dump(spec, f)
        started = moorshim.start(shim_bin, cid, bundle, os.path.join(work, "state"),
                                 lower=[rootfs], upper=os.path.join(work, "upper"),
                                 work=os.path.join(work, "work"))
        print(f"container {cid}: shim pid {started['shim_pid']}, init pid {started['pid']}")
        shim = moorshim.Shim(started["socket"])
        seq = 1
        while True:
            seq, records = shim.read_spool(0, seq)
            for _, stream, _, payload in records:
                (sys.stdout if stream == 1 else sys.stderr).buffer.write(payload)
            sys.stdout.flush()
            if not records:
                st = shim.state()
                if st["status"] == 3 and seq >= st["spool_next_seq"]:
                    break
                time.sleep(0.1)
        st = shim.wait()
        print(f"container {cid} exited with {st['exit_code']}")
        shim.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
