#!/usr/bin/env bash
# Training throughput of ResNet-20 (32×32, examples/resnet20.nasl) in nasc (libtorch through tch) and in
# PyTorch eager (the same torch, on the PyTorch source `nasc export --pytorch` writes for the same network),
# with the same threads, batch, steps and loop (fixed random batch, cross-entropy, SGD momentum 0.9), CPU.
# The two are run alternately ROUNDS times and the best of each is reported (less sensitive to other load
# on the machine).
# Usage: scripts/bench_train.sh [BATCH] [STEPS] [THREADS] [ROUNDS]   (defaults 128, 20, all cores, 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
batch=${1:-128}
steps=${2:-20}
threads=${3:-$(nproc)}
rounds=${4:-2}
warmup=3
file=examples/resnet20.nasl
cargo build --release --quiet
nasc=${CARGO_TARGET_DIR:-target}/release/nasc
py=${NASC_PYTHON:-.deps/venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$nasc export $file --pytorch "$tmp/model.py" --batch "$batch" 2>/dev/null
ours=0
theirs=0
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b) ? a : b }'; }
for ((r = 0; r < rounds; r++)); do
  o=$($nasc bench $file --batch "$batch" --steps "$steps" --warmup $warmup --threads "$threads" --quiet)
  t=$("$py" scripts/bench_train.py "$tmp/model.py" "$batch" "$steps" $warmup "$threads" 3,32,32 10)
  echo "round $((r + 1)): nasc $o, PyTorch $t images/s" >&2
  ours=$(best "$ours" "$o")
  theirs=$(best "$theirs" "$t")
done
torch_version=$("$py" -c 'import torch; print(torch.__version__)')
echo "ResNet-20 training throughput, 32x32 inputs, batch $batch, $steps timed steps (+$warmup warm-up), $threads thread(s), CPU, best of $rounds, torch $torch_version"
printf '%-28s %12s\n' "implementation" "images/s"
printf '%-28s %12s\n' "nasc (libtorch via tch)" "$ours"
printf '%-28s %12s\n' "PyTorch eager (Python)" "$theirs"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%-28s %12.2f\n", "ratio nasc / PyTorch", a / b }'
