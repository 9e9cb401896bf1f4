// examples/resnet18.nasl — ResNet-18 for ImageNet ([B, 3, 224, 224], 1000 classes) in the torchvision
// layout (He et al. 2016, Table 1; torchvision.models.resnet18): stem 7×7/2 conv (padding 3, no bias) + BN
// + ReLU + 3×3/2 max pool (padding 1), four stages of 2 basic blocks at 64/128/256/512 channels (stride 2
// on the first block of stages 2–4, projection shortcut 1×1 conv + BN there), global average pool, linear.
// Parameters: 11,689,512 (= torchvision resnet18), counted by hand:
//   stem 9,408 + 128; stage1 147,968; stage2 525,568; stage3 2,099,712; stage4 8,393,728; fc 513,000.
import std.resnet.{imagenet_stem, basic_stage, head};

/// ResNet-18 (torchvision layout).
network resnet18(x: [B, 3, 224, 224], classes: Int = 1000) -> [B, classes] {
    let h = imagenet_stem(x, 64); // [B, 64, 56, 56]
    let h = basic_stage(h, 64, 2); // [B, 64, 56, 56]
    let h = basic_stage(h, 128, 2, stride: 2); // [B, 128, 28, 28]
    let h = basic_stage(h, 256, 2, stride: 2); // [B, 256, 14, 14]
    let h = basic_stage(h, 512, 2, stride: 2); // [B, 512, 7, 7]
    head(h, classes)
}
