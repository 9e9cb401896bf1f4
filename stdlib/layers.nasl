// std.layers — the building blocks every other module uses: conv → BN (→ activation) blocks, an
// activation selector, squeeze-and-excitation, MobileNet channel rounding and a two-layer perceptron.
// Conventions follow PyTorch/torchvision: a conv followed by batch norm has no bias (the BN shift replaces
// it), "same" padding is k / 2 (exact for odd kernels), BN eps 1e-5. squeeze_excite follows torchvision's
// MobileNetV3 SqueezeExcitation (squeeze width make_divisible(C / 4, 8), biased 1×1 convs, ReLU, hard
// sigmoid); make_divisible is torchvision's `_make_divisible` in integer arithmetic.
/// Conv k×k → batch norm, no activation (a projection or a shortcut). "Same" padding `k / 2`, no conv bias.
/// `groups` = channels makes it depthwise.
block conv_bn(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    stride: Int = 1,
    groups: Int = 1,
) -> [B, out, (H + 2 * (k / 2) - k) / stride + 1, (W + 2 * (k / 2) - k) / stride + 1] {
    let y = conv(x, out, kernel: k, stride: stride, padding: k / 2, groups: groups, bias: false);
    batch_norm(y)
}

/// Conv k×k → batch norm → ReLU ("same" padding, no conv bias): the ResNet/VGG unit.
block conv_bn_relu(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    stride: Int = 1,
    groups: Int = 1,
) -> [B, out, (H + 2 * (k / 2) - k) / stride + 1, (W + 2 * (k / 2) - k) / stride + 1] {
    relu(conv_bn(x, out, k: k, stride: stride, groups: groups))
}

/// Conv k×k → batch norm → ReLU6: the MobileNetV2 unit (torchvision `Conv2dNormActivation`).
block conv_bn_relu6(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    stride: Int = 1,
    groups: Int = 1,
) -> [B, out, (H + 2 * (k / 2) - k) / stride + 1, (W + 2 * (k / 2) - k) / stride + 1] {
    relu6(conv_bn(x, out, k: k, stride: stride, groups: groups))
}

/// Conv k×k → batch norm → SiLU (swish): the EfficientNet / AttentiveNAS unit.
block conv_bn_silu(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    stride: Int = 1,
    groups: Int = 1,
) -> [B, out, (H + 2 * (k / 2) - k) / stride + 1, (W + 2 * (k / 2) - k) / stride + 1] {
    silu(conv_bn(x, out, k: k, stride: stride, groups: groups))
}

/// Conv k×k → batch norm → hard-swish: the MobileNetV3 unit.
block conv_bn_hardswish(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    stride: Int = 1,
    groups: Int = 1,
) -> [B, out, (H + 2 * (k / 2) - k) / stride + 1, (W + 2 * (k / 2) - k) / stride + 1] {
    hardswish(conv_bn(x, out, k: k, stride: stride, groups: groups))
}

/// An activation chosen by flags (activations are ops, not blocks, so they cannot be passed as `Block`
/// values): hard-swish if `hswish`, else SiLU/swish if `swish`, else ReLU.
block activation(x: [B, C, H, W], hswish: Bool = false, swish: Bool = false) -> [B, C, H, W] {
    if hswish { hardswish(x) } else if swish { silu(x) } else { relu(x) }
}

/// Conv k×k → batch norm → the activation picked by `hswish` / `swish` (ReLU when both are false).
block conv_bn_act(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    stride: Int = 1,
    groups: Int = 1,
    hswish: Bool = false,
    swish: Bool = false,
) -> [B, out, (H + 2 * (k / 2) - k) / stride + 1, (W + 2 * (k / 2) - k) / stride + 1] {
    activation(conv_bn(x, out, k: k, stride: stride, groups: groups), hswish: hswish, swish: swish)
}

/// MobileNet channel rounding (torchvision `_make_divisible`): `v` rounded to the nearest multiple of `d`,
/// at least `d`, and never more than 10% below `v`. Integer arithmetic only (`/` floors).
block make_divisible(v: Int, d: Int = 8) -> Int {
    let n = max(d, (v + d / 2) / d * d);
    if n * 10 < v * 9 { n + d } else { n }
}

/// Squeeze-and-excitation: global average pool → 1×1 conv down to make_divisible(C / reduction, 8) →
/// ReLU → 1×1 conv back to C → hard sigmoid (`hard`, MobileNetV3) or sigmoid → rescale the input.
block squeeze_excite(x: [B, C, H, W], reduction: Int = 4, hard: Bool = true) -> [B, C, H, W] {
    let squeeze = make_divisible(C / reduction, 8);
    let s = global_avg_pool(x, keepdim: true); // [B, C, 1, 1]
    let s = relu(conv(s, squeeze, kernel: 1));
    let s = conv(s, C, kernel: 1); // [B, C, 1, 1]
    let g = if hard { hardsigmoid(s) } else { sigmoid(s) };
    x * g
}

/// Two-layer perceptron on feature vectors: linear(hidden) → ReLU → dropout(p) → linear(out).
block mlp(x: [B, D], hidden: Int, out: Int, p: Float = 0.0) -> [B, out] {
    let h = relu(linear(x, hidden));
    linear(dropout(h, p: p), out)
}
