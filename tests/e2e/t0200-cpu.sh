#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every cpu case runs through hvtax-bench and gives finite, plausible values; the probes'
# refusals (e.g. one CPU for a cross-CPU ping-pong) are skips with a reason.
. "$(dirname "$0")/lib.sh"
"$BENCH" list | grep -q '^cpu.syscall' || skip "cpu family not built"
expect_rc 0 "$BENCH" run -q -b cpu.int,cpu.fp,cpu.cpuid,cpu.rdtsc,cpu.clock_gettime,cpu.syscall,cpu.pagefault,cpu.mmap,cpu.ctxswitch,cpu.timer \
	-p size=16MiB -d 30ms -w 10ms -n 2 -r 2
python3 - "$T/out" <<'PY' || fail "cpu results"
import json, math, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
res = [r for r in recs if r["type"] == "result"]
skips = {r["bench"]: r["reason"] for r in recs if r["type"] == "skip"}
seen = {r["bench"] for r in res}
for b in ["cpu.int", "cpu.fp", "cpu.syscall", "cpu.clock_gettime", "cpu.pagefault", "cpu.timer"]:
    assert b in seen, b
for b in ["cpu.cpuid", "cpu.rdtsc", "cpu.ctxswitch", "cpu.mmap"]:
    assert b in seen or skips.get(b), (b, "neither ran nor skipped with a reason")
for r in res:
    assert r["round"] in (0, 1)
    for s in r["samples"]:
        for k, v in s["values"].items():
            assert v is not None and math.isfinite(v) and v > 0, (r["case"], k, v)
        assert "steal_s" in s["side"] and "nvcsw" in s["side"]
# plausibility: a getppid call takes between 10 ns and 100 us, a page fault between 50 ns and 1 ms
for r in res:
    if r["bench"] not in ("cpu.syscall", "cpu.pagefault"):
        continue
    v = [s["values"]["op_time"] for s in r["samples"] if not s["warmup"]]
    if r["bench"] == "cpu.syscall":
        assert all(1e-8 < x < 1e-4 for x in v), v
    if r["bench"] == "cpu.pagefault":
        assert all(5e-8 < x < 1e-3 for x in v), v
PY
# a single allowed CPU: the cross-CPU ping-pong is skipped with the reason
if command -v taskset >/dev/null; then
	expect_rc 77 taskset -c 0 "$BENCH" run -q -b cpu.ctxswitch -d 20ms -n 1 -r 1
	grep -q '"type":"skip"' "$T/out" || fail "ctxswitch on one CPU is not a skip"
fi
exit 0
