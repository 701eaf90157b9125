#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What `make run` runs after building: set up the targets, build the payload, measure this
# machine as host, container and VM interleaved with the quick suite, write the tax table.
#   scripts/run-main.sh [BUILD_DIR]      (HVT_SUITE, HVT_TARGETS override suite and targets)
set -euo pipefail
B=${1:-build}
cd "$(dirname "$0")/.."
SUITE=${HVT_SUITE:-quick}
TARGETS=${HVT_TARGETS:-host,container,vm}
t0=$(date +%s)

# the target packages (podman, runc, qemu, a kernel, busybox-static) come with install-deps
scripts/install-deps.sh
scripts/build-payload.sh --bench "$B/hvtax-bench" --out "$B/payload" >/dev/null

mkdir -p results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="results/matrix-$stamp"
rc=0
"$B/hvtax" matrix --suite "$SUITE" --targets "$TARGETS" --label-prefix "run-$stamp" \
	--db "${HVTAX_DB:-results/hvtax.db}" --payload "$B/payload" --json "$out.json" \
	>"$out.txt" || rc=$?
{
	echo "payload sha256 $(cat "$B/payload/payload.sha256"), $(du -sh "$B/payload/rootfs" | cut -f1)" \
		"rootfs, $(du -h "$B/payload/initramfs.cpio.gz" | cut -f1) initramfs"
	echo "wall time $(($(date +%s) - t0))s (set-up included)"
} >>"$out.txt"
cp "$out.txt" results/matrix-latest.txt
cat "$out.txt"

# the report (HTML for publication, Markdown) and the cost per job of every measured target
db=${HVTAX_DB:-results/hvtax.db}
runs=()
for t in ${TARGETS//,/ }; do
	if "$B/hvtax" show --db "$db" "run-$stamp-$t" >/dev/null 2>&1; then
		runs+=("run-$stamp-$t")
	fi
done
if [ ${#runs[@]} -gt 0 ]; then
	"$B/hvtax" report --db "$db" --paired --format html -o "results/report-$stamp.html" "${runs[@]}" || rc=1
	"$B/hvtax" report --db "$db" --paired --format md -o "results/report-$stamp.md" "${runs[@]}" || rc=1
	cp "results/report-$stamp.html" results/report-latest.html
	cp "results/report-$stamp.md" results/report-latest.md
	echo "run-main: report in results/report-$stamp.html and .md" >&2
fi
if [ ${#runs[@]} -gt 1 ]; then
	cands=()
	for r in "${runs[@]:1}"; do cands+=(--candidate "$r"); done
	"$B/hvtax" cost --db "$db" --baseline "${runs[0]}" "${cands[@]}" | tee "results/cost-$stamp.txt" || rc=1
fi
echo "run-main: table in $out.txt, comparisons in $out.json, runs in ${HVTAX_DB:-results/hvtax.db}" >&2
exit "$rc"
