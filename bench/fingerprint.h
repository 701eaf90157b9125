/* SPDX-License-Identifier: MIT */
/* The environment fingerprint: hypervisor, container, cgroup limits, CPU, topology, kernel. */
#ifndef HVT_FINGERPRINT_H
#define HVT_FINGERPRINT_H

#include <jansson.h>

/*
 * Describe the environment this process runs in, as a new JSON object
 * (caller owns the reference). Every /proc, /sys and /etc read goes through
 * bench/fsroot.h, so a captured tree is replayed by setting hvt_fsroot (or
 * $HVT_FSROOT). Never fails hard: what cannot be read is omitted or null.
 * Returns NULL only when memory runs out.
 *
 * Top-level keys (stable, snake_case): tool, hostname, virt, cgroup, cpu,
 * mitigations, topology, kernel, memory, cpuidle, pmu, env.
 *
 *  virt.kind: "bare-metal" | "vm" | "container" | "vm+container", or "unknown" when
 *             neither cpuid, /proc/cpuinfo's flags nor DMI could be read and no container was found
 *  virt.hypervisor: "kvm" | "tcg" | "hyperv" | "vmware" | "xen" | ... | "none" | null (unknown)
 *  virt.evidence: strings saying why, including evidence that was ignored.
 *
 * Replay: a tree may hold hvt/cpuid (lines "hypervisor_bit=0|1",
 * "vendor=KVMKVMKVM", optionally "vendor_40000100=...") which stands for the
 * cpuid instruction, and hvt/topology.xml (lstopo --of xml) which hwloc loads
 * instead of probing. See scripts/capture-fsroot.sh. In replay "pmu" is null
 * (perf_event_open cannot be replayed) and the kernel's uname comes from
 * /proc/sys/kernel/{osrelease,version,arch}.
 */
json_t *hvt_fingerprint_collect(void);

/* virt.kind of a fingerprint, or "unknown". The string lives as long as fp. */
const char *hvt_virt_kind(json_t *fp);

/* Map a CPUID leaf 0x40000000 vendor signature to a short name ("kvm", "tcg"...). */
const char *hvt_hypervisor_name(const char *vendor);

#endif
