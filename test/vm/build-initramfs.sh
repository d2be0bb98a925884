#!/usr/bin/env bash
# Builds the busybox initramfs the cgroup v2 VM boots (test/vm/vm.ts): usage
#   build-initramfs.sh KERNEL_VERSION OUT.gz
# It loads the virtio and 9p modules of that kernel (from /lib/modules), mounts this machine's / read-only
# over virtio-9p (tag `host`, cache=loose so that file reads go through the guest's page cache and are
# charged to the reading cgroup), then the checkout (tag `repo`, at its own path, after /tmp became a
# fresh tmpfs: the checkout may live under /tmp), cgroup2 with every controller, and runs as root the
# base64 command of the kernel command line (`vmcmd=`) in a chroot, printing `vm-exit-status N` after.
set -euo pipefail
kv=${1:?kernel version}; out=${2:?output file}
m=/lib/modules/$kv/kernel
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/r/{bin,mods,proc,sys,dev,host}
cp /bin/busybox "$work/r/bin/busybox"
mods="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
  drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci fs/netfs/netfs fs/fscache/fscache
  net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p"
names=()
for mod in $mods; do
  # Built-in or absent in other kernels' configurations: the guest then needs no module for it.
  file=$(ls "$m/$mod".ko* 2>/dev/null | head -1) || true
  [ -n "$file" ] || continue
  name=$(basename "$mod")
  case $file in
  *.xz) xz -dc "$file" ;;
  *.zst) zstd -dqc "$file" ;;
  *.gz) gzip -dc "$file" ;;
  *) cat "$file" ;;
  esac >"$work/r/mods/$name.ko"
  names+=("$name")
done
cat >"$work/r/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in ${names[*]}; do insmod /mods/\$m.ko || echo "vm: insmod \$m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,ro host /host || { echo "vm: 9p mount failed"; poweroff -f; }
mount -t proc proc /host/proc; mount -t sysfs sys /host/sys; mount -t devtmpfs dev /host/dev
mount -t tmpfs tmp /host/tmp; mount -t cgroup2 none /host/sys/fs/cgroup
mkdir -p /host/dev/shm /host/dev/pts; mount -t tmpfs shm /host/dev/shm
repo=\$(sed -n 's/.*vmrepo=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)
mkdir -p "/host\$repo" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,cache=loose,ro repo "/host\$repo" || { echo "vm: 9p mount of the checkout failed"; poweroff -f; }
cmd=\$(sed -n 's/.*vmcmd=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)
echo "vm-start"; chroot /host /bin/bash -c "cd /; \$cmd"; echo "vm-exit-status \$?"
poweroff -f
INIT
chmod +x "$work/r/init"
(cd "$work/r" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out.part"
mv "$out.part" "$out"
