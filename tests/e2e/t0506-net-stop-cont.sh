#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Both ends stopped and continued mid-run (SIGSTOP, SIGCONT: a frozen cgroup, a
# debugger, a job-control shell): Linux then fails recv/send on sockets with a
# timeout with EINTR although no handler runs (signal(7)). The case goes on;
# a make run lost a host round of net.tcp_lat to it. Latency and bandwidth,
# self-contained (the forked serving end is stopped too) and --listen/--peer.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not found"

stop_cont() { # after $1 s, stop every hvtax-bench process under this test's marker, then continue them
	sleep "$1"
	local pids; pids=$(pgrep -f "hvtax-bench run .*$T" || true)
	[ -n "$pids" ] || return 0
	kill -STOP $pids 2>/dev/null || true
	sleep 0.3
	kill -CONT $pids 2>/dev/null || true
}
check() { # file bench n
	python3 - "$1" "$2" "$3" <<'PY' || fail "$2: not every repetition measured after SIGSTOP/SIGCONT"
import json, sys
res = [json.loads(l) for l in open(sys.argv[1])]
out = [r for r in res if r["type"] == "result" and r["bench"] == sys.argv[2]]
err = [r for r in res if r["type"] == "error"]
assert not err, err
assert len(out) == 1 and len([s for s in out[0]["samples"] if not s["warmup"]]) == int(sys.argv[3]), out
assert res[-1]["type"] == "end" and res[-1]["status"] == "ok"
PY
}

for b in net.tcp_lat net.tcp_bw; do
	stop_cont 0.8 &
	sc=$!
	expect_rc 0 "$BENCH" run -q -b "$b" -r 1 -n 4 -d 300ms -w 0 -o "$T/self.$b.jsonl"
	wait $sc
	check "$T/self.$b.jsonl" "$b" 4
done

port=$((20000 + RANDOM % 20000))
start_listen "127.0.0.1:$port"
for b in net.tcp_lat net.tcp_bw; do
	stop_cont 0.8 &
	sc=$!
	expect_rc 0 "$BENCH" run -q -b "$b" --peer "127.0.0.1:$port" -r 1 -n 4 -d 300ms -w 0 -o "$T/peer.$b.jsonl"
	wait $sc
	check "$T/peer.$b.jsonl" "$b" 4
done
exit 0
