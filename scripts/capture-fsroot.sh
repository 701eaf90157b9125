#!/bin/sh
# SPDX-License-Identifier: MIT
# Capture the /proc, /sys and /etc files the hvtax-bench fingerprint reads into DIR, for replay tests.
#
# usage: scripts/capture-fsroot.sh DIR            capture this system (POSIX sh; busybox is enough)
#        scripts/capture-fsroot.sh --build-helper OUT
#                                                 build the cpuid/topology helper (needs cc and hwloc)
#
# Replay with: HVT_FSROOT=DIR hvtax-bench fingerprint   (or hvt_fsroot = "DIR" in a test).
# Besides copies of real files, DIR gets hvt/cpuid (the cpuid instruction's answer) and
# hvt/topology.xml (hwloc XML), written by a small helper compiled from the C source below.
# Set HVT_CAPTURE_HELPER to a prebuilt helper (e.g. inside a container without a compiler).
# Environment blocks are filtered to the fingerprint's allowlist: nothing else is kept.
set -u

ENV_ALLOW='OMP_NUM_THREADS|OMP_PROC_BIND|OMP_PLACES|MKL_NUM_THREADS|OPENBLAS_NUM_THREADS|SLURM_JOB_ID|SLURM_JOB_NUM_NODES|SLURM_NTASKS|SLURM_CPUS_PER_TASK|SLURM_CLUSTER_NAME|KUBERNETES_SERVICE_HOST|container|CUDA_VISIBLE_DEVICES|NCCL_SOCKET_IFNAME|NCCL_IB_HCA'

die() { echo "capture-fsroot: $*" >&2; exit 2; }

build_helper() {
	out=$1
	src=$(mktemp "${TMPDIR:-/tmp}/hvt-capture-XXXXXX.c") || die "cannot create a temporary file"
	cat >"$src" <<'CEOF'
/* cpuid: leaf 1 ECX bit 31 and the leaf 0x40000000 vendor; xml FILE: hwloc topology as XML. */
#include <stdio.h>
#include <string.h>
#include <cpuid.h>
#include <hwloc.h>
static void vendor(unsigned leaf, char *v)
{
	unsigned a, b, c, d;
	__cpuid(leaf, a, b, c, d);
	(void)a;
	memcpy(v, &b, 4); memcpy(v + 4, &c, 4); memcpy(v + 8, &d, 4); v[12] = 0;
}
int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "cpuid")) {
		unsigned a, b, c, d;
		char v[13] = "";
		if (!__get_cpuid(1, &a, &b, &c, &d))
			return 1;
		printf("hypervisor_bit=%u\n", (c >> 31) & 1);
		if (c >> 31) {
			vendor(0x40000000, v);
			printf("vendor=%s\n", v);
			if (!strcmp(v, "Microsoft Hv") || !strcmp(v, "Linux KVM Hv")) {
				vendor(0x40000100, v);
				printf("vendor_40000100=%s\n", v);
			}
		}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "xml")) {
		hwloc_topology_t t;
		if (hwloc_topology_init(&t))
			return 1;
		hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
		if (hwloc_topology_load(t) || hwloc_topology_export_xml(t, argv[2], 0))
			return 1;
		hwloc_topology_destroy(t);
		return 0;
	}
	fprintf(stderr, "usage: %s cpuid | xml FILE\n", argv[0]);
	return 2;
}
CEOF
	${CC:-cc} -O1 -o "$out" "$src" $(pkg-config --cflags --libs hwloc 2>/dev/null || echo -lhwloc)
	rc=$?
	rm -f "$src"
	return $rc
}

if [ "${1:-}" = "--build-helper" ]; then
	[ $# -eq 2 ] || die "usage: $0 --build-helper OUT"
	build_helper "$2" || die "cannot build the helper"
	exit 0
fi
[ $# -eq 1 ] || die "usage: $0 DIR | --build-helper OUT"
DIR=$1
mkdir -p "$DIR" || die "cannot create '$DIR'"

# cp one file (read through cat: /proc files report size 0) under DIR, keeping its path.
grab() {
	cat "$1" >/dev/null 2>&1 || return 0
	mkdir -p "$DIR$(dirname "$1")"
	cat "$1" >"$DIR$1" 2>/dev/null || rm -f "$DIR$1"
}
# A symbolic link, re-created with the same (usually dangling) target, e.g. "pid:[4026531836]".
grablink() {
	t=$(readlink "$1" 2>/dev/null) || return 0
	mkdir -p "$DIR$(dirname "$1")"
	rm -f "$DIR$1"
	ln -s "$t" "$DIR$1"
}
# An environment block filtered to the allowlist.
grabenv() {
	cat "$1" >/dev/null 2>&1 || return 0
	mkdir -p "$DIR$(dirname "$1")"
	# cat, not a redirection: /proc/self/environ opened before exec reads as empty afterwards.
	cat "$1" 2>/dev/null | tr '\000' '\n' | grep -E "^($ENV_ALLOW)=" | tr '\n' '\000' >"$DIR$1"
}

for f in /proc/cpuinfo /proc/meminfo /proc/cmdline /proc/version \
	/proc/sys/kernel/osrelease /proc/sys/kernel/version /proc/sys/kernel/arch \
	/proc/sys/kernel/hostname /proc/self/cgroup /proc/self/mountinfo /proc/self/status \
	/proc/1/cgroup /etc/os-release \
	/sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name /sys/class/dmi/id/bios_vendor \
	/sys/devices/system/cpu/online \
	/sys/devices/system/clocksource/clocksource0/current_clocksource \
	/sys/devices/system/clocksource/clocksource0/available_clocksource \
	/sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/defrag \
	/sys/devices/system/cpu/cpuidle/current_driver \
	/sys/devices/system/cpu/cpuidle/current_governor_ro \
	/sys/devices/system/cpu/cpuidle/current_governor \
	/sys/devices/system/cpu/cpu0/cpuidle/state*/name \
	/sys/devices/system/cpu/vulnerabilities/*; do
	grab "$f"
done
[ -e /etc/os-release ] || grab /usr/lib/os-release
grabenv /proc/1/environ
grabenv /proc/self/environ
for ns in pid cgroup user uts ipc; do
	grablink /proc/self/ns/$ns
	grablink /proc/1/ns/$ns
done
grablink /proc/1/root
for f in /.dockerenv /run/.containerenv; do
	[ -e "$f" ] && grab "$f"
done
for d in /var/run/secrets/kubernetes.io /run/secrets/kubernetes.io; do
	[ -d "$d" ] && mkdir -p "$DIR$d"
done

# Cgroup limit files of this process's cgroups and their ancestors, in every cgroup mount.
paths=$(cut -d: -f3- /proc/self/cgroup 2>/dev/null | sort -u)
grep -E ' - cgroup2? ' /proc/self/mountinfo 2>/dev/null | while read -r _ _ _ root mp _; do
	for p in $paths; do
		case "$p" in
		"$root"/*) rel=${p#"$root"} ;;
		*) rel=$p ;;
		esac
		[ "$root" = / ] && rel=$p
		d=$mp$rel
		d=${d%/}
		while :; do
			for f in cpu.cfs_quota_us cpu.cfs_period_us cpu.max cpuset.cpus cpuset.effective_cpus \
				cpuset.cpus.effective memory.limit_in_bytes memory.max; do
				grab "$d/$f"
			done
			[ "$d" = "$mp" ] || [ "${#d}" -le "${#mp}" ] && break
			d=${d%/*}
		done
	done
done

mkdir -p "$DIR/hvt"
helper=${HVT_CAPTURE_HELPER:-}
tmp=
if [ -z "$helper" ] && command -v "${CC:-cc}" >/dev/null 2>&1; then
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvt-capture-XXXXXX") && build_helper "$tmp/helper" && helper=$tmp/helper
fi
if [ -n "$helper" ]; then
	"$helper" cpuid >"$DIR/hvt/cpuid" || rm -f "$DIR/hvt/cpuid"
	"$helper" xml "$DIR/hvt/topology.xml" || rm -f "$DIR/hvt/topology.xml"
else
	echo "capture-fsroot: no helper and no compiler: hvt/cpuid and hvt/topology.xml not written" >&2
fi
[ -n "$tmp" ] && rm -rf "$tmp"
echo "captured into '$DIR'" >&2
exit 0
