// examples/cifarnet.nasl — a small plain CNN for CIFAR-10 ([B, 3, 32, 32], 10 classes): a 1×1 conv to 32
// channels, two stages of [3×3 conv doubling the channels (padding 1), ReLU, 2×2 average pool], then
// flatten → linear 256 → ReLU → linear 10. All convs and linears have a bias (the PyTorch default).
// Parameters (weights + biases), counted by hand:
//   conv 1×1 3 → 32         3·32 + 32            =       128
//   conv 3×3 32 → 64        32·64·9 + 64         =    18,496
//   conv 3×3 64 → 128       64·128·9 + 128       =    73,856
//   linear 8192 → 256       128·8·8·256 + 256    = 2,097,408
//   linear 256 → 10         256·10 + 10          =     2,570
//   total                                          2,192,458
/// One stage: 3×3 conv to twice the channels (padding 1, with bias) → ReLU → 2×2 average pool, stride 2.
block double_stage(x: [B, C, H, W]) -> [B, 2 * C, H / 2, W / 2] {
    let h = relu(conv(x, 2 * C, kernel: 3, padding: 1)); // [B, 2C, H, W]
    avg_pool(h, 2, stride: 2)
}

/// CIFAR-10 CNN with exactly 2,192,458 parameters.
network cifarnet(x: [B, 3, 32, 32], classes: Int = 10) -> [B, classes] {
    let h = conv(x, 32, kernel: 1); // [B, 32, 32, 32]
    let h = double_stage(h); // [B, 64, 16, 16]
    let h = double_stage(h); // [B, 128, 8, 8]
    let h = flatten(h); // [B, 8192]
    let h = relu(linear(h, 256));
    linear(h, classes)
}
