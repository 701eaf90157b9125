#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# mem.latency with pages=2m and require_huge=1: runs on huge pages when any can be had, else a skip with the reason.
set -euo pipefail
B=${HVT_BUILD:-build}/hvtax-bench
[ -x "$B" ] || { echo "skip: $B not built" >&2; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rc=0
"$B" run -q -b mem.latency -p size=4MiB -p pages=2m -p require_huge=1 \
	--duration 50ms --reps 2 --rounds 1 >"$tmp/out.jsonl" || rc=$?
python3 - "$tmp/out.jsonl" "$rc" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rc = int(sys.argv[2])
res = [r for r in recs if r["type"] == "result"]
skip = [r for r in recs if r["type"] == "skip"]
if res:
    for s in res[0]["samples"]:
        p = s["extra"]["pages"]
        if p["pages_got"] not in ("hugetlb", "thp") or p["huge_pages"] < 1:
            print("FAIL: ran without huge pages: %s" % p); sys.exit(1)
    if rc != 0:
        print("FAIL: exit %d" % rc); sys.exit(1)
    print("ok: ran on %s, %d huge pages" % (p["pages_got"], p["huge_pages"]))
elif skip:
    why = skip[0]["reason"]
    if "huge" not in why:
        print("FAIL: skip reason does not say why: %r" % why); sys.exit(1)
    print("ok: no huge pages here, skipped: %s" % why)
else:
    print("FAIL: neither a result nor a skip: %s" % recs); sys.exit(1)
PY
