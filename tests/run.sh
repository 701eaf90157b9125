#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test runner: every test program and e2e script in its own process under
# a timeout; exit 0 = pass, 77 = skip, 124 = timeout (fail), other = fail.
# The last line is "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
BUILD=${HVT_BUILD:-build}
ASAN=${HVT_ASAN_BUILD:-}
UNIT_TIMEOUT=${HVT_UNIT_TIMEOUT:-300}
E2E_TIMEOUT=${HVT_E2E_TIMEOUT:-600}
FILTER=${1:-}
export HVT_BUILD="$PWD/$BUILD" HVT_SRCDIR="$PWD"
[ "${BUILD#/}" != "$BUILD" ] && export HVT_BUILD="$BUILD"
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/hvtax-tests.XXXXXX")
pass=0 fail=0 skip=0
failed=()

run_one() { # name timeout cmd...
	local name=$1 to=$2; shift 2
	local log="$LOGDIR/$(echo "$name" | tr '/ []' '____').log" t0 t1 rc
	if [ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]]; then return; fi
	t0=$(date +%s.%N)
	timeout -k 10 "$to" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	t1=$(date +%s.%N)
	local dt; dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
	case $rc in
	0) pass=$((pass + 1)); printf 'PASS  %-44s %6ss\n' "$name" "$dt" ;;
	77) skip=$((skip + 1))
	    printf 'SKIP  %-44s %6ss  %s\n' "$name" "$dt" "$(grep -i 'skip' "$log" | tail -1 | cut -c1-100)" ;;
	124|137) fail=$((fail + 1)); failed+=("$name")
	    printf 'FAIL  %-44s %6ss  timed out after %ss\n' "$name" "$dt" "$to"; tail -20 "$log" | sed 's/^/      | /' ;;
	*) fail=$((fail + 1)); failed+=("$name")
	    printf 'FAIL  %-44s %6ss  exit %d\n' "$name" "$dt" "$rc"; tail -30 "$log" | sed 's/^/      | /' ;;
	esac
}

if [ -z "${HVT_ONLY_E2E:-}" ]; then
	for t in "$HVT_BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" "$UNIT_TIMEOUT" "$t"
	done
	if [ -n "$ASAN" ] && [ -d "$ASAN/tests" ]; then
		for t in "$ASAN"/tests/test_*; do
			[ -x "$t" ] || continue
			ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
				run_one "asan/$(basename "$t")" "$UNIT_TIMEOUT" "$t"
		done
	fi
fi
if [ -z "${HVT_ONLY_UNIT:-}" ]; then
	for t in tests/e2e/t[0-9]*.sh; do
		[ -f "$t" ] || continue
		run_one "e2e/$(basename "$t" .sh)" "$E2E_TIMEOUT" bash "$t"
	done
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo "failed: ${failed[*]} (logs in $LOGDIR)"
else
	rm -rf "$LOGDIR"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
