// examples/nb201_space.nasl — the NAS-Bench-201 search space on CIFAR-10 ([B, 3, 32, 32], 10 classes), as in
// Dong & Yang 2020 and shared/design/epe-nas.md: stem 3×3 conv to 16 (no bias) + BN, 5 cells at 16
// channels, residual block 16 → 32 (stride 2), 5 cells at 32, residual block 32 → 64 (stride 2), 5 cells
// at 64, BN + ReLU, global average pool, linear.
// One genotype for the whole network, as in the benchmark: the six edge decisions e01 … e23 are made
// once here and the same Block values go to all 15 cell positions (std.nb201.cell_ops), so the program
// has exactly 5^6 = 15,625 architectures. (std.nb201.cell would make six new decisions per cell.)
import std.nb201;

/// The NAS-Bench-201 network: one cell genotype (six edge choices) shared by all 15 cells.
network nb201_space(x: [B, 3, 32, 32], classes: Int = 10) -> [B, classes] {
    let e01 = choice(nb201.none, nb201.skip, nb201.conv1x1, nb201.conv3x3, nb201.avgpool3x3);
    let e02 = choice(nb201.none, nb201.skip, nb201.conv1x1, nb201.conv3x3, nb201.avgpool3x3);
    let e03 = choice(nb201.none, nb201.skip, nb201.conv1x1, nb201.conv3x3, nb201.avgpool3x3);
    let e12 = choice(nb201.none, nb201.skip, nb201.conv1x1, nb201.conv3x3, nb201.avgpool3x3);
    let e13 = choice(nb201.none, nb201.skip, nb201.conv1x1, nb201.conv3x3, nb201.avgpool3x3);
    let e23 = choice(nb201.none, nb201.skip, nb201.conv1x1, nb201.conv3x3, nb201.avgpool3x3);
    let h = batch_norm(conv(x, 16, kernel: 3, padding: 1, bias: false)); // [B, 16, 32, 32]
    let h = repeat 5 with t = h { nb201.cell_ops(t, e01, e02, e03, e12, e13, e23) };
    let h = nb201.resblock(h, 32, stride: 2); // [B, 32, 16, 16]
    let h = repeat 5 with t = h { nb201.cell_ops(t, e01, e02, e03, e12, e13, e23) };
    let h = nb201.resblock(h, 64, stride: 2); // [B, 64, 8, 8]
    let h = repeat 5 with t = h { nb201.cell_ops(t, e01, e02, e03, e12, e13, e23) };
    let h = relu(batch_norm(h));
    linear(global_avg_pool(h), classes)
}
