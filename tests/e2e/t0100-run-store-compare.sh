#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run -> store -> compare on this host; a run compared with itself has a tax of exactly 0;
# export -> import round trip keeps every sample.
. "$(dirname "$0")/lib.sh"
cat >"$T/s.ini" <<'INI'
[suite]
name = e2e
rounds = 3
reps = 2
duration = 30ms
warmup = 10ms
[null.loop]
batch = 10,1000
INI
expect_rc 0 "$HVTAX" run -q --suite "$T/s.ini" --label base
id1=$(cat "$T/out")
expect_rc 0 "$HVTAX" run -q --suite "$T/s.ini" --label cand
[ "$(sql "select count(*) from runs where status='ok'")" = 2 ] || fail "two ok runs expected"
# 2 cases x 3 rounds x (2 reps + 1 warm-up) x 2 metrics
[ "$(sql "select count(*) from samples where run_id=$id1")" = 36 ] || fail "sample count"
[ "$(sql "select count(*) from samples where run_id=$id1 and warmup=0")" = 24 ] || fail "timed sample count"
expect_rc 0 "$HVTAX" compare base cand
grep -q 'null.loop?batch=10' "$T/out" || fail "compare lists the cases"
expect_rc 0 "$HVTAX" compare base base --format json
python3 - "$T/out" <<'PY' || fail "self-compare tax is not exactly 0"
import json, sys
d = json.load(open(sys.argv[1]))
rows = d.get("rows") or d.get("metrics") or []
assert rows, "no rows"
for r in rows:
    assert r["tax"] == 0.0, r
    assert r["ratio"] == 1.0, r
PY
expect_rc 0 "$HVTAX" export base -o "$T/base.jsonl"
expect_rc 0 "$HVTAX" import "$T/base.jsonl" --label again
expect_rc 0 "$HVTAX" compare base again --format json
python3 - "$T/out" <<'PY' || fail "exported and imported run differ"
import json, sys
d = json.load(open(sys.argv[1]))
rows = d.get("rows") or d.get("metrics") or []
assert len(rows) == 4, len(rows)
for r in rows:
    assert r["tax"] == 0.0 and r["n_base"] == r["n_cand"], r
PY
expect_rc 0 "$HVTAX" runs
grep -q again "$T/out" || fail "runs lists the imported run"
expect_rc 2 "$HVTAX" compare base nosuchlabel
grep -q "nosuchlabel" "$T/err" || fail "missing run is named"
exit 0
