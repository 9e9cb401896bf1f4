#!/usr/bin/env bash
# Synthesis benchmark: every block instance of the examples as an identity target, then 1,000 seeded
# mutations; prints the sat/unsat/unknown table with p50/p95 latency. Extra arguments go to the bench
# (e.g. `scripts/bench_synth.sh --mutations 200 --timeout 5`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo bench --bench synth -- "$@"
