#!/usr/bin/env bash
# Benchmark of `nasc search evolve` (issue 12), from examples/resnet20.nasl on Fashion-MNIST (CPU):
#   1. throughput: the same seeded short run with --workers 1 and 2 — children per hour and where the time
#      went (synthesis, training summed over workers, run store);
#   2. the alpha-NAS-style result of a longer run: params and validation accuracy of the seed vs the Pareto
#      individuals, all trained the same way (the goal: >= 90% fewer params at <= 0.5 points lower).
# Knobs (environment): SHORT_TRIALS (9), SUBSET (2000), LONG_TRIALS (41), LONG_SUBSET (4000), LONG_EPOCHS (1),
# LONG_STORE (reuse a finished long run's store instead of running one), OUT (target/bench-evolve).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
NASC_SETUP_QUIET=1 bash scripts/setup.sh
cargo build --release -q
nasc=target/release/nasc
out=${OUT:-target/bench-evolve}
mkdir -p "$out"
seed=examples/resnet20.nasl

for w in 1 2; do
  rm -rf "$out/w$w.db" "$out/w$w.db-wal" "$out/w$w.db-shm"
  "$nasc" search evolve "$seed" --store "$out/w$w.db" --trials "${SHORT_TRIALS:-9}" --workers "$w" \
    --train-subset "${SUBSET:-2000}" --val 1000 --epochs 1 --seed 7 --json > "$out/w$w.json"
done

long=${LONG_STORE:-$out/long.db}
if [[ ! -f $long ]]; then
  "$nasc" search evolve "$seed" --store "$long" --trials "${LONG_TRIALS:-41}" \
    --train-subset "${LONG_SUBSET:-4000}" --val 2000 --epochs "${LONG_EPOCHS:-1}" --seed 1 --json > "$out/long.json"
fi
"$nasc" search report "$long" --out "$out/long-report" >/dev/null 2>&1 || true

python3 - "$out" "$long" <<'PY'
import json, sqlite3, sys, os
out, long = sys.argv[1], sys.argv[2]
print(f"# nasc search evolve benchmark ({os.cpu_count()} cores)\n")
print("| workers | individuals | wall s | children/h | generate s | synthesis s | train s (all workers) | store s |")
print("|---|---|---|---|---|---|---|---|")
for w in (1, 2):
    r = json.load(open(f"{out}/w{w}.json"))
    t = r["timing"]
    n = r["done"] + r["failed"]
    print(f"| {w} | {n} | {t['wall']:.1f} | {r['per_hour']:.0f} | {t['generate']:.2f} | {t['synth']:.2f} | {t['train']:.1f} | {t['store']:.3f} |")
c = sqlite3.connect(long)
rows = c.execute("select id, parent_id, mutation, params, macs, val_accuracy from individuals where status = 'done'").fetchall()
settings = json.loads(c.execute("select settings from run").fetchone()[0])
seed = [r for r in rows if r[1] is None][0]
pts = sorted(rows, key=lambda r: (r[3], -r[5]))
front, best = [], -1.0
for r in pts:
    if r[5] > best:
        front.append(r); best = r[5]
n_all = c.execute("select count(*) from individuals").fetchone()[0]
print(f"\n## Long run: {long} ({n_all} individuals, train subset {settings['run']['limit']}, "
      f"{settings['train']['epochs']} epoch(s), val {settings['run']['val']})\n")
print("| individual | mutation | params | Δ params | MACs | val accuracy | Δ points |")
print("|---|---|---|---|---|---|---|")
def row(r):
    dp = (r[3] / seed[3] - 1) * 100
    da = (r[5] - seed[5]) * 100
    return f"| #{r[0]} | {r[2] or 'seed'} | {r[3]:,} | {dp:+.1f}% | {r[4]:,} | {r[5]*100:.2f}% | {da:+.2f} |"
print(row(seed))
for r in front:
    if r[0] != seed[0]:
        print(row(r))
goal = [r for r in front if r[3] <= 0.1 * seed[3] and r[5] >= seed[5] - 0.005]
print(f"\ngoal (>= 90% fewer params at <= 0.5 points lower accuracy): {'met by #' + str(goal[0][0]) if goal else 'not met'}")
PY
