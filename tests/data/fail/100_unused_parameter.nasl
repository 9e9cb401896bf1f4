// expect: W0003
// The block takes a `stride` parameter but never passes it to its conv.
block conv_unit(x: [B, C, H, W], out: Int, stride: Int = 1) -> [B, out, H, W] {
    relu(conv(x, out, kernel: 3, padding: 1))
}
