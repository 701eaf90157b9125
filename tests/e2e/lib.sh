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
# start_listen ADDR:PORT [CMD...]: hvtax-bench run --listen in the background (under CMD if
# given, e.g. ip netns exec NS), killed at exit; returns once it says it listens, or after 5 s.
# Sets srv to its pid; its records go to $T/srv.jsonl, its messages to $T/srv.err.
start_listen() {
	local at=$1; shift
	"$@" "$BENCH" run --listen "$at" -o "$T/srv.jsonl" 2>"$T/srv.err" &
	srv=$!
	at_exit "kill -9 $srv 2>/dev/null; wait $srv 2>/dev/null"
	for _ in $(seq 50); do grep -qs listening "$T/srv.err" && break; sleep 0.1; done
}
