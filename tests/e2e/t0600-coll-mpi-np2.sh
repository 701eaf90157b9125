#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# coll.allreduce, mpi backend, 2 ranks: verified sums, nccl-tests' busbw, one result stream, NCCL skipped without a GPU.
set -u
. "$(dirname "$0")/lib.sh"
MPI_BENCH="$B/hvtax-bench-mpi"
[ -x "$MPI_BENCH" ] || skip "$MPI_BENCH not built (needs mpicc: WITH_MPI=1)"
command -v mpirun >/dev/null || skip "mpirun missing (install openmpi-bin)"
command -v python3 >/dev/null || skip "python3 missing"
export OMPI_MCA_rmaps_base_oversubscribe=1 # a 1-CPU CI box still runs 2 ranks
# t0601 runs this script with 4 ranks, oversubscribed, and more types
NP=${HVT_COLL_NP:-2}
read -r -a launch <<<"${HVT_COLL_MPIRUN_ARGS:-}"
read -r -a more <<<"${HVT_COLL_PARAMS:-}"
timeout -k 10 300 mpirun --allow-run-as-root -np "$NP" "${launch[@]}" "$MPI_BENCH" run -b coll.allreduce \
	-p backend=mpi,nccl -p size=8..1MiB*8 "${more[@]}" --duration 50ms -r 2 -n 2 >"$T/out.jsonl" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || { cat "$T/err" >&2; fail "mpirun -np $NP exited $rc"; }
# progress comes from rank 0 only
[ "$(grep -c 'round 2/2 done' "$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "progress printed by more than one rank"; }

# -o FILE: rank 0 writes the file, no rank writes stdout
timeout -k 10 120 mpirun --allow-run-as-root -np "$NP" "${launch[@]}" "$MPI_BENCH" run -q -b coll.allreduce -p backend=mpi \
	-p size=4KiB --duration 20ms -r 1 -n 1 -o "$T/file.jsonl" >"$T/stdout" 2>"$T/err2" ||
	{ cat "$T/err2" >&2; fail "mpirun with -o failed"; }
[ -s "$T/stdout" ] && fail "ranks wrote to stdout with -o: $(head -c 300 "$T/stdout")"

# the control compare-mpi runs: the bare loop inside the same executable, one line per repetition
timeout -k 10 120 mpirun --allow-run-as-root -np "$NP" "${launch[@]}" "$MPI_BENCH" bare-allreduce -d 10ms -n 2 \
	8 4KiB >"$T/bare" 2>"$T/err3" || { cat "$T/err3" >&2; fail "bare-allreduce failed"; }
awk 'NF != 2 || !($2 > 1e-8 && $2 < 1) { bad = 1 } END { exit bad || NR != 4 }' "$T/bare" &&
	[ "$(cut -d' ' -f1 "$T/bare" | tr '\n' ' ')" = "8 8 4096 4096 " ] ||
	fail "bare-allreduce: want 2 lines each for 8 and 4096 bytes with plausible times, got: $(cat "$T/bare")"
# bad input: exit 2, the message once (from rank 0), nothing on stdout
timeout -k 10 60 mpirun --allow-run-as-root -np "$NP" "${launch[@]}" "$MPI_BENCH" bare-allreduce -n 0 8 \
	>"$T/bare2" 2>"$T/err4"
rc=$?
[ $rc -eq 2 ] || fail "bare-allreduce -n 0: exit $rc, want 2"
[ "$(grep -c "bare-allreduce: -n: '0'" "$T/err4")" -eq 1 ] || fail "bad -n not said once: $(cat "$T/err4")"
[ -s "$T/bare2" ] && fail "bare-allreduce -n 0 wrote to stdout"
expect_rc 2 "$B/hvtax-bench" bare-allreduce 8
grep -q "bare-allreduce: this is hvtax-bench without MPI" "$T/err" || fail "hvtax-bench bare-allreduce: $(cat "$T/err")"

NP=$NP python3 - "$T/out.jsonl" "$T/file.jsonl" <<'PY' || exit 1
import json, os, sys

np = int(os.environ["NP"])
def fail(m):
    print("FAIL:", m); sys.exit(1)
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]

for path in sys.argv[1:]:
    recs = load(path)
    types = [r["type"] for r in recs]
    # one stream: one fingerprint, one plan, one end, in that order
    if types.count("fingerprint") != 1 or types.count("plan") != 1 or types.count("end") != 1:
        fail("%s: not one result stream: %s" % (path, types))
    if types[0] != "fingerprint" or types[-1] != "end" or recs[-1]["status"] != "ok":
        fail("%s: stream does not end ok: %s" % (path, recs[-1]))

recs = load(sys.argv[1])
res = [r for r in recs if r["type"] == "result"]
skips = [r for r in recs if r["type"] == "skip"]
sizes = [8, 64, 512, 4096, 32768, 262144]
mpi = [r for r in res if r["params"]["backend"] == "mpi"]
combos = {(r["params"]["dtype"], r["params"]["inplace"]) for r in mpi}
if len(mpi) != len(sizes) * 2 * len(combos):
    fail("expected %d mpi results (6 sizes x 2 rounds x %d), got %d" % (len(sizes) * 2 * len(combos), len(combos), len(mpi)))
seen = {}
for r in mpi:
    names = [(m["name"], m["dir"]) for m in r["metrics"]]
    if names != [("time", "lower"), ("algbw", "higher"), ("busbw", "higher")]:
        fail("metrics: %s" % names)
    timed = [s for s in r["samples"] if not s["warmup"]]
    if len(timed) != 2:
        fail("%s: %d timed samples" % (r["case"], len(timed)))
    for s in r["samples"]:
        v, c = s["values"], s["extra"]["coll"]
        if s["extra"]["wrong_elements"] != 0:
            fail("%s: wrong elements %s" % (r["case"], s["extra"]["wrong_elements"]))
        if c["backend"] != "mpi" or c["ranks"] != np or c["n"] != np or c["time_combine"] != "max":
            fail("%s: extra %s" % (r["case"], c))
        es = 8 if r["params"]["dtype"] == "double" else 4
        if c["bytes"] not in sizes or c["count"] * es != c["bytes"]:
            fail("%s: bytes/count %s" % (r["case"], c))
        if not (1e-8 < v["time"] < 1.0):
            fail("%s: implausible time %s" % (r["case"], v))
        # nccl-tests: algbw = bytes/time, busbw = algbw * 2(n-1)/n
        if abs(v["algbw"] - c["bytes"] / v["time"]) > 1e-6 * v["algbw"]:
            fail("%s: algbw %s" % (r["case"], v))
        f = 2.0 * (np - 1) / np
        if abs(v["busbw"] - v["algbw"] * f) > 1e-6 * v["algbw"] or abs(c["busbw_factor"] - f) > 1e-12:
            fail("%s: busbw %s factor %s" % (r["case"], v, c["busbw_factor"]))
        seen.setdefault(c["bytes"], []).append(v["busbw"])
if sorted(seen) != sizes:
    fail("sizes %s" % sorted(seen))
nccl = [r for r in res if r["params"]["backend"] == "nccl"]
ncs = [r for r in skips if r["params"]["backend"] == "nccl"]
if nccl:
    print("NCCL ran here: %d results" % len(nccl))
elif len(ncs) != len(sizes) * len({r["params"]["dtype"] + r["params"]["inplace"] for r in ncs}) or not all(r["reason"].startswith(("no CUDA device", "no CUDA runtime library found", "no NCCL library", "built without CUDA")) for r in ncs):
    fail("nccl cases should be skipped with the reason: %s" % [r.get("reason") for r in ncs])
else:
    print("nccl skipped:", ncs[0]["reason"])
for b in sizes:
    print("%8d B  busbw %s" % (b, " ".join("%.3g" % x for x in seen[b])))
print("ok: %d results over %d ranks (%s), sums verified" % (len(mpi), np, sorted(combos)))
PY
