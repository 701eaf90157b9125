#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A peer that disconnects mid-run: an error record, exit status 1, and what was
# measured before the disconnect is kept (and stored by hvtax import).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not found"
port=$((20000 + RANDOM % 20000))
start_listen "127.0.0.1:$port"
disown $srv 2>/dev/null || true # it is killed on purpose: no job message

# 30 repetitions of 100 ms; the server dies about a second in
( sleep 1.2; kill -9 $srv ) &
killer=$!
expect_rc 1 "$BENCH" run -q -b net.tcp_lat --peer "127.0.0.1:$port" -r 1 -n 30 -d 100ms -w 0 -o "$T/cl.jsonl"
wait $killer
grep -q 'peer closed the connection\|Connection reset' "$T/err" || { cat "$T/err" >&2; fail "no disconnect message"; }
python3 - "$T/cl.jsonl" <<'PY' || fail "partial results"
import json, sys
res = [json.loads(l) for l in open(sys.argv[1])]
out = [r for r in res if r["type"] == "result"]
err = [r for r in res if r["type"] == "error"]
assert len(out) == 1 and len(err) == 1, (len(out), len(err))
n = len(out[0]["samples"])
assert 3 <= n < 30, n
assert err[0]["errno"] in (104, 32), err[0]
assert res[-1]["type"] == "end" and res[-1]["status"] == "failed"
PY
[ -x "$HVTAX" ] || fail "hvtax not built"
"$HVTAX" import "$T/cl.jsonl" --label cut >"$T/imp.out" 2>&1
id=$(sql "select id from runs where label='cut'")
[ -n "$id" ] || { cat "$T/imp.out" >&2; fail "run not imported"; }
[ "$(sql "select status from runs where id=$id")" = failed ] || fail "status"
[ "$(sql "select count(*) from samples where run_id=$id")" -ge 3 ] || fail "samples before the disconnect lost"
[ "$(sql "pragma integrity_check")" = ok ] || fail "integrity"
exit 0
