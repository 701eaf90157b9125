#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A container engine that does not exist: that target is skipped with the reason, the others run.
. "$(dirname "$0")/lib.sh"
scripts/build-payload.sh --bench "$BENCH" --out "$T/payload" --kernel none --no-initramfs \
	>/dev/null 2>"$T/build.err" || { cat "$T/build.err" >&2; fail "build-payload.sh failed"; }
printf '[suite]\nname = e2e-skip\nrounds = 2\nreps = 1\nduration = 20ms\nwarmup = 0ms\n[null.loop]\n' >"$T/s.ini"
printf '[container]\nengine = %s/no-such-podman\n' "$T" >"$T/c.ini"
expect_rc 0 timeout 60 "$HVTAX" matrix --suite "$T/s.ini" --targets host,container \
	--payload "$T/payload" -c "$T/c.ini"
grep -q "container: skipped: container engine '$T/no-such-podman' not found" "$T/err" ||
	{ cat "$T/err" >&2; fail "no skip reason for the container"; }
grep -q "container *skipped" "$T/out" || { cat "$T/out" >&2; fail "summary does not show the skip"; }
[ "$(sql "SELECT COUNT(*) FROM runs WHERE target='host' AND status='ok'")" = 1 ] || fail "host did not run"
[ "$(sql "SELECT COUNT(*) FROM runs WHERE target='container'")" = 0 ] || fail "a skipped target was stored"
# the same through hvtax run: exit 77, skipped
expect_rc 77 "$HVTAX" run --target container --suite "$T/s.ini" --payload "$T/payload" -c "$T/c.ini"
# a bad key in a target config is a usage error naming it
printf '[container]\nengin = podman\n' >"$T/typo.ini"
expect_rc 2 "$HVTAX" matrix --suite "$T/s.ini" --targets host,container --payload "$T/payload" -c "$T/typo.ini"
grep -q "unknown key 'engin' (did you mean 'engine'?)" "$T/err" || { cat "$T/err" >&2; fail "no did-you-mean"; }
exit 0
