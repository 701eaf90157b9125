#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A benchmark that crashes, exits or hangs never takes hvtax down: the run is stored
# as failed, with the records that arrived before the fault and the reason.
. "$(dirname "$0")/lib.sh"
mk() { printf '[suite]\nrounds = 3\nreps = 2\nduration = 20ms\nwarmup = 0\n[null.fault]\nmode = %s\nafter = 2\n' "$1" >"$T/$1.ini"; }
for mode in crash exit hang; do
	mk $mode
	expect_rc 1 "$HVTAX" run -q --suite "$T/$mode.ini" --label $mode --timeout 4s
	id=$(sql "select id from runs where label='$mode'")
	[ -n "$id" ] || fail "$mode: run not stored"
	[ "$(sql "select status from runs where id=$id")" = failed ] || fail "$mode: status"
	# the two repetitions before the fault are kept
	[ "$(sql "select count(*) from samples where run_id=$id")" -ge 2 ] || fail "$mode: partial samples lost"
	msg=$(sql "select group_concat(message, ' | ') from errors where run_id=$id")
	case $mode in
	crash) echo "$msg" | grep -qi "signal 11\|segmentation" || fail "crash: reason not stored: $msg" ;;
	exit) echo "$msg" | grep -qi "status 1" || fail "exit: reason not stored: $msg" ;;
	hang) echo "$msg" | grep -qi "timed out" || fail "hang: reason not stored: $msg" ;;
	esac
done
# hvtax itself is still fine and the database consistent
expect_rc 0 "$HVTAX" runs
[ "$(sql "pragma integrity_check")" = ok ] || fail "integrity"
exit 0
