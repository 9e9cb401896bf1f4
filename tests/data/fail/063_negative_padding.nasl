// expect: E0305
// "Same" padding computed as `(1 - k) / 2` (sign flipped) gives a negative padding.
block conv_same(x: [B, C, H, W], k: Int = 3) -> [B, C, _, _] {
    conv(x, C, kernel: k, padding: (1 - k) / 2)
}
