#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A short suite in host, container and VM (TCG) through hvtax matrix: stored, told apart, compared.
. "$(dirname "$0")/lib.sh"
command -v podman >/dev/null || skip "podman is not installed"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no kernel in /boot (linux-image-amd64)"
scripts/build-payload.sh --bench "$BENCH" --out "$T/payload" >"$T/hash" 2>"$T/build.err" ||
	{ cat "$T/build.err" >&2; fail "build-payload.sh failed"; }
cases="[null.loop]"
"$BENCH" list | grep -q '^cpu.syscall ' && cases="$cases
[cpu.syscall]"
cat >"$T/s.ini" <<EOT
[suite]
name = e2e-targets
rounds = 3
reps = 2
duration = 50ms
warmup = 10ms
$cases
EOT
# TCG directly: the KVM probe is tested by make run; here it only costs time
printf '[vm]\naccel = tcg\nvcpus = 1\nmemory = 512MiB\ndisk_size = 0\nstart_timeout = 60s\n' >"$T/vm.ini"
# from another directory: the target configs and the seccomp profile they name are found
# next to the executable's tree, not in the working directory
hv=$(cd "$(dirname "$HVTAX")" && pwd)/$(basename "$HVTAX")
(cd "$T" && timeout 85 "$hv" matrix --suite "$T/s.ini" --targets host,container,vm --label-prefix e2e \
	--payload "$T/payload" -c "$T/vm.ini" --json "$T/cmp.json" >"$T/out" 2>"$T/err")
rc=$?
if [ $rc -ne 0 ] && grep -q "container: skipped" "$T/err"; then
	cat "$T/err" >&2; skip "podman cannot start a container here"
fi
[ $rc -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "matrix exited $rc"; }
[ "$(sql "SELECT COUNT(*) FROM runs WHERE status='ok'")" = 3 ] || fail "want 3 ok runs"
for t in host container vm; do
	[ "$(sql "SELECT label FROM runs WHERE target='$t'")" = "e2e-$t" ] || fail "no run labelled e2e-$t"
done
hash=$(tr -d '\n' <"$T/hash")
[ "$(sql "SELECT COUNT(DISTINCT json_extract(fingerprint,'\$.harness.payload_sha256')) FROM runs")" = 1 ] ||
	fail "runs have different payload hashes"
[ "$(sql "SELECT json_extract(fingerprint,'\$.harness.payload_sha256') FROM runs LIMIT 1")" = "$hash" ] ||
	fail "payload hash not recorded"
# the three environments are told apart by their fingerprints
[ "$(sql "SELECT json_extract(fingerprint,'\$.virt.hypervisor') FROM runs WHERE target='vm'")" = tcg ] ||
	fail "vm fingerprint does not say tcg"
[ "$(sql "SELECT json_extract(fingerprint,'\$.virt.container') FROM runs WHERE target='container'")" = 1 ] ||
	fail "container fingerprint does not say container"
[ "$(sql "SELECT json_extract(fingerprint,'\$.virt.container') FROM runs WHERE target='host'")" = 0 ] ||
	fail "host fingerprint says container"
# every round of each run arrived, and the taxes were computed from paired rounds
[ "$(sql "SELECT COUNT(DISTINCT round) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.target='vm'")" = 3 ] ||
	fail "vm run lacks rounds"
grep -q "== container vs host" "$T/out" || fail "no container table"
grep -q "== vm vs host" "$T/out" || fail "no vm table"
grep -q "rounds paired" "$T/out" || fail "rounds were not paired"
grep -q "TCG emulation" "$T/out" || fail "tcg not flagged"
jq -e 'length == 2' "$T/cmp.json" >/dev/null || fail "json comparisons missing"
# the container and the VM left nothing behind
podman ps -a --format '{{.Names}}' | grep -q '^hvtax-' && fail "a container was left behind"
pgrep -f "$T/payload" >/dev/null && fail "a process was left behind"
exit 0
