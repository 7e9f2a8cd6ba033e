#!/usr/bin/env bash
# Fetches Debian's generic amd64 kernel of one release and unpacks it, without installing it on the host.
#
# The archive is the one apt is configured with (the URIs in /etc/apt/sources.list*, or VM_DEBIAN_MIRROR): the
# suite's Packages index names the newest linux-image-<series>.0-N-amd64 (the generic flavour: the -cloud one has
# no 9p), the .deb is checked against the index's SHA256, unpacked with dpkg-deb -x and given a modules.dep by
# depmod. Everything lands under CACHE_DIR and is reused: the index is fetched again after a day, and a cached
# kernel is used when the archive cannot be reached.
#
# Usage: fetch-kernel.sh SUITE SERIES CACHE_DIR     e.g. fetch-kernel.sh bullseye 5.10 build/vm
# Prints "ROOT VERSION PACKAGE_VERSION" (the unpacked tree, its uname -r, the Debian version) on stdout.
# Exit 3 when no kernel could be had (not downloadable and not cached); any other failure exits 1.
set -euo pipefail

suite=${1:?suite}
series=${2:?series}
cache=${3:?cache dir}
arch=amd64
mkdir -p "$cache/index" "$cache/debs"

log() { echo "vm: $*" >&2; }
unavailable() { log "$*"; exit 3; }

# Archive base URIs apt knows, in the order apt lists them (deb822 .sources files and one-line .list files).
apt_archives() {
	[[ -n "${VM_DEBIAN_MIRROR:-}" ]] && echo "$VM_DEBIAN_MIRROR"
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f "$f" ]] && awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; break } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f "$f" ]] && awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
	done
}

# The suite's Packages index (its linux-image entries), from the first archive that serves it; a copy younger than a
# day is reused.
index="$cache/index/$suite-main-$arch.Packages"
base_file="$cache/index/$suite.base"
if [[ ! -s "$index" || -n "$(find "$index" -mmin +1440 2>/dev/null)" ]]; then
	tmp="$(mktemp "$index.XXXXXX")"
	trap 'rm -f "$tmp"' EXIT
	fetched=""
	while read -r base; do
		base="${base%/}"
		[[ "$base" == http* ]] || continue
		if curl -fsSL --retry 2 --connect-timeout 15 "$base/dists/$suite/main/binary-$arch/Packages.xz" 2>/dev/null | xz -dc 2>/dev/null |
			awk 'BEGIN { RS = ""; ORS = "\n\n" } /^Package: linux-image-/' >"$tmp" &&
			[[ -s "$tmp" ]]; then
			mv "$tmp" "$index"
			echo "$base" >"$base_file"
			fetched=yes
			break
		fi
	done < <(apt_archives | awk '!seen[$0]++')
	if [[ -z "$fetched" ]]; then
		rm -f "$tmp"
		[[ -s "$index" ]] || unavailable "no archive configured for apt serves dists/$suite/main/binary-$arch (and no cached index)"
		log "could not refresh the $suite index; using the cached one"
	fi
fi
base="$(cat "$base_file")"

# Newest ABI of the series: "linux-image-5.10.0-32-amd64" beats "-30-".
read -r package version filename sha256 < <(awk -v re="^linux-image-${series//./\\.}\\.0-[0-9]+-$arch\$" '
	BEGIN { RS = ""; FS = "\n"; best = -1 }
	{
		pkg = ver = file = sum = ""
		for (i = 1; i <= NF; i++) {
			split($i, kv, ": ")
			if (kv[1] == "Package") pkg = kv[2]
			else if (kv[1] == "Version") ver = kv[2]
			else if (kv[1] == "Filename") file = kv[2]
			else if (kv[1] == "SHA256") sum = kv[2]
		}
		if (pkg !~ re || file == "" || sum == "") next
		split(pkg, p, "-")
		if (p[4] + 0 > best) { best = p[4] + 0; line = pkg " " ver " " file " " sum }
	}
	END { print line }
' "$index")
[[ -n "${package:-}" ]] || unavailable "the $suite index lists no linux-image-$series.0-*-$arch"
kernel_release="${package#linux-image-}"

deb="$cache/debs/${filename##*/}"
if [[ ! -s "$deb" ]] || ! sha256sum --quiet -c <<<"$sha256  $deb" >/dev/null 2>&1; then
	log "downloading $package $version from the $suite archive"
	part="$deb.part"
	if ! curl -fsSL --retry 2 --connect-timeout 15 -o "$part" "$base/$filename"; then
		rm -f "$part"
		unavailable "could not download $package $version ($filename)"
	fi
	sha256sum --quiet -c <<<"$sha256  $part" || { rm -f "$part"; log "$package: SHA256 mismatch against the index"; exit 1; }
	mv "$part" "$deb"
fi

root="$cache/$package"
stamp="$root/.unpacked-$version"
if [[ ! -f "$stamp" ]]; then
	rm -rf "$root"
	mkdir -p "$root"
	dpkg-deb -x "$deb" "$root"
	# The package ships no modules.dep (its postinst runs depmod); -b keeps depmod inside the unpacked tree.
	depmod -b "$root" "$kernel_release"
	[[ -f "$root/boot/vmlinuz-$kernel_release" ]] || { log "$deb has no boot/vmlinuz-$kernel_release"; exit 1; }
	touch "$stamp"
fi
echo "$(cd "$root" && pwd) $kernel_release $version"
