# SPDX-License-Identifier: MIT
# Shared helpers for end-to-end tests: sourced, not run.
set -u
B=${HVT_BUILD:-build}
HVTAX="$B/hvtax"
BENCH="$B/hvtax-bench"
T=$(mktemp -d "${TMPDIR:-/tmp}/hvtax-e2e.XXXXXX")
export HVTAX_DB="$T/hvtax.db"
cleanup_hooks=()
at_exit() { cleanup_hooks+=("$1"); }
_cleanup() {
	for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
	rm -rf "$T"
}
trap _cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
# expect_rc WANT cmd...: run cmd, fail unless it exits with WANT
expect_rc() {
	local want=$1; shift
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	[ "$rc" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "'$*' exited $rc, wanted $want"; }
}
sql() { sqlite3 "$HVTAX_DB" "$1"; }
