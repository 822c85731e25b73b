#!/usr/bin/env bash
# Installs the Debian 12 packages crossings builds and tests with, when
# any is missing. Needs root (apt-get); does nothing when all are there.
set -eu
packages=(gcc pkg-config python3 meson ninja-build libdpdk-dev dpdk
	  libhiredis-dev check libpcap-dev redis-server iproute2 "$@")
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
