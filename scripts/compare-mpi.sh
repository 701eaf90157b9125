#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# coll.allreduce (mpi backend) beside a bare MPI_Allreduce loop of the same sizes, interleaved round by round.
#
#   scripts/compare-mpi.sh [-B BUILD] [-np N] [-s SIZES] [-d DURATION] [-n REPS] [-r ROUNDS]
#                          [-A 0|1] [-X 0|1] [-L 0|1] [-o DIR] [-- MPIRUN_ARGS...]
#
# MPIRUN_ARGS (for both sides) default to "--mca pml ob1"; any given replace them.
# -o DIR keeps the raw results there (bare.txt: round side bytes seconds; hvtax.jsonl).
# BARE_CFLAGS (environment) adds compiler flags for the bare loop: e.g. -fPIC, beside a build
# made with EXTRA_CFLAGS=-fPIC, so that neither executable carries copies of MPI's predefined
# objects (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM: copy relocations, placed per binary).
#
# The bare loop is a small C program (bench/bare_allreduce.c) compiled here with mpicc: per size it
# calibrates an iteration count that fills DURATION, then times REPS loops of
# MPI_Allreduce (float, sum, out of place) between two barriers; each rank's
# mean time per call is combined over ranks as the max, as hvtax does by
# default. hvtax-bench-mpi runs the same sizes with the same duration and
# repetitions. Each round launches, per size, each side once, one size per
# launch (about half a second each), back to back in an order that rotates
# by round and size. -A 1 (default) adds a second launch of the bare loop
# per round and size: the bare loop against itself is this run's noise
# floor, printed beside hvtax's difference. -X 1 (default) adds a launch
# of the same bare loop compiled into hvtax-bench-mpi ("hvtax-bench-mpi
# bare-allreduce", run right after MPI_Init, before any harness work):
# hvtax against it is what the harness's work costs; it against the bare
# program is what the executable itself (its libraries, its layout) does to
# MPI before hvtax runs a line of its own. -L 1 (default) randomises the
# heap layout of every process of both sides: a preloaded library
# allocates 0-4080 bytes (16-byte steps, a draw per process) before main,
# so what MPI_Init allocates lands at a different offset in its pages.
# Without it each binary has one fixed layout, and in one 40-round run the
# layout alone moved the bare loop at 8 bytes (3000 bytes allocated before
# MPI_Init: +7.4%, 95% interval [+2.5, +12.6]): a difference between two
# binaries there can say where malloc put MPI's structures, not what the
# harness costs. Per size, the table shows each side's median time and the
# paired differences: the median over rounds of (round median / the bare
# loop's round median) - 1, with a bootstrap 95% interval. Goal: hvtax
# within 2% of the bare loop.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build NP=2 SIZES="8..1MiB*8" DUR=30ms REPS=3 ROUNDS=40 AA=1 EXE=1 LAYOUT=1 KEEP=
# the pml OpenMPI picks here anyway (ob1), named so that MPI_Init does not first spend 0.2 s
# probing UCX: a launch of 0.1 s instead of 0.3 s puts the sides' measurements closer together
MPIRUN_ARGS=(--mca pml ob1)
while [ $# -gt 0 ]; do
	case $1 in
	-B) BUILD=$2; shift ;;
	-np) NP=$2; shift ;;
	-s) SIZES=$2; shift ;;
	-d) DUR=$2; shift ;;
	-n) REPS=$2; shift ;;
	-r) ROUNDS=$2; shift ;;
	-A) AA=$2; shift ;;
	-X) EXE=$2; shift ;;
	-L) LAYOUT=$2; shift ;;
	-o) KEEP=$2; shift ;;
	--) shift; MPIRUN_ARGS=("$@"); break ;;
	-h|--help) sed -n '3,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "compare-mpi: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
case $ROUNDS in '' | *[!0-9]* | 0) echo "compare-mpi: -r wants a whole number of rounds > 0, not '$ROUNDS'" >&2; exit 2 ;; esac
case $AA$EXE$LAYOUT in [01][01][01]) ;; *) echo "compare-mpi: -A, -X and -L take 0 or 1" >&2; exit 2 ;; esac
MPI_BENCH=$BUILD/hvtax-bench-mpi
[ -x "$MPI_BENCH" ] || { echo "compare-mpi: '$MPI_BENCH' not built (make WITH_MPI=1)" >&2; exit 77; }
for t in mpicc mpirun python3; do
	command -v $t >/dev/null || { echo "compare-mpi: '$t' missing" >&2; exit 77; }
done
[ "$(id -u)" -eq 0 ] && MPIRUN_ARGS=(--allow-run-as-root "${MPIRUN_ARGS[@]}")
[ "$NP" -gt "$(nproc)" ] && MPIRUN_ARGS+=(--oversubscribe)

if [ -n "$KEEP" ]; then
	mkdir -p "$KEEP" || exit 2
	[ -w "$KEEP" ] || { echo "compare-mpi: cannot write to '$KEEP'" >&2; exit 2; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the sizes hvtax expands SIZES into, so both sides run exactly the same list
"$MPI_BENCH" run -b coll.allreduce -p backend=mpi -p size="$SIZES" --rounds 1 --reps 1 -q \
	--duration 1ms --warmup 0 >"$tmp/sizes.jsonl" 2>/dev/null || true
python3 - "$tmp/sizes.jsonl" >"$tmp/sizes" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "plan":
        for c in r["cases"]:
            print(c["params"]["size"])
PY
bytes=$(python3 - "$tmp/sizes" <<'PY'
import sys
u = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
out = []
for s in open(sys.argv[1]).read().split():
    for k in ("KiB", "MiB", "GiB", "B"):
        if s.endswith(k):
            out.append(int(s[: -len(k)]) * u[k])
            break
print(" ".join(str(b) for b in sorted(out)))
PY
)
[ -n "$bytes" ] || { echo "compare-mpi: no sizes from '$SIZES'" >&2; exit 2; }
dur_s=$(python3 -c "
import sys
s = '$DUR'
for u, f in (('ms', 1e-3), ('us', 1e-6), ('ns', 1e-9), ('s', 1)):
    if s.endswith(u):
        print(float(s[:-len(u)]) * f); break
else:
    print(float(s))")

# the bare loop: bench/bare_allreduce.c, the same source hvtax-bench-mpi's bare-allreduce runs
mpicc -O2 ${BARE_CFLAGS:-} -DHAVE_MPI -DHVT_BARE_MAIN -o "$tmp/bare" bench/bare_allreduce.c

RANK_ENV=()
if [ "$LAYOUT" = 1 ]; then
	# a fresh heap offset for every process of either side (see the head of this file)
	cat >"$tmp/pad.c" <<'C'
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

__attribute__((constructor)) static void pad_heap(void)
{
	struct timespec ts;
	size_t n;
	char *p;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	srand((unsigned)getpid() ^ (unsigned)ts.tv_nsec);
	n = (size_t)(rand() % 256) * 16;
	if (n && (p = malloc(n)))
		memset(p, 0, n); /* kept: what is allocated after it starts n bytes on */
}
C
	${CC:-cc} -O2 -shared -fPIC -o "$tmp/pad.so" "$tmp/pad.c"
	RANK_ENV=(-x LD_PRELOAD="$tmp/pad.so")
fi
sides="bare hvtax"
[ "$AA" = 1 ] && sides="$sides bare2"
[ "$EXE" = 1 ] && sides="$sides barex"
read -r -a slist <<<"$sides"

echo "compare-mpi: $NP ranks, sizes $SIZES, $DUR x $REPS reps, $ROUNDS rounds (interleaved per size;" \
	"A/A control $([ "$AA" = 1 ] && echo on || echo off), same-executable control $([ "$EXE" = 1 ] && echo on || echo off), layout randomised $([ "$LAYOUT" = 1 ] && echo on || echo off))" >&2
read -r -a blist <<<"$bytes"
for ((k = 0; k < ROUNDS; k++)); do
	for ((i = 0; i < ${#blist[@]}; i++)); do
		b=${blist[i]}
		# one size per launch, the sides back to back (under a second apart), the first one
		# rotating by round and size: all sample the same state of a host whose speed
		# changes for seconds at a time
		for ((j = 0; j < ${#slist[@]}; j++)); do
			side=${slist[(j + k + i) % ${#slist[@]}]}
			if [ "$side" = hvtax ]; then
				mpirun "${MPIRUN_ARGS[@]}" "${RANK_ENV[@]}" -np "$NP" "$MPI_BENCH" run -q -b coll.allreduce \
					-p backend=mpi -p size="$b" --duration "$DUR" --reps "$REPS" --rounds 1 |
					sed "s/^/$k /" >>"$tmp/hvtax.jsonl"
			elif [ "$side" = barex ]; then
				mpirun "${MPIRUN_ARGS[@]}" "${RANK_ENV[@]}" -np "$NP" "$MPI_BENCH" bare-allreduce \
					-d "$DUR" -n "$REPS" "$b" | sed "s/^/$k $side /" >>"$tmp/bare.txt"
			else
				mpirun "${MPIRUN_ARGS[@]}" "${RANK_ENV[@]}" -np "$NP" "$tmp/bare" "$dur_s" "$REPS" "$b" |
					sed "s/^/$k $side /" >>"$tmp/bare.txt"
			fi
		done
	done
	echo "compare-mpi: round $((k + 1))/$ROUNDS done" >&2
done
[ -n "$KEEP" ] && cp "$tmp/bare.txt" "$tmp/hvtax.jsonl" "$KEEP/"

python3 - "$tmp/bare.txt" "$tmp/hvtax.jsonl" "$NP" <<'PY'
import json, random, statistics, sys

# per size and round: the repetitions of each side
runs = {"bare": {}, "bare2": {}, "barex": {}, "hvtax": {}}
for l in open(sys.argv[1]):
    k, side, b, t = l.split()
    runs[side].setdefault(int(b), {}).setdefault(int(k), []).append(float(t))
for l in open(sys.argv[2]):
    k, rec = l.split(" ", 1)
    r = json.loads(rec)
    if r["type"] != "result":
        continue
    for s in r["samples"]:
        if not s["warmup"]:
            runs["hvtax"].setdefault(s["extra"]["coll"]["bytes"], {}).setdefault(int(k), []).append(
                s["values"]["time"])
bare, hv, aa, bx = runs["bare"], runs["hvtax"], runs["bare2"], runs["barex"]
n = int(sys.argv[3])
f = 2.0 * (n - 1) / n
rng = random.Random(1)


def paired(x, y):
    """per-round ratios of round medians: their median - 1, its bootstrap 95% interval, the ratios"""
    rounds = sorted(set(x) & set(y))
    ratios = [statistics.median(x[k]) / statistics.median(y[k]) for k in rounds]
    if not ratios:
        return None
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
    return statistics.median(ratios) - 1, meds[50] - 1, meds[1949] - 1, ratios


def quantile(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]


def pct(d):
    return "%+5.1f%% [%+5.1f, %+5.1f]" % (d[0] * 100, d[1] * 100, d[2] * 100) if d else "-"


print("%9s %8s %8s %23s %23s %23s %23s %8s %8s" % (
    "bytes", "bare_us", "hvtax_us", "hvtax/bare-1 [95% CI]", "hvtax/bare_x-1 [95% CI]",
    "bare_x/bare-1 [95% CI]", "bare2/bare-1 [95% CI]", "bare_GBs", "hvtax_GBs"))
worst = worst_x = worst_aa = 0
all_hv, all_x, all_xb, all_aa, nrounds, tails = [], [], [], [], 0, []
for b in sorted(bare):
    if b not in hv:
        continue
    d, c = paired(hv[b], bare[b]), paired(aa.get(b, {}), bare[b])
    x, xb = paired(hv[b], bx.get(b, {})), paired(bx.get(b, {}), bare[b])
    all_hv += d[3]
    nrounds = max(nrounds, len(d[3]))
    worst = max(worst, abs(d[0]))
    if c:
        all_aa += c[3]
        worst_aa = max(worst_aa, abs(c[0]))
    if x:
        all_x += x[3]
        all_xb += xb[3]
        worst_x = max(worst_x, abs(x[0]))
    allb = [t for k in bare[b] for t in bare[b][k]]
    allh = [t for k in hv[b] for t in hv[b][k]]
    alla = [t for k in aa.get(b, {}) for t in aa[b][k]]
    tb, th = statistics.median(allb), statistics.median(allh)
    q10a = "%+6.1f%%" % ((quantile(alla, 0.1) / quantile(allb, 0.1) - 1) * 100) if alla else "-"
    tails.append((b, min(allb), min(allh), quantile(allh, 0.1) / quantile(allb, 0.1) - 1, q10a))
    print("%9d %8.3f %8.3f %23s %23s %23s %23s %8.3f %8.3f" % (
        b, tb * 1e6, th * 1e6, pct(d), pct(x), pct(xb), pct(c), b / tb * f / 1e9, b / th * f / 1e9))


def pooled(ratios):
    """median of all per-round, per-size ratios - 1, with a bootstrap 95% interval"""
    bs = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
    return statistics.median(ratios) - 1, bs[50] - 1, bs[1949] - 1


print("paired: median over %d rounds of (round median / the other side's round median) - 1; "
      "bare: the bare program; bare_x: the same loop in hvtax-bench-mpi, run before any harness "
      "work (hvtax-bench-mpi bare-allreduce); bare2: the bare program again (A/A); GBs: busbw "
      "of the medians" % nrounds)
print("%9s %8s %8s %8s %8s" % ("bytes", "bmin_us", "hmin_us", "p10", "p10_aa"))
for b, mb, mh, q10, q10a in tails:
    print("%9d %8.3f %8.3f %+7.1f%% %8s" % (b, mb * 1e6, mh * 1e6, q10 * 100, q10a))
print("min: fastest repetition of each side; p10: 10th percentile of each side's repetitions "
      "(hvtax / bare - 1; p10_aa: bare2 / bare - 1)")
for name, r in (("hvtax/bare", all_hv), ("hvtax/bare_x", all_x), ("bare_x/bare", all_xb),
                ("bare2/bare", all_aa)):
    if r:
        q = pooled(r)
        print("all sizes, median of the %d per-round ratios: %-12s %+5.1f%% [%+.1f, %+.1f]" % (
            len(r), name, q[0] * 100, q[1] * 100, q[2] * 100))
if all_aa:
    print("noise floor of this run: the bare program against itself differs by up to %.1f%% per size"
          % (worst_aa * 100))
print("largest |hvtax/bare - 1| %.1f%% (goal: within 2%%): %s" % (
    worst * 100, "met" if worst <= 0.02 else "not met"))
if all_x:
    print("largest |hvtax/bare_x - 1| %.1f%%: what the harness's own work costs (within 2%%: %s)" % (
        worst_x * 100, "yes" if worst_x <= 0.02 else "no"))
PY
