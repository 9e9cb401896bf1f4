#!/usr/bin/env bash
# Start-up benchmark: wall time and peak RSS of `nasc` commands against `python -c "import torch"`.
# Builds the release binaries first. Usage: scripts/bench_startup.sh [RUNS]   (default 15 runs each)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo build --release --quiet
RUNS=${1:-15} python3 scripts/bench_startup.py target/release
