#!/bin/sh
# SPDX-License-Identifier: MIT
# Derive the "baremetal" replay tree from the "kvm" capture: change only what differs on real hardware.
# Run from tests/data/fsroot: ./derive-baremetal.sh   (rewrites baremetal/ from kvm/)
set -eu
rm -rf baremetal
cp -a kvm baremetal
cd baremetal

# The CPU: no hypervisor bit, no KVM leaf; the host model name, microcode and svm flag of an
# AMD EPYC 9354 (Genoa, family 25 model 17 stepping 1, as in public `lscpu`/`/proc/cpuinfo` listings).
printf 'hypervisor_bit=0\n' >hvt/cpuid
sed -i -e 's/^model name\t: AMD EPYC$/model name\t: AMD EPYC 9354 32-Core Processor/' \
	-e 's/^microcode\t: .*/microcode\t: 0xa10113e/' \
	-e '/^flags/s/ hypervisor / /' -e '/^flags/s/ lahf_lm / lahf_lm svm /' proc/cpuinfo

# Firmware: a Dell PowerEdge instead of no DMI (the Firecracker guest had none).
mkdir -p sys/class/dmi/id
printf 'Dell Inc.\n' >sys/class/dmi/id/sys_vendor
printf 'PowerEdge R7625\n' >sys/class/dmi/id/product_name
printf 'Dell Inc.\n' >sys/class/dmi/id/bios_vendor

# Timekeeping and idle: no kvm-clock or haltpoll on hardware.
printf 'tsc hpet acpi_pm \n' >sys/devices/system/clocksource/clocksource0/available_clocksource
printf 'acpi_idle\n' >sys/devices/system/cpu/cpuidle/current_driver
printf 'menu\n' >sys/devices/system/cpu/cpuidle/current_governor_ro
printf 'menu\n' >sys/devices/system/cpu/cpuidle/current_governor
printf 'POLL\n' >sys/devices/system/cpu/cpu0/cpuidle/state0/name
printf 'C1\n' >sys/devices/system/cpu/cpu0/cpuidle/state1/name
mkdir -p sys/devices/system/cpu/cpu0/cpuidle/state2
printf 'C2\n' >sys/devices/system/cpu/cpu0/cpuidle/state2/name

# Mitigations that read "no microcode"/"Vulnerable" only because the guest lacks host microcode bits.
printf 'Mitigation: Safe RET\n' >sys/devices/system/cpu/vulnerabilities/spec_rstack_overflow
printf 'Mitigation: Speculative Store Bypass disabled via prctl\n' \
	>sys/devices/system/cpu/vulnerabilities/spec_store_bypass

# Boot: a distribution kernel command line on a local NVMe disk; a host name; no /.dockerenv.
printf 'BOOT_IMAGE=/boot/vmlinuz-6.18.44 root=/dev/nvme0n1p2 ro quiet\n' >proc/cmdline
printf 'r7625-01\n' >proc/sys/kernel/hostname
sed -i 's|/dev/vda|/dev/nvme0n1p2|' proc/self/mountinfo
rm -f .dockerenv

# PCI: an NVMe SSD (Samsung PM1733, 144d:a824) and a Broadcom NIC (14e4:16d7) for the virtio pair.
sed -i -e 's|pci_type="0180 \[1af4:1042\] \[1af4:1042\] 01"|pci_type="0108 [144d:a824] [1028:2113] 00"|' \
	-e 's|name="vda"|name="nvme0n1"|' \
	-e 's|pci_type="0200 \[1af4:1041\] \[1af4:1041\] 01"|pci_type="0200 [14e4:16d7] [14e4:16d7] 01"|' \
	-e 's|name="eth0"|name="eno1"|' hvt/topology.xml
