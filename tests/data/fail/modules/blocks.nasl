// Helper module for the multi-file corpus cases (not a corpus entry itself; it is clean).

/// Conv 3×3 → BN → ReLU with "same" padding.
block conv_unit(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    relu(batch_norm(conv(x, out, kernel: 3, padding: 1, bias: false)))
}

/// Global average pool → linear classifier.
block classifier(x: [B, C, H, W], classes: Int) -> [B, classes] {
    linear(global_avg_pool(x), classes)
}
