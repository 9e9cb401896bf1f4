#!/usr/bin/env bash
# EPE-NAS scoring throughput (architectures/s) on a seeded sample of NAS-Bench-201 cells: nasc (release,
# libtorch through tch) and PyTorch eager (scripts/bench_score.py: the NB201 network written by hand in
# PyTorch, scored as the EPE-NAS reference does), the same cells, CPU, the same threads, batch 64 and 256.
# nasc runs with its default channels-last convolutions and with --nchw; PyTorch eager runs as the
# reference (NCHW) and, for comparison, with channels_last too. Each side times its scoring loop only
# (building each network + forward + backward + score; nasc also counts building the IR of every
# sampled cell); start-up (import torch, reading the dataset) is excluded. Two measures: wall-clock time
# and the process's CPU time (all threads; less sensitive to other load on a shared machine, but it
# also counts threads spinning at barriers). Runs alternate ROUNDS times; the best of each is reported.
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
ours() { # BATCH [FLAGS] -> "wall cpu" architectures/s of the scoring loop
  $nasc score $space --sample "$cells" --seed 0 --scores epe --batch "$1" --threads "$threads" --json "${@:2}" |
    "$py" -c 'import json, sys; v = json.load(sys.stdin); n = len(v["architectures"]); b = v["build_seconds"]
print("%.3f %.3f" % (n / (b + v["score_seconds"]), n / (b + v["score_cpu_seconds"])))'
}
theirs() { # BATCH FORMAT -> "wall cpu"
  "$py" scripts/bench_score.py "$1" "$threads" "$tmp/archs.txt" "$2" 2>/dev/null
}
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b) ? a : b }'; }
torch_version=$("$py" -c 'import torch; print(torch.__version__)')
declare -A res
for b in $batches; do
  for ((r = 0; r < rounds; r++)); do
    read -r ow oc <<<"$(ours "$b")"
    read -r nw nc <<<"$(ours "$b" --nchw)"
    read -r pw pc <<<"$(theirs "$b" nchw)"
    read -r lw lc <<<"$(theirs "$b" channels_last)"
    echo "batch $b round $((r + 1)) (wall / cpu archs/s): nasc $ow/$oc, nasc --nchw $nw/$nc, PyTorch $pw/$pc, PyTorch channels_last $lw/$lc" >&2
    for k in ow oc nw nc pw pc lw lc; do
      res[$b.$k]=$(best "${res[$b.$k]:-0}" "${!k}")
    done
  done
done
echo "EPE-NAS scoring, $cells NAS-Bench-201 cells (seed 0), 32x32x3 inputs, CPU, $threads thread(s), best of $rounds, torch $torch_version"
echo "architectures/s of the scoring loop; CL = channels_last memory format"
printf '%-10s %-6s %10s %12s %14s %12s %11s %14s\n' measure batch nasc "nasc --nchw" "PyTorch eager" "PyTorch+CL" "nasc/eager" "nasc/eager+CL"
for m in wall cpu; do
  for b in $batches; do
    k=${m:0:1}
    [ "$m" = cpu ] && k=c
    [ "$m" = wall ] && k=w
    awk -v m="$m" -v b="$b" -v n="${res[$b.o$k]}" -v nn="${res[$b.n$k]}" -v p="${res[$b.p$k]}" -v pc="${res[$b.l$k]}" \
      'BEGIN { printf "%-10s %-6s %10s %12s %14s %12s %11.2f %14.2f\n", m, b, n, nn, p, pc, n / p, n / pc }'
  done
done
