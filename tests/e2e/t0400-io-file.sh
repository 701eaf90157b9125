#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# io family on a file: every case runs briefly on a small file, records and cleanup are checked.
set -euo pipefail
B=${HVT_BUILD:-build}/hvtax-bench
[ -x "$B" ] || { echo "skip: $B not built" >&2; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing" >&2; exit 77; }
"$B" list | grep -q '^io\.randread' || { echo "skip: io family not built (no liburing)" >&2; exit 77; }
# the temp dir must be on a filesystem with O_DIRECT: prefer the project's own over a tmpfs /tmp
tmp=$(mktemp -d "${HVT_E2E_TMP:-$PWD}/.hvtax-t0400.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

export HVT_RESULTS_DIR="$tmp/results"
rc=0
"$B" run -q -b io.randread,io.randwrite -p size=8MiB -p qd=1,8 --duration 100ms --warmup 20ms \
	--reps 2 --rounds 1 >"$tmp/rand.jsonl" 2>"$tmp/err" || rc=$?
if grep -q '"type": *"skip"' "$tmp/rand.jsonl" && [ "$rc" -eq 77 ]; then
	echo "skip: $(cat "$tmp/err")" >&2
	exit 77
fi
[ "$rc" -eq 0 ] || { cat "$tmp/err" >&2; echo "FAIL: run exited $rc" >&2; exit 1; }
[ ! -e "$HVT_RESULTS_DIR/hvtax-io-8MiB.dat" ] || { echo "FAIL: keep=0 left the file" >&2; exit 1; }

"$B" run -q -b io.randrw,io.seqread,io.seqwrite -p size=8MiB -p bs=64KiB -p qd=4 -p jobs=2 -p keep=1 \
	-p rwmix=70 --duration 100ms --warmup 0 --reps 1 --rounds 1 >"$tmp/mix.jsonl"
[ -f "$HVT_RESULTS_DIR/hvtax-io-8MiB.dat" ] || { echo "FAIL: keep=1 removed the file" >&2; exit 1; }
[ "$(stat -c %s "$HVT_RESULTS_DIR/hvtax-io-8MiB.dat")" -eq $((8 << 20)) ] || {
	echo "FAIL: wrong file size" >&2
	exit 1
}

# a file named by file= that exists is used as it is and never removed
head -c $((4 << 20)) /dev/urandom >"$tmp/mine.dat"
"$B" run -q -b io.randread -p file="$tmp/mine.dat" -p size=4MiB --duration 50ms --warmup 0 \
	--reps 1 --rounds 1 >"$tmp/mine.jsonl"
[ -f "$tmp/mine.dat" ] || { echo "FAIL: a user file was removed" >&2; exit 1; }
# ... and one too small for size= is refused with a skip that says why
"$B" run -q -b io.randread -p file="$tmp/mine.dat" -p size=8MiB --duration 50ms --warmup 0 \
	--reps 1 --rounds 1 >"$tmp/small.jsonl" 2>/dev/null || true
grep -q 'smaller than size' "$tmp/small.jsonl" || { echo "FAIL: small file not reported" >&2; exit 1; }

python3 - "$tmp/rand.jsonl" "$tmp/mix.jsonl" "$tmp/mine.jsonl" <<'PY'
import json, sys

def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)

want = {sys.argv[1]: {"io.randread": 2, "io.randwrite": 2},
        sys.argv[2]: {"io.randrw": 1, "io.seqread": 1, "io.seqwrite": 1},
        sys.argv[3]: {"io.randread": 1}}
for path, benches in want.items():
    recs = [json.loads(l) for l in open(path) if l.strip()]
    if recs[-1]["type"] != "end" or recs[-1]["status"] != "ok":
        fail("%s: run did not end ok: %s" % (path, recs[-1]))
    res = [r for r in recs if r["type"] == "result"]
    for b, n in benches.items():
        got = [r for r in res if r["bench"] == b]
        if len(got) != n:
            fail("%s: %d results for %s, wanted %d" % (path, len(got), b, n))
    for r in res:
        names = [m["name"] for m in r["metrics"]]
        for m in ("iops", "bw", "lat_p50", "lat_p90", "lat_p99", "lat_p999", "lat_p9999",
                  "lat_mean", "lat_max"):
            if m not in names:
                fail("%s: metric %s missing" % (r["case"], m))
        dirs = {m["name"]: m["dir"] for m in r["metrics"]}
        if dirs["iops"] != "higher" or dirs["lat_p99"] != "lower":
            fail("%s: wrong metric directions %s" % (r["case"], dirs))
        for s in r["samples"]:
            v, x = s["values"], s["extra"]
            if not v["iops"] > 0:
                fail("%s: iops %s" % (r["case"], v["iops"]))
            bs = {"4KiB": 4096, "64KiB": 65536}[r["params"]["bs"]]
            if abs(v["bw"] - v["iops"] * bs) > 1e-6 * v["bw"]:
                fail("%s: bw != iops x bs" % r["case"])
            lat = [v[k] for k in ("lat_p50", "lat_p90", "lat_p99", "lat_p999", "lat_p9999", "lat_max")]
            if any(a > b * (1 + 1 / 256) for a, b in zip(lat, lat[1:])) or lat[0] <= 0:
                fail("%s: percentiles out of order %s" % (r["case"], lat))
            h = x["hist"]
            if abs(h["rel_error"] - 1 / 256) > 1e-12 or not h["buckets"]:
                fail("%s: bad histogram %s" % (r["case"], h.get("rel_error")))
            if sum(b[2] for b in h["buckets"]) != h["count"]:
                fail("%s: histogram counts do not add up" % r["case"])
            if h["count"] != x["ops"]["read"] + x["ops"]["write"]:
                fail("%s: histogram count %d != ops %s" % (r["case"], h["count"], x["ops"]))
            if x["target"]["kind"] != "file" or "fs" not in x["target"]:
                fail("%s: target %s" % (r["case"], x["target"]))
            b = r["bench"]
            if b in ("io.randread", "io.seqread") and x["ops"]["write"]:
                fail("%s: a read case wrote" % r["case"])
            if b in ("io.randwrite", "io.seqwrite") and x["ops"]["read"]:
                fail("%s: a write case read" % r["case"])
            if b == "io.randrw" and not (x["ops"]["read"] and x["ops"]["write"]):
                fail("%s: randrw did not mix %s" % (r["case"], x["ops"]))
PY
