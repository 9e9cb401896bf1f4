// examples/resnet34.nasl — ResNet-34 for ImageNet ([B, 3, 224, 224], 1000 classes) in the torchvision
// layout (He et al. 2016, Table 1; torchvision.models.resnet34): the ResNet-18 network with 3/4/6/3 basic
// blocks per stage. It is also the alpha-NAS starting point (shared/design/mission.md).
// Parameters: 21,797,672 (= torchvision resnet34).
import std.resnet.{imagenet_stem, basic_stage, head};

/// ResNet-34 (torchvision layout).
network resnet34(x: [B, 3, 224, 224], classes: Int = 1000) -> [B, classes] {
    let h = imagenet_stem(x, 64); // [B, 64, 56, 56]
    let h = basic_stage(h, 64, 3); // [B, 64, 56, 56]
    let h = basic_stage(h, 128, 4, stride: 2); // [B, 128, 28, 28]
    let h = basic_stage(h, 256, 6, stride: 2); // [B, 256, 14, 14]
    let h = basic_stage(h, 512, 3, stride: 2); // [B, 512, 7, 7]
    head(h, classes)
}
