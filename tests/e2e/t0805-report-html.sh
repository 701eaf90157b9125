#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hvtax report: every format from real runs; the HTML renders in headless Chromium with its
# charts present and non-empty (svg elements holding paths); a screenshot is saved
# (to $HVT_ARTIFACTS/report.png when set, else kept in the test's temporary directory).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
cat >"$T/s.ini" <<'INI'
[suite]
name = e2e-report
rounds = 3
reps = 2
duration = 30ms
warmup = 10ms
[null.loop]
batch = 10,100,1000
INI
expect_rc 0 "$HVTAX" run -q --suite "$T/s.ini" --label base
expect_rc 0 "$HVTAX" run -q --suite "$T/s.ini" --label cand

for f in text md csv json openmetrics; do
	expect_rc 0 "$HVTAX" report base cand --format "$f" -o "$T/r.$f"
done
grep -q "tax of cand against base" "$T/r.text" || fail "text report"
head -2 "$T/r.csv" | grep -q '^run_id,run_name,target,case,label,bench,metric,unit,' || fail "CSV header"
grep -q '^# TYPE hvtax_median_ops_per_second gauge$' "$T/r.openmetrics" || fail "OpenMetrics TYPE"
grep -q '^# UNIT hvtax_median_seconds seconds$' "$T/r.openmetrics" || fail "OpenMetrics UNIT"
tail -1 "$T/r.openmetrics" | grep -q '^# EOF$' || fail "OpenMetrics EOF"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["type"]=="report" and len(d["runs"])==2 and len(d["comparisons"])==1' "$T/r.json" || fail "JSON report"
expect_rc 2 "$HVTAX" report base --format pdf
expect_rc 2 "$HVTAX" report nosuchrun

# deterministic mode: the same data gives the same bytes
expect_rc 0 "$HVTAX" report base cand --format html --deterministic -o "$T/d1.html"
expect_rc 0 "$HVTAX" report base cand --format html --deterministic -o "$T/d2.html"
cmp -s "$T/d1.html" "$T/d2.html" || fail "--deterministic output differs between two runs"

expect_rc 0 "$HVTAX" report base cand --format html -o "$T/r.html"
if ! grep -q '<svg' "$T/r.html"; then
	grep -q 'built without cairo' "$T/r.html" || fail "no charts and no reason"
	skip "hvtax built without cairo: no charts to render"
fi
# charts as files on request
expect_rc 0 "$HVTAX" report base cand --format text -o /dev/null --charts "$T/charts" --chart-format png
ls "$T"/charts/*.png >/dev/null 2>&1 || fail "--charts wrote no PNG"

CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || skip "chromium not installed (scripts/install-deps.sh installs it)"
chrome() { timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
	--user-data-dir="$T/chrome" "$@" 2>>"$T/chrome.log"; }
chrome --dump-dom "file://$T/r.html" >"$T/dom.html" || fail "chromium could not load the report"
python3 - "$T/dom.html" <<'PY' || fail "rendered DOM lacks charts"
import re, sys
dom = open(sys.argv[1]).read()
svgs = re.findall(r"<svg\b.*?</svg>", dom, re.S)
assert len(svgs) >= 2, "want a tax chart and a sweep chart, got %d svg" % len(svgs)
for s in svgs:
    assert len(re.findall(r"<path\b", s)) >= 5, "an svg with almost no paths"
assert 'id="fingerprints"' in dom and 'id="methodology"' in dom and 'id="raw"' in dom
assert "data:application/x-ndjson;base64," in dom
PY
chrome --screenshot="$T/report.png" --window-size=1400,3000 "file://$T/r.html" >/dev/null ||
	fail "chromium screenshot failed"
[ -s "$T/report.png" ] || fail "empty screenshot"
if [ -n "${HVT_ARTIFACTS:-}" ]; then
	mkdir -p "$HVT_ARTIFACTS" && cp "$T/report.png" "$T/r.html" "$HVT_ARTIFACTS/"
fi
exit 0
