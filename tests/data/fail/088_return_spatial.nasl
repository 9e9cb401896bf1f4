// expect: E0409
// The block declares it keeps H × W, but its conv has stride 2.
block down_block(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    relu(batch_norm(conv(x, out, kernel: 3, stride: 2, padding: 1)))
}
