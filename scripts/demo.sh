#!/usr/bin/env bash
# The main job on the embedded default: check every bundled example and stdlib module, verify they are in
# canonical form, and print the inferred shapes of two examples.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet
nasc=target/release/nasc
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
