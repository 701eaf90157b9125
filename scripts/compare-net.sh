#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net.tcp_lat beside sockperf ping-pong and qperf tcp_lat, net.tcp_bw beside iperf3: loopback, then a veth pair.
#
#   scripts/compare-net.sh [-B BUILD] [-r ROUNDS] [-R BW_ROUNDS] [-m SIZE] [-b BW_SIZE] [-t SECONDS] [--no-dma] [--no-veth]
#
# Same path, same message size, same CPUs for every tool: servers on CPU 1,
# clients on CPU 0 (hvtax-bench pins itself the same way). Path 1 is
# loopback (hvtax in its self-contained mode, the peers as two processes);
# path 2 is two network namespaces joined by a veth pair made here
# (hvtax-bench --listen in one, --peer in the other, the peers likewise).
# Latency runs twice: idle CPUs free to halt, then with /dev/cpu_dma_latency
# held at 0 (hvtax: -p dma_latency=1; the peers: this script holds it).
# Each tool runs once per round, hvtax first in odd rounds and last in even
# ones; the medians over rounds are shown, and each ratio is paired by round:
# the geometric mean of the per-round ratios with a 95% bootstrap interval,
# and their median (pairing and alternation cancel the drift of a shared
# machine). With the hold, hvtax also runs holding it itself, in the same round.
#
# Latency is one-way (round trip / 2) for all three: sockperf reports it so,
# qperf's tcp_lat too. hvtax's p50 is set beside sockperf's p50, hvtax's mean
# beside the better of sockperf's avg and qperf's latency (qperf reports only
# a mean). Bandwidth: hvtax's receiver-confirmed bw beside iperf3's receiver
# bits_per_second / 8, one stream, same write size.
# Goals: latency ratio <= 1.05; bandwidth ratio >= 0.95.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build ROUNDS=5 BW_ROUNDS= SIZE=64 BW_SIZE=128KiB SECS=1 DMA=1 VETH=1
while [ $# -gt 0 ]; do
	case $1 in
	-B) BUILD=$2; shift ;;
	-r) ROUNDS=$2; shift ;;
	-R) BW_ROUNDS=$2; shift ;;
	-m) SIZE=$2; shift ;;
	-b) BW_SIZE=$2; shift ;;
	-t) SECS=$2; shift ;;
	--no-dma) DMA=0 ;;
	--no-veth) VETH=0 ;;
	-h|--help) sed -n '3,5p' "$0"; exit 0 ;;
	*) echo "compare-net: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "compare-net: -t takes whole seconds (qperf's -t does), not '$SECS'" >&2; exit 2; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "compare-net: -r takes a positive whole number, not '$ROUNDS'" >&2; exit 2; }
# bandwidth rounds are short (2 s) and this kind of host swings +-20% between them: twice as many by default
BW_ROUNDS=${BW_ROUNDS:-$((2 * ROUNDS))}
[[ $BW_ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "compare-net: -R takes a positive whole number, not '$BW_ROUNDS'" >&2; exit 2; }
BENCH=$BUILD/hvtax-bench
[ -x "$BENCH" ] || { echo "compare-net: '$BENCH' not built (run make)" >&2; exit 2; }
for t in sockperf qperf iperf3 python3; do
	command -v $t >/dev/null || { echo "compare-net: '$t' not found (scripts/install-deps.sh --compare)" >&2; exit 2; }
done
bw_bytes=$(python3 -c "
import re,sys; m=re.fullmatch(r'(\d+)(B|KiB|MiB)?','$BW_SIZE')
print(int(m.group(1))*{None:1,'B':1,'KiB':1024,'MiB':1<<20}[m.group(2)])")
SRV_CPU=1 CLI_CPU=0
[ "$(nproc)" -ge 2 ] || SRV_CPU=0

T=$(mktemp -d "${TMPDIR:-/tmp}/compare-net.XXXXXX")
NA=hvtcmp-a-$$ NB=hvtcmp-b-$$ VA=hvtca$$ VB=hvtcb$$
pids=()
cleanup() {
	# the servers may be children of a subshell: stop them and their parents
	for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NA" 2>/dev/null || true
	ip netns del "$NB" 2>/dev/null || true
	exec 9>&- 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
# the summaries: paired ratios per round, their geometric mean with a bootstrap interval, and the median
cat >"$T/cmpstats.py" <<'PY'
import math, random, statistics

def fl(arg):
    out = []
    for x in arg.split():
        try:
            out.append(float(x))
        except ValueError:
            out.append(float("nan"))
    return out

def med(v):
    v = [x for x in v if x == x]
    return statistics.median(v) if v else float("nan")

def gm(v):
    return math.exp(sum(math.log(x) for x in v) / len(v))

def ratio_line(a, b):
    r = [x / y for x, y in zip(a, b) if x == x and y == y and y > 0 and x > 0]
    if not r:
        return "n/a (no paired rounds)"
    rng = random.Random(1)  # fixed seed: the same data give the same interval
    boot = sorted(gm([rng.choice(r) for _ in r]) for _ in range(2000))
    return "%.3f [%.3f, %.3f] median %.3f over %d rounds (geomean [95%% bootstrap])" % (
        gm(r), boot[50], boot[1949], statistics.median(r), len(r))
PY
export PYTHONPATH="$T${PYTHONPATH:+:$PYTHONPATH}"

# run "in NS" (or on the host when NS is empty)
inns() { local ns=$1; shift; if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi; }
start_bg() { local ns=$1; shift; inns "$ns" "$@" >"$T/bg.out" 2>&1 & pids+=($!); sleep 0.5; }
stop_bg() {
	for p in "${pids[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null || true
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pids=()
}

hold_dma() { exec 9>/dev/cpu_dma_latency && printf '\x00\x00\x00\x00' >&9; }
drop_dma() { exec 9>&-; }

# hvtax: median over its repetitions of one metric (seconds or B/s)
hv_metric() {
	python3 -c '
import json, statistics, sys
v = [s["values"][sys.argv[2]] for l in open(sys.argv[1]) for r in [json.loads(l)] if r["type"] == "result"
     for s in r["samples"] if not s["warmup"]]
print(statistics.median(v) if v else "nan")' "$1" "$2"
}

# one path: $1 name, $2 server ns, $3 client ns, $4 server address
run_path() {
	local name=$1 sns=$2 cns=$3 addr=$4 port=$((30000 + RANDOM % 20000))
	# self-contained hvtax pins its two ends itself (CPU 0 and 1); a taskset would put both on one CPU
	local hv_peer=() hv_pin=() dmas=(0)
	[ "$DMA" = 1 ] && [ -w /dev/cpu_dma_latency ] && dmas=(0 1)
	if [ -n "$sns" ]; then
		start_bg "$sns" taskset -c $SRV_CPU "$BENCH" run -q --listen "$addr:$port"
		hv_peer=(--peer "$addr:$port")
		hv_pin=(taskset -c $CLI_CPU)
	fi
	start_bg "$sns" taskset -c $SRV_CPU sockperf server --tcp -i "$addr" -p $((port + 1))
	start_bg "$sns" taskset -c $SRV_CPU qperf -lp $((port + 2))
	local lat_ms; lat_ms=$(python3 -c "print(int($SECS*1000/5))")
	for dma in "${dmas[@]}"; do
		local hp50=() hmean=() sp50=() savg=() qlat=() op50=() omean=()
		for r in $(seq "$ROUNDS"); do
			# odd rounds hvtax first, even rounds the peers first: a drift in time cancels out
			local order=(hv peers)
			((r % 2)) || order=(peers hv)
			for who in "${order[@]}"; do
				[ "$dma" = 1 ] && hold_dma
				if [ "$who" = hv ]; then
					inns "$cns" "${hv_pin[@]}" "$BENCH" run -q -b net.tcp_lat "${hv_peer[@]}" -p size="$SIZE" \
						-p addr="$addr" -p dma_latency=0 -r 1 -n 5 -w 200ms -d "${lat_ms}ms" \
						-o "$T/hv.jsonl" 2>>"$T/hv.err" || true
					hp50+=("$(hv_metric "$T/hv.jsonl" lat_p50)") hmean+=("$(hv_metric "$T/hv.jsonl" lat_mean)")
				else
					inns "$cns" taskset -c $CLI_CPU sockperf ping-pong --tcp -i "$addr" -p $((port + 1)) -m "$SIZE" \
						-t "$SECS" >"$T/sp.out" 2>&1 || true
					sp50+=("$(awk '/percentile 50.000 =/ {print $NF/1e6}' "$T/sp.out")")
					savg+=("$(sed -n 's/.*avg-latency=\([0-9.]*\).*/\1/p' "$T/sp.out" | awk '{print $1/1e6}')")
					inns "$cns" taskset -c $CLI_CPU qperf "$addr" -lp $((port + 2)) -m "$SIZE" -t "$SECS" tcp_lat \
						>"$T/qp.out" 2>&1 || true
					qlat+=("$(awk '/latency/ {v=$3; u=$4; s=(u=="ns")?1e-9:(u=="us")?1e-6:(u=="ms")?1e-3:1; print v*s}' "$T/qp.out")")
				fi
				[ "$dma" = 1 ] && drop_dma
			done
			# with the hold: hvtax once more holding it itself (-p dma_latency=1), in the same round
			if [ "$dma" = 1 ]; then
				inns "$cns" "${hv_pin[@]}" "$BENCH" run -q -b net.tcp_lat "${hv_peer[@]}" -p size="$SIZE" \
					-p addr="$addr" -p dma_latency=1 -r 1 -n 5 -w 200ms -d "${lat_ms}ms" \
					-o "$T/hvd.jsonl" 2>>"$T/hv.err" || true
				op50+=("$(hv_metric "$T/hvd.jsonl" lat_p50)") omean+=("$(hv_metric "$T/hvd.jsonl" lat_mean)")
			fi
		done
		python3 - "$name" "$dma" "${hp50[*]}" "${hmean[*]}" "${sp50[*]}" "${savg[*]}" "${qlat[*]}" \
			"${op50[*]:-}" "${omean[*]:-}" <<'PY'
import sys
from cmpstats import fl, med, ratio_line
name, dma = sys.argv[1], sys.argv[2]
hp50, hmean, sp50, savg, qlat, op50, omean = (fl(a) for a in sys.argv[3:10])
us = lambda s: "%8.2f" % (s * 1e6)
best = [min(x for x in (s, q) if x == x) if (s == s or q == q) else float("nan") for s, q in zip(savg, qlat)]
print(f"{name:9s} lat  dma_latency={dma}  hvtax p50 {us(med(hp50))} mean {us(med(hmean))} | sockperf p50 "
      f"{us(med(sp50))} avg {us(med(savg))} | qperf {us(med(qlat))} us  (goal <= 1.05)")
print(f"{'':9s}      p50/sockperf {ratio_line(hp50, sp50)}")
print(f"{'':9s}      mean/best    {ratio_line(hmean, best)}")
if op50:
    print(f"{'':9s}      hvtax holding it itself (-p dma_latency=1): p50 {us(med(op50))} mean {us(med(omean))} us;"
          f" p50/sockperf {ratio_line(op50, sp50)}")
PY
	done
	start_bg "$sns" taskset -c $SRV_CPU iperf3 -s -p $((port + 3))
	local hbw=() ibw=()
	for r in $(seq "$BW_ROUNDS"); do
		local order=(hv ip)
		((r % 2)) || order=(ip hv)
		for who in "${order[@]}"; do
			if [ "$who" = hv ]; then
				inns "$cns" "${hv_pin[@]}" "$BENCH" run -q -b net.tcp_bw "${hv_peer[@]}" -p size="$BW_SIZE" \
					-p addr="$addr" -r 1 -n 5 -w 200ms -d "${lat_ms}ms" -o "$T/hb.jsonl" 2>>"$T/hv.err" || true
				hbw+=("$(hv_metric "$T/hb.jsonl" bw)")
			else
				inns "$cns" taskset -c $CLI_CPU iperf3 -c "$addr" -p $((port + 3)) -t "$SECS" -l "$bw_bytes" -J \
					>"$T/ip.json" 2>&1 || true
				ibw+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]/8)' "$T/ip.json" 2>/dev/null || echo nan)")
			fi
		done
	done
	python3 - "$name" "${hbw[*]}" "${ibw[*]}" <<'PY'
import sys
from cmpstats import fl, med, ratio_line
name = sys.argv[1]
h, i = (fl(a) for a in sys.argv[2:4])
print(f"{name:9s} bw   hvtax {med(h)/1e9:7.3f} GB/s | iperf3 {med(i)/1e9:7.3f} GB/s  (goal >= 0.95)")
print(f"{'':9s}      hvtax/iperf3 {ratio_line(h, i)}")
PY
	stop_bg
}

echo "compare-net: size $SIZE B (latency), $BW_SIZE per write (bandwidth), ${SECS}s per tool, $ROUNDS rounds ($BW_ROUNDS for bandwidth)," \
	"servers on CPU $SRV_CPU, clients on CPU $CLI_CPU; $(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo '?') cpuidle"
run_path loopback "" "" 127.0.0.1
if [ "$VETH" = 1 ]; then
	if ip netns add "$NA" 2>/dev/null && ip netns add "$NB" && ip link add "$VA" type veth peer name "$VB"; then
		ip link set "$VA" netns "$NA"
		ip link set "$VB" netns "$NB"
		ip -n "$NA" addr add 10.77.0.1/24 dev "$VA"
		ip -n "$NB" addr add 10.77.0.2/24 dev "$VB"
		for ns in "$NA" "$NB"; do ip -n "$ns" link set lo up; done
		ip -n "$NA" link set "$VA" up
		ip -n "$NB" link set "$VB" up
		run_path veth "$NA" "$NB" 10.77.0.1
	else
		echo "veth      skipped: cannot create network namespaces (needs root)"
	fi
fi
