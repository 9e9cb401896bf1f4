// expect: E0302
// The number of extra blocks is computed as `depth - 4` and goes negative for depth 2.
block stage(x: [B, C, H, W], depth: Int = 2) -> [B, C, H, W] {
    repeat depth - 4 with h = x {
        relu(batch_norm(conv(h, C, kernel: 3, padding: 1)))
    }
}
