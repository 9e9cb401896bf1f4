// examples/mobilenet_v2.nasl — MobileNetV2 for ImageNet ([B, 3, 224, 224], 1000 classes), width 1.0, as
// torchvision.models.mobilenet_v2 (Sandler et al. 2018, Table 2): stem 3×3/2 conv to 32 + BN + ReLU6, the
// inverted-residual stages (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1)
// (6,160,3,2) (6,320,1,1), a 1×1 conv to 1280 + BN + ReLU6, global average pool, dropout 0.2, linear.
// Parameters: 3,504,872 (= torchvision mobilenet_v2), counted by hand: stem 928; stages 1,810,784;
// last conv 412,160; classifier 1,281,000.
import std.layers.{conv_bn_relu6};
import std.mobilenet.{ir_stage};

/// MobileNetV2 1.0 (torchvision layout).
network mobilenet_v2(x: [B, 3, 224, 224], classes: Int = 1000) -> [B, classes] {
    let h = conv_bn_relu6(x, 32, stride: 2); // [B, 32, 112, 112]
    let h = ir_stage(h, 16, 1, stride: 1, expand: 1); // [B, 16, 112, 112]
    let h = ir_stage(h, 24, 2, stride: 2, expand: 6); // [B, 24, 56, 56]
    let h = ir_stage(h, 32, 3, stride: 2, expand: 6); // [B, 32, 28, 28]
    let h = ir_stage(h, 64, 4, stride: 2, expand: 6); // [B, 64, 14, 14]
    let h = ir_stage(h, 96, 3, stride: 1, expand: 6); // [B, 96, 14, 14]
    let h = ir_stage(h, 160, 3, stride: 2, expand: 6); // [B, 160, 7, 7]
    let h = ir_stage(h, 320, 1, stride: 1, expand: 6); // [B, 320, 7, 7]
    let h = conv_bn_relu6(h, 1280, k: 1); // [B, 1280, 7, 7]
    let h = global_avg_pool(h); // [B, 1280]
    linear(dropout(h, p: 0.2), classes)
}
