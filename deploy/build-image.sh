#!/usr/bin/env bash
# `make image`: the agent's container image, built without a daemon or a registry, from the agent that
# `make build` published to bin/.
#
#   1. base root filesystem: deploy/base-rootfs.sh (debootstrap), cached as build/image/base-<suite>.tar and
#      rebuilt only when missing or when the scripts that make it changed;
#   2. base image: that archive imported into local container storage as localhost/cgroup-lb-base:<suite>,
#      again only when the archive changed (its digest is a label of the base image);
#   3. `buildah bud --pull=never` of deploy/Containerfile on that base (BASE_IMAGE build argument);
#   4. an OCI archive of the result, for `skopeo copy oci-archive:... docker://...` or a node's image import.
#
# buildah and podman share /var/lib/containers/storage, so the image is also in podman's local storage.
# Usage: deploy/build-image.sh VERSION [BIN_DIR [OUT_DIR]]     (IMAGE_NAME, default cgroup-lb)
set -euo pipefail

version=${1:?usage: $0 VERSION [BIN_DIR [OUT_DIR]]}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${2:-$repo/bin}
out=${3:-$repo/build/image}
name=${IMAGE_NAME:-cgroup-lb}
suite=bookworm
image=localhost/$name:$version
base=localhost/$name-base:$suite
rootfs_tar=$out/base-$suite.tar
archive=$out/$name-$version.oci.tar

die() { echo "image: $*" >&2; exit 1; }
command -v buildah >/dev/null || die "buildah is not installed (make deps)"
[[ -x "$bin/cgroup-lb" ]] || die "no agent at $bin/cgroup-lb (make build)"
# A framework-dependent publish would start in the image and stop at "You must install .NET".
[[ -f "$bin/libcoreclr.so" ]] || die "$bin holds a framework-dependent agent; the image needs the self-contained publish (make build)"
mkdir -p "$out"
started=$SECONDS

# 1. Base root filesystem.
if [[ ! -f "$rootfs_tar" || "$rootfs_tar" -ot "$repo/deploy/base-rootfs.sh" || "$rootfs_tar" -ot "$repo/deploy/debian-mirror.sh" ]]; then
	"$repo/deploy/base-rootfs.sh" "$rootfs_tar" "$suite"
else
	echo "==> base root filesystem: $rootfs_tar (cached)"
fi

# 2. Base image.
rootfs_digest=$(sha256sum "$rootfs_tar" | cut -d' ' -f1)
imported=$(buildah inspect --type image --format '{{index .OCIv1.Config.Labels "cgroup-lb.base.rootfs-sha256"}}' "$base" 2>/dev/null || true)
if [[ "$imported" != "$rootfs_digest" ]]; then
	echo "==> importing $rootfs_tar as $base"
	old_base=$(buildah inspect --type image --format '{{.FromImageID}}' "$base" 2>/dev/null || true)
	container=$(buildah from --pull=never scratch)
	trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
	buildah add --quiet "$container" "$rootfs_tar" / >/dev/null
	buildah config --os linux --arch "$(buildah info --format '{{.host.arch}}')" \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--label "cgroup-lb.base.rootfs-sha256=$rootfs_digest" --cmd /bin/bash "$container"
	buildah commit --quiet --rm "$container" "$base" >/dev/null
	trap - EXIT
	[[ -n "$old_base" ]] && buildah rmi "$old_base" >/dev/null 2>&1 || true
else
	echo "==> base image: $base (up to date)"
fi

# 3. The agent's image. --isolation chroot: RUN steps need no OCI runtime (crun refuses this host's hybrid
# cgroup layout), and the Containerfile's only RUN is a check that finds libbpf1 already installed.
old_image=$(buildah inspect --type image --format '{{.FromImageID}}' "$image" 2>/dev/null || true)
echo "==> buildah bud --pull=never -f deploy/Containerfile $bin -> $image"
buildah bud --quiet --pull=never --isolation chroot --layers=false \
	--build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$version" \
	-f "$repo/deploy/Containerfile" -t "$image" "$bin" >/dev/null
new_image=$(buildah inspect --type image --format '{{.FromImageID}}' "$image")
# The previous build of this tag is now untagged: remove it rather than let every rebuild add one.
if [[ -n "$old_image" && "$old_image" != "$new_image" ]]; then
	buildah rmi "$old_image" >/dev/null 2>&1 || true
fi

# 4. OCI archive; the reference inside it is name:version, what the chart's default image names.
rm -f "$archive"
buildah push --quiet "$image" "oci-archive:$archive:$name:$version" >/dev/null

image_bytes=$(buildah images --noheading --format '{{.Size}}' "$image" | head -n 1)
echo "==> $image: $image_bytes unpacked; OCI archive $archive: $(du -m "$archive" | cut -f1) MB ($((SECONDS - started)) s)"
