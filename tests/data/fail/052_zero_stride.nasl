// expect: E0302
// A downsampling factor of 0 is passed as the stride.
block down(x: [B, C, H, W], factor: Int = 0) -> [B, C, _, _] {
    conv(x, C, kernel: 3, stride: factor, padding: 1)
}
