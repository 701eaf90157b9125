#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Known answer, I/O: a cgroup v1 blkio throttle caps a loop device's read IOPS; hvtax must
# measure the cap (2000 and 1000 IOPS, +-10%) and a tax of +100% (+-15 points) between them.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
command -v losetup >/dev/null || skip "losetup missing"
[ "$(id -u)" = 0 ] || skip "not root: cannot create cgroups or loop devices"
"$BENCH" list | grep -q '^io\.randread ' || skip "io family not built (no liburing)"
CG=/sys/fs/cgroup/blkio
[ -w "$CG/cgroup.procs" ] && [ -e "$CG/blkio.throttle.read_iops_device" ] ||
	skip "no writable cgroup v1 blkio controller with throttling at $CG"
HI=2000 LO=1000 TOL_ABS=0.10 TOL_TAX=0.15

head -c $((16 << 20)) /dev/zero >"$T/disk.img"
loop=$(losetup --find --show "$T/disk.img" 2>"$T/losetup.err") ||
	skip "losetup not permitted here: $(cat "$T/losetup.err")"
at_exit 'losetup -d "$loop"'
[ -b "$loop" ] || skip "$loop is not a block device in this namespace"
majmin=$(printf '%d:%d' "0x$(stat -c %t "$loop")" "0x$(stat -c %T "$loop")")

cg_hi="$CG/hvtax-kat-io-hi.$$" cg_lo="$CG/hvtax-kat-io-lo.$$"
at_exit 'rmdir "$cg_hi" "$cg_lo" 2>/dev/null'
mkdir "$cg_hi" "$cg_lo" || skip "cannot create blkio cgroups"
echo "$majmin $HI" >"$cg_hi/blkio.throttle.read_iops_device" ||
	skip "cannot throttle $loop ($majmin) with blkio"
echo "$majmin $LO" >"$cg_lo/blkio.throttle.read_iops_device"

# and a cpu cgroup of high weight, so a loaded machine cannot starve the submitting thread
cg_cpu=""
if [ -w /sys/fs/cgroup/cpu/cgroup.procs ] && mkdir "/sys/fs/cgroup/cpu/hvtax-kat-io.$$" 2>/dev/null; then
	cg_cpu="/sys/fs/cgroup/cpu/hvtax-kat-io.$$"
	at_exit 'rmdir "$cg_cpu" 2>/dev/null'
	echo 65536 >"$cg_cpu/cpu.shares" 2>/dev/null || true
fi

in_cgroup() { # cgroup output
	sh -c 'echo $$ >"$1/cgroup.procs" && { [ -z "$2" ] || echo $$ >"$2/cgroup.procs"; } &&
		shift 2 && exec "$@"' sh "$1" "$cg_cpu" \
		"$BENCH" run -q -b io.randread -p device="$loop" -p size=16MiB -p qd=1 -p direct=1 \
		--rounds 3 --reps 4 --duration 400ms --warmup 100ms -o "$2"
}
# both at once: whatever the neighbours do then, they do it to both sides alike
in_cgroup "$cg_hi" "$T/hi.jsonl" &
pid_hi=$!
in_cgroup "$cg_lo" "$T/lo.jsonl" &
pid_lo=$!
wait "$pid_hi" || fail "bench in $cg_hi failed"
wait "$pid_lo" || fail "bench in $cg_lo failed"
expect_rc 0 "$HVTAX" import "$T/hi.jsonl" --label kat-io-hi
expect_rc 0 "$HVTAX" import "$T/lo.jsonl" --label kat-io-lo
expect_rc 0 "$HVTAX" compare kat-io-hi kat-io-lo --format json
cp "$T/out" "$T/cmp.json"
python3 - "$T/cmp.json" "$HI" "$LO" "$TOL_ABS" "$TOL_TAX" <<'PY' || fail "measured IOPS are not the injected caps"
import json, sys
d = json.load(open(sys.argv[1]))
hi, lo, tabs, ttax = (float(a) for a in sys.argv[2:6])
r = [x for x in d["rows"] if x["bench"] == "io.randread" and x["metric"] == "iops"][0]
print("known answer blkio: caps %d and %d IOPS, measured %.0f and %.0f IOPS; "
      "injected tax %+.1f%%, measured %+.1f%% [%+.1f%%, %+.1f%%]"
      % (hi, lo, r["median_base"], r["median_cand"], (hi / lo - 1) * 100, r["tax"] * 100,
         r["tax_lo"] * 100, r["tax_hi"] * 100), file=sys.stderr)
assert abs(r["median_base"] / hi - 1) <= tabs, "base iops %.0f vs cap %d" % (r["median_base"], hi)
assert abs(r["median_cand"] / lo - 1) <= tabs, "cand iops %.0f vs cap %d" % (r["median_cand"], lo)
assert abs(r["tax"] - (hi / lo - 1)) <= ttax, "tax %.3f" % r["tax"]
PY
cat "$T/err" >&2
exit 0
