// expect: E0203
// The output width is given both by position and by name.
block expand_conv(x: [B, C, H, W], t: Int = 6) -> [B, C * t, H, W] {
    relu6(batch_norm(conv(x, C * t, out: C * t, kernel: 1)))
}
