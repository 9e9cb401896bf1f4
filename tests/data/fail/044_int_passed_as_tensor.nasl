// expect: E0204
// The arguments of a block call are swapped: the width is passed where the tensor is expected.
block conv_unit(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    relu(conv(x, out, kernel: 3, padding: 1))
}

network net(x: [B, 3, 32, 32]) -> [B, 32, 32, 32] {
    conv_unit(32, x)
}
