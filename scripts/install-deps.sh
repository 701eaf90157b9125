#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages hvtax needs, only those missing, quietly.
#   scripts/install-deps.sh            build, tests and `make run`
#   scripts/install-deps.sh --compare  also the reference tools of scripts/compare-*.sh
set -euo pipefail

# build: compiler, pkg-config and the libraries of DESIGN.md
BUILD_PKGS=(build-essential pkg-config libjansson-dev libinih-dev libsqlite3-dev sqlite3
	libhwloc-dev hwloc libnuma-dev liburing-dev libibverbs-dev libpfm4-dev libcairo2-dev
	libcmocka-dev openmpi-bin libopenmpi-dev)
# tests and the main job: JSON checks, real targets (container, VM)
RUN_PKGS=(python3 jq procps iproute2 util-linux e2fsprogs podman runc qemu-system-x86 linux-image-amd64 busybox-static cpio chromium)
# reference tools for the side-by-side comparison scripts
COMPARE_PKGS=(linux-perf fio likwid mbw sockperf qperf iperf3)

want=("${BUILD_PKGS[@]}" "${RUN_PKGS[@]}")
if [ "${1:-}" = "--compare" ]; then
	want+=("${COMPARE_PKGS[@]}")
fi
if [ -n "${HVT_EXTRA_PKGS:-}" ]; then
	read -r -a extra <<<"$HVT_EXTRA_PKGS"
	want+=("${extra[@]}")
fi

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		SUDO=sudo
	else
		echo "install-deps: missing packages (${missing[*]}) and not root; install them as root" >&2
		exit 1
	fi
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
