#!/usr/bin/env bash
# Prints the Debian mirror this host's apt is configured with, for debootstrap: the URI of the first `deb`
# source that serves SUITE (default bookworm) with the main component, or else the first one that serves
# main from a plain release suite (no -security/-updates/-backports). Reads both apt formats: one-line
# (sources.list, *.list) and deb822 (*.sources). The image build thereby uses whatever mirror or proxy the
# machine already trusts, and no host name is written into the repository.
#
# Usage: deploy/debian-mirror.sh [SUITE]      (DEBIAN_MIRROR set: printed as is)
set -euo pipefail

suite=${1:-bookworm}
if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
	echo "$DEBIAN_MIRROR"
	exit 0
fi

files=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[[ -f "$f" ]] && files+=("$f")
done
[[ ${#files[@]} -gt 0 ]] || { echo "debian-mirror: no apt sources under /etc/apt; set DEBIAN_MIRROR" >&2; exit 1; }

# One "URI SUITE..." line per deb source serving main, in apt's reading order.
sources() {
	local f
	for f in "${files[@]}"; do
		case "$f" in
		*.sources)
			# deb822: paragraphs of "Field: value"; a paragraph ends at a blank line.
			awk '
				function flush() {
					if (types ~ /(^| )deb( |$)/ && comps ~ /(^| )main( |$)/ && enabled != "no")
						for (i = 1; i <= nu; i++) print uris[i], suites
					types = ""; comps = ""; suites = ""; nu = 0; enabled = ""
				}
				/^[ \t]*#/ { next }
				/^[ \t]*$/ { flush(); next }
				{
					field = tolower($1); sub(/:$/, "", field); $1 = ""; sub(/^ +/, "")
					if (field == "types") types = $0
					else if (field == "uris") nu = split($0, uris, " ")
					else if (field == "suites") suites = $0
					else if (field == "components") comps = $0
					else if (field == "enabled") enabled = tolower($0)
				}
				END { flush() }' "$f"
			;;
		*)
			# One-line: deb [options] URI SUITE COMPONENT...
			awk '
				$1 != "deb" { next }
				{
					i = 2
					if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
					for (c = i + 2; c <= NF; c++) if ($c == "main") { print $i, $(i + 1); break }
				}' "$f"
			;;
		esac
	done
}

list=$(sources)
mirror=$(awk -v s="$suite" '{ for (i = 2; i <= NF; i++) if ($i == s) { print $1; exit } }' <<<"$list")
if [[ -z "$mirror" ]]; then
	mirror=$(awk '{ for (i = 2; i <= NF; i++) if ($i !~ /-/) { print $1; exit } }' <<<"$list")
fi
[[ -n "$mirror" ]] || { echo "debian-mirror: no deb source with main in ${files[*]}; set DEBIAN_MIRROR" >&2; exit 1; }
echo "${mirror%/}"
