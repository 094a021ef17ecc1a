#!/usr/bin/env bash
# Builds the busybox test image from Debian's busybox-static: a rootfs
# directory and a rootfs tarball under OUT (default build/images).
set -euo pipefail
out=${1:-build/images}
busybox=$(command -v busybox)
rootfs="$out/busybox/rootfs"
stamp="$out/busybox/.built"
if [ -f "$stamp" ] && [ "$stamp" -nt "$busybox" ]; then exit 0; fi
rm -rf "$out/busybox"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,home}
cp "$busybox" "$rootfs/bin/busybox"
# Every applet as a symlink, as the busybox image does.
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] && continue
  ln -sf /bin/busybox "$rootfs/bin/$applet"
done
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
tar -C "$rootfs" -cf "$out/busybox/rootfs.tar" .
touch "$stamp"
echo "built busybox test image in $out/busybox"
