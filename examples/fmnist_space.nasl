// examples/fmnist_space.nasl — a small MobileNetV3-like weight-sharing space for 28×28 Fashion-MNIST, the
// AttentiveNAS space (examples/mobilenetv3_space.nasl) cut down so that a supernet trains on a 2-core
// machine in minutes per epoch (docs/supernet.md). Swish everywhere; per-stage decisions shared by every
// block of the stage (width / depth / kernel / expand / stride / squeeze-excite):
//   stem {8, 16} stride 1
//   mb1 {8, 16}  / 1..2 / {3, 5} / 1       / 1 / no
//   mb2 {16, 24} / 1..3 / {3, 5} / {3, 4, 6} / 2 / no      [14 × 14]
//   mb3 {24, 32} / 1..3 / {3, 5} / {3, 4, 6} / 2 / yes     [7 × 7]
//   mb4 {32, 48} / 1..2 / {3, 5} / {4, 6}    / 1 / yes
//   head 1×1 conv to 4 × the last width, global average pool, 1×1 conv to {128, 192}, dropout 0.1, linear
// Depth keeps the first d blocks of a stage; the largest architecture's weights are the supernet, and every
// subnet runs on their leading channels and centre kernel crops. 17 decisions, 663,552 architectures.
import std.layers.{conv_bn_silu};
import std.mobilenet.{attentive_mbconv};

/// `depth` MBConv blocks of width `width`, kernel `k`, expansion `expand`, swish, squeeze-excite if `se`;
/// only the first block has the stage's stride.
block stage(
    x: [B, C, H, W],
    width: Int,
    depth: Int,
    k: Int,
    expand: Int,
    stride: Int,
    se: Bool,
) -> [B, width, _, _] {
    repeat depth with h = x, i {
        let s = if i == 0 { stride } else { 1 };
        attentive_mbconv(h, width, k: k, expand: expand, stride: s, se: se, swish: true)
    }
}

/// The space: 17 decisions, one per `choice`.
network fmnist_space(x: [B, 1, 28, 28], classes: Int = 10) -> [B, classes] {
    let stem_c = choice(8, 16);
    let h = conv_bn_silu(x, stem_c); // [B, stem_c, 28, 28]

    let mb1_c = choice(8, 16);
    let mb1_d = choice(1, 2);
    let mb1_k = choice(3, 5);
    let h = stage(h, mb1_c, mb1_d, mb1_k, 1, 1, false); // [B, mb1_c, 28, 28]

    let mb2_c = choice(16, 24);
    let mb2_d = choice(1..=3);
    let mb2_k = choice(3, 5);
    let mb2_t = choice(3, 4, 6);
    let h = stage(h, mb2_c, mb2_d, mb2_k, mb2_t, 2, false); // [B, mb2_c, 14, 14]

    let mb3_c = choice(24, 32);
    let mb3_d = choice(1..=3);
    let mb3_k = choice(3, 5);
    let mb3_t = choice(3, 4, 6);
    let h = stage(h, mb3_c, mb3_d, mb3_k, mb3_t, 2, true); // [B, mb3_c, 7, 7]

    let mb4_c = choice(32, 48);
    let mb4_d = choice(1, 2);
    let mb4_k = choice(3, 5);
    let mb4_t = choice(4, 6);
    let h = stage(h, mb4_c, mb4_d, mb4_k, mb4_t, 1, true); // [B, mb4_c, 7, 7]

    let last_c = choice(128, 192);
    let h = conv_bn_silu(h, 4 * mb4_c, k: 1); // [B, 4 mb4_c, 7, 7]
    let h = global_avg_pool(h, keepdim: true); // [B, 4 mb4_c, 1, 1]
    let h = silu(conv(h, last_c, kernel: 1, bias: false)); // [B, last_c, 1, 1]
    let h = flatten(h); // [B, last_c]
    linear(dropout(h, p: 0.1), classes)
}
