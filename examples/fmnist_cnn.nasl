// examples/fmnist_cnn.nasl — a small CNN for 28×28 grey images (Fashion-MNIST, 10 classes), the program of
// docs/language.md "A first program": two conv_bn_relu (3×3, padding 1, no bias) + 2×2 max-pool stages of
// 32 and 64 channels, then linear 128 → ReLU → dropout 0.2 → linear 10. Sized to pass 85% test accuracy
// after one training epoch (the default dataset's smoke test); not a measured figure.
// Parameters, counted by hand: conv 1→32 288 + BN 64; conv 32→64 18,432 + BN 128;
// linear 3136→128 401,536; linear 128→10 1,290; total 421,738.
import std.layers.{conv_bn_relu};

/// A small CNN for 28×28 grey images (Fashion-MNIST).
network fmnist_cnn(x: [B, 1, 28, 28], classes: Int = 10) -> [B, classes] {
    let h = conv_bn_relu(x, 32); // [B, 32, 28, 28]
    let h = max_pool(h, 2); // [B, 32, 14, 14]
    let h = conv_bn_relu(h, 64); // [B, 64, 14, 14]
    let h = max_pool(h, 2); // [B, 64, 7, 7]
    let h = flatten(h); // [B, 3136]
    let h = relu(linear(h, 128));
    linear(dropout(h, p: 0.2), classes)
}
