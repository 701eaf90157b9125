#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mem.stream and mem.latency: a short run of both, result records, placement, NUMA skips.
set -euo pipefail
B=${HVT_BUILD:-build}/hvtax-bench
[ -x "$B" ] || { echo "skip: $B not built" >&2; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
[ "$nodes" -ge 1 ] || nodes=1

"$B" run -q -b mem.stream,mem.latency -p size=8MiB -p kernel=copy,triad -p stores=normal,nt \
	-p threads=2 --duration 100ms --reps 2 --rounds 1 >"$tmp/out.jsonl"
# remote placement: a skip on a one-node machine, a result elsewhere
# sync=run: one barrier per run, bw_best_iter null
"$B" run -q -b mem.stream -p size=4MiB -p sync=run -p threads=2 --duration 50ms --reps 1 \
	--rounds 1 >"$tmp/run.jsonl"
"$B" run -q -b mem.stream -p size=4MiB -p threads=1 -p cpu_node=0 -p mem_node=0,1 \
	--duration 50ms --reps 1 --rounds 1 >"$tmp/numa.jsonl"

# size=0: the automatic size (4x the caches) and isa=auto, recorded as what they resolved to
"$B" run -q -b mem.stream -p size=0 -p kernel=triad -p threads=1 --duration 50ms --reps 1 \
	--rounds 1 --warmup 0 >"$tmp/auto.jsonl"

NODES=$nodes python3 - "$tmp/out.jsonl" "$tmp/numa.jsonl" "$tmp/run.jsonl" "$tmp/auto.jsonl" <<'PY'
import json, os, sys

def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

recs = load(sys.argv[1])
res = [r for r in recs if r["type"] == "result"]
if recs[-1]["type"] != "end" or recs[-1]["status"] != "ok":
    fail("run did not end ok: %s" % recs[-1])
stream = [r for r in res if r["bench"] == "mem.stream"]
lat = [r for r in res if r["bench"] == "mem.latency"]
if len(stream) != 4:
    fail("expected 4 mem.stream cases (copy,triad x normal,nt), got %d" % len(stream))
if len(lat) != 1:
    fail("expected 1 mem.latency case, got %d" % len(lat))
for r in stream:
    names = [m["name"] for m in r["metrics"]]
    if names != ["bw", "bw_best_iter"] or r["metrics"][0]["dir"] != "higher":
        fail("mem.stream metrics: %s" % r["metrics"])
    timed = [s for s in r["samples"] if not s["warmup"]]
    if len(timed) != 2:
        fail("%s: %d timed samples" % (r["case"], len(timed)))
    for s in timed:
        v = s["values"]
        # 1 GB/s .. 10 TB/s is plausible for any machine this runs on
        if not (1e9 < v["bw"] < 1e13) or v["bw_best_iter"] < v["bw"] * 0.999:
            fail("%s: implausible bandwidth %s" % (r["case"], v))
        pl = s["extra"]["placement"]
        for a in ("a", "b", "c"):
            if pl[a]["pages_sampled"] < 1 or sum(pl[a]["per_node"].values()) != pl[a]["pages_sampled"]:
                fail("%s: placement of %s: %s" % (r["case"], a, pl[a]))
        st = s["extra"]["stream"]
        k = r["params"]["kernel"]
        want = (2 if k in ("copy", "scale") else 3) * st["array_bytes"]
        if st["bytes_per_iteration"] != want or st["array_bytes"] != 8 << 20:
            fail("%s: STREAM byte counting: %s" % (r["case"], st))
r = lat[0]
if r["metrics"][0]["name"] != "lat" or r["metrics"][0]["dir"] != "lower":
    fail("mem.latency metrics: %s" % r["metrics"])
for s in r["samples"]:
    if not (1e-10 < s["values"]["lat"] < 1e-5):
        fail("implausible latency %s" % s["values"])
    if s["extra"]["pages"]["pages_got"] != "4k":
        fail("default pages should be 4k: %s" % s["extra"]["pages"])

nodes = int(os.environ["NODES"])
recs = load(sys.argv[2])
remote = [x for x in recs if x.get("params", {}).get("mem_node") == "1"]
local = [x for x in recs if x.get("params", {}).get("mem_node") == "0"]
if not local or local[0]["type"] != "result":
    fail("local NUMA case did not run: %s" % local)
if nodes == 1:
    if not remote or remote[0]["type"] != "skip" or "NUMA node" not in remote[0]["reason"]:
        fail("remote case on a 1-node machine should be skipped with a reason: %s" % remote)
    print("remote case skipped:", remote[0]["reason"])
elif not remote or remote[0]["type"] != "result":
    fail("remote case should run on %d nodes: %s" % (nodes, remote))
recs = [r for r in load(sys.argv[3]) if r["type"] == "result"]
if len(recs) != 1:
    fail("sync=run: no result")
for s in recs[0]["samples"]:
    if s["values"]["bw_best_iter"] is not None or not (1e9 < s["values"]["bw"] < 1e13):
        fail("sync=run values: %s" % s["values"])
# what "auto" became: stream's own record of the size and ISA, under "resolved" for compare
for r in stream:  # size=8MiB given, isa=auto
    for s in r["samples"]:
        if s["extra"].get("resolved") != {"isa": s["extra"]["stream"]["isa"]}:
            fail("%s: resolved should name only the isa: %s" % (r["case"], s["extra"].get("resolved")))
recs = [r for r in load(sys.argv[4]) if r["type"] == "result"]
if len(recs) != 1 or "size=0B" not in recs[0]["case"]:
    fail("size=0: no result")
for s in recs[0]["samples"]:
    st, res = s["extra"]["stream"], s["extra"].get("resolved", {})
    if res.get("array_bytes") != st["array_bytes"] or res.get("isa") != st["isa"] \
            or st["array_bytes"] < (1 << 20):
        fail("size=0: resolved %s, stream %s" % (res, st))
print("ok: %d stream, %d latency results; size=0 resolved to %d bytes, isa %s" % (
    len(stream), len(lat), recs[0]["samples"][0]["extra"]["stream"]["array_bytes"],
    recs[0]["samples"][0]["extra"]["stream"]["isa"]))
PY
