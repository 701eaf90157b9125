#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mem.stream triad beside likwid-bench and mbw on this machine, interleaved; then the 4k/2m latency curve.
#
#   scripts/compare-mem.sh [-B BUILD] [-r ROUNDS] [-s BYTES_PER_ARRAY] [-t THREADS] [-d DURATION]
#                          [--no-latency] [--latency-max SIZE]
#
# Every tool runs once per round, in an order that rotates each round, so the
# drift of a shared machine lands on all of them alike. Bandwidth is counted
# as STREAM does (triad: 3 x 8 B per element, no write-allocate), which is
# what likwid-bench's "MByte/s" also counts; mbw's "Copy" MiB/s counts the
# copied bytes once, so it is doubled to STREAM's copy counting and set
# beside hvtax's single-thread copy with non-temporal stores, which is what
# glibc's memcpy uses at these sizes (mbw times single passes, so against
# hvtax's best pass, bw_best_iter; likwid-bench times a whole run, so
# against hvtax's per-repetition bw). A diagnostic row runs hvtax with
# sync=run (no barrier between passes): the gap between it and the default
# sync=pass is what per-pass synchronisation costs on this machine. The headline is the ratio of hvtax's
# best triad (either store variant) to the best likwid-bench triad (either).
# Goal: >= 0.95. Needs: likwid (likwid-bench), mbw; skips a missing peer.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build ROUNDS=5 SIZE=auto THREADS=$(nproc) DUR=1s LATENCY=1 LAT_MAX=1GiB
while [ $# -gt 0 ]; do
	case $1 in
	-B) BUILD=$2; shift ;;
	-r) ROUNDS=$2; shift ;;
	-s) SIZE=$2; shift ;;
	-t) THREADS=$2; shift ;;
	-d) DUR=$2; shift ;;
	--no-latency) LATENCY=0 ;;
	--latency-max) LAT_MAX=$2; shift ;;
	-h | --help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "compare-mem: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
BENCH=$BUILD/hvtax-bench
[ -x "$BENCH" ] || { echo "compare-mem: '$BENCH' not built (run make)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "compare-mem: python3 missing" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# which likwid kernels this CPU runs: widest with and without non-temporal stores
LW_NORMAL= LW_NT=
if command -v likwid-bench >/dev/null; then
	have=$(likwid-bench -a 2>/dev/null | awk '{print $1}')
	pick() { for k in "$@"; do grep -qx "$k" <<<"$have" && { echo "$k"; return; }; done; }
	flags=$(grep -m1 '^flags' /proc/cpuinfo)
	cands_n=(stream_sse stream) cands_t=(stream_mem_sse stream_mem)
	if grep -qw avx <<<"$flags"; then cands_n=(stream_avx "${cands_n[@]}") cands_t=(stream_mem_avx "${cands_t[@]}"); fi
	if grep -qw fma <<<"$flags"; then cands_n=(stream_avx_fma "${cands_n[@]}") cands_t=(stream_mem_avx_fma "${cands_t[@]}"); fi
	if grep -qw avx512f <<<"$flags"; then
		cands_n=(stream_avx512_fma stream_avx512 "${cands_n[@]}")
		cands_t=(stream_mem_avx512 "${cands_t[@]}")
	fi
	LW_NORMAL=$(pick "${cands_n[@]}") LW_NT=$(pick "${cands_t[@]}")
else
	echo "compare-mem: likwid-bench not found (scripts/install-deps.sh --compare): no likwid columns" >&2
fi
command -v mbw >/dev/null || echo "compare-mem: mbw not found: no mbw column" >&2

hvtax() { # name extra-params... -> appends "name value value_best_iter" per timed sample
	local name=$1; shift
	"$BENCH" run -q -b mem.stream -p kernel="${KERNEL:-triad}" -p size="$SIZE_P" "$@" \
		--duration "$DUR" --warmup 300ms --reps 3 --rounds 1 >"$tmp/h.jsonl" || true
	python3 - "$tmp/h.jsonl" "$name" "$ROUND" >>"$tmp/samples" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "result":
        for s in r["samples"]:
            if not s["warmup"]:
                best = s["values"]["bw_best_iter"]
                print(sys.argv[2], sys.argv[3], s["values"]["bw"], s["values"]["bw"] if best is None else best,
                      s["extra"]["stream"]["array_bytes"], s["extra"]["stream"]["isa"])
    elif r["type"] in ("skip", "error"):
        print("#", sys.argv[2], r.get("reason") or r.get("message"), file=sys.stderr)
PY
}

likwid() { # name kernel: as many runs as hvtax has repetitions, so "best of" compares alike
	[ -n "$2" ] || return 0
	for _ in 1 2 3; do
		# likwid sizes are decimal (kB = 1000 B) and cover all three arrays
		likwid-bench -t "$2" -w "N:$((3 * ARRAY_BYTES / 1000))kB:$THREADS" >"$tmp/l.txt" 2>&1 || true
		awk -v n="$1" -v r="$ROUND" '/^MByte\/s:/ {print n, r, $2 * 1e6, $2 * 1e6}' "$tmp/l.txt" >>"$tmp/samples"
	done
}

mbw_run() {
	command -v mbw >/dev/null || return 0
	# per-pass "Copy: X MiB/s"; x2 for STREAM's read+write counting
	mbw -q -t0 -n 5 "$((ARRAY_BYTES / 1048576))" 2>/dev/null |
		awk -v r="$ROUND" '/^[0-9]+\tMethod: MEMCPY/ {for (i = 1; i <= NF; i++) if ($i == "Copy:") print "mbw", r, 2 * $(i + 1) * 1048576, 2 * $(i + 1) * 1048576}' >>"$tmp/samples"
}

# the array size: hvtax's own default (4x LLC, >= 64 MiB) unless given
SIZE_P=${SIZE/auto/0} ROUND=-1
: >"$tmp/samples"
hvtax probe -p threads="$THREADS" -p stores=normal
ARRAY_BYTES=$(awk '$1 == "probe" {print $5; exit}' "$tmp/samples")
[ -n "$ARRAY_BYTES" ] || { echo "compare-mem: mem.stream did not run" >&2; exit 1; }
SIZE_P=$ARRAY_BYTES
sed -i '/^probe /d' "$tmp/samples"

echo "mem.stream triad vs likwid-bench ($LW_NORMAL / $LW_NT) and mbw: $THREADS threads," \
	"$((ARRAY_BYTES / 1048576)) MiB per array, $ROUNDS rounds" >&2
steps=(hn ht ln lt mb hc hr)
for ((r = 0; r < ROUNDS; r++)); do
	ROUND=$r
	for ((i = 0; i < ${#steps[@]}; i++)); do
		case ${steps[$(((i + r) % ${#steps[@]}))]} in
		hn) hvtax hvtax_normal -p threads="$THREADS" -p stores=normal ;;
		ht) hvtax hvtax_nt -p threads="$THREADS" -p stores=nt ;;
		ln) likwid "likwid_normal" "$LW_NORMAL" ;;
		lt) likwid "likwid_nt" "$LW_NT" ;;
		mb) mbw_run ;;
		hc) KERNEL=copy hvtax hvtax_copy_1t -p threads=1 -p stores=nt ;;
		hr) hvtax hvtax_nt_run -p threads="$THREADS" -p stores=nt -p sync=run ;;
		esac
	done
	echo "  round $((r + 1))/$ROUNDS done" >&2
done

python3 - "$tmp/samples" <<'PY'
import statistics, sys
by = {}
for l in open(sys.argv[1]):
    f = l.split()
    by.setdefault(f[0], []).append((float(f[2]), float(f[3]), int(f[1])))
def row(name, what):
    v = by.get(name)
    if not v:
        print("%-16s %-40s %10s" % (name, what, "n/a"))
        return 0.0
    bw = [x[0] for x in v]
    print("%-16s %-40s %10.2f %10.2f %10.2f %4d" % (name, what, max(bw) / 1e9, statistics.median(bw) / 1e9,
          max(x[1] for x in v) / 1e9, len(v)))
    return max(bw)
print("%-16s %-40s %10s %10s %10s %4s" % ("tool", "what", "best GB/s", "median", "best pass", "n"))
hn = row("hvtax_normal", "mem.stream triad, normal stores")
ht = row("hvtax_nt", "mem.stream triad, non-temporal stores")
ln = row("likwid_normal", "likwid-bench triad, normal stores")
lt = row("likwid_nt", "likwid-bench triad, non-temporal stores")
hc = row("hvtax_copy_1t", "mem.stream copy, 1 thread, nt stores")
mb = row("mbw", "mbw memcpy, 1 thread (x2: STREAM count)")
row("hvtax_nt_run", "diagnostic: triad nt, sync=run")
print()
def ratio(label, a, b):
    if a and b:
        print("%-52s %.3f" % (label, a / b))
        return a / b
    print("%-52s n/a" % label)
    return None
ratio("normal stores: hvtax / likwid", hn, ln)
ratio("non-temporal:  hvtax / likwid", ht, lt)
ratio("1-thread copy, best pass: hvtax / mbw",
      max((x[1] for x in by.get("hvtax_copy_1t", [])), default=0), mb)
r = ratio("HEADLINE best hvtax triad / best peer triad", max(hn, ht), max(ln, lt))
if r is not None:
    print("goal >= 0.95:", "met" if r >= 0.95 else "NOT met")
# likwid-bench meets its threads once per run, STREAM (and sync=pass) once per pass
hr = max((x[0] for x in by.get("hvtax_nt_run", [])), default=0)
ratio("same timing rule as likwid: hvtax nt sync=run / likwid nt", hr, lt)
# paired: per round, best hvtax triad over best likwid triad (drift cancels)
pr = []
for rnd in sorted({x[2] for v in by.values() for x in v}):
    h = [x[0] for n in ("hvtax_normal", "hvtax_nt") for x in by.get(n, []) if x[2] == rnd]
    p = [x[0] for n in ("likwid_normal", "likwid_nt") for x in by.get(n, []) if x[2] == rnd]
    if h and p:
        pr.append(max(h) / max(p))
if pr:
    print("%-52s %.3f  (rounds: %s)" % ("(paired) median per-round best/best ratio", statistics.median(pr),
          " ".join("%.2f" % x for x in pr)))
med = lambda n: statistics.median([x[0] for x in by[n]]) if by.get(n) else 0.0
ratio("(medians) best-variant hvtax / best-variant likwid", max(med("hvtax_normal"), med("hvtax_nt")),
      max(med("likwid_normal"), med("likwid_nt")))
PY

[ "$LATENCY" = 1 ] || exit 0
echo >&2
echo "mem.latency, 4 KiB vs 2 MiB pages, 16KiB..$LAT_MAX" >&2
"$BENCH" run -q -b mem.latency -p size="16KiB..$LAT_MAX*2" -p pages=4k,2m \
	--duration 200ms --warmup 100ms --reps 3 --rounds 2 >"$tmp/lat.jsonl" || true
python3 - "$tmp/lat.jsonl" <<'PY'
import json, statistics, sys
lat, got = {}, {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "result":
        k = (r["params"]["size"], r["params"]["pages"])
        for s in r["samples"]:
            if not s["warmup"]:
                lat.setdefault(k, []).append(s["values"]["lat"])
                got[k] = "%s/%d" % (s["extra"]["pages"]["pages_got"], s["extra"]["pages"]["huge_pages"])
    elif r["type"] == "skip":
        print("skipped:", r["case"], r["reason"])
def nbytes(s):
    u = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
    for k in sorted(u, key=len, reverse=True):
        if s.endswith(k):
            return int(s[:-len(k)]) * u[k]
    return int(s)
sizes = sorted({k[0] for k in lat}, key=nbytes)
print("%-8s %10s %10s %8s  %s" % ("size", "4k ns", "2m ns", "4k/2m", "2m backing (kind/huge pages)"))
for s in sizes:
    a = statistics.median(lat.get((s, "4k"), [float("nan")])) * 1e9
    b = statistics.median(lat.get((s, "2m"), [float("nan")])) * 1e9
    print("%-8s %10.2f %10.2f %8.2f  %s" % (s, a, b, a / b, got.get((s, "2m"), "-")))
PY
