#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# io family on a block device: reads of a loop device without a flag; writes with --allow-destructive.
set -euo pipefail
B=${HVT_BUILD:-build}/hvtax-bench
[ -x "$B" ] || { echo "skip: $B not built" >&2; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing" >&2; exit 77; }
command -v losetup >/dev/null || { echo "skip: losetup missing" >&2; exit 77; }
"$B" list | grep -q '^io\.randread' || { echo "skip: io family not built (no liburing)" >&2; exit 77; }
tmp=$(mktemp -d "${HVT_E2E_TMP:-$PWD}/.hvtax-t0401.XXXXXX")
loop=""
cleanup() {
	[ -z "$loop" ] || losetup -d "$loop" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

head -c $((16 << 20)) /dev/urandom >"$tmp/disk.img"
loop=$(losetup --find --show "$tmp/disk.img" 2>"$tmp/losetup.err") || {
	echo "skip: losetup not permitted here: $(cat "$tmp/losetup.err")" >&2
	loop=""
	exit 77
}
[ -b "$loop" ] || { echo "skip: $loop is not a block device in this namespace" >&2; exit 77; }
# random bytes can look like a boot sector or ext superblock: clear those two spots
printf '\0\0' | dd of="$loop" bs=1 seek=510 conv=notrunc status=none
printf '\0\0' | dd of="$loop" bs=1 seek=1080 conv=notrunc status=none
sync

# reads need no flag
"$B" run -q -b io.randread,io.seqread -p device="$loop" -p size=16MiB -p qd=1,4 --duration 100ms \
	--warmup 0 --reps 2 --rounds 1 >"$tmp/read.jsonl"
sum0=$(sha256sum <"$loop")
[ "$sum0" = "$(sha256sum <"$tmp/disk.img")" ] || { echo "FAIL: reads changed the device" >&2; exit 1; }

# writes with --allow-destructive on a blank, unmounted, unheld device: allowed, and they write
"$B" run -q --allow-destructive -b io.randwrite -p device="$loop" -p size=16MiB -p qd=4 \
	--duration 100ms --warmup 0 --reps 1 --rounds 1 >"$tmp/write.jsonl"
sync
[ "$sum0" != "$(sha256sum <"$loop")" ] || { echo "FAIL: randwrite did not write" >&2; exit 1; }

python3 - "$tmp/read.jsonl" "$tmp/write.jsonl" "$loop" <<'PY'
import json, os, sys

def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)

loop = sys.argv[3]
for path, n in ((sys.argv[1], 4), (sys.argv[2], 1)):
    recs = [json.loads(l) for l in open(path) if l.strip()]
    if recs[-1]["type"] != "end" or recs[-1]["status"] != "ok":
        fail("%s: run did not end ok: %s" % (path, recs[-1]))
    res = [r for r in recs if r["type"] == "result"]
    if len(res) != n:
        fail("%s: %d results, wanted %d" % (path, len(res), n))
    for r in res:
        for s in r["samples"]:
            t = s["extra"]["target"]
            if t["kind"] != "block" or t["path"] != loop:
                fail("target %s" % t)
            d = t["device"]
            if d.get("driver") != "loop" or d.get("name") != os.path.basename(loop):
                fail("device info %s" % d)
            for k in ("logical_block_size", "rotational", "size"):
                if k not in d:
                    fail("device info lacks %s: %s" % (k, d))
            if not s["values"]["iops"] > 0:
                fail("no I/O: %s" % s["values"])
PY
