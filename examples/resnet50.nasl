// examples/resnet50.nasl — ResNet-50 for ImageNet ([B, 3, 224, 224], 1000 classes) in the torchvision
// layout (He et al. 2016, Table 1; torchvision.models.resnet50, "v1.5": the stride sits on the 3×3 conv of
// the bottleneck): stem 7×7/2 conv + BN + ReLU + 3×3/2 max pool, four stages of 3/4/6/3 bottlenecks with
// 64/128/256/512 planes and expansion 4 (outputs 256/512/1024/2048), global average pool, linear.
// The first block of every stage has the projection shortcut (1×1 conv with the stage stride + BN), also
// in stage 1 where only the width changes (64 → 256).
// Parameters: 25,557,032 (= torchvision resnet50), counted by hand:
//   stem 9,536; stage1 215,808; stage2 1,219,584; stage3 7,098,368; stage4 14,964,736; fc 2,049,000.
import std.resnet.{imagenet_stem, bottleneck_stage, head};

/// ResNet-50 (torchvision layout, v1.5).
network resnet50(x: [B, 3, 224, 224], classes: Int = 1000) -> [B, classes] {
    let h = imagenet_stem(x, 64); // [B, 64, 56, 56]
    let h = bottleneck_stage(h, 64, 3); // [B, 256, 56, 56]
    let h = bottleneck_stage(h, 128, 4, stride: 2); // [B, 512, 28, 28]
    let h = bottleneck_stage(h, 256, 6, stride: 2); // [B, 1024, 14, 14]
    let h = bottleneck_stage(h, 512, 3, stride: 2); // [B, 2048, 7, 7]
    head(h, classes)
}
