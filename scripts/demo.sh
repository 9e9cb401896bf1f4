#!/usr/bin/env bash
# The main job on the embedded default: check every bundled example and stdlib module, verify they are in
# canonical form, print the inferred shapes of two examples and the cost of three, synthesize a replacement
# for a CifarNet block from its properties with z3, then lower the small
# Fashion-MNIST CNN to libtorch, train it for one epoch on CPU and print its validation accuracy, and run a
# short property-guided evolution from it (with its HTML report).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet
nasc=${CARGO_TARGET_DIR:-target}/release/nasc
echo "== nasc check examples/*.nasl stdlib/*.nasl"
$nasc check examples/*.nasl stdlib/*.nasl
echo
echo "== nasc fmt --check examples/*.nasl stdlib/*.nasl"
$nasc fmt --check examples/*.nasl stdlib/*.nasl && echo "all files are in canonical form"
echo
echo "== nasc shapes examples/cifarnet.nasl"
$nasc shapes examples/cifarnet.nasl
echo "== nasc shapes examples/nb201_space.nasl"
$nasc shapes examples/nb201_space.nasl
echo
for f in cifarnet resnet50 mobilenet_v2; do
  echo "== nasc cost examples/$f.nasl (totals)"
  $nasc cost examples/$f.nasl | tail -3
done
echo
echo "== nasc props examples/cifarnet.nasl --block h_1 (the properties of one block)"
$nasc props examples/cifarnet.nasl --block h_1
echo "== nasc synth --props h_1.json --count 3 --seed 1 (z3: three new blocks with those properties)"
tprops=$(mktemp)
$nasc props examples/cifarnet.nasl --block h_1 --json > "$tprops"
$nasc synth --props "$tprops" --count 3 --seed 1
rm -f "$tprops"
echo
echo "== nasc train examples/fmnist_cnn.nasl --epochs 1 (Fashion-MNIST, CPU, 55,000 train / 5,000 validation images)"
ckpt=$(mktemp -d)
trap 'rm -rf "$ckpt"' EXIT
start=$(date +%s)
$nasc train examples/fmnist_cnn.nasl --epochs 1 --device cpu --seed 0 --save "$ckpt/fmnist.safetensors"
echo "(wall time $(( $(date +%s) - start )) s)"
echo
echo "== nasc eval examples/fmnist_cnn.nasl --weights fmnist.safetensors --part test"
$nasc eval examples/fmnist_cnn.nasl --weights "$ckpt/fmnist.safetensors" --part test
echo
echo "== nasc search evolve examples/fmnist_cnn.nasl --trials 6 (alpha-NAS: mutate, synthesize with z3, train; small subset)"
$nasc search evolve examples/fmnist_cnn.nasl --store "$ckpt/run.db" --trials 6 --train-subset 2000 --val 1000 --seed 0
$nasc search report "$ckpt/run.db" --out "$ckpt/report"
