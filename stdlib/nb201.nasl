// std.nb201 — the NAS-Bench-201 search space (Dong & Yang 2020, "NAS-Bench-201"; operations and blocks as
// in the reference code, D-X-Y/AutoDL-Projects `cell_operations.py` / `cells.py`): the five edge operations,
// the 4-node cell with 6 edges (i < j, node j = sum of its incoming edges; 5^6 = 15,625 cells) and the
// residual block between stages (`ResNetBasicblock`). Facts: shared/design/epe-nas.md.
// Every edge operation has the signature (x: [B, C, H, W], c: Int) and keeps the shape when c == C, so
// the five can stand in one block-valued `choice` (`_c` where the operation has no use for the width).
// Known difference: the reference avg_pool_3x3 uses count_include_pad=False; NASL's avg_pool has no
// such switch (the border values differ, shapes and parameters do not).
/// NAS-Bench-201 `none`: the edge is absent (all zeros of the input's shape).
block none(x: [B, C, H, W], _c: Int) -> [B, C, H, W] {
    zero(x)
}

/// NAS-Bench-201 `skip_connect`: the identity.
block skip(x: [B, C, H, W], _c: Int) -> [B, C, H, W] {
    identity(x)
}

/// ReLU → conv k×k (stride, "same" padding k / 2, no bias) → batch norm: the reference `ReLUConvBN`.
block relu_conv_bn(
    x: [B, C, H, W],
    out: Int,
    k: Int = 3,
    stride: Int = 1,
) -> [B, out, (H + 2 * (k / 2) - k) / stride + 1, (W + 2 * (k / 2) - k) / stride + 1] {
    let y = conv(relu(x), out, kernel: k, stride: stride, padding: k / 2, bias: false);
    batch_norm(y)
}

/// NAS-Bench-201 `nor_conv_1x1`: ReLU → 1×1 conv to `c` channels (no bias) → batch norm.
block conv1x1(x: [B, C, H, W], c: Int) -> [B, c, H, W] {
    relu_conv_bn(x, c, k: 1)
}

/// NAS-Bench-201 `nor_conv_3x3`: ReLU → 3×3 conv to `c` channels (padding 1, no bias) → batch norm.
block conv3x3(x: [B, C, H, W], c: Int) -> [B, c, H, W] {
    relu_conv_bn(x, c, k: 3)
}

/// NAS-Bench-201 `avg_pool_3x3`: 3×3 average pool, stride 1, padding 1 (no parameters).
block avgpool3x3(x: [B, C, H, W], _c: Int) -> [B, C, H, W] {
    avg_pool(x, 3, stride: 1, padding: 1)
}

/// A NAS-Bench-201 cell whose six edge operations are given (Block values with the edge signature
/// `(x, c)`): node0 = x, node1 = op01(node0), node2 = op02(node0) + op12(node1),
/// node3 = op03(node0) + op13(node1) + op23(node2); the cell's output is node3. Passing the same six
/// blocks to every cell position shares one genotype across the network, as NAS-Bench-201 does.
block cell_ops(
    x: [B, C, H, W],
    op01: Block,
    op02: Block,
    op03: Block,
    op12: Block,
    op13: Block,
    op23: Block,
) -> [B, C, H, W] {
    let n1 = op01(x, C);
    let n2 = op02(x, C) + op12(n1, C);
    op03(x, C) + op13(n1, C) + op23(n2, C)
}

/// A NAS-Bench-201 cell with its own six edge decisions (e01 … e23), each one of none, skip, conv1x1,
/// conv3x3, avgpool3x3. Every call is a separate set of decisions; use `cell_ops` with decisions made
/// once in the network to share one genotype across cells.
block cell(x: [B, C, H, W]) -> [B, C, H, W] {
    let e01 = choice(none, skip, conv1x1, conv3x3, avgpool3x3);
    let e02 = choice(none, skip, conv1x1, conv3x3, avgpool3x3);
    let e03 = choice(none, skip, conv1x1, conv3x3, avgpool3x3);
    let e12 = choice(none, skip, conv1x1, conv3x3, avgpool3x3);
    let e13 = choice(none, skip, conv1x1, conv3x3, avgpool3x3);
    let e23 = choice(none, skip, conv1x1, conv3x3, avgpool3x3);
    cell_ops(x, e01, e02, e03, e12, e13, e23)
}

/// The stride-1 shortcut of `resblock`: the identity when the width is kept, else ReLU-conv1×1-BN.
block res_shortcut(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    if C == out { x } else { relu_conv_bn(x, out, k: 1) }
}

/// The strided shortcut of `resblock`: 2×2 average pool then 1×1 conv without bias, the reference's
/// (stride 2 on even H and W); where the reference would fail (odd sizes, other strides), a strided 1×1
/// conv without bias.
block strided_shortcut(
    x: [B, C, H, W],
    out: Int,
    stride: Int = 2,
) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    // `H == 2 * (H / 2)` says "H is even" in a form the checker can use
    let pool = stride == 2 && H == 2 * (H / 2) && W == 2 * (W / 2);
    if pool {
        conv(avg_pool(x, 2), out, kernel: 1, bias: false)
    } else {
        conv(x, out, kernel: 1, stride: stride, bias: false)
    }
}

/// The residual block between NAS-Bench-201 stages (reference `ResNetBasicblock`): ReLU-conv3×3(stride)-BN
/// → ReLU-conv3×3-BN, plus the shortcut (`res_shortcut` at stride 1, `strided_shortcut` otherwise), with
/// no activation after the sum. In the benchmark: 16 → 32 and 32 → 64, stride 2, on 32×32 and 16×16 maps.
block resblock(
    x: [B, C, H, W],
    out: Int,
    stride: Int = 2,
) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let y = relu_conv_bn(x, out, k: 3, stride: stride);
    let y = relu_conv_bn(y, out, k: 3);
    let s = if stride == 1 {
        res_shortcut(x, out)
    } else {
        strided_shortcut(x, out, stride: stride)
    };
    y + s
}
