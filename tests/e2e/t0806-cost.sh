#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hvtax cost on real runs: the shipped prices and job profiles load, every profile is priced,
# unmeasured shares are said so, RUN@ENV picks the price, and bad inputs exit 2.
. "$(dirname "$0")/lib.sh"
SRC=${HVT_SRCDIR:-$PWD}
cat >"$T/s.ini" <<'INI'
[suite]
name = e2e-cost
rounds = 2
reps = 2
duration = 30ms
warmup = 10ms
[null.loop]
INI
expect_rc 0 "$HVTAX" run -q --suite "$T/s.ini" --label base
expect_rc 0 "$HVTAX" run -q --suite "$T/s.ini" --label cand
# the shipped profiles, from the project root
expect_rc 0 "$HVTAX" cost --baseline base@host --candidate cand@vm --prices "$SRC/configs/prices.ini" \
	--job "$SRC/configs/jobs/llm-training.ini" --job "$SRC/configs/jobs/inference-serving.ini" \
	--job "$SRC/configs/jobs/oltp-database.ini" --job "$SRC/configs/jobs/ci-build-farm.ini"
for j in llm-training inference-serving oltp-database ci-build-farm; do
	grep -q "^job $j " "$T/out" || fail "profile $j not priced"
done
grep -q "unmeasured: counted at tax 0" "$T/out" || fail "unmeasured shares are not said"
grep -q "break-even utilization" "$T/out" || fail "no break-even utilization"
grep -q "base \[host\]" "$T/out" && grep -q "cand \[vm\]" "$T/out" || fail "RUN@ENV prices"
# a job whose share is measured: null.loop at the measured tax
printf '[job]\nbaseline_hours = 10\n[shares]\nnull.loop:ops = 50%%\n' >"$T/job.ini"
expect_rc 0 "$HVTAX" cost --baseline base@host --candidate cand@host --prices "$SRC/configs/prices.ini" --job "$T/job.ini"
grep -q "null.loop:ops .* tax " "$T/out" || fail "measured share shows its tax"
# errors: no price for the run, bad job file, shares over 100%
printf '[prices]\ncurrency = EUR\n[env other]\non_demand = 1\n' >"$T/p.ini"
expect_rc 2 "$HVTAX" cost --baseline base --candidate cand --prices "$T/p.ini" --job "$T/job.ini"
grep -q "no price for run" "$T/err" || fail "missing price is explained"
printf '[job]\nbaseline_hours = 1\n[shares]\ncpu = 80%%\nio = 30%%\n' >"$T/over.ini"
expect_rc 2 "$HVTAX" cost --baseline base@host --candidate cand@vm --prices "$SRC/configs/prices.ini" --job "$T/over.ini"
grep -q "more than 100%" "$T/err" || fail "shares over 100%"
expect_rc 2 "$HVTAX" cost --candidate cand
exit 0
