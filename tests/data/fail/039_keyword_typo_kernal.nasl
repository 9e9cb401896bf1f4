// expect: E0202
// The keyword argument is misspelled `kernal:`; `conv` has no such parameter.
block conv3x3(x: [B, C, H, W], out: Int) -> [B, out, H, W] {
    conv(x, out, kernal: 3, padding: 1)
}
