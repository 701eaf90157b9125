#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Malformed suites and options: exit status 2, a message naming file, line and key,
# and nothing stored.
. "$(dirname "$0")/lib.sh"
check() { # name expected-text ini-text
	printf '%b' "$3" >"$T/$1.ini"
	expect_rc 2 "$HVTAX" run -q --suite "$T/$1.ini"
	grep -q -- "$2" "$T/err" || { cat "$T/err" >&2; fail "$1: message lacks '$2'"; }
	expect_rc 2 "$BENCH" run -q --suite "$T/$1.ini"
	grep -q -- "$2" "$T/err" || { cat "$T/err" >&2; fail "$1 (hvtax-bench): message lacks '$2'"; }
}
check unknown-bench "unknown-bench.ini:2: \[null.lop\]: unknown benchmark (did you mean 'null.loop'?)" '[suite]\n[null.lop]\n'
check unknown-key "unknown-key.ini:3: bacth: unknown parameter" '[null.loop]\n\nbacth = 3\n'
check out-of-range "out-of-range.ini:2: batch: value '0' out of range" '[null.loop]\nbatch = 0\n'
check bad-setting "bad-setting.ini:2: rounds:" '[suite]\nrounds = many\n'
check syntax "syntax.ini:1: syntax error" 'garbage\n'
expect_rc 2 "$HVTAX" run --suite no-such-suite
grep -q "no suite 'no-such-suite'" "$T/err" || fail "missing suite message"
expect_rc 2 "$BENCH" run -b cpu.nosuch
expect_rc 2 "$BENCH" run -b null.loop -p nosuch=1
expect_rc 2 "$BENCH" run -b null.loop --duration soon
expect_rc 2 "$HVTAX" frobnicate
[ ! -e "$HVTAX_DB" ] || [ "$(sql 'select count(*) from runs')" = 0 ] || fail "something was stored"
exit 0
