#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Known answer, latency: a netem delay adds a known round-trip time; hvtax must measure it
# (net.tcp_lat p50 grows by 2 x 1 ms, +-15%). Skipped where the kernel has no netem.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
command -v ip >/dev/null && command -v tc >/dev/null || skip "iproute2 (ip, tc) missing"
[ "$(id -u)" = 0 ] || skip "not root: cannot create network namespaces"
"$BENCH" list | grep -q '^net\.tcp_lat ' || skip "net family not built"
DELAY_MS=1 TOL=0.15

ns="hvtax-kat-$$"
ip netns add "$ns" 2>"$T/ns.err" || skip "cannot create a network namespace: $(cat "$T/ns.err")"
at_exit 'ip netns del "$ns"'
ip -n "$ns" link set lo up
ip netns exec "$ns" "$BENCH" run -q -b net.tcp_lat -p addr=127.0.0.1 --rounds 3 --reps 3 \
	--duration 200ms --warmup 50ms -o "$T/base.jsonl" || fail "net.tcp_lat failed"
tc -n "$ns" qdisc add dev lo root netem delay "${DELAY_MS}ms" 2>"$T/tc.err" ||
	skip "netem not available in this kernel: $(cat "$T/tc.err")"
ip netns exec "$ns" "$BENCH" run -q -b net.tcp_lat -p addr=127.0.0.1 --rounds 3 --reps 3 \
	--duration 200ms --warmup 50ms -o "$T/delay.jsonl" || fail "net.tcp_lat with netem failed"
expect_rc 0 "$HVTAX" import "$T/base.jsonl" --label kat-lat-base
expect_rc 0 "$HVTAX" import "$T/delay.jsonl" --label kat-lat-delay
expect_rc 0 "$HVTAX" compare kat-lat-base kat-lat-delay --format json
cp "$T/out" "$T/cmp.json"
python3 - "$T/cmp.json" "$DELAY_MS" "$TOL" <<'PY' || fail "measured latency is not the injected delay"
import json, sys
d = json.load(open(sys.argv[1]))
delay, tol = float(sys.argv[2]) * 1e-3, float(sys.argv[3])
rows = [x for x in d["rows"] if x["bench"] == "net.tcp_lat" and x["metric"].endswith("p50")]
assert rows, "no p50 latency metric"
r = rows[0]
added = r["median_cand"] - r["median_base"]
# a ping-pong round trip crosses the delayed loopback twice
print("known answer netem: injected %.3f ms per round trip, measured %.3f ms"
      % (2 * delay * 1e3, added * 1e3), file=sys.stderr)
assert abs(added / (2 * delay) - 1) <= tol, added
PY
cat "$T/err" >&2
exit 0
