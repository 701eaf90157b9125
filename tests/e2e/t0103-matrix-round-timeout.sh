#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A round that hangs in hvtax matrix: the run is stored as failed, and the reason
# says which round (counted from 1, as the progress lines count) and how far it got,
# so the stuck case can be told from the plan (the case order is random per round).
. "$(dirname "$0")/lib.sh"
printf '[suite]\nrounds = 2\nreps = 2\nduration = 20ms\nwarmup = 0\n[null.loop]\n[null.fault]\nmode = hang\nafter = 3\n' \
	>"$T/hang.ini"
expect_rc 1 "$HVTAX" matrix --targets host --suite "$T/hang.ini" --round-timeout 3s
id=$(sql "select id from runs where target='host'")
[ -n "$id" ] || fail "run not stored"
[ "$(sql "select status from runs where id=$id")" = failed ] || fail "status"
msg=$(sql "select group_concat(message, ' | ') from errors where run_id=$id")
# null.fault hangs in its third repetition: the second round
echo "$msg" | grep -q "round 2/2 timed out after 3s with [01] cases\{0,1\} of it reported" || fail "reason: $msg"
n=$(echo "$msg" | sed -n 's/.*with \([01]\) case.*/\1/p')
if [ "$n" = 1 ]; then
	echo "$msg" | grep -q "the last null.loop" || fail "the case reported before the hang is not named: $msg"
fi
# round 1 of both cases is kept
[ "$(sql "select count(distinct c.bench) from samples s join cases c on c.id = s.case_id where s.run_id=$id")" -eq 2 ] ||
	fail "samples of the first round lost"
exit 0
