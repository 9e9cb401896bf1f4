"""PyTorch eager side of scripts/bench_score.sh: EPE-NAS on NAS-Bench-201 cells, as the reference
(VascoLopes/EPE-NAS search.py) computes it, on a network written here by hand to mirror
examples/nb201_space.nasl (stem conv3x3 + BN, 3 stages of 5 cells with residual blocks between them,
BN + ReLU, global average pool, linear; NASL's avg_pool counts the padding, so AvgPool2d does too).

Usage: bench_score.py BATCH THREADS ARCHS_FILE [nchw|channels_last]
ARCHS_FILE has one architecture per line in nasc's form `e01=3 e02=1 e03=0 e12=4 e13=2 e23=1`
(0 none, 1 skip, 2 conv1x1, 3 conv3x3, 4 avgpool3x3). Prints the architectures per second of the scoring
loop (network construction + forward + backward + score) by wall-clock time and by CPU time, and the
scores on stderr.
"""
import sys
import time

import numpy as np
import torch
from torch import nn

EDGES = ["e01", "e02", "e03", "e12", "e13", "e23"]


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
            nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        return self.op(x)


def edge(kind, c):
    if kind == 0:
        return Zero()
    if kind == 1:
        return nn.Identity()
    if kind == 2:
        return ReLUConvBN(c, c, 1)
    if kind == 3:
        return ReLUConvBN(c, c, 3)
    return nn.AvgPool2d(3, stride=1, padding=1)


class Cell(nn.Module):
    def __init__(self, genotype, c):
        super().__init__()
        self.ops = nn.ModuleDict({e: edge(genotype[e], c) for e in EDGES})

    def forward(self, x):
        o = self.ops
        n1 = o["e01"](x)
        n2 = o["e02"](x) + o["e12"](n1)
        return o["e03"](x) + o["e13"](n1) + o["e23"](n2)


class ResBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.a = ReLUConvBN(cin, cout, 3, stride=2)
        self.b = ReLUConvBN(cout, cout, 3)
        self.down = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x):
        return self.b(self.a(x)) + self.down(x)


class NB201(nn.Module):
    def __init__(self, genotype, classes=10):
        super().__init__()
        layers = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)]
        for i, c in enumerate([16, 32, 64]):
            if i > 0:
                layers.append(ResBlock(c // 2, c))
            layers += [Cell(genotype, c) for _ in range(5)]
        layers += [nn.BatchNorm2d(64), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x):
        h = self.features(x).mean(dim=(2, 3))
        return self.classifier(h)


def get_batch_jacobian(net, x):
    # the reference: weight gradients are computed too (nothing is frozen)
    net.zero_grad()
    x.requires_grad_(True)
    y = net(x)
    y.backward(torch.ones_like(y))
    return x.grad.detach()


def eval_score_perclass(jacob, labels, n_classes=10):
    k = 1e-5
    per_class = {}
    for i, label in enumerate(labels):
        if label in per_class:
            per_class[label] = np.vstack((per_class[label], jacob[i]))
        else:
            per_class[label] = jacob[i]
    ind = {}
    for c in per_class.keys():
        try:
            corrs = np.corrcoef(per_class[c])
            s = np.sum(np.log(abs(corrs) + k))
            if n_classes > 100:
                s /= len(corrs)
        except Exception:
            continue
        ind[c] = s
    score = 0.0
    for c in ind:
        score += np.absolute(ind[c])
    return score


def main():
    batch, threads, archs_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    cl = len(sys.argv) > 4 and sys.argv[4] == "channels_last"
    fmt = torch.channels_last if cl else torch.contiguous_format
    torch.set_num_threads(threads)
    archs = []
    for line in open(archs_file):
        line = line.strip()
        if line:
            archs.append({k: int(v) for k, v in (t.split("=") for t in line.split())})
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 32, 32, generator=g)
    labels = torch.randint(0, 10, (batch,), generator=g).tolist()
    # warm-up (allocator, oneDNN primitives), not timed
    get_batch_jacobian(NB201(archs[0]).to(memory_format=fmt), x.clone().contiguous(memory_format=fmt))
    t0, c0 = time.perf_counter(), time.process_time()
    for a in archs:
        torch.manual_seed(0)
        net = NB201(a).to(memory_format=fmt)
        net.train()
        j = get_batch_jacobian(net, x.clone().contiguous(memory_format=fmt))
        s = eval_score_perclass(j.reshape(batch, -1).numpy(), labels)
        print(f"{' '.join(f'{e}={a[e]}' for e in EDGES)} {s}", file=sys.stderr)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(f"{len(archs) / dt:.3f} {len(archs) / dc:.3f}")


if __name__ == "__main__":
    main()
