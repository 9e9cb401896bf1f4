// examples/resnet20.nasl — ResNet-20 for CIFAR-10 ([B, 3, 32, 32], 10 classes; He et al. 2016, §4.2, n = 3):
// 3×3 conv to 16 + BN + ReLU, three stages of 3 basic blocks at 16/32/64 channels on 32×32/16×16/8×8
// (stride 2 on the first block of stages 2 and 3), global average pool, linear 10.
// Shortcuts are the projection kind (the paper's option B: 1×1 conv + BN where the shape changes); the
// paper's CIFAR runs used option A (zero-padded identity, 269,722 parameters).
// Parameters, counted by hand: stem 464; stage1 14,016; stage2 51,648; stage3 205,696; fc 650;
// total 272,474.
import std.resnet.{cifar_stem, basic_stage, head};

/// ResNet-20 for CIFAR-10 (projection shortcuts).
network resnet20(x: [B, 3, 32, 32], classes: Int = 10) -> [B, classes] {
    let h = cifar_stem(x, 16); // [B, 16, 32, 32]
    let h = basic_stage(h, 16, 3); // [B, 16, 32, 32]
    let h = basic_stage(h, 32, 3, stride: 2); // [B, 32, 16, 16]
    let h = basic_stage(h, 64, 3, stride: 2); // [B, 64, 8, 8]
    head(h, classes)
}
