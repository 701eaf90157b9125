#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A round that hangs with rounds still to come: hvtax matrix restarts the target once and
# runs the rest. The run keeps every round but the stuck one's unreported cases, says which
# round timed out and that the target was restarted, and is stored as failed (a round is
# incomplete); a second hang in the same target is not restarted again.
. "$(dirname "$0")/lib.sh"
# null.fault hangs in its third repetition of an agent's life: round 2 of 3 (2 reps a round);
# the restarted agent counts from 0 again and finishes round 3
printf '[suite]\nrounds = 3\nreps = 2\nduration = 20ms\nwarmup = 0\n[null.loop]\n[null.fault]\nmode = hang\nafter = 2\n' \
	>"$T/hang.ini"
expect_rc 1 "$HVTAX" matrix --targets host --suite "$T/hang.ini" --round-timeout 3s
grep -q "host: restarted" "$T/err" || fail "no restart said on stderr: $(tail -5 "$T/err")"
id=$(sql "select id from runs where target='host'")
[ -n "$id" ] || fail "run not stored"
[ "$(sql "select count(*) from runs")" -eq 1 ] || fail "the restart stored a second run"
[ "$(sql "select status from runs where id=$id")" = failed ] || fail "status"
msg=$(sql "select group_concat(message, ' | ') from errors where run_id=$id")
echo "$msg" | grep -q "round 2/3 timed out after 3s with [01] cases\{0,1\} of it reported.*restarted for the rounds after it" ||
	fail "reason: $msg"
# rounds 1 and 3 of both cases are stored (round numbers count from 0 in the store)
for rd in 0 2; do
	n=$(sql "select count(distinct c.bench) from samples s join cases c on c.id = s.case_id where s.run_id=$id and s.round=$rd")
	[ "$n" -eq 2 ] || fail "round $((rd + 1)): samples of $n of 2 cases"
done
[ "$(sql "select count(*) from samples s join cases c on c.id = s.case_id where s.run_id=$id and c.bench='null.fault' and s.round=1")" -eq 0 ] ||
	fail "samples of the stuck case in the round that timed out"

# hanging again after the restart: no second restart, the run fails at that round
# (after = 1, one rep a round: each agent's second round hangs: rounds 2 and 4 of 5)
printf '[suite]\nrounds = 5\nreps = 1\nduration = 20ms\nwarmup = 0\n[null.fault]\nmode = hang\nafter = 1\n' >"$T/hang2.ini"
expect_rc 1 "$HVTAX" matrix --targets host --suite "$T/hang2.ini" --round-timeout 2s --label-prefix twice
msg=$(sql "select group_concat(message, ' | ') from errors e join runs r on r.id = e.run_id where r.label='twice-host'")
echo "$msg" | grep -q "round 2/5 timed out.*restarted" || fail "first timeout: $msg"
echo "$msg" | grep -q "round 4/5 timed out" || fail "second timeout: $msg"
[ "$(echo "$msg" | grep -o "restarted for" | wc -l)" -eq 1 ] || fail "restarted more than once: $msg"
exit 0
