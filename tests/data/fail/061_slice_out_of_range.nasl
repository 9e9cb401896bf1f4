// expect: E0305
// Taking "the first 256 channels" of a 128-channel map: the slice end is past the dimension's size.
network split_heads(x: [B, 128, 14, 14]) -> [B, 256, 14, 14] {
    slice(x, 1, 0, 256)
}
