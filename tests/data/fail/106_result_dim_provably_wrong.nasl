// expect: E0409
// The block declares 64 output channels but its conv makes 32: the sizes provably differ.
block widen(x: [B, C, H, W]) -> [B, 64, H, W] {
    conv(x, 32, kernel: 3, padding: 1)
}
