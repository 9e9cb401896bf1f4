// expect: E0200
// `basic_block` takes (x, out, stride); a fourth positional argument (an expansion factor) is extra.
block basic_block(x: [B, C, H, W], out: Int, stride: Int = 1) -> [B, out, _, _] {
    relu(batch_norm(conv(x, out, kernel: 3, stride: stride, padding: 1)))
}

network net(x: [B, 64, 56, 56]) -> [B, 128, 28, 28] {
    basic_block(x, 128, 2, 4)
}
