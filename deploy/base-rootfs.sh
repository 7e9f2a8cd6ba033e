#!/usr/bin/env bash
# Builds the image's base root filesystem from Debian packages and writes it as a tar archive:
# debootstrap --variant=minbase (essential packages, apt, nothing else) plus libbpf1 (libbpf.so.1, which the
# agent loads) and ca-certificates, from the Debian mirror this host's apt uses (deploy/debian-mirror.sh).
# Then it drops what a container never reads (package caches and lists, docs except copyright files, man
# pages, locales, logs), which is what Debian's own -slim images remove too.
#
# Needs root and debootstrap. `make image` calls it only when the archive is missing or this script changed.
# Usage: deploy/base-rootfs.sh OUT.tar [SUITE]
set -euo pipefail

out=${1:?usage: $0 OUT.tar [SUITE]}
suite=${2:-bookworm}
packages=libbpf1,ca-certificates
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[[ "$(id -u)" == 0 ]] || { echo "base-rootfs: needs root (debootstrap creates device nodes and chowns)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "base-rootfs: debootstrap is not installed (make deps)" >&2; exit 1; }
mirror=$("$here/debian-mirror.sh" "$suite")

mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/rootfs.XXXXXX")
# A debootstrap that failed half-way can leave /proc or /sys mounted in the target: unmount those before
# removing anything, and never let rm cross into another file system.
remove_work() {
	local mount
	for mount in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r); do
		umount -l "$mount" || true
	done
	rm -rf --one-file-system "$work"
}
trap remove_work EXIT
rootfs=$work/rootfs

echo "==> debootstrap --variant=minbase --include=$packages $suite from $mirror"
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
	tail -n 20 "$work/debootstrap.log" >&2
	[[ -f "$rootfs/debootstrap/debootstrap.log" ]] && tail -n 20 "$rootfs/debootstrap/debootstrap.log" >&2
	echo "base-rootfs: debootstrap failed" >&2
	exit 1
fi

# What a container never reads. Copyright files stay: the image redistributes these packages.
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{man,info,locale,lintian,linda}/* \
	"$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/debconf/*-old \
	"$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/debootstrap
# The image build's hostname and resolver are the build machine's; the runtime provides its own.
: >"$rootfs/etc/hostname"
rm -f "$rootfs/etc/resolv.conf"

# Numeric owners: the archive is unpacked by a container engine, not by this host's passwd.
tar -C "$rootfs" --numeric-owner --xattrs -cf "$work/rootfs.tar" .
mv "$work/rootfs.tar" "$out"
echo "==> base root filesystem: $out ($(du -m "$out" | cut -f1) MB; $(grep -c '^Package:' "$rootfs/var/lib/dpkg/status") packages)"
