#!/usr/bin/env bash
# Property inference benchmark: builds benches/props.rs in the bench (release) profile and prints its table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo bench --bench props "$@"
