#!/usr/bin/env bash
# Packs the guest's initramfs: a static busybox, tests/vm/init as /init, and the modules the init needs before the
# host's root is reachable (virtio PCI, 9p over virtio, overlayfs), copied from the unpacked kernel in the order
# modprobe resolves their dependencies (the order differs between 5.10 and 6.1: netfs, virtio_pci_*_dev).
#
# Usage: make-initramfs.sh KERNEL_ROOT KERNEL_RELEASE OUT.cpio.gz
set -euo pipefail

root=${1:?unpacked kernel root}
release=${2:?kernel release}
out=${3:?output file}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
busybox="$(command -v busybox || true)"
[[ -n "$busybox" ]] || { echo "vm: busybox not found (install busybox-static)" >&2; exit 1; }
# The initramfs has no libc: a dynamically linked busybox (package busybox) cannot run there.
if ldd "$busybox" >/dev/null 2>&1; then
	echo "vm: $busybox is dynamically linked (install busybox-static)" >&2
	exit 1
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/cglb-vm-initramfs.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,modules,lower,upper,newroot}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$here/init" "$stage/init"

# modprobe prints "insmod /path/x.ko [options]" lines, dependencies first; builtin modules print "builtin x".
for module in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe -d "$root" -S "$release" --show-depends "$module"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
	cp "$ko" "$stage/modules/"
	echo "${ko##*/}" >>"$stage/modules/order"
done
[[ -s "$stage/modules/order" ]] || { echo "vm: no modules resolved for $release" >&2; exit 1; }

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.part"
mv "$out.part" "$out"
