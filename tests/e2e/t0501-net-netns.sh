#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net between two hosts on one machine: two network namespaces joined by a veth pair,
# hvtax-bench --listen in one and --peer in the other.
. "$(dirname "$0")/lib.sh"
command -v ip >/dev/null || skip "ip (iproute2) not found"
command -v python3 >/dev/null || skip "python3 not found"
na=hvt-na-$$ nb=hvt-nb-$$ va=hvta$$ vb=hvtb$$
ip netns add "$na" 2>"$T/ns.err" || skip "cannot create network namespaces: $(cat "$T/ns.err")"
at_exit "ip netns del $na"
ip netns add "$nb" || fail "second namespace"
at_exit "ip netns del $nb"
ip link add "$va" type veth peer name "$vb" 2>"$T/ns.err" || skip "cannot create a veth pair: $(cat "$T/ns.err")"
ip link set "$va" netns "$na" && ip link set "$vb" netns "$nb" || fail "moving veth ends"
net=10.$((100 + RANDOM % 100)).$((RANDOM % 250))
ip -n "$na" addr add "$net.1/24" dev "$va" && ip -n "$nb" addr add "$net.2/24" dev "$vb" || fail "addresses"
for ns in "$na" "$nb"; do ip -n "$ns" link set lo up; done
ip -n "$na" link set "$va" up && ip -n "$nb" link set "$vb" up || fail "links up"

start_listen "$net.1:7000" ip netns exec "$na"
grep -q listening "$T/srv.err" || { cat "$T/srv.err" >&2; fail "server did not start"; }

expect_rc 0 ip netns exec "$nb" "$BENCH" run -q -b net.tcp_lat,net.tcp_bw --peer "$net.1:7000" \
	-p size=64,64KiB -r 1 -n 2 -d 150ms -w 50ms -o "$T/cl.jsonl"
python3 - "$T/cl.jsonl" "$net.1:7000" <<'PY' || fail "results over the veth pair"
import json, sys
res = [json.loads(l) for l in open(sys.argv[1])]
out = [r for r in res if r["type"] == "result"]
assert len(out) == 4, len(out)
assert not [r for r in res if r["type"] == "error"]
for r in out:
    for s in r["samples"]:
        assert s["extra"]["mode"] == "peer" and s["extra"]["peer"] == sys.argv[2], s["extra"]
        v = s["values"]
        if r["bench"] == "net.tcp_lat":
            assert 0 < v["lat_min"] <= v["lat_p50"] <= v["lat_max"], v
        else:
            assert v["bw"] > 1e6, v
PY
# the server honoured the client's parameters (one session per case)
kill -TERM $srv
wait $srv || fail "server exited $? on SIGTERM"
[ "$(grep -c 'session from' "$T/srv.err")" -eq 4 ] || { cat "$T/srv.err" >&2; fail "sessions"; }
grep -q 'net.tcp_bw size=65536: done' "$T/srv.err" || fail "server did not run the client's case"
exit 0
