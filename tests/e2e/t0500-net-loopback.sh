#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# net on loopback: self-contained cases (server thread), --listen/--peer, size sweep ends,
# the cpu_dma_latency hold, rdma skipped with its reason, and a suite stored by hvtax.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not found"

# self-contained: both ends in one process, smallest and largest sizes of the sweep
expect_rc 0 "$BENCH" run -q -b net.tcp_lat -p size=2,4MiB -r 1 -n 2 -d 100ms -w 20ms -o "$T/self.jsonl"
expect_rc 0 "$BENCH" run -q -b net.tcp_bw -p size=64KiB -r 1 -n 2 -d 100ms -w 20ms -o "$T/bw.jsonl"
python3 - "$T/self.jsonl" "$T/bw.jsonl" <<'PY' || fail "self-contained results"
import json, sys
res = [json.loads(l) for f in sys.argv[1:] for l in open(f)]
out = [r for r in res if r["type"] == "result"]
assert len(out) == 3, len(out)
for r in out:
    timed = [s for s in r["samples"] if not s["warmup"]]
    assert len(timed) == 2, r["case"]
    for s in timed:
        v, x = s["values"], s["extra"]
        assert x["mode"] == "self" and x["peer"].startswith("127.0.0.1:"), x
        if r["bench"] == "net.tcp_lat":
            assert 0 < v["lat_min"] <= v["lat_p50"] <= v["lat_p99"] <= v["lat_p999"] <= v["lat_max"], v
            assert v["lat_min"] <= v["lat_mean"] <= v["lat_max"], v
            assert x["round_trips"] >= 1 and x["rtt_hist"]["count"] == x["round_trips"], x
            assert x["cpu_dma_latency_held"] is False
        else:
            assert v["bw"] > 1e6, v
PY

# the latency request: held and recorded when the device can be opened
if [ -w /dev/cpu_dma_latency ]; then
	expect_rc 0 "$BENCH" run -q -b net.tcp_lat -p dma_latency=1 -r 1 -n 1 -d 100ms -w 0 -o "$T/dma.jsonl"
	grep -q '"cpu_dma_latency_held":true' "$T/dma.jsonl" || fail "dma_latency=1 not recorded as held"
fi

# rdma: skipped with the reason where there is no device (never faked)
if "$BENCH" list | grep -q '^net.rdma_send_lat' && [ -z "$(ls /sys/class/infiniband 2>/dev/null)" ]; then
	expect_rc 77 "$BENCH" run -q -b net.rdma_send_lat,net.rdma_write_lat,net.rdma_write_bw -r 1 -n 1 -d 50ms
	[ "$(grep -c '"type":"skip"' "$T/out")" -eq 3 ] || fail "rdma cases not skipped"
	grep -q 'no RDMA device (ibv_get_device_list found none)' "$T/out" || fail "rdma skip reason"
fi

# two processes over loopback: --listen serves, --peer measures
port=$((20000 + RANDOM % 20000))
start_listen "127.0.0.1:$port"
expect_rc 0 "$BENCH" run -q -b net.tcp_lat,net.tcp_bw --peer "127.0.0.1:$port" -p size=1KiB -r 2 -n 1 -d 100ms -w 0 -o "$T/peer.jsonl"
[ "$(grep -c '"type":"result"' "$T/peer.jsonl")" -eq 4 ] || fail "peer mode: wanted 4 results"
grep -q '"mode":"peer"' "$T/peer.jsonl" || fail "peer mode not recorded"
kill -TERM $srv
wait $srv || fail "server exited $? on SIGTERM"
grep -q '"role":"server".*"sessions":4' "$T/srv.jsonl" || { cat "$T/srv.jsonl" "$T/srv.err" >&2; fail "server did not count 4 sessions"; }

# a suite run by hvtax: stored with every sample
if [ -x "$HVTAX" ]; then
	printf '[suite]\nrounds = 1\nreps = 2\nduration = 100ms\nwarmup = 0\n[net.tcp_lat]\nsize = 64\n[net.tcp_bw]\nsize = 128KiB\n' >"$T/net.ini"
	expect_rc 0 "$HVTAX" run -q --suite "$T/net.ini" --label net
	[ "$(sql "select count(*) from samples s join runs r on r.id = s.run_id where r.label = 'net'")" -ge 4 ] ||
		fail "suite samples not stored"
fi
exit 0
