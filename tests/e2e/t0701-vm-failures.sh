#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# VM failures: a bad kernel path, a guest that never boots its agent, one that never powers off.
# Each: a clear error within its timeout, the run stored as failed in one piece, no qemu left.
. "$(dirname "$0")/lib.sh"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no kernel in /boot (linux-image-amd64)"
scripts/build-payload.sh --bench "$BENCH" --out "$T/payload" >/dev/null 2>"$T/build.err" ||
	{ cat "$T/build.err" >&2; fail "build-payload.sh failed"; }
printf '[suite]\nname = e2e-vmfail\nrounds = 1\nreps = 1\nduration = 20ms\nwarmup = 0ms\n[null.loop]\n' >"$T/s.ini"
base='[vm]\naccel = tcg\nvcpus = 1\nmemory = 256MiB\ndisk_size = 0\nnetwork = none\n'
left() { pgrep -f "qemu-system-x86_64.*$T" >/dev/null; }

# 1. a kernel that is not there
printf "${base}kernel = $T/no-such-vmlinuz\n" >"$T/bad.ini"
s=$(date +%s)
expect_rc 1 "$HVTAX" run --target vm --suite "$T/s.ini" --payload "$T/payload" -c "$T/bad.ini" -l bad
[ $(($(date +%s) - s)) -lt 10 ] || fail "bad kernel took too long"
grep -q "no-such-vmlinuz" "$T/err" || { cat "$T/err" >&2; fail "error does not name the kernel"; }
[ "$(sql "SELECT status FROM runs WHERE label='bad'")" = failed ] || fail "bad-kernel run not stored as failed"
sql "SELECT message FROM errors e JOIN runs r ON r.id=e.run_id WHERE r.label='bad'" | grep -q "no-such-vmlinuz" ||
	fail "bad-kernel error not stored"

# 2. a guest whose agent never starts: the start timeout ends it
printf "${base}append = hvtax.hang=boot\nstart_timeout = 20s\n" >"$T/hang.ini"
s=$(date +%s)
expect_rc 1 "$HVTAX" run --target vm --suite "$T/s.ini" --payload "$T/payload" -c "$T/hang.ini" -l hang
[ $(($(date +%s) - s)) -lt 35 ] || fail "boot hang not ended within its timeout"
grep -q "no plan from the agent within 20s" "$T/err" || { cat "$T/err" >&2; fail "no clear boot-timeout error"; }
[ "$(sql "SELECT status FROM runs WHERE label='hang'")" = failed ] || fail "hang run not stored as failed"
left && fail "qemu left running after the boot timeout"

# 3. a guest that finishes but never powers off: killed, run failed, its records kept
printf "${base}append = hvtax.hang=end\nstop_timeout = 5s\n" >"$T/nooff.ini"
s=$(date +%s)
expect_rc 1 "$HVTAX" run --target vm --suite "$T/s.ini" --payload "$T/payload" -c "$T/nooff.ini" -l nooff
[ $(($(date +%s) - s)) -lt 40 ] || fail "power-off wait not bounded"
grep -q "did not power off within 5s" "$T/err" || { cat "$T/err" >&2; fail "no clear power-off error"; }
[ "$(sql "SELECT status FROM runs WHERE label='nooff'")" = failed ] || fail "run not stored as failed"
[ "$(sql "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.label='nooff'")" -gt 0 ] ||
	fail "records that arrived were not kept"
left && fail "qemu left running after the power-off timeout"
# nothing half-written: exactly the three runs, each with its error
[ "$(sql "SELECT COUNT(*) FROM runs")" = 3 ] || fail "want exactly 3 runs"
[ "$(sql "SELECT COUNT(DISTINCT run_id) FROM errors")" = 3 ] || fail "each failed run needs its error"
exit 0
