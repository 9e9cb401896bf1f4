// examples/mobilenetv3_space.nasl — the AttentiveNAS search space (Wang et al. 2021, CVPR; the
// MobileNetV3-like space of facebookresearch/AttentiveNAS `attentive_nas_a*` supernet config; facts in
// shared/design/two-stage.md) on ImageNet at a fixed resolution of 224 ([B, 3, 224, 224], 1000 classes).
// Swish (SiLU) everywhere. First conv 3×3/2, width {16, 24}. Seven MBConv stages with per-stage decisions
// shared by every block of the stage (width c / depth d / kernel k / expand t / stride / squeeze-excite):
//   mb1 {16,24} / {1,2}   / {3,5} / 1       / 1 / no      mb5 {112,120,128} / 3..8 / {3,5} / {4,5,6} / 1 / yes
//   mb2 {24,32} / 3..5    / {3,5} / {4,5,6} / 2 / no      mb6 192..216 step 8 / 3..8 / {3,5} / 6 / 2 / yes
//   mb3 {32,40} / 3..6    / {3,5} / {4,5,6} / 2 / yes     mb7 {216,224} / {1,2} / {3,5} / 6 / 1 / yes
//   mb4 {64,72} / 3..6    / {3,5} / {4,5,6} / 2 / no
// Depth keeps the first d blocks of a stage; the stride is on block 0 only. Every block has the AttentiveNAS
// shortcut (std.mobilenet.attentive_mbconv). Head as the reference `last_conv`: 1×1 conv to 6 × the last
// width + BN + swish, global average pool, 1×1 conv without bias or BN to {1792, 1984} + swish, dropout 0.2,
// linear. The resolution decision {192, 224, 256, 288} of the paper is fixed to 224 here (input type).
// 27 decisions, 110,075,314,176 ≈ 1.1×10¹¹ architectures; times the 4 resolutions that is the paper's
// ~4.4×10¹¹ subnets.
import std.layers.{conv_bn_silu};
import std.mobilenet.{attentive_mbconv};

/// One AttentiveNAS stage: `depth` MBConv blocks of width `width`, kernel `k`, expansion `expand`, swish,
/// squeeze-excite if `se`; only the first block (i == 0) has the stage's stride.
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

/// The AttentiveNAS MobileNetV3-like space at 224×224: 27 decisions, one per `choice`.
network mobilenetv3_space(x: [B, 3, 224, 224], classes: Int = 1000) -> [B, classes] {
    let stem_c = choice(16, 24);
    let h = conv_bn_silu(x, stem_c, stride: 2); // [B, stem_c, 112, 112]

    let mb1_c = choice(16, 24);
    let mb1_d = choice(1, 2);
    let mb1_k = choice(3, 5);
    let h = stage(h, mb1_c, mb1_d, mb1_k, 1, 1, false); // [B, mb1_c, 112, 112]

    let mb2_c = choice(24, 32);
    let mb2_d = choice(3..=5);
    let mb2_k = choice(3, 5);
    let mb2_t = choice(4, 5, 6);
    let h = stage(h, mb2_c, mb2_d, mb2_k, mb2_t, 2, false); // [B, mb2_c, 56, 56]

    let mb3_c = choice(32, 40);
    let mb3_d = choice(3..=6);
    let mb3_k = choice(3, 5);
    let mb3_t = choice(4, 5, 6);
    let h = stage(h, mb3_c, mb3_d, mb3_k, mb3_t, 2, true); // [B, mb3_c, 28, 28]

    let mb4_c = choice(64, 72);
    let mb4_d = choice(3..=6);
    let mb4_k = choice(3, 5);
    let mb4_t = choice(4, 5, 6);
    let h = stage(h, mb4_c, mb4_d, mb4_k, mb4_t, 2, false); // [B, mb4_c, 14, 14]

    let mb5_c = choice(112, 120, 128);
    let mb5_d = choice(3..=8);
    let mb5_k = choice(3, 5);
    let mb5_t = choice(4, 5, 6);
    let h = stage(h, mb5_c, mb5_d, mb5_k, mb5_t, 1, true); // [B, mb5_c, 14, 14]

    let mb6_c = choice(192..=216 step 8);
    let mb6_d = choice(3..=8);
    let mb6_k = choice(3, 5);
    let h = stage(h, mb6_c, mb6_d, mb6_k, 6, 2, true); // [B, mb6_c, 7, 7]

    let mb7_c = choice(216, 224);
    let mb7_d = choice(1, 2);
    let mb7_k = choice(3, 5);
    let h = stage(h, mb7_c, mb7_d, mb7_k, 6, 1, true); // [B, mb7_c, 7, 7]

    let last_c = choice(1792, 1984);
    let h = conv_bn_silu(h, 6 * mb7_c, k: 1); // final expand: [B, 6 mb7_c, 7, 7]
    let h = global_avg_pool(h, keepdim: true); // [B, 6 mb7_c, 1, 1]
    let h = silu(conv(h, last_c, kernel: 1, bias: false)); // feature mix: [B, last_c, 1, 1]
    let h = flatten(h); // [B, last_c]
    linear(dropout(h, p: 0.2), classes)
}
