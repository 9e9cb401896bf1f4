// expect: E0001
// Keyword arguments written Python-style (`stride=2`) instead of `stride: 2`.
network downsample(x: [B, 32, 16, 16]) -> [B, 64, 8, 8] {
    conv(x, 64, kernel: 3, stride=2, padding: 1)
}
