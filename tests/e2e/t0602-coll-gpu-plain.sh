#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hvtax-bench without MPI: coll and gpu are listed or explained, their cases skip with a reason, the GPU fingerprint answers.
set -u
. "$(dirname "$0")/lib.sh"
[ -x "$BENCH" ] || skip "$BENCH not built"
command -v python3 >/dev/null || skip "python3 missing"

"$BENCH" list >"$T/list" || fail "list failed"
if ! grep -q '^coll.allreduce ' "$T/list"; then
	grep -q '^coll ' "$T/list" || fail "coll neither listed nor explained under 'not built here'"
	echo "coll not built here: $(grep '^coll ' "$T/list")"
	exit 0
fi
"$BENCH" run -q -b coll.allreduce -p backend=mpi,nccl,auto -p size=64KiB --duration 20ms -r 1 -n 1 >"$T/coll.jsonl"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 77 ] || fail "run exited $rc"
benches=coll.allreduce
grep -q '^gpu.copy ' "$T/list" && benches=gpu.copy
"$BENCH" run -q -b $benches --duration 20ms -r 1 -n 1 >"$T/gpu.jsonl"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 77 ] || fail "run exited $rc"

python3 - "$T/coll.jsonl" "$T/gpu.jsonl" <<'PY' || exit 1
import json, sys

def fail(m):
    print("FAIL:", m); sys.exit(1)
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {r["params"]["backend"]: r for r in recs if r["type"] in ("skip", "result")}
# hvtax-bench has no MPI: the mpi backend is in hvtax-bench-mpi
if by["mpi"]["type"] != "skip" or "hvtax-bench-mpi" not in by["mpi"]["reason"]:
    fail("mpi backend in hvtax-bench should skip pointing at hvtax-bench-mpi: %s" % by["mpi"])
for b in ("nccl", "auto"):
    r = by[b]
    if r["type"] == "skip":
        if not r["reason"].startswith(("no CUDA device", "no CUDA runtime library found", "no NCCL library")):
            fail("%s: unexpected reason %r" % (b, r["reason"]))
        print("%s skipped: %s" % (b, r["reason"]))
    else:
        for s in r["samples"]:
            if s["extra"]["wrong_elements"] != 0:
                fail("%s: wrong elements" % b)
        print("%s ran: busbw %s" % (b, [s["values"]["busbw"] for s in r["samples"]]))
fp = [r for r in recs if r["type"] == "fingerprint"][0]
for r in (json.loads(l) for l in open(sys.argv[2]) if l.strip()):
    if r["type"] == "skip" and r["bench"] == "gpu.copy":
        if not r["reason"].startswith(("no CUDA device", "no CUDA runtime library found")):
            fail("gpu.copy: unexpected reason %r" % r["reason"])
        print("gpu.copy skipped:", r["reason"])
    if r["type"] == "result" and r["bench"] == "gpu.copy":
        for s in r["samples"]:
            if not s["values"]["bw"] > 1e8:
                fail("gpu.copy: implausible %s" % s["values"])
        print("gpu.copy ran: bw %s" % [s["values"]["bw"] for s in r["samples"]])
print("ok")
PY
