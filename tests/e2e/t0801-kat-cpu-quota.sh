#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Known answer, CPU: a cgroup v1 CFS quota injects a known tax on a CPU-bound case, and hvtax
# must measure it; then the gate must fail (exit 1) with a JUnit failure naming the metric.
#
# Two quotas rather than "quota vs none": on a shared machine an unthrottled run gets whatever
# CPU its neighbours leave, which is unknown. Under a quota well below that share, the quota
# is what binds, so the ratio of two quotas is the injected answer: 10% vs 5% of one CPU is
# half the throughput, a tax of +100%. Tolerance: +-15 points (85%..115%). Both run at once,
# with a high cpu.shares weight, so neighbours' load hits both alike and cannot starve them.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
[ "$(id -u)" = 0 ] || skip "not root: cannot create cgroups"
CGV1=/sys/fs/cgroup/cpu
[ -w "$CGV1/cgroup.procs" ] && [ -e "$CGV1/cpu.cfs_quota_us" ] ||
	skip "no writable cgroup v1 cpu controller at $CGV1"
if "$BENCH" list | grep -q '^cpu\.int '; then case_name=cpu.int; else case_name=null.loop; fi
PERIOD=100000 QHI=10000 QLO=5000 INJECTED=1.0 TOL=0.15

cg_hi="$CGV1/hvtax-kat-hi.$$" cg_lo="$CGV1/hvtax-kat-lo.$$"
at_exit 'rmdir "$cg_hi" "$cg_lo" 2>/dev/null'
for cg in "$cg_hi" "$cg_lo"; do
	mkdir "$cg" || skip "cannot create cgroup $cg"
	echo "$PERIOD" >"$cg/cpu.cfs_period_us" || skip "cannot set cpu.cfs_period_us"
	# a high weight: on a loaded machine the neighbours must not take the quota's share
	echo 65536 >"$cg/cpu.shares" 2>/dev/null || true
done
echo "$QHI" >"$cg_hi/cpu.cfs_quota_us"
echo "$QLO" >"$cg_lo/cpu.cfs_quota_us"

# run hvtax-bench inside a cgroup: the shell joins it, then becomes hvtax-bench
in_cgroup() { # cgroup output
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$1" \
		"$BENCH" run -q -b "$case_name" --rounds 4 --reps 3 --duration 1s --warmup 200ms \
		-o "$2"
}
# both at once: whatever the neighbours do then, they do it to both sides alike
in_cgroup "$cg_hi" "$T/hi.jsonl" &
pid_hi=$!
in_cgroup "$cg_lo" "$T/lo.jsonl" &
pid_lo=$!
wait "$pid_hi" || fail "bench in $cg_hi failed"
wait "$pid_lo" || fail "bench in $cg_lo failed"
for cg in "$cg_hi" "$cg_lo"; do
	thr=$(awk '$1 == "nr_throttled" {print $2}' "$cg/cpu.stat")
	[ "${thr:-0}" -gt 0 ] || fail "$cg was never throttled: the quota did not bind"
done
expect_rc 0 "$HVTAX" import "$T/hi.jsonl" --label kat-hi
expect_rc 0 "$HVTAX" import "$T/lo.jsonl" --label kat-lo
expect_rc 0 "$HVTAX" compare kat-hi kat-lo --format json
cp "$T/out" "$T/cmp.json"
python3 - "$T/cmp.json" "$INJECTED" "$TOL" "$case_name" <<'PY' || fail "measured CPU tax is not the injected one"
import json, sys
d = json.load(open(sys.argv[1]))
injected, tol, case = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rows = [r for r in d["rows"] if r["bench"] == case and r["metric"] == "ops"]
assert rows, "no ops row for %s" % case
tax = rows[0]["tax"]
print("known answer cpu quota: injected %+.1f%%, measured %+.1f%% [%+.1f%%, %+.1f%%]"
      % (injected * 100, tax * 100, rows[0]["tax_lo"] * 100, rows[0]["tax_hi"] * 100),
      file=sys.stderr)
# agreement: within the stated tolerance, or (on a loaded machine) the 95% CI holds the
# injected tax and the point estimate is within twice the tolerance
lo, hi = rows[0]["tax_lo"], rows[0]["tax_hi"]
ok = abs(tax - injected) <= tol or (lo <= injected <= hi and abs(tax - injected) <= 2 * tol)
assert ok, "tax %.3f [%.3f, %.3f], injected %.3f +- %.2f" % (tax, lo, hi, injected, tol)
PY
cat "$T/err" >&2

# the gate: the throttled run regresses, exit 1, the JUnit failure names the metric and tax
expect_rc 1 "$HVTAX" gate --baseline kat-hi --candidate kat-lo --junit "$T/j.xml" \
	--markdown "$T/g.md"
python3 - "$T/j.xml" <<'PY' || fail "JUnit of the failed gate"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
fails = root.findall(".//failure")
assert fails, "no failure element"
msgs = [f.get("message") for f in fails]
assert any("metric 'ops'" in m and "tax +" in m for m in msgs), msgs
PY
grep -q "REGRESSED" "$T/g.md" || fail "Markdown lists the regression"
# and the unthrottled-quota run against itself passes
expect_rc 0 "$HVTAX" gate --baseline kat-hi --candidate kat-hi
exit 0
