#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hvtax gate: a run against itself passes (exit 0) with JUnit and Markdown written; a baseline
# from an exported file works; missing runs, no common series and bad thresholds exit 2.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
cat >"$T/s.ini" <<'INI'
[suite]
name = e2e-gate
rounds = 3
reps = 3
duration = 30ms
warmup = 10ms
[null.loop]
INI
cat >"$T/other.ini" <<'INI'
[suite]
name = e2e-other
rounds = 2
reps = 2
duration = 20ms
warmup = 0ms
[null.loop]
batch = 7
INI
expect_rc 0 "$HVTAX" run -q --suite "$T/s.ini" --label base
expect_rc 0 "$HVTAX" run -q --suite "$T/other.ini" --label other

# against itself: every tax is exactly 0, nothing regresses
expect_rc 0 "$HVTAX" gate --baseline base --candidate base --junit "$T/j.xml" --markdown "$T/g.md"
grep -q "passed" "$T/out" || fail "gate summary says passed"
python3 - "$T/j.xml" <<'PY' || fail "JUnit XML of a passing gate"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall(".//testcase")
assert len(cases) == 2, len(cases)            # null.loop: ops and op_time
assert not root.findall(".//failure"), "no failure expected"
assert root.get("failures") == "0"
PY
grep -q "no regression" "$T/g.md" || fail "Markdown verdict"
grep -q '| verdict | case | metric |' "$T/g.md" || fail "Markdown table"

# the baseline as an exported JSON Lines file (kept in a repository, say)
expect_rc 0 "$HVTAX" export base -o "$T/base.jsonl"
before=$(sql "select count(*) from runs")
expect_rc 0 "$HVTAX" gate --baseline "$T/base.jsonl" --candidate base
[ "$(sql "select count(*) from runs")" = "$before" ] || fail "a file baseline must not be imported into the database"

# per-metric thresholds file
printf '[thresholds]\ndefault = 5%%\nnull.loop:ops = 50%%\n' >"$T/thr.ini"
expect_rc 0 "$HVTAX" gate --baseline base --candidate base --thresholds "$T/thr.ini"
printf '[thresholds]\nnull.loop:ops = fast\n' >"$T/bad.ini"
expect_rc 2 "$HVTAX" gate --baseline base --candidate base --thresholds "$T/bad.ini"
grep -q "bad.ini:2" "$T/err" || fail "bad thresholds file: file and line named"

# data errors: exit 2
expect_rc 2 "$HVTAX" gate --baseline base --candidate nosuchrun
grep -q "nosuchrun" "$T/err" || fail "missing run is named"
expect_rc 2 "$HVTAX" gate --baseline base --candidate other
grep -q "no common case" "$T/err" || fail "no common series"
expect_rc 2 "$HVTAX" gate --baseline base
expect_rc 2 "$HVTAX" gate --baseline base --candidate base --missing sometimes
# series missing from the candidate fail on request
expect_rc 0 "$HVTAX" gate --baseline base --candidate base --missing fail
exit 0
