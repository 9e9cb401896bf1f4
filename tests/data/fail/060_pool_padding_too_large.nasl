// expect: E0305
// A 2×2 max-pool with padding 2: PyTorch requires the padding to be at most half the kernel.
block down(x: [B, C, H, W]) -> [B, C, _, _] {
    max_pool(x, 2, padding: 2)
}
