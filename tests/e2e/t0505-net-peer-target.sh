#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hvtax run --peer-target: the harness starts the net server in one target and measures from another.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
scripts/build-payload.sh --bench "$BENCH" --out "$T/payload" >/dev/null 2>"$T/build.err" ||
	{ cat "$T/build.err" >&2; fail "build-payload.sh failed"; }
PORT=$((20000 + $$ % 20000))
common=(--payload "$T/payload" --peer-port "$PORT" -b net.tcp_lat,net.tcp_bw)
bench_args=(-- -p size=64 --duration 50ms --reps 2)

# check one stored run: every timed sample measured against the server at $2, facts name the server target $3
check_run() {
	python3 - "$HVTAX_DB" "$1" "$2" "$3" <<'PY' || exit 1
import json, sqlite3, sys
db, run, addr, server = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = sqlite3.connect(db)
status, fp = c.execute("SELECT status, fingerprint FROM runs WHERE id=?", (run,)).fetchone()
if status != "ok":
    print("FAIL: run %d is %s" % (run, status)); sys.exit(1)
peer = json.loads(fp)["harness"].get("net_peer") or {}
if peer.get("target") != server or peer.get("address") != addr or "fingerprint" not in peer:
    print("FAIL: run %d net_peer facts: %s" % (run, {k: peer.get(k) for k in ("target", "address")})); sys.exit(1)
n = 0
for (x,) in c.execute("SELECT json FROM results_extra WHERE run_id=?", (run,)):
    for k, s in json.loads(x)["sample_extra"].items():
        if s.get("mode") != "peer" or s.get("peer") != addr:
            print("FAIL: run %d sample %s: mode %s peer %s" % (run, k, s.get("mode"), s.get("peer"))); sys.exit(1)
        n += 1
if n < 4:
    print("FAIL: run %d: only %d samples" % (run, n)); sys.exit(1)
print("ok: run %d, %d samples against %s (%s)" % (run, n, addr, server))
PY
}

# host measures, host serves
timeout 120 "$HVTAX" run "${common[@]}" --peer-target host "${bench_args[@]}" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || { cat "$T/err" >&2; fail "host/host: exit $rc"; }
grep -q "net server in host: [1-9][0-9]* sessions, 0 failed" "$T/err" || { cat "$T/err" >&2; fail "server's sessions not reported"; }
check_run "$(cat "$T/out")" "127.0.0.1:$PORT" host

# refusals: exit 2, nothing stored
before=$(sql "SELECT COUNT(*) FROM runs")
expect_rc 2 "$HVTAX" run "${common[@]}" --peer-target vm "${bench_args[@]}"
grep -q "cannot be reached from outside" "$T/err" || fail "vm as server: no reason"
expect_rc 2 "$HVTAX" run "${common[@]}" --peer-target nosuch "${bench_args[@]}"
expect_rc 2 "$HVTAX" run -b net.tcp_lat --peer-target host --peer-port 0
grep -q "not a port" "$T/err" || fail "--peer-port 0: no reason"
# the port taken: the server cannot listen -> exit 1, nothing stored
python3 -c "
import socket, time, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', $PORT)); s.listen(1); print('up', flush=True); time.sleep(60)" >"$T/holder" &
holder=$!
at_exit "kill $holder 2>/dev/null"
for _ in $(seq 50); do [ -s "$T/holder" ] && break; sleep 0.1; done
expect_rc 1 "$HVTAX" run "${common[@]}" --peer-target host "${bench_args[@]}"
grep -q "net server in host" "$T/err" || { cat "$T/err" >&2; fail "busy port: no word of the server"; }
kill $holder 2>/dev/null
wait $holder 2>/dev/null
[ "$(sql "SELECT COUNT(*) FROM runs")" = "$before" ] || fail "a refused or failed pair stored a run"

# container measures against host, host against container (the engine's bridge)
if command -v podman >/dev/null; then
	timeout 180 "$HVTAX" run "${common[@]}" --target container --peer-target host "${bench_args[@]}" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 0 ] && grep -q "skipped\|cannot start" "$T/err"; then
		echo "note: container pair not checked: $(tail -1 "$T/err")" >&2
	else
		[ $rc -eq 0 ] || { cat "$T/err" >&2; fail "container/host: exit $rc"; }
		gw=$(sed -n "s/.*container: net cases against the server in host at \([0-9.]*\):$PORT.*/\1/p" "$T/err")
		[ -n "$gw" ] && [ "$gw" != 127.0.0.1 ] || { cat "$T/err" >&2; fail "container client: not through the bridge"; }
		check_run "$(cat "$T/out")" "$gw:$PORT" host
		timeout 180 "$HVTAX" run "${common[@]}" --target host --peer-target container "${bench_args[@]}" >"$T/out" 2>"$T/err"
		rc=$?
		[ $rc -eq 0 ] || { cat "$T/err" >&2; fail "host/container: exit $rc"; }
		ip=$(sed -n "s/.*host: net cases against the server in container at \([0-9.]*\):$PORT.*/\1/p" "$T/err")
		[ -n "$ip" ] || { cat "$T/err" >&2; fail "no container address"; }
		check_run "$(cat "$T/out")" "$ip:$PORT" container
	fi
fi

# a VM measures against the host through qemu's user networking (its arguments reach the guest)
if command -v qemu-system-x86_64 >/dev/null && ls /boot/vmlinuz-* >/dev/null 2>&1; then
	printf '[vm]\naccel = tcg\nvcpus = 1\nmemory = 512MiB\ndisk_size = 0\nstart_timeout = 60s\n' >"$T/vm.ini"
	timeout 180 "$HVTAX" run "${common[@]}" -c "$T/vm.ini" --target vm --peer-target host \
		-- -p size=64 --duration 50ms --reps 2 >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 0 ] || { cat "$T/err" >&2; fail "vm/host: exit $rc"; }
	check_run "$(cat "$T/out")" "10.0.2.2:$PORT" host
fi
exit 0
