// expect: E0406
// NCHW → NHWC written as [0, 2, 3, 3]: dim 3 appears twice and dim 1 is missing.
network to_nhwc(x: [B, 64, 32, 32]) -> [B, 32, 32, 64] {
    permute(x, [0, 2, 3, 3])
}
