// expect: E0400
// ViT tokens [B, N, D] are passed to a block that expects a feature map [B, C, H, W].
block conv_unit(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    relu(conv(x, out, kernel: 3, padding: 1))
}

network hybrid(x: [B, 196, 192]) -> [B, 196, 192] {
    conv_unit(x, 192)
}
