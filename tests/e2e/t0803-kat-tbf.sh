#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Known answer, network: a tbf rate limit caps TCP bandwidth; hvtax must measure the rate
# (+-15%) and a tax of +100% (+-15 points) between a 400 and a 200 Mbit/s limit.
# The limit sits on the loopback of a private network namespace, so both ends of
# net.tcp_bw's self-contained mode go through it and nothing else on the machine does.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
command -v ip >/dev/null && command -v tc >/dev/null || skip "iproute2 (ip, tc) missing"
[ "$(id -u)" = 0 ] || skip "not root: cannot create network namespaces"
"$BENCH" list | grep -q '^net\.tcp_bw ' || skip "net family not built"
HI=400 LO=200 TOL_ABS=0.15 TOL_TAX=0.15

ns="hvtax-kat-$$"
ip netns add "$ns" 2>"$T/ns.err" || skip "cannot create a network namespace: $(cat "$T/ns.err")"
at_exit 'ip netns del "$ns"'
ip -n "$ns" link set lo up
run_at() { # rate_mbit output
	tc -n "$ns" qdisc replace dev lo root tbf rate "${1}mbit" burst 512kb latency 50ms ||
		skip "tbf qdisc not available: cannot rate-limit"
	ip netns exec "$ns" "$BENCH" run -q -b net.tcp_bw -p addr=127.0.0.1 --rounds 3 --reps 3 \
		--duration 300ms --warmup 100ms -o "$2" || fail "net.tcp_bw at ${1}mbit failed"
}
run_at "$HI" "$T/hi.jsonl"
run_at "$LO" "$T/lo.jsonl"
expect_rc 0 "$HVTAX" import "$T/hi.jsonl" --label kat-net-hi
expect_rc 0 "$HVTAX" import "$T/lo.jsonl" --label kat-net-lo
expect_rc 0 "$HVTAX" compare kat-net-hi kat-net-lo --format json
cp "$T/out" "$T/cmp.json"
python3 - "$T/cmp.json" "$HI" "$LO" "$TOL_ABS" "$TOL_TAX" <<'PY' || fail "measured bandwidth is not the injected rate"
import json, sys
d = json.load(open(sys.argv[1]))
hi, lo, tabs, ttax = (float(a) for a in sys.argv[2:6])
r = [x for x in d["rows"] if x["bench"] == "net.tcp_bw" and x["metric"] == "bw"][0]
b, c = r["median_base"] * 8 / 1e6, r["median_cand"] * 8 / 1e6
print("known answer tbf: rates %d and %d Mbit/s, measured %.0f and %.0f Mbit/s; injected tax "
      "%+.1f%%, measured %+.1f%% [%+.1f%%, %+.1f%%]" % (hi, lo, b, c, (hi / lo - 1) * 100,
      r["tax"] * 100, r["tax_lo"] * 100, r["tax_hi"] * 100), file=sys.stderr)
assert abs(b / hi - 1) <= tabs, "%.0f Mbit/s vs %d" % (b, hi)
assert abs(c / lo - 1) <= tabs, "%.0f Mbit/s vs %d" % (c, lo)
assert abs(r["tax"] - (hi / lo - 1)) <= ttax, "tax %.3f" % r["tax"]
PY
cat "$T/err" >&2
exit 0
