#!/usr/bin/env bash
# EPE-NAS scoring throughput (architectures/s) on a seeded sample of NAS-Bench-201 cells: nasc (release,
# libtorch through tch) and PyTorch eager (scripts/bench_score.py: the NB201 network written by hand in
# PyTorch, scored as the EPE-NAS reference does), the same cells, CPU, the same threads, batch 64 and 256.
# nasc runs with its default channels-last convolutions and with --nchw; PyTorch eager runs as the
# reference (NCHW) and, for comparison, with channels_last too. Each side times its scoring loop only
# (building each network + forward + backward + score; nasc also counts building the IR of every
# sampled cell); start-up (import torch, reading the dataset) is excluded. Runs alternate ROUNDS times;
# the best of each is reported (less sensitive to other load on the machine).
# Usage: scripts/bench_score.sh [CELLS] [THREADS] [ROUNDS] [BATCHES]   (defaults 20, 2, 2, "64 256")
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cells=${1:-20}
threads=${2:-2}
rounds=${3:-2}
batches=${4:-64 256}
space=examples/nb201_space.nasl
cargo build --release --quiet
nasc=${CARGO_TARGET_DIR:-target}/release/nasc
py=${NASC_PYTHON:-.deps/venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the cells: nasc's seeded sample, in sample order
$nasc score $space --sample "$cells" --seed 0 --scores params --json |
  "$py" -c 'import json, sys; print("\n".join(a["arch"] for a in json.load(sys.stdin)["architectures"]))' >"$tmp/archs.txt"
ours() { # BATCH [FLAGS] -> architectures/s of the scoring loop
  $nasc score $space --sample "$cells" --seed 0 --scores epe --batch "$1" --threads "$threads" --json "${@:2}" |
    "$py" -c 'import json, sys; v = json.load(sys.stdin); print("%.3f" % (len(v["architectures"]) / (v["build_seconds"] + v["score_seconds"])))'
}
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b) ? a : b }'; }
torch_version=$("$py" -c 'import torch; print(torch.__version__)')
echo "EPE-NAS scoring, $cells NAS-Bench-201 cells (seed 0), 32x32x3 inputs, CPU, $threads thread(s), best of $rounds, torch $torch_version"
printf '%-6s %16s %16s %16s %16s %12s %12s\n' batch "nasc" "nasc --nchw" "PyTorch eager" "PyTorch+CL" "nasc/eager" "nasc/eager+CL"
for b in $batches; do
  n=0 nn=0 p=0 pc=0
  for ((r = 0; r < rounds; r++)); do
    o=$(ours "$b")
    on=$(ours "$b" --nchw)
    t=$("$py" scripts/bench_score.py "$b" "$threads" "$tmp/archs.txt" nchw 2>/dev/null)
    tc=$("$py" scripts/bench_score.py "$b" "$threads" "$tmp/archs.txt" channels_last 2>/dev/null)
    echo "batch $b round $((r + 1)): nasc $o, nasc --nchw $on, PyTorch $t, PyTorch channels_last $tc archs/s" >&2
    n=$(best "$n" "$o") nn=$(best "$nn" "$on") p=$(best "$p" "$t") pc=$(best "$pc" "$tc")
  done
  awk -v b="$b" -v n="$n" -v nn="$nn" -v p="$p" -v pc="$pc" \
    'BEGIN { printf "%-6s %16s %16s %16s %16s %12.2f %12.2f\n", b, n, nn, p, pc, n / p, n / pc }'
done
echo "(architectures per second; CL = channels_last memory format)"
