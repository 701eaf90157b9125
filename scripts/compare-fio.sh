#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# io.randread beside fio (ioengine=io_uring) on the same file, same parameters, interleaved.
#
#   scripts/compare-fio.sh [-B BUILD] [-f FILE] [-s SIZE] [-d SECONDS] [-r ROUNDS] [-q "1 32"]
#                          [-b BS] [--device DEV]
#
# hvtax creates FILE once (random data, fully written, kept), then each round
# runs, for every queue depth, hvtax-bench io.randread and fio with the same
# block size, queue depth, O_DIRECT, registered buffers and file, the same
# file and size, the same run time and a 1 s warm-up (fio: ramp_time), both
# pinned to the same CPU. The order of the two tools alternates by round.
# Printed per round and queue depth: IOPS ratio hvtax/fio, and p50/p99
# completion-latency ratios hvtax/fio; then the geometric mean over rounds.
# Goal: IOPS ratio >= 0.97, latency ratios within 0.95..1.05. CPU time per I/O
# (hvtax: the process's task clock; fio: usr+sys of the job) shows loop overhead.
# Default FILE: a fresh file under results/ (removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build FILE= SIZE=1GiB DUR=10 ROUNDS=3 QDS="1 32" BS=4KiB DEV=
while [ $# -gt 0 ]; do
	case $1 in
	-B) BUILD=$2; shift ;;
	-f) FILE=$2; shift ;;
	-s) SIZE=$2; shift ;;
	-d) DUR=$2; shift ;;
	-r) ROUNDS=$2; shift ;;
	-q) QDS=$2; shift ;;
	-b) BS=$2; shift ;;
	--device) DEV=$2; shift ;;
	-h | --help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "compare-fio: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
BENCH=$BUILD/hvtax-bench
[ -x "$BENCH" ] || { echo "compare-fio: '$BENCH' not built (run make)" >&2; exit 2; }
command -v fio >/dev/null || { echo "compare-fio: fio not found (apt-get install fio)" >&2; exit 77; }
command -v python3 >/dev/null || { echo "compare-fio: python3 missing" >&2; exit 2; }
[[ $DUR =~ ^[0-9]+$ ]] || { echo "compare-fio: -d takes whole seconds" >&2; exit 2; }
tmp=$(mktemp -d)
made=
cleanup() {
	[ -z "$made" ] || rm -f "$made"
	rm -rf "$tmp"
}
trap cleanup EXIT

cpu=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
if [ -n "$DEV" ]; then
	TARGET=$DEV
	target_p=(-p "device=$DEV")
else
	if [ -z "$FILE" ]; then
		mkdir -p results
		FILE=results/hvtax-compare-fio.$$.dat
		made=$FILE
	fi
	TARGET=$FILE
	target_p=(-p "file=$FILE")
	# hvtax creates and fills the file (or checks an existing one) once
	"$BENCH" run -q -b io.randread "${target_p[@]}" -p size="$SIZE" -p keep=1 --duration 10ms \
		--warmup 0 --reps 1 --rounds 1 >/dev/null
fi
size_bytes=$(python3 - "$SIZE" <<'PY'
import re, sys
m = re.fullmatch(r"(\d+)\s*([KMGT]i?B?|B?)", sys.argv[1])
mult = {"": 1, "B": 1}
for i, u in enumerate("KMGT"):
    mult[u] = mult[u + "i"] = mult[u + "iB"] = 1024 ** (i + 1)
    mult[u + "B"] = 1000 ** (i + 1)
print(int(m.group(1)) * mult[m.group(2)])
PY
)
bs_bytes=$(python3 -c "import sys; s=sys.argv[1]; print(int(s[:-3])*1024 if s.endswith('KiB') else int(s))" "$BS")

run_hvtax() { # QD OUT
	"$BENCH" run -q -b io.randread "${target_p[@]}" -p size="$SIZE" -p bs="$BS" -p qd="$1" -p keep=1 \
		-p direct=1 -p fixed_bufs=1 -p fixed_files=1 -p submit_batch=1 --duration "${DUR}s" --warmup 1s --reps 1 \
		--rounds 1 >"$2"
}
run_fio() { # QD OUT
	fio --name=randread --filename="$TARGET" --size="$size_bytes" --rw=randread --bs="$bs_bytes" \
		--iodepth="$1" --ioengine=io_uring --direct=1 --fixedbufs=1 --registerfiles=1 \
		--norandommap --randrepeat=0 --time_based=1 --runtime="$DUR" --ramp_time=1 \
		--cpus_allowed="$cpu" --invalidate=0 --output-format=json >"$2"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for q in $QDS; do
		if ((r % 2)); then
			run_hvtax "$q" "$tmp/h.$r.$q.json"
			run_fio "$q" "$tmp/f.$r.$q.json"
		else
			run_fio "$q" "$tmp/f.$r.$q.json"
			run_hvtax "$q" "$tmp/h.$r.$q.json"
		fi
	done
done

python3 - "$tmp" "$ROUNDS" "$QDS" "$TARGET" "$BS" "$DUR" <<'PY'
import json, math, os, random, sys

tmp, rounds, qds, target, bs, dur = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), *sys.argv[4:]

def hv(path):
    for line in open(path):
        r = json.loads(line)
        if r["type"] == "result":
            s = [s for s in r["samples"] if not s["warmup"]][0]
            v = s["values"]
            # CPU time per I/O: the process's task clock over the I/Os of the repetition
            side = s["side"]
            # CPU time of the process (user + system, from getrusage) per I/O, in ns like fio's below
            cpu_s = side.get("utime_s", float("nan")) + side.get("stime_s", float("nan"))
            cpu = cpu_s * 1e9 / (v["iops"] * s["dur_s"])
            return v["iops"], v["lat_p50"] * 1e9, v["lat_p99"] * 1e9, cpu
    raise SystemExit("compare-fio: no hvtax result in %s" % path)

def fio(path):
    txt = open(path).read()
    j = json.loads(txt[txt.index("{"):])  # fio may print notes before the JSON
    rd = j["jobs"][0]["read"]
    pc = rd["clat_ns"]["percentile"]
    job = j["jobs"][0]
    cpu = (job["usr_cpu"] + job["sys_cpu"]) / 100 * rd["runtime"] * 1e6 / max(rd["total_ios"], 1)
    return rd["iops"], pc["50.000000"], pc["99.000000"], cpu

def gm(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))

def ci(xs, n=2000):
    # 95% bootstrap interval of the geometric mean over rounds (fixed seed: same data, same interval)
    rng = random.Random(1)
    g = sorted(gm([rng.choice(xs) for _ in xs]) for _ in range(n))
    return g[int(0.025 * n)], g[int(0.975 * n) - 1]

print("io.randread vs fio (io_uring, direct, fixed bufs+files) on %s, bs=%s, %ss per run" % (target, bs, dur))
print("%-5s %-4s %12s %12s %7s %9s %9s %7s %9s %9s %7s %9s %9s" % (
    "round", "qd", "hvtax_iops", "fio_iops", "ratio", "hv_p50us", "fio_p50us", "ratio",
    "hv_p99us", "fio_p99us", "ratio", "hv_cpu/io", "fio_cpu/io"))
summary = {}
for q in qds:
    for r in range(1, rounds + 1):
        h = hv(os.path.join(tmp, "h.%d.%s.json" % (r, q)))
        f = fio(os.path.join(tmp, "f.%d.%s.json" % (r, q)))
        ratios = [h[i] / f[i] for i in range(3)]
        summary.setdefault(q, []).append(ratios)
        print("%-5d %-4s %12.0f %12.0f %7.3f %9.1f %9.1f %7.3f %9.1f %9.1f %7.3f %7.2fus %7.2fus" % (
            r, q, h[0], f[0], ratios[0], h[1] / 1e3, f[1] / 1e3, ratios[1], h[2] / 1e3, f[2] / 1e3,
            ratios[2], h[3] / 1e3, f[3] / 1e3))
print()
ok = True
print("ratios hvtax/fio: geometric mean over rounds [95% bootstrap interval]; median of rounds")
for q, rs in summary.items():
    cols = [[x[i] for x in rs] for i in range(3)]
    g = [gm(c) for c in cols]
    iv = [ci(c) for c in cols]
    med = [sorted(c)[len(c) // 2] if len(c) % 2 else sum(sorted(c)[len(c) // 2 - 1:len(c) // 2 + 1]) / 2
           for c in cols]
    good = g[0] >= 0.97 and all(0.95 <= x <= 1.05 for x in g[1:])
    # the goal is "not worse than fio": IOPS above or latency below the band counts as met
    # only when the whole interval lies on hvtax's better side
    better = iv[0][0] >= 0.97 and all(v[1] <= 1.05 for v in iv[1:])
    verdict = "ok" if good else "ok (hvtax better beyond the band, whole interval)" if better else \
        "OUTSIDE GOAL (iops >= 0.97, latency within 5%)"
    ok &= good or better
    print("qd=%-3s %2d rounds: iops %.3f [%.3f, %.3f] med %.3f | p50 %.3f [%.3f, %.3f] med %.3f | "
          "p99 %.3f [%.3f, %.3f] med %.3f  %s" % (
              q, len(rs), g[0], iv[0][0], iv[0][1], med[0], g[1], iv[1][0], iv[1][1], med[1],
              g[2], iv[2][0], iv[2][1], med[2], verdict))
sys.exit(0 if ok else 1)
PY
