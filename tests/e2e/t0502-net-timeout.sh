#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A peer that never answers: the case fails cleanly after `timeout` (connect or HELLO),
# exit status 1, an error record, and the import stores a failed run with nothing half-done.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not found"

# a listener that accepts (the kernel does) but never says a word
port=$((20000 + RANDOM % 20000))
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); print("up", flush=True); time.sleep(60)' "$port" >"$T/mute.out" &
mute=$!
at_exit "kill $mute 2>/dev/null; wait $mute 2>/dev/null"
for _ in $(seq 50); do grep -qs up "$T/mute.out" && break; sleep 0.1; done

t0=$(date +%s%N)
expect_rc 1 "$BENCH" run -q -b net.tcp_lat --peer "127.0.0.1:$port" -p timeout=1s -r 2 -n 1 -d 100ms -o "$T/mute.jsonl"
dt=$((($(date +%s%N) - t0) / 1000000))
[ "$dt" -lt 6000 ] || fail "timeout took ${dt} ms for two rounds of timeout=1s"
grep -q 'did not answer HELLO (timed out)' "$T/err" || { cat "$T/err" >&2; fail "no timeout message"; }
[ "$(grep -c '"type":"error"' "$T/mute.jsonl")" -eq 2 ] || fail "wanted one error record per round"
grep -q '"errno":110' "$T/mute.jsonl" || fail "errno ETIMEDOUT not recorded"
grep -q '"type":"result"' "$T/mute.jsonl" && fail "a result was recorded for a silent peer"
tail -1 "$T/mute.jsonl" | grep -q '"status":"failed"' || fail "end record"

# nobody there at all: refused at once
expect_rc 1 "$BENCH" run -q -b net.tcp_bw --peer "127.0.0.1:1" -p timeout=1s -r 1 -n 1 -d 50ms
grep -q "cannot connect to '127.0.0.1:1'" "$T/err" || fail "refused connect message"

# a bad --peer is a usage problem, not a hang
expect_rc 2 "$BENCH" run -q -b net.tcp_lat --peer "nohostport" -r 1 -n 1 -d 50ms
grep -q "is not HOST:PORT" "$T/err" || fail "bad --peer not explained"

# the stored run: failed, its errors kept, no sample, database consistent
[ -x "$HVTAX" ] || fail "hvtax not built"
"$HVTAX" import "$T/mute.jsonl" --label mute >"$T/imp.out" 2>&1
id=$(sql "select id from runs where label='mute'")
[ -n "$id" ] || { cat "$T/imp.out" >&2; fail "run not imported"; }
[ "$(sql "select status from runs where id=$id")" = failed ] || fail "status"
[ "$(sql "select count(*) from samples where run_id=$id")" -eq 0 ] || fail "samples stored for a silent peer"
[ "$(sql "select count(*) from errors where run_id=$id")" -eq 2 ] || fail "errors not stored"
[ "$(sql "pragma integrity_check")" = ok ] || fail "integrity"
exit 0
