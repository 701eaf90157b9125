#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net cases as two MPI ranks: rank 1 serves, rank 0 measures; one result stream; misuse refused with 2.
set -u
. "$(dirname "$0")/lib.sh"
MPI_BENCH="$B/hvtax-bench-mpi"
[ -x "$MPI_BENCH" ] || skip "$MPI_BENCH not built (needs mpicc: WITH_MPI=1)"
command -v mpirun >/dev/null || skip "mpirun missing (install openmpi-bin)"
command -v python3 >/dev/null || skip "python3 missing"
export OMPI_MCA_rmaps_base_oversubscribe=1 # a 1-CPU CI box still runs 2 ranks

timeout -k 10 120 mpirun --allow-run-as-root -np 2 "$MPI_BENCH" run -b net.tcp_lat,net.tcp_bw \
	-p size=64,64KiB --duration 50ms -r 2 -n 2 >"$T/out.jsonl" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || { cat "$T/err" >&2; fail "mpirun -np 2 exited $rc"; }
grep -q "rank 1 serves on" "$T/err" || { cat "$T/err" >&2; fail "no word of the rank pair on stderr"; }

python3 - "$T/out.jsonl" <<'PY' || exit 1
import json, sys

def fail(m):
    print("FAIL:", m); sys.exit(1)
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
types = [r["type"] for r in recs]
if types.count("fingerprint") != 1 or types.count("end") != 1 or recs[-1]["status"] != "ok":
    fail("not one stream ending ok: %s" % types)
peer = recs[0]["fingerprint"].get("net_peer")
if not peer or peer.get("rank") != 1 or "fingerprint" not in peer:
    fail("rank 1's fingerprint missing from rank 0's: %s" % (peer and list(peer)))
res = [r for r in recs if r["type"] == "result"]
if len(res) != 8:  # 2 benches x 2 sizes x 2 rounds
    fail("expected 8 results, got %d" % len(res))
for r in res:
    timed = [s for s in r["samples"] if not s["warmup"]]
    if len(timed) != 2:
        fail("%s: %d timed samples" % (r["bench"], len(timed)))
    for s in timed:
        x = s["extra"]
        if x.get("mode") != "peer" or x.get("peer_via") != "mpi" or not x.get("peer", "").startswith("127.0.0.1:"):
            fail("%s: not measured against rank 1: %s" % (r["bench"], {k: x.get(k) for k in ("mode", "peer", "peer_via")}))
        v = s["values"]
        if r["bench"] == "net.tcp_lat" and not (0 < v["lat_min"] <= v["lat_p50"] <= v["lat_p99"] <= v["lat_max"]):
            fail("latency order wrong: %s" % v)
        if r["bench"] == "net.tcp_bw" and not v["bw"] > 0:
            fail("no bandwidth: %s" % v)
print("ok: %d results from the rank pair" % len(res))
PY

# misuse: net cases mixed with others, or more than two ranks -> exit 2 on every rank
timeout -k 10 60 mpirun --allow-run-as-root -np 2 "$MPI_BENCH" run -b net.tcp_lat,null.loop --duration 20ms -r 1 -n 1 \
	>"$T/mix.out" 2>"$T/mix.err"
rc=$?
[ $rc -eq 2 ] || { cat "$T/mix.err" >&2; fail "net mixed with null.loop: exit $rc, want 2"; }
grep -q "run them alone and with -np 2" "$T/mix.err" || { cat "$T/mix.err" >&2; fail "no reason given for the refusal"; }
timeout -k 10 60 mpirun --allow-run-as-root -np 3 --oversubscribe "$MPI_BENCH" run -b net.tcp_lat --duration 20ms -r 1 -n 1 \
	>"$T/np3.out" 2>"$T/np3.err"
rc=$?
[ $rc -eq 2 ] || { cat "$T/np3.err" >&2; fail "-np 3: exit $rc, want 2"; }
[ -s "$T/np3.out" ] && fail "a refused run wrote records: $(head -c 200 "$T/np3.out")"
exit 0
