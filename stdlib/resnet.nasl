// std.resnet — ResNet building blocks in the torchvision layout (He et al. 2016, "Deep Residual Learning";
// torchvision.models.resnet, the "v1.5" variant that puts the bottleneck's stride on its 3×3 conv).
// Convs have no bias (batch norm follows each); a shortcut is the identity when the shape is kept, and a
// projection (1×1 conv with the block's stride + BN, torchvision's `downsample`) otherwise.
import std.layers.{conv_bn, conv_bn_relu};

/// ResNet basic block (ResNet-18/34, CIFAR ResNets): 3×3 conv (stride) → BN → ReLU → 3×3 conv → BN,
/// plus the shortcut (identity, or 1×1 conv + BN when the stride or the width changes), then ReLU.
block basic_block(
    x: [B, C, H, W],
    out: Int,
    stride: Int = 1,
) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let y = conv_bn_relu(x, out, k: 3, stride: stride);
    let y = conv_bn(y, out, k: 3);
    if stride == 1 && C == out {
        relu(y + x)
    } else {
        relu(y + conv_bn(x, out, k: 1, stride: stride))
    }
}

/// ResNet bottleneck block (ResNet-50/101/152, torchvision v1.5): 1×1 conv to `planes` → BN → ReLU →
/// 3×3 conv (stride) → BN → ReLU → 1×1 conv to `planes * expansion` → BN, plus the shortcut (identity,
/// or 1×1 conv with the stride + BN), then ReLU.
block bottleneck(
    x: [B, C, H, W],
    planes: Int,
    stride: Int = 1,
    expansion: Int = 4,
) -> [B, planes * expansion, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let out = planes * expansion;
    let y = conv_bn_relu(x, planes, k: 1);
    let y = conv_bn_relu(y, planes, k: 3, stride: stride);
    let y = conv_bn(y, out, k: 1);
    if stride == 1 && C == out {
        relu(y + x)
    } else {
        relu(y + conv_bn(x, out, k: 1, stride: stride))
    }
}

/// A ResNet stage of `n` ≥ 1 basic blocks: the first one carries the stride (and the width change),
/// the other `n - 1` keep the shape (torchvision `_make_layer`).
block basic_stage(
    x: [B, C, H, W],
    out: Int,
    n: Int,
    stride: Int = 1,
) -> [B, out, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let h = basic_block(x, out, stride: stride);
    repeat n - 1 with t = h { basic_block(t, out) }
}

/// A ResNet stage of `n` ≥ 1 bottleneck blocks: the first one carries the stride and the projection,
/// the other `n - 1` keep the shape [B, planes * expansion, …].
block bottleneck_stage(
    x: [B, C, H, W],
    planes: Int,
    n: Int,
    stride: Int = 1,
    expansion: Int = 4,
) -> [B, planes * expansion, (H - 1) / stride + 1, (W - 1) / stride + 1] {
    let h = bottleneck(x, planes, stride: stride, expansion: expansion);
    repeat n - 1 with t = h { bottleneck(t, planes, expansion: expansion) }
}

/// ImageNet stem (torchvision): 7×7 conv stride 2 padding 3, no bias → BN → ReLU → 3×3 max pool stride 2
/// padding 1. 224×224 becomes 56×56.
block imagenet_stem(
    x: [B, C, H, W],
    out: Int = 64,
) -> [B, out, (H - 1) / 2 / 2 + 1, (W - 1) / 2 / 2 + 1] {
    let h = conv_bn_relu(x, out, k: 7, stride: 2); // [B, out, (H - 1) / 2 + 1, …]
    max_pool(h, 3, stride: 2, padding: 1)
}

/// CIFAR stem (He et al. §4.2): 3×3 conv padding 1, no bias → BN → ReLU; the resolution is kept.
block cifar_stem(x: [B, C, H, W], out: Int = 16) -> [B, out, H, W] {
    conv_bn_relu(x, out, k: 3)
}

/// Classification head: global average pool → linear to `classes` (torchvision `avgpool` + `fc`).
block head(x: [B, C, H, W], classes: Int) -> [B, classes] {
    linear(global_avg_pool(x), classes)
}
