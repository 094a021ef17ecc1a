#!/usr/bin/env bash
# `make run` until the daemon exists: one busybox container through moor-shim,
# its output followed from the spool, then a clean shutdown.
set -euo pipefail
shim=$1 images=$2
exec python3 "$(dirname "$0")/../tools/run_one.py" "$shim" "$images/busybox/rootfs" "${@:3}"
