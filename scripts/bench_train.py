"""PyTorch-eager side of the training benchmark (scripts/bench_train.sh).

Imports the PyTorch source nasc exported for the same network, and times the same loop as
`nasc bench`: a fixed random batch, forward, cross-entropy, backward, SGD (momentum 0.9, wd 5e-4).
Usage: bench_train.py MODEL.py BATCH STEPS WARMUP THREADS  -> prints images/s.
"""
import importlib.util
import sys
import time

import torch

path, batch, steps, warmup, threads = sys.argv[1], *map(int, sys.argv[2:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
spec = importlib.util.spec_from_file_location("model", path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
model = mod.build()
model.train()
shape = [batch] + [int(s) for s in sys.argv[6].split(",")]
classes = int(sys.argv[7])
x = torch.randn(shape)
y = torch.randint(classes, (batch,))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
for k in range(warmup + steps):
    if k == warmup:
        t0 = time.perf_counter()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(f"{steps * batch / (time.perf_counter() - t0):.1f}")
