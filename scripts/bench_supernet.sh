#!/usr/bin/env bash
# Benchmark of `nasc supernet` (issue 13): uniform (BigNAS) against attentive BestUp sampling on the same
# budget, seed and data, examples/fmnist_space.nasl on Fashion-MNIST (CPU by default):
#   1. stage 1 cost: wall time and optimizer steps of each supernet (attentive pays k forward passes per
#      sampled subnet to rank its candidates);
#   2. stage 1 quality on the SAME subnets: `nasc supernet search` with --trials equal to --population
#      evaluates only its initial population (the smallest subnet + seeded uniform draws in range), which
#      does not depend on the supernet, so both supernets are measured on identical architectures; the
#      table gives mean validation accuracy per MACs third and the largest/smallest subnets;
#   3. stage 2: an evolutionary search in a MACs range on each supernet, the best subnet found.
# Knobs (environment): EPOCHS (3), SUBSET (6000), VAL (1000), SAME (24), TRIALS (40), RANGE (2M..6M),
# DEVICE (cpu), SEED (1), OUT (target/bench-supernet).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
NASC_SETUP_QUIET=1 bash scripts/setup.sh
cargo build --release -q
nasc=target/release/nasc
out=${OUT:-target/bench-supernet}
mkdir -p "$out"
space=examples/fmnist_space.nasl
seed=${SEED:-1}

for s in uniform attentive; do
  db=$out/$s.db
  rm -rf "$db" "$db-wal" "$db-shm" "$db.supernet"
  start=$(date +%s.%N)
  "$nasc" supernet train "$space" --store "$db" --sampler "$s" --epochs "${EPOCHS:-3}" \
    --train-subset "${SUBSET:-6000}" --val "${VAL:-1000}" --device "${DEVICE:-cpu}" --seed "$seed" \
    --json > "$out/$s-train.json"
  end=$(date +%s.%N)
  python3 -c "print($end - $start)" > "$out/$s-train.seconds"
  # identical architectures on both supernets: the initial population only
  "$nasc" supernet search "$db" --macs 0..1G --trials "${SAME:-24}" --population "${SAME:-24}" \
    --seed "$seed" --json > "$out/$s-same.json"
  "$nasc" supernet search "$db" --macs "${RANGE:-2M..6M}" --trials "${TRIALS:-40}" --population 12 \
    --seed "$seed" --json > "$out/$s-search.json"
done

python3 - "$out" <<'PY'
import json, sys, os, statistics as st
out = sys.argv[1]
runs = {}
for s in ("uniform", "attentive"):
    runs[s] = dict(
        train=json.load(open(f"{out}/{s}-train.json")),
        secs=float(open(f"{out}/{s}-train.seconds").read()),
        same=json.load(open(f"{out}/{s}-same.json")),
        search=json.load(open(f"{out}/{s}-search.json")),
    )
print(f"# nasc supernet benchmark ({os.cpu_count()} cores), examples/fmnist_space.nasl\n")
print("| sampler | epochs | steps | train wall s | s/step | largest val % | smallest val % |")
print("|---|---|---|---|---|---|---|")
for s, r in runs.items():
    t = r["train"]; c = t["curves"][-1]
    print(f"| {s} | {t['epochs']} | {t['optimizer_steps']} | {r['secs']:.0f} | "
          f"{r['secs'] / t['optimizer_steps']:.2f} | {100 * c['val_largest']:.2f} | {100 * c['val_smallest']:.2f} |")
u, a = runs["uniform"], runs["attentive"]
print(f"\nattentive / uniform train wall time: {a['secs'] / u['secs']:.2f}x\n")
# the same subnets on both supernets, by MACs third
cu = {c["arch"]: c for c in u["same"]["candidates"]}
ca = {c["arch"]: c for c in a["same"]["candidates"]}
common = sorted(set(cu) & set(ca), key=lambda k: cu[k]["macs"])
print(f"## The same {len(common)} subnets measured on each supernet (BN-calibrated, validation split)\n")
print("| MACs range | subnets | uniform mean val % | attentive mean val % | attentive better on |")
print("|---|---|---|---|---|")
n = len(common)
for i in range(3):
    part = common[i * n // 3:(i + 1) * n // 3]
    if not part:
        continue
    mu = 100 * st.mean(cu[k]["val_accuracy"] for k in part)
    ma = 100 * st.mean(ca[k]["val_accuracy"] for k in part)
    wins = sum(ca[k]["val_accuracy"] > cu[k]["val_accuracy"] for k in part)
    lo, hi = cu[part[0]]["macs"] / 1e6, cu[part[-1]]["macs"] / 1e6
    print(f"| {lo:.2f}M–{hi:.2f}M | {len(part)} | {mu:.2f} | {ma:.2f} | {wins}/{len(part)} |")
print("\n## Stage 2: evolution in the MACs range, best subnet found\n")
print("| sampler | range | candidates | search s | best val % | its MACs |")
print("|---|---|---|---|---|---|")
for s, r in runs.items():
    x = r["search"]; b = x["candidates"][0] if x["candidates"] else None
    rng = f"{x['macs_min'] / 1e6:g}M..{x['macs_max'] / 1e6:g}M"
    if b:
        print(f"| {s} | {rng} | {len(x['candidates'])} | {x['seconds']:.0f} | {100 * b['val_accuracy']:.2f} | {b['macs'] / 1e6:.2f}M |")
PY
