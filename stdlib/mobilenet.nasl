// std.mobilenet — inverted-residual blocks: MobileNetV2 (Sandler et al. 2018; torchvision
// `mobilenetv2.InvertedResidual`), MobileNetV3 (Howard et al. 2019; torchvision `mobilenetv3.InvertedResidual`)
// and the AttentiveNAS/AlphaNet variant whose every block has a shortcut (facebookresearch/AttentiveNAS
// `DynamicShortcutLayer`: 2×2 average pool when strided, 1×1 conv without bias when the width changes).
// Hidden width: C * expand for V2 (torchvision `round(inp * t)`), make_divisible(C * expand, 8) for V3 and
// AttentiveNAS (OFA `make_divisible(round(in * t), 8)`); the 1×1 expansion is skipped when expand == 1.
// Depthwise kernels are odd with "same" padding, so a block maps H to (H - 1) / stride + 1 whatever the
// kernel: an even `k` is taken as k + 1 (the kernel used is 2 * (k / 2) + 1, which is k for odd k).
import std.layers.{conv_bn, conv_bn_relu6, conv_bn_act, make_divisible, squeeze_excite};

/// MobileNetV2 inverted residual: 1×1 expand to C * expand → BN → ReLU6 (skipped when expand == 1) →
/// k×k depthwise (groups = hidden, stride) → BN → ReLU6 → linear 1×1 projection to `out` → BN; plus the
/// input when stride == 1 and C == out.
block inverted_residual(
    x: [B, C, H, W],
    out: Int,
    stride: Int = 1,
    expand: Int = 6,
    k: Int = 3,
) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let hidden = C * expand;
    let h = if expand == 1 { x } else { conv_bn_relu6(x, hidden, k: 1) };
    let h = conv_bn_relu6(h, hidden, k: 2 * (k / 2) + 1, stride: stride, groups: hidden);
    let h = conv_bn(h, out, k: 1);
    if stride == 1 && C == out { h + x } else { h }
}

/// A MobileNetV2 stage, one row (t, c, n, s) of the paper's table: `n` ≥ 1 inverted residuals of width
/// `out` and expansion `expand`; only the first has stride `stride`.
block ir_stage(
    x: [B, C, H, W],
    out: Int,
    n: Int,
    stride: Int = 1,
    expand: Int = 6,
) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let h = inverted_residual(x, out, stride: stride, expand: expand);
    repeat n - 1 with t = h { inverted_residual(t, out, expand: expand) }
}

/// The convolutional path of a MobileNetV3-style block, without its shortcut: 1×1 expand to
/// make_divisible(C * expand, 8) → BN → act (skipped when expand == 1) → k×k depthwise (stride) → BN → act
/// → squeeze-excite on the hidden width (if `se`) → linear 1×1 projection to `out` → BN. The activation is
/// hard-swish if `hswish`, SiLU if `swish`, otherwise ReLU.
block mbconv_body(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    expand: Int = 6,
    stride: Int = 1,
    se: Bool = false,
    hswish: Bool = false,
    swish: Bool = false,
) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let hidden = if expand == 1 { C } else { make_divisible(C * expand, 8) };
    let h = if expand == 1 { x } else { conv_bn_act(x, hidden, k: 1, hswish: hswish, swish: swish) };
    let h = conv_bn_act(h, hidden, k: 2 * (k / 2) + 1, stride: stride, groups: hidden, hswish: hswish, swish: swish);
    let h = if se { squeeze_excite(h) } else { h };
    conv_bn(h, out, k: 1)
}

/// MobileNetV3 bottleneck (torchvision `InvertedResidual` of mobilenetv3): kernel `k`, expansion ratio
/// `expand`, optional squeeze-excite (`se`), hard-swish (`hswish`) or SiLU (`swish`) or ReLU; the input
/// is added back when stride == 1 and C == out.
block mbconv_v3(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    expand: Int = 6,
    stride: Int = 1,
    se: Bool = false,
    hswish: Bool = false,
    swish: Bool = false,
) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let h = mbconv_body(x, out, k: k, expand: expand, stride: stride, se: se, hswish: hswish, swish: swish);
    if stride == 1 && C == out { h + x } else { h }
}

/// The AttentiveNAS shortcut that every block has: the identity when the shape is kept; otherwise a
/// stride×stride average pool (padding W % 2, as the reference pads odd maps) and/or a 1×1 conv without
/// bias or BN to `out` channels.
block attentive_shortcut(x: [B, C, H, W], out: Int, stride: Int = 1) -> [B, out, _, _] {
    let p = if stride == 1 { x } else { avg_pool(x, stride, padding: W % 2) };
    if C == out { p } else { conv(p, out, kernel: 1, bias: false) }
}

/// AttentiveNAS/AlphaNet MBConv: the MobileNetV3 path (`mbconv_body`) plus `attentive_shortcut`, so every
/// block is residual, also the strided and width-changing ones.
block attentive_mbconv(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    expand: Int = 6,
    stride: Int = 1,
    se: Bool = false,
    hswish: Bool = false,
    swish: Bool = false,
) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let h = mbconv_body(x, out, k: k, expand: expand, stride: stride, se: se, hswish: hswish, swish: swish);
    h + attentive_shortcut(x, out, stride: stride)
}
