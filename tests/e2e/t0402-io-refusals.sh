#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# io writes to block devices that must be refused: exit status 2 and not one byte changed.
set -euo pipefail
B=${HVT_BUILD:-build}/hvtax-bench
[ -x "$B" ] || { echo "skip: $B not built" >&2; exit 77; }
for c in losetup mkfs.ext4 mount umount sha256sum; do
	command -v $c >/dev/null || { echo "skip: $c missing" >&2; exit 77; }
done
"$B" list | grep -q '^io\.randwrite' || { echo "skip: io family not built (no liburing)" >&2; exit 77; }
tmp=$(mktemp -d "${HVT_E2E_TMP:-$PWD}/.hvtax-t0402.XXXXXX")
loops=()
mnt=""
cleanup() {
	[ -z "$mnt" ] || umount "$mnt" 2>/dev/null || true
	for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

attach() { # attach FILE: prints the loop device, or skips
	local l
	l=$(losetup --find --show "$1" 2>"$tmp/losetup.err") || {
		echo "skip: losetup not permitted here: $(cat "$tmp/losetup.err")" >&2
		exit 77
	}
	[ -b "$l" ] || { losetup -d "$l"; echo "skip: $l is not a block device here" >&2; exit 77; }
	loops+=("$l")
	LOOP=$l
}

# refused DEVICE WORD [run options...]: exit 2, WORD in the message, device bytes unchanged
refused() {
	local dev=$1 word=$2 rc=0 before after
	shift 2
	sync
	before=$(sha256sum <"$dev")
	for b in io.randwrite io.seqwrite io.randrw; do
		rc=0
		"$B" run -q "$@" -b $b -p device="$dev" -p size=8MiB --duration 100ms --warmup 0 --reps 1 \
			--rounds 1 >"$tmp/out.jsonl" 2>"$tmp/err" || rc=$?
		[ "$rc" -eq 2 ] || { cat "$tmp/err" >&2; echo "FAIL: $b on $dev ($word) exited $rc, wanted 2" >&2; exit 1; }
		grep -q -- "$word" "$tmp/err" || {
			cat "$tmp/err" >&2
			echo "FAIL: $b on $dev: message does not say '$word'" >&2
			exit 1
		}
		! grep -q '"type": *"result"' "$tmp/out.jsonl" || { echo "FAIL: $b on $dev produced a result" >&2; exit 1; }
	done
	sync
	after=$(sha256sum <"$dev")
	[ "$before" = "$after" ] || { echo "FAIL: $dev changed ($word)" >&2; exit 1; }
}

# 1. a blank device without --allow-destructive
truncate -s 32M "$tmp/blank.img"
attach "$tmp/blank.img"
blank=$LOOP
refused "$blank" "allow-destructive"
# also when the device comes in through file=
rc=0
"$B" run -q -b io.randwrite -p file="$blank" -p size=8MiB --duration 50ms --warmup 0 --reps 1 \
	--rounds 1 >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] || { cat "$tmp/err" >&2; echo "FAIL: file=$blank exited $rc, wanted 2" >&2; exit 1; }

# 2. a device holding an ext4 filesystem, even with --allow-destructive
truncate -s 32M "$tmp/ext4.img"
attach "$tmp/ext4.img"
ext4=$LOOP
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$ext4" >/dev/null 2>&1 || { echo "skip: mkfs.ext4 failed on $ext4" >&2; exit 77; }
refused "$ext4" "ext2/3/4" --allow-destructive

# 3. the same filesystem mounted (read-only and without journal replay: a read-write ext4
# writes its own superblock and journal now and then, which would change the bytes without hvtax)
mkdir "$tmp/mnt"
if mount -o ro,noload "$ext4" "$tmp/mnt" 2>"$tmp/mount.err"; then
	mnt="$tmp/mnt"
	refused "$ext4" "mounted at" --allow-destructive
	umount "$mnt"
	mnt=""
else
	echo "note: mount not permitted, mounted case not tested: $(cat "$tmp/mount.err")" >&2
fi

# 4. a partition table (MBR with one partition), written by hand: no sfdisk needed
truncate -s 32M "$tmp/mbr.img"
printf '\x83' | dd of="$tmp/mbr.img" bs=1 seek=$((446 + 4)) conv=notrunc status=none
printf '\x55\xaa' | dd of="$tmp/mbr.img" bs=1 seek=510 conv=notrunc status=none
attach "$tmp/mbr.img"
refused "$LOOP" "partition" --allow-destructive

# a blank one with the flag is what t0401 writes to; here just check reads stay allowed
"$B" run -q -b io.randread -p device="$ext4" -p size=8MiB --duration 50ms --warmup 0 --reps 1 \
	--rounds 1 >/dev/null
