#!/usr/bin/env bash
# `make run`: moord on its default socket (unix:///run/moor.sock) in the
# foreground, with busybox:latest imported from Debian's busybox-static.
# Ctrl-C stops it (SIGTERM: containers stop unless live restore is on).
set -euo pipefail
bin=$1 images=$2
socket=/run/moor.sock
"$bin/moord" "${@:3}" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 1 100); do
  [ -S "$socket" ] && curl -sf --unix-socket "$socket" http://moor/_ping >/dev/null && break
  kill -0 $pid 2>/dev/null || { wait $pid; exit $?; }
  sleep 0.1
done
if ! curl -sf --unix-socket "$socket" http://moor/images/busybox:latest/json >/dev/null; then
  curl -sf --unix-socket "$socket" -X POST -H 'Content-Type: application/x-tar' \
    --data-binary @"$images/busybox/rootfs.tar" \
    'http://moor/images/create?fromSrc=-&repo=busybox&tag=latest' >/dev/null
  echo "imported busybox:latest"
fi
cat <<MSG

moord is running (pid $pid). Point the docker CLI or docker-py at it:

    export DOCKER_HOST=unix://$socket
    docker run --rm busybox echo hello from moor

or use the native CLI: $bin/moor run --rm busybox echo hello
Ctrl-C stops moord.
MSG
wait $pid
