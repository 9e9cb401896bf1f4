#!/usr/bin/env bash
# Benchmark of `nasc supernet` (issue 13): uniform (BigNAS) against attentive BestUp sampling on the same
# budget, seed and data, examples/fmnist_space.nasl on Fashion-MNIST (CPU by default). For each seed and
# each sampler:
#   1. stage 1: `nasc supernet train` (wall time, optimizer steps; attentive pays k forward passes per
#      sampled subnet to rank its candidates);
#   2. stage 2: `nasc supernet search` in each of three MACs ranges (the low, middle and high end of the
#      space), the same search seed for both samplers.
# The table gives, per seed and sampler: the Pareto hypervolume of every subnet stage 2 evaluated
# (validation accuracy × MACs, reference point (REF_ACC, REF_MACS), as a fraction of the box above it),
# the best validation accuracy in each range, stage-1 wall time, and subnets evaluated per second in
# stage 2. The searches' initial populations do not depend on the supernet (the smallest subnet and
# seeded uniform draws in range), so the same subnets measured on both supernets are compared as well.
# Knobs (environment): SEEDS ("1 2"), EPOCHS (3), SUBSET (6000), VAL (1000), TRIALS per range (16),
# POPULATION (8), RANGES ("1M..4M 4M..7M 7M..14M"), REF_ACC (0.1: chance), REF_MACS (14M, above the
# largest subnet), THREADS (libtorch's default), DEVICE (cpu), OUT (target/bench-supernet).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
NASC_SETUP_QUIET=1 bash scripts/setup.sh
cargo build --release -q
nasc=target/release/nasc
out=${OUT:-target/bench-supernet}
mkdir -p "$out"
space=examples/fmnist_space.nasl
seeds=${SEEDS:-1 2}
ranges=${RANGES:-1M..4M 4M..7M 7M..14M}
threads=()
if [ -n "${THREADS:-}" ]; then threads=(--threads "$THREADS"); fi

for seed in $seeds; do
  for s in uniform attentive; do
    db=$out/$s-$seed.db
    rm -rf "$db" "$db-wal" "$db-shm" "$db.supernet"
    echo "== seed $seed, $s: stage 1" >&2
    start=$(date +%s.%N)
    "$nasc" supernet train "$space" --store "$db" --sampler "$s" --epochs "${EPOCHS:-3}" \
      --train-subset "${SUBSET:-6000}" --val "${VAL:-1000}" --device "${DEVICE:-cpu}" --seed "$seed" \
      "${threads[@]}" --json > "$out/$s-$seed-train.json"
    end=$(date +%s.%N)
    python3 -c "print($end - $start)" > "$out/$s-$seed-train.seconds"
    i=0
    for r in $ranges; do
      echo "== seed $seed, $s: stage 2 in $r" >&2
      "$nasc" supernet search "$db" --macs "$r" --trials "${TRIALS:-16}" --population "${POPULATION:-8}" \
        --seed "$seed" --json > "$out/$s-$seed-search-$i.json"
      i=$((i + 1))
    done
  done
done

python3 - "$out" "$seeds" "$ranges" "${REF_ACC:-0.1}" "${REF_MACS:-14M}" <<'PY'
import json, sys, os, statistics as st
out, seeds, ranges = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
ref_acc = float(sys.argv[4])
si = {"K": 1e3, "M": 1e6, "G": 1e9}
def macs(s):
    return float(s[:-1]) * si[s[-1]] if s[-1] in si else float(s)
ref_macs = macs(sys.argv[5])

def hypervolume(points):
    """Area dominated by points (macs: fewer is better, acc: more is better) inside the box
    [0, ref_macs] x [ref_acc, 1], as a fraction of the box."""
    pts = sorted((m, a) for m, a in points if m <= ref_macs and a > ref_acc)
    front, best = [], ref_acc
    for m, a in pts:  # by MACs ascending, a point is on the front when it beats every cheaper one
        if a > best:
            front.append((m, a))
            best = a
    area, prev = 0.0, ref_acc
    for m, a in front:
        area += (ref_macs - m) * (a - prev)
        prev = a
    return area / (ref_macs * (1.0 - ref_acc)), len(front)

rows, same_rows = [], []
for seed in seeds:
    runs = {}
    for s in ("uniform", "attentive"):
        searches = [json.load(open(f"{out}/{s}-{seed}-search-{i}.json")) for i in range(len(ranges))]
        runs[s] = dict(
            train=json.load(open(f"{out}/{s}-{seed}-train.json")),
            secs=float(open(f"{out}/{s}-{seed}-train.seconds").read()),
            searches=searches,
        )
    for s, r in runs.items():
        t = r["train"]; c = t["curves"][-1]
        allc = {x["arch"]: x for srch in r["searches"] for x in srch["candidates"]}
        hv, nfront = hypervolume([(x["macs"], x["val_accuracy"]) for x in allc.values()])
        best = [max((x["val_accuracy"] for x in srch["candidates"]), default=float("nan"))
                for srch in r["searches"]]
        n = sum(len(srch["candidates"]) for srch in r["searches"])
        secs = sum(srch["seconds"] for srch in r["searches"])
        rows.append((seed, s, t["optimizer_steps"], r["secs"], 100 * c["val_largest"],
                     100 * c["val_smallest"], hv, nfront, best, n / secs if secs else float("nan")))
    # the initial populations: the same subnets on both supernets
    u = {x["arch"]: x for srch in runs["uniform"]["searches"] for x in srch["candidates"]
         if x["how"] in ("smallest", "sample")}
    a = {x["arch"]: x for srch in runs["attentive"]["searches"] for x in srch["candidates"]
         if x["how"] in ("smallest", "sample")}
    common = sorted(set(u) & set(a), key=lambda k: u[k]["macs"])
    if common:
        mu = 100 * st.mean(u[k]["val_accuracy"] for k in common)
        ma = 100 * st.mean(a[k]["val_accuracy"] for k in common)
        wins = sum(a[k]["val_accuracy"] > u[k]["val_accuracy"] for k in common)
        ties = sum(a[k]["val_accuracy"] == u[k]["val_accuracy"] for k in common)
        same_rows.append((seed, len(common), mu, ma, wins, ties))

print(f"# nasc supernet benchmark ({os.cpu_count()} cores), examples/fmnist_space.nasl\n")
print(f"Hypervolume reference point: {100 * ref_acc:g}% accuracy, {ref_macs / 1e6:g}M MACs; "
      "the fraction of the box [0, ref MACs] x [ref acc, 100%] that the evaluated subnets dominate.\n")
head = " | ".join(f"best val % {r}" for r in ranges)
print(f"| seed | sampler | steps | stage-1 wall s | largest val % | smallest val % | hypervolume | front | {head} | stage-2 subnets/s |")
print("|---|---|---|---|---|---|---|---|" + "---|" * len(ranges) + "---|")
for seed, s, steps, secs, lg, sm, hv, nf, best, rate in rows:
    b = " | ".join(f"{100 * x:.2f}" for x in best)
    print(f"| {seed} | {s} | {steps} | {secs:.0f} | {lg:.2f} | {sm:.2f} | {hv:.4f} | {nf} | {b} | {rate:.2f} |")
print()
by = {(r[0], r[1]): r for r in rows}
for seed in seeds:
    u, a = by[(seed, "uniform")], by[(seed, "attentive")]
    verdict = "above" if a[6] > u[6] else ("equal to" if a[6] == u[6] else "below")
    print(f"seed {seed}: attentive hypervolume {a[6]:.4f} is {verdict} uniform's {u[6]:.4f} "
          f"({a[6] - u[6]:+.4f}); stage-1 wall time attentive / uniform {a[3] / u[3]:.2f}x")
if same_rows:
    print("\n## The same subnets (the searches' initial populations) on each supernet\n")
    print("| seed | subnets | uniform mean val % | attentive mean val % | attentive better / tied |")
    print("|---|---|---|---|---|")
    for seed, n, mu, ma, w, t in same_rows:
        print(f"| {seed} | {n} | {mu:.2f} | {ma:.2f} | {w} / {t} |")
PY
