#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the payload every target runs: a minimal root filesystem with hvtax-bench, the shared
# libraries it links (resolved with ldd, loader included), busybox and an /init for the VM,
# plus the same tree packed as a gzip'd cpio (newc) initramfs for qemu's direct kernel boot.
#
#   scripts/build-payload.sh [--bench PATH] [--out DIR] [--kernel VMLINUZ|none] [--no-initramfs]
#
# Output (default DIR: build/payload):
#   DIR/rootfs/                 the tree: container rootfs, and the initramfs content
#   DIR/rootfs/hvtax/payload.sha256   hash of every file of the tree but itself (sorted paths)
#   DIR/initramfs.cpio.gz       the same tree, for qemu -initrd
#   DIR/payload.sha256          the same hash, for the harness
# The hash is printed on stdout. Kernel modules for the VM's virtio disk and network (and
# ext4 for the io scratch disk) come from the kernel named by --kernel (default: the newest
# /boot/vmlinuz-*); with none installed the VM target simply has no disk or network.
set -euo pipefail

BENCH=build/hvtax-bench
OUT=build/payload
KERNEL=
INITRAMFS=1
while [ $# -gt 0 ]; do
	case $1 in
	--bench) BENCH=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--kernel) KERNEL=$2; shift 2 ;;
	--no-initramfs) INITRAMFS=0; shift ;;
	-h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "build-payload: unknown option '$1'" >&2; exit 2 ;;
	esac
done

die() { echo "build-payload: $*" >&2; exit 1; }
[ -x "$BENCH" ] || die "cannot find '$BENCH' (build it first: make)"

BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi
done
if [ -z "$BUSYBOX" ]; then
	echo "build-payload: installing busybox-static" >&2
	SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
		busybox-static >/dev/null || die "cannot install busybox-static"
	BUSYBOX=/bin/busybox
	ldd "$BUSYBOX" >/dev/null 2>&1 && die "'$BUSYBOX' is not static (install busybox-static)"
fi

if [ -z "$KERNEL" ]; then
	KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 || true)
fi
KVER=
if [ -n "$KERNEL" ] && [ "$KERNEL" != none ]; then
	KVER=$(basename "$KERNEL"); KVER=${KVER#vmlinuz-}
	[ -d "/lib/modules/$KVER" ] || KVER=
fi

mkdir -p "$OUT"
R="$OUT/rootfs"
rm -rf "$R" "$R.tmp"
mkdir -p "$R.tmp"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,scratch,hvtax,etc,root}
chmod 1777 "$R.tmp/tmp"

install -m 755 "$BENCH" "$R.tmp/bin/hvtax-bench"
# every shared object the binary needs, at the path the loader looks for it
ldd "$BENCH" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u | while read -r lib; do
	real=$(readlink -f "$lib")
	mkdir -p "$R.tmp$(dirname "$lib")"
	cp "$real" "$R.tmp$lib"
done
grep -q 'ld-linux' < <(ls -R "$R.tmp") || die "no dynamic loader resolved for '$BENCH'"

install -m 755 "$BUSYBOX" "$R.tmp/bin/busybox"
for a in $("$BUSYBOX" --list-full 2>/dev/null || "$BUSYBOX" --list | sed 's|^|bin/|'); do
	[ -e "$R.tmp/$a" ] || ln -s /bin/busybox "$R.tmp/$a"
done

if [ -n "$KVER" ]; then
	for m in virtio_pci virtio_blk virtio_net ext4; do
		modprobe -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}'
	done | awk '!seen[$0]++' >"$OUT/modules.list"
	mkdir -p "$R.tmp/lib/modules"
	: >"$R.tmp/lib/modules/load"
	while read -r ko; do
		case $ko in
		*.ko) cp "$ko" "$R.tmp/lib/modules/" ;;
		*.ko.xz) xz -dc "$ko" >"$R.tmp/lib/modules/$(basename "${ko%.xz}")" ;;
		*.ko.zst) zstd -qdc "$ko" >"$R.tmp/lib/modules/$(basename "${ko%.zst}")" ;;
		*) continue ;;
		esac
		b=$(basename "$ko"); echo "${b%%.ko*}.ko" >>"$R.tmp/lib/modules/load"
	done <"$OUT/modules.list"
	echo "$KVER" >"$R.tmp/lib/modules/kernel"
fi

echo "root:x:0:0:root:/root:/bin/sh" >"$R.tmp/etc/passwd"
echo "root:x:0:" >"$R.tmp/etc/group"

# The VM's init: mount, load the virtio modules, mount the io scratch disk, run the agent on
# the second serial port (the first is the kernel console), power off whatever happens.
cat >"$R.tmp/init" <<'EOF'
#!/bin/sh
# hvtax VM init: run hvtax-bench's agent on /dev/ttyS1, then power off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t tmpfs tmpfs /dev/shm
echo "hvtax-init: up" >/dev/console
if [ -f /lib/modules/load ]; then
	while read -r m; do insmod "/lib/modules/$m" 2>/dev/null; done </lib/modules/load
fi
if [ -b /dev/vda ] && mount -t ext4 /dev/vda /scratch 2>/dev/null; then
	export HVT_RESULTS_DIR=/scratch
else
	export HVT_RESULTS_DIR=/tmp
fi
if [ -d /sys/class/net/eth0 ]; then
	ip link set lo up; ip link set eth0 up
	ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
fi
stty -F /dev/ttyS1 raw -echo 2>/dev/null
# test hooks: hvtax.hang=boot (no agent) and hvtax.hang=end (no power-off) on the command line
hang=
for w in $(cat /proc/cmdline); do case $w in hvtax.hang=*) hang=${w#hvtax.hang=} ;; esac; done
if [ "$hang" = boot ]; then echo "hvtax-init: hanging (test)" >/dev/console; while :; do sleep 3600; done; fi
set -- agent --quiet
[ -f /hvtax/suite.ini ] && set -- "$@" --suite /hvtax/suite.ini
[ -f /hvtax/bench ] && set -- "$@" -b "$(cat /hvtax/bench)"
# more agent arguments from the harness (-p k=v, --peer HOST:PORT ...), one per line
if [ -f /hvtax/args ]; then
	while IFS= read -r a; do set -- "$@" "$a"; done </hvtax/args
fi
# a task blocked for 30 s prints its stack (at loglevel 4 it reaches the console log, whose
# last lines the host reports when a round times out): a guest that stalls says where
[ -w /proc/sys/kernel/hung_task_timeout_secs ] && echo 30 >/proc/sys/kernel/hung_task_timeout_secs
echo "hvtax-init: starting agent" >/dev/console
# Frame every record: "@HVT <bytes> <json>", so a lost or merged byte is caught on the host.
# The end record powers the guest off (after the UART has drained), whatever the agent's
# exit path does.
LC_ALL=C /bin/hvtax-bench "$@" </dev/ttyS1 2>/dev/console |
	LC_ALL=C awk -v hang="$hang" '{ printf "@HVT %d %s\n", length($0), $0; fflush() }
		/"type":"end"/ && hang != "end" { system("sleep 1; sync; poweroff -f") }' >/dev/ttyS1
echo "hvtax-init: agent exited" >/dev/console
if [ "$hang" = end ]; then echo "hvtax-init: not powering off (test)" >/dev/console; while :; do sleep 3600; done; fi
sync
poweroff -f
EOF
chmod 755 "$R.tmp/init"

# the hash: every file's content and every link's target, in path order, not the hash file
HASH=$(cd "$R.tmp" && find . \( -type f -o -type l \) ! -path ./hvtax/payload.sha256 -print0 |
	LC_ALL=C sort -z | while IFS= read -r -d '' f; do
		if [ -L "$f" ]; then printf '%s -> %s\n' "$f" "$(readlink "$f")"
		else printf '%s %s\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)"; fi
	done | sha256sum | cut -d' ' -f1)
echo "$HASH" >"$R.tmp/hvtax/payload.sha256"
mv "$R.tmp" "$R"
echo "$HASH" >"$OUT/payload.sha256"

if [ "$INITRAMFS" = 1 ]; then
	command -v cpio >/dev/null || die "cpio is missing (apt-get install cpio)"
	(cd "$R" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6n >"$OUT/initramfs.cpio.gz.tmp"
	# padded to 512 bytes: the harness appends a small uncompressed cpio (the suite) at launch,
	# and the kernel looks for the next archive's magic at an aligned offset
	truncate -s $(( ($(stat -c %s "$OUT/initramfs.cpio.gz.tmp") + 511) / 512 * 512 )) \
		"$OUT/initramfs.cpio.gz.tmp"
	mv "$OUT/initramfs.cpio.gz.tmp" "$OUT/initramfs.cpio.gz"
fi
echo "build-payload: $(du -sh "$R" | cut -f1) tree, $( [ -f "$OUT/initramfs.cpio.gz" ] &&
	du -h "$OUT/initramfs.cpio.gz" | cut -f1) initramfs, kernel modules for ${KVER:-none}" >&2
echo "$HASH"
