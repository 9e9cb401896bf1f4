#!/usr/bin/env python3
"""Start-up benchmark (scripts/bench_startup.sh): wall time and peak RSS of nasc commands, median of N
runs each, next to the reference cost `python -c "import torch"` (what a PyTorch tool pays before its
first line). Each run is a fresh process; peak RSS is the child's own ru_maxrss (os.wait4).

Targets (issue 11): `nasc check` of one example < 20 ms wall and < 30 MiB peak; all examples + stdlib
< 100 ms; a synthetic 10,000-line program < 50 ms."""

import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
bindir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "target", "release")
runs = int(os.environ.get("RUNS", "15"))
python = os.environ.get("NASC_PYTHON", os.path.join(root, ".deps", "venv", "bin", "python"))
nasc = os.path.join(bindir, "nasc")
torch_side = os.path.join(bindir, "nasc-torch")


def synthetic(lines_wanted):
    """A checkable program of about `lines_wanted` lines: a chain of 10-line blocks and a network."""
    out = ["// synthetic program for the start-up benchmark"]
    n = 0
    while len(out) < lines_wanted - 12:
        out += [
            f"/// block {n}",
            f"block b{n}(x: [B, C, H, W], width: Int = 16) -> [B, width, H, W] {{",
            "    let h = conv(x, width, kernel: 3, padding: 1);",
            "    let h = batch_norm(h);",
            "    let h = relu(h);",
            "    let g = conv(h, width, kernel: 1);",
            "    let g = batch_norm(g);",
            "    let h = relu(h + g);",
            "    h",
            "}",
        ]
        n += 1
    out += ["network big(x: [B, 3, 32, 32]) -> [B, 16, 32, 32] {", "    let h = b0(x);"]
    for i in range(1, min(n, 50)):
        out.append(f"    let h = b{i}(h);")
    out += ["    h", "}"]
    return "\n".join(out) + "\n"


def measure(argv):
    walls, rss, code = [], [], None
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)
        _, status, ru = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t)
        rss.append(ru.ru_maxrss / 1024.0)
        code = os.waitstatus_to_exitcode(status)
    return statistics.median(walls) * 1e3, statistics.median(rss), code


def main():
    examples = sorted(glob.glob(os.path.join(root, "examples", "*.nasl")))
    stdlib = sorted(glob.glob(os.path.join(root, "stdlib", "*.nasl")))
    tmp = tempfile.mkdtemp(prefix="nasc-bench-")
    big = os.path.join(tmp, "synthetic_10k.nasl")
    with open(big, "w") as f:
        f.write(synthetic(10_000))
    nlines = sum(1 for _ in open(big))
    cases = [
        ("nasc --version", [nasc, "--version"], None),
        ("nasc --help", [nasc, "--help"], None),
        ("nasc check examples/cifarnet.nasl", [nasc, "check", "examples/cifarnet.nasl"], 20),
        ("nasc check examples/resnet50.nasl", [nasc, "check", "examples/resnet50.nasl"], 20),
        (f"nasc check examples/*.nasl stdlib/*.nasl ({len(examples) + len(stdlib)} files)",
         [nasc, "check", *examples, *stdlib], 100),
        (f"nasc check synthetic ({nlines} lines)", [nasc, "check", big], 50),
        ("nasc fmt --check examples/*.nasl", [nasc, "fmt", "--check", *examples], None),
        ("nasc props examples/cifarnet.nasl --block h_1", [nasc, "props", "examples/cifarnet.nasl", "--block", "h_1"], None),
        ("nasc cost examples/resnet50.nasl", [nasc, "cost", "examples/resnet50.nasl"], None),
        ("nasc synth --replace examples/cifarnet.nasl:h_1", [nasc, "synth", "--replace", "examples/cifarnet.nasl:h_1"], None),
        ("nasc train --help (handed to nasc-torch)", [nasc, "train", "--help"], None),
        ("nasc-torch --version (libtorch loaded)", [torch_side, "--version"], None),
        ('reference: python -c "import torch"', [python, "-c", "import torch"], None),
    ]
    print(f"start-up: median of {runs} runs, {os.cpu_count()} cores, binaries in {bindir}\n")
    print(f"| command | wall ms | peak RSS MiB | exit | target |")
    print(f"|---|---:|---:|---:|---|")
    ref = None
    rows = []
    for name, argv, target in cases:
        if not os.path.exists(argv[0]):
            print(f"| {name} | - | - | - | missing {argv[0]} |")
            continue
        ms, mib, code = measure(argv)
        rows.append((name, ms, mib, code, target))
        if name.startswith("reference"):
            ref = ms
    for name, ms, mib, code, target in rows:
        t = ""
        if target is not None:
            ok = ms < target and (target != 20 or mib < 30)
            t = f"< {target} ms" + (" and < 30 MiB" if target == 20 else "") + (" ✓" if ok else " ✗ MISSED")
        ratio = f" ({ref / ms:.0f}× faster than import torch)" if ref and not name.startswith("reference") and "nasc-torch" not in name and "handed" not in name else ""
        print(f"| {name} | {ms:.1f} | {mib:.1f} | {code} | {t}{ratio} |")


if __name__ == "__main__":
    main()
